import { describe } from 'node:test';
import { loyaltyApiSuite } from './api-suite.js';
import { postgresTarget } from './targets.js';

describe('loyalty API on PostgreSQL (bin/gophermart)', () => loyaltyApiSuite(() => postgresTarget()));
