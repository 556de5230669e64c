import { describe } from 'node:test';
import { loyaltyApiSuite } from './api-suite.js';
import { embeddedTarget } from './targets.js';

describe('loyalty API on the embedded database', () => loyaltyApiSuite(() => embeddedTarget()));
