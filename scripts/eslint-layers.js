// The import rules of DESIGN.md's layer table, as an ESLint rule. A file's layer is read from its
// path under src/; relative imports are resolved and checked against the table. Services may reach
// another service only through its index.ts; src/core may not import Node built-ins (it does no I/O).
// A service's face, `services/<name>/module.ts`, is what plugs it into the platform: only the
// composition root imports it, and it alone may import the AWS protocol adapter it serves (which
// imports the service's index.ts in turn). Files of src/services/ itself (the shape every face has)
// are shared by all.
import path from 'node:path';

const ALLOWED = {
  core: ['core'],
  ports: ['core', 'ports'],
  config: ['core', 'config'],
  services: ['core', 'ports', 'services'],
  'drivers/embedded': ['core', 'ports', 'drivers/embedded'],
  'drivers/cluster': ['core', 'ports', 'drivers/cluster'],
  'drivers/conformance': ['core', 'ports', 'drivers/conformance', 'drivers/embedded', 'drivers/cluster'],
  runtime: ['core', 'ports', 'runtime'],
  aws: ['core', 'aws', 'services'],
  http: ['core', 'ports', 'services', 'aws', 'http'],
  app: ['core', 'app'],
  cli: ['core', 'ports', 'app', 'http', 'cli', 'config', 'main'],
  main: null, // the composition root may import everything
};

function layerOf(file) {
  const rel = path.relative(path.resolve('src'), file).split(path.sep);
  if (rel[0] === '..' || rel.length === 0) return null;
  if (rel.length === 1) return rel[0] === 'main.ts' ? 'main' : null;
  if (rel[0] === 'drivers') return `drivers/${rel[1]}`;
  return rel[0];
}

function serviceOf(file) {
  const rel = path.relative(path.resolve('src/services'), file).split(path.sep);
  if (rel[0] === '..') return null;
  // src/services/module.ts and its like: the shape of services, not a service.
  if (rel.length === 1) return { name: null, rest: rel[0], shared: true };
  return { name: rel[0], rest: rel.slice(1).join('/'), shared: false };
}

const isFace = (service) => service !== null && (service.shared || service.rest === 'module.ts');

export default {
  meta: { type: 'problem', schema: [], messages: { layer: '{{from}} may not import {{to}} ({{why}})' } },
  create(context) {
    const file = context.filename;
    const from = layerOf(file);
    if (!from) return {};
    const isTest = /\.(test|suite)\.ts$/.test(file);
    function check(node, spec) {
      if (typeof spec !== 'string') return;
      if (from === 'core' && !isTest && (spec.startsWith('node:') || ['fs', 'path', 'os', 'child_process', 'http', 'net'].includes(spec))) {
        context.report({ node, messageId: 'layer', data: { from, to: spec, why: 'core is pure: no Node built-ins' } });
        return;
      }
      if (!spec.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
      const to = layerOf(target);
      if (!to) return;
      const allowed = ALLOWED[from];
      const src = serviceOf(file);
      const dst = serviceOf(target);
      // Tests beside the code may use any driver (a real SQLite, the fake clock of the conformance kit).
      const testMayUse = isTest && to.startsWith('drivers/');
      const faceMayUse = from === 'services' && to === 'aws' && isFace(src);
      if (allowed && !allowed.includes(to) && !testMayUse && !faceMayUse) {
        context.report({ node, messageId: 'layer', data: { from, to, why: `allowed: ${allowed.join(', ')}` } });
        return;
      }
      if (!dst || dst.shared || (src && src.name === dst.name)) return;
      if (dst.rest === 'module.ts') {
        if (from !== 'main') context.report({ node, messageId: 'layer', data: { from: file, to: spec, why: "a service's face is for the composition root" } });
      } else if (dst.rest !== 'index.ts') {
        context.report({ node, messageId: 'layer', data: { from: file, to: spec, why: 'another service is reached only through its index.ts' } });
      }
    }
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};
