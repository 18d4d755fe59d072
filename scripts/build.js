// Builds the platform into dist/ with esbuild: the CLI and the composition root as ESM, and the
// function-instance bootstrap as one self-contained file (it runs under Node's permission model,
// which lets it read nothing but itself and its bundle). Pure-JS dependencies are bundled in: Node
// loads one file far faster than the hundreds an ESM dependency tree spreads over, and start-up
// time is a target. Native or binary-spawning ones (better-sqlite3, esbuild, pg) stay external.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry hashes: without a clean start, old ones pile up.
rmSync('dist', { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  logLevel: 'warning',
};

await Promise.all([
  build({
    ...common,
    entryPoints: { cli: 'src/cli/main.ts', main: 'src/main.ts' },
    outdir: 'dist',
    external: ['better-sqlite3', 'better-sqlite3-v13', 'esbuild', 'pg', 'pg-*'],
    // Bundled CommonJS dependencies may `require` Node built-ins.
    banner: { js: "import { createRequire as __nuvolaCreateRequire } from 'node:module'; const require = __nuvolaCreateRequire(import.meta.url);" },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
  }),
  build({
    ...common,
    entryPoints: { 'bootstrap.worker': 'src/runtime/bootstrap.worker.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
  }),
]);
