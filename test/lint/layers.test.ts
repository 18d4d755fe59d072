// The layer rules of DESIGN.md, as enforced by lint: a violation must be reported.
import path from 'node:path';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, it } from 'vitest';
import layers from '../../scripts/eslint-layers.js';

RuleTester.describe = describe;
RuleTester.it = it;
const tester = new RuleTester({ languageOptions: { parser: tseslint.parser as never, ecmaVersion: 2022, sourceType: 'module' } });
const at = (p: string) => path.resolve('src', p);

tester.run('nuvola/layers', layers, {
  valid: [
    { code: "import { x } from './routes.js';", filename: at('core/errors.ts') },
    { code: "import { x } from '../core/errors.js';", filename: at('ports/db.ts') },
    { code: "import { x } from '../functions/index.js';", filename: at('services/gateway/service.ts') },
    { code: "import { x } from './event.js';", filename: at('services/gateway/service.ts') },
    { code: "import { x } from '../services/functions/index.js';", filename: at('aws/lambda.ts') },
    { code: "import { x } from './drivers/embedded/sqlite-db.js';", filename: at('main.ts') },
    { code: "import { x } from '../../drivers/conformance/fake-clock.js';", filename: at('services/logs/service.test.ts') },
    { code: "import fs from 'node:fs';", filename: at('core/sigv4.test.ts') },
    { code: "import { x } from './services/functions/module.js';", filename: at('main.ts') },
    { code: "import { x } from '../../aws/lambda.js';", filename: at('services/functions/module.ts') },
    { code: "import { x } from '../module.js';", filename: at('services/gateway/module.ts') },
    { code: "import { x } from '../services/module.js';", filename: at('http/control.ts') },
  ],
  invalid: [
    { code: "import fs from 'node:fs';", filename: at('core/routes.ts'), errors: 1 },
    { code: "import { x } from '../ports/db.js';", filename: at('core/routes.ts'), errors: 1 },
    { code: "import { x } from '../functions/service.js';", filename: at('services/gateway/service.ts'), errors: 1 },
    { code: "import { x } from '../../drivers/embedded/sqlite-db.js';", filename: at('services/logs/service.ts'), errors: 1 },
    { code: "import { x } from '../runtime/instance.js';", filename: at('aws/lambda.ts'), errors: 1 },
    { code: "import { x } from '../services/functions/index.js';", filename: at('app/load.ts'), errors: 1 },
    { code: "import { x } from '../embedded/sqlite-db.js';", filename: at('drivers/cluster/postgres-db.ts'), errors: 1 },
    { code: "import { x } from '../../aws/lambda.js';", filename: at('services/functions/service.ts'), errors: 1 },
    { code: "import { x } from '../functions/module.js';", filename: at('services/logs/module.ts'), errors: 1 },
    { code: "import { x } from '../services/functions/module.js';", filename: at('http/control.ts'), errors: 1 },
  ],
});
