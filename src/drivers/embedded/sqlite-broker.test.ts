import path from 'node:path';
import { describeBrokerConformance } from '../conformance/broker.suite.js';
import { SqliteBroker } from './sqlite-broker.js';

describeBrokerConformance('SqliteBroker', async ({ dir, clock }) => new SqliteBroker(path.join(dir, 'broker.db'), clock));
