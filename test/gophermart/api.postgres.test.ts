import { describe } from 'node:test';
import { gophermartApiSuite } from './api-suite.js';
import { postgresTarget } from './targets.js';

describe('loyalty API on PostgreSQL (bin/gophermart)', () => gophermartApiSuite(() => postgresTarget()));
