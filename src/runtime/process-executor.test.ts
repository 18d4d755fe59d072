import path from 'node:path';
import { describeExecutorConformance } from '../drivers/conformance/executor.suite.js';
import { ProcessExecutor } from './process-executor.js';

const BOOTSTRAP = path.resolve(import.meta.dirname, '../../dist/bootstrap.worker.mjs');

describeExecutorConformance('ProcessExecutor', (setup) =>
  new ProcessExecutor({
    ...setup,
    bootstrapPath: BOOTSTRAP,
    identity: { region: 'us-east-1', accountId: '000000000000', endpointUrl: () => 'http://127.0.0.1:1' },
    sparesPerMemorySize: 1,
  }),
);
