-- Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d):
-- one database per service, so each can be backed up, moved or resized on its own.
CREATE DATABASE gophermart;
CREATE DATABASE accrual;
CREATE DATABASE ledger;
CREATE DATABASE ledger_shard_0;
CREATE DATABASE ledger_shard_1;
