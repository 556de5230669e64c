import { describe } from 'node:test';
import { gophermartApiSuite } from './api-suite.js';
import { embeddedTarget } from './targets.js';

describe('loyalty API on the embedded database', () => gophermartApiSuite(() => embeddedTarget()));
