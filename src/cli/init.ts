/**
 * `nuvola init`: scaffolds an app that `nuvola dev` serves as soon as its dependencies are installed.
 * It never overwrites: every file is checked before the first one is written, and each is written
 * with O_EXCL, so a file that appears in between is not clobbered either.
 */
import { lstat, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
// Read at build time (esbuild inlines it): the scaffold asks for the Nuvola that made it.
import { nuvolaVersion } from './version.js';
import { MANIFEST_FILES } from '../app/load.js';

/** The manifest's rule for `app`. */
const APP_NAME = /^[a-zA-Z][a-zA-Z0-9-_]{0,63}$/;

/** An app name from a directory name: `My App!` → `My-App`, `2048` → `app-2048`, `` → `app`. */
function appNameFor(dirName: string): string {
  let name = dirName.replace(/[^a-zA-Z0-9_-]+/g, '-').replace(/-{2,}/g, '-').replace(/^[-_]+|[-_]+$/g, '');
  if (!/^[a-zA-Z]/.test(name)) name = name === '' ? 'app' : `app-${name}`;
  name = name.slice(0, 64).replace(/[-_]+$/, '');
  if (!APP_NAME.test(name)) throw new Error(`cannot derive an app name from "${dirName}"`);
  return name;
}

/** Scaffolds an app in `dir` (created if missing); fails, writing nothing, if any of its files exists. */
export async function init(dir: string): Promise<void> {
  const target = path.resolve(dir);
  const shown = path.isAbsolute(dir) ? target : path.relative(process.cwd(), target) || '.';
  const app = appNameFor(path.basename(target));
  const files = scaffold(app);

  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new Error(`${shown} exists and is not a directory`);
  if (existing) {
    // An app under the other manifest name is an app too: a second manifest beside it would be ambiguous.
    for (const file of new Set([...MANIFEST_FILES, ...Object.keys(files)])) {
      if (await lstat(path.join(target, file)).catch(() => undefined)) {
        throw new Error(`${path.join(shown, file)} already exists; nothing was written (init does not overwrite files)`);
      }
    }
  }

  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(target, file)), { recursive: true });
    await writeFile(path.join(target, file), text, { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? new Error(`${path.join(shown, file)} appeared while writing; it was left as it was`) : err;
    });
  }

  const cd = shown === '.' ? '' : `cd ${shellQuote(shown)} && `;
  const out = process.stdout;
  out.write(`Created app "${app}" in ${shown === '.' ? 'this directory' : shown}:\n`);
  for (const file of Object.keys(files)) out.write(`  ${file}\n`);
  out.write(`\nNext:\n  ${cd}npm install && npx nuvola dev\n  curl 'http://127.0.0.1:4000/hello?name=you'\n`);
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The files of a new app, by path relative to its directory. */
function scaffold(app: string): Record<string, string> {
  const nodeMajor = process.versions.node.split('.')[0];
  const packageJson = {
    // npm refuses upper case in names, the manifest does not.
    name: app.toLowerCase(),
    private: true,
    type: 'module',
    scripts: { dev: 'nuvola dev', test: 'tsc --noEmit' },
    devDependencies: {
      '@types/aws-lambda': '^8.10.150',
      // Functions run on the Node that runs Nuvola (see DEFAULT_RUNTIME): type them for it.
      '@types/node': `^${nodeMajor}.0.0`,
      nuvola: `^${nuvolaVersion()}`,
      // The line Nuvola itself is checked with.
      typescript: '^5.9.2',
    },
    // npm 11 warns of dependencies' install scripts not allowed here, and its docs say it skips them
    // (`npm help install-scripts`): better-sqlite3 builds Nuvola's database binding in one.
    allowScripts: { 'better-sqlite3': true, esbuild: true },
  };
  return {
    'nuvola.yaml': `# Run it with \`npm run dev\`, then: curl 'http://127.0.0.1:4000/hello?name=you'
app: ${app}
functions:
  hello:
    handler: src/hello.handler
    events:
      - http: GET /hello
`,
    'src/hello.ts': `import type { APIGatewayProxyHandlerV2 } from 'aws-lambda';

// An AWS Lambda handler for an API Gateway HTTP API (payload 2.0): it runs on AWS unchanged.
export const handler: APIGatewayProxyHandlerV2 = async (event) => {
  const name = event.queryStringParameters?.name ?? 'world';
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: \`Hello, \${name}!\` }),
  };
};
`,
    'package.json': `${JSON.stringify(packageJson, null, 2)}\n`,
    // noEmit: Nuvola bundles the handlers with esbuild; tsc only checks them (\`npm test\`).
    'tsconfig.json': `{
  "compilerOptions": {
    "target": "ES2022",
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "lib": ["ES2023"],
    "types": ["node"],
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "verbatimModuleSyntax": true,
    "isolatedModules": true,
    "skipLibCheck": true,
    "noEmit": true
  },
  "include": ["src"]
}
`,
    '.gitignore': 'node_modules/\n.nuvola/\n',
  };
}
