// Reads `nuvola.yaml` and turns every problem into a line an editor can jump to:
// `<file>:<line>:<col> <path> — <what was expected, what was found>`.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';
import { PlatformError } from '../core/errors.js';
import { describeValue, manifestSchema } from './manifest.js';
import type { AppManifest } from './manifest.js';

/** Looked for in this order. */
export const MANIFEST_FILES = ['nuvola.yaml', 'nuvola.yml'] as const;

export interface LoadedApp {
  /** Absolute app directory; handler paths are relative to it. */
  dir: string;
  /** Absolute path of the manifest file. */
  file: string;
  manifest: AppManifest;
}

/** One problem of a manifest, 1-based line and column. `path` is dotted (`functions.a.events[0]`), '' for YAML syntax. */
export interface ManifestIssue {
  line: number;
  col: number;
  path: string;
  message: string;
}

/**
 * Loads the manifest of the app in `dir` (or the manifest file `dir` names). Throws MANIFEST_NOT_FOUND
 * when there is none and MANIFEST_INVALID listing every problem at once.
 */
export async function loadManifest(dir: string): Promise<LoadedApp> {
  const target = path.resolve(dir);
  const info = await stat(target).catch(() => undefined);
  let file: string | undefined;
  if (info?.isFile()) {
    file = target;
  } else if (info?.isDirectory()) {
    const found: string[] = [];
    for (const name of MANIFEST_FILES) {
      if ((await stat(path.join(target, name)).catch(() => undefined))?.isFile()) found.push(path.join(target, name));
    }
    if (found.length > 1) {
      // Silently preferring one would leave edits to the other without effect.
      throw new PlatformError('MANIFEST_INVALID', `Both ${found.join(' and ')} exist: keep one`, { file: found[0], issues: [] });
    }
    file = found[0];
  }
  if (!file) {
    throw new PlatformError('MANIFEST_NOT_FOUND', `No ${MANIFEST_FILES.join(' or ')} in ${target}`, { dir: target });
  }
  const text = await readFile(file, 'utf8');
  return { dir: path.dirname(file), file, manifest: parseManifest(text, displayPath(file)) };
}

/** Parses and validates manifest text; `file` is only used to label the issues. */
export function parseManifest(text: string, file: string): AppManifest {
  const lineCounter = new LineCounter();
  // prettyErrors would append a code frame to each message; we print positions ourselves.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number) => lineCounter.linePos(offset);
  const [syntaxError] = doc.errors;
  // Later syntax errors are nearly always echoes of the first (one stray brace yields dozens).
  if (syntaxError) fail(file, [{ ...at(syntaxError.pos[0]), path: '', message: `YAML: ${syntaxError.message}` }]);
  let data: unknown;
  try {
    data = doc.toJS(); // throws on an alias bomb (yaml's maxAliasCount)
  } catch (err) {
    fail(file, [{ line: 1, col: 1, path: '', message: `YAML: ${(err as Error).message}` }]);
  }
  const result = manifestSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    const issues = result.error.issues.flatMap((issue) => describeIssue(issue, doc, at));
    fail(file, issues.sort((a, b) => a.line - b.line || a.col - b.col));
  }
  return deepFreeze(result.data);
}

type Segment = PropertyKey;
type Position = (offset: number) => { line: number; col: number };

function describeIssue(issue: z.core.$ZodIssue, doc: Document, at: Position): ManifestIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const where = locate(doc, [...issue.path, key], true);
      return { ...at(where), path: formatPath([...issue.path, key]), message: `unknown key "${key}"; ${issue.message}` };
    });
  }
  let message = issue.message;
  // A record key's own issue sits one level down and says what a valid key looks like.
  if (issue.code === 'invalid_key') message = issue.issues[0]?.message ?? message;
  if (issue.code !== 'custom') {
    message = issue.input === undefined ? `${message}; the key is missing` : `${message}, got ${describeValue(issue.input)}`;
  }
  return [{ ...at(locate(doc, issue.path, issue.code === 'invalid_key')), path: formatPath(issue.path), message }];
}

/**
 * The offset of the deepest node that exists on `segments`. A mapping or list is pointed at by the
 * key that introduces it (its own start is the line below); so is any node when `atKey` is set.
 */
function locate(doc: Document, segments: readonly Segment[], atKey = false): number {
  let node: unknown = doc.contents;
  let key: Node | undefined;
  let complete = true;
  for (const seg of segments) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) {
        complete = false;
        break;
      }
      key = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      key = undefined;
      node = node.items[seg];
    } else {
      complete = false;
      break;
    }
  }
  const nodeStart = (node as Node | null)?.range?.[0];
  // An empty value has no text of its own to point at.
  const empty = isScalar(node) && node.value === null;
  const useKey = key?.range && (atKey || !complete || empty || isCollection(node) || nodeStart === undefined);
  return (useKey ? key?.range?.[0] : nodeStart) ?? 0;
}

function formatPath(segments: readonly Segment[]): string {
  if (segments.length === 0) return '(top level)';
  return segments
    .map((s, i) => {
      if (typeof s === 'number') return `[${s}]`;
      const name = String(s);
      if (!/^[\w$-]+$/.test(name)) return `[${JSON.stringify(name)}]`;
      return i === 0 ? name : `.${name}`;
    })
    .join('');
}

function fail(file: string, issues: ManifestIssue[]): never {
  const lines = issues.map((i) => `${file}:${i.line}:${i.col} ${i.path ? `${i.path} — ` : '— '}${i.message}`);
  throw new PlatformError('MANIFEST_INVALID', [`Invalid app manifest ${file}:`, ...lines].join('\n'), { file, issues });
}

// Relative to the working directory when inside it, so terminals and editors make it clickable and short.
function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
