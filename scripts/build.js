// Builds the platform into dist/ with esbuild: the CLI and the composition root as ESM with their
// npm dependencies left external, and the function-instance bootstrap as one self-contained file
// (it runs under Node's permission model, which lets it read nothing but itself and its bundle).
import { build } from 'esbuild';

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
    packages: 'external',
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
