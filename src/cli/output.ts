/**
 * What `nuvola dev` prints while it runs: a line per HTTP request, the functions' console output and
 * errors, and what a reload changed. Pure formatting; colours only when asked for.
 */
import type { RequestInfo } from '../main.js';
import type { LogRecord } from '../ports/executor.js';

export interface Paint {
  dim(text: string): string;
  bold(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  magenta(text: string): string;
}

const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

export function paint(enabled: boolean): Paint {
  if (!enabled) {
    const plain = (text: string) => text;
    return { dim: plain, bold: plain, red: plain, green: plain, yellow: plain, cyan: plain, magenta: plain };
  }
  return { dim: sgr(2, 22), bold: sgr(1, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39), magenta: sgr(35, 39) };
}


/** `GET /items/42 200 getItem 3 ms cold` */
export function formatRequest(r: RequestInfo, p: Paint): string {
  const status = String(r.status);
  const colored = r.status >= 500 ? p.red(status) : r.status >= 400 ? p.yellow(status) : r.status >= 300 ? p.cyan(status) : p.green(status);
  const ms = r.durationMs < 10 ? r.durationMs.toFixed(1) : String(Math.round(r.durationMs));
  return `${p.bold(r.method)} ${r.path} ${colored} ${r.fn ?? p.dim('-')} ${p.dim(`${ms} ms`)}${r.cold ? ` ${p.magenta('cold')}` : ''}`;
}

const LEVEL_COLOR: Record<string, keyof Paint> = { ERROR: 'red', WARN: 'yellow', DEBUG: 'dim', TRACE: 'dim' };

/**
 * A log record as the developer wants to see it, or undefined for the runtime's bookkeeping lines
 * (START, END, REPORT). Console lines lose their timestamp and request id; failed invocations show
 * the error and its stack.
 */
export function formatLog(r: LogRecord, p: Paint): string | undefined {
  // START, END and REPORT, three a request, are not shown: the request line says it all.
  if (r.stream === 'runtime' && !r.message.includes('\tERROR\t') && !r.message.includes('Task timed out')) return undefined;
  const who = p.cyan(r.fn);
  if (r.stream === 'runtime') {
    const invokeError = /\tERROR\tInvoke Error \t(.*)$/s.exec(r.message);
    if (invokeError) return `${who} ${p.red('ERROR')} ${describeError(invokeError[1]!, p)}`;
    const timeout = /Task timed out after .*$/.exec(r.message);
    if (timeout) return `${who} ${p.red('ERROR')} ${timeout[0]}`;
    return undefined;
  }
  // Console lines: `<ISO time>\t<request id>\t<LEVEL>\t<text>`; raw writes to stdout/stderr are as is.
  const m = /^\d{4}-\d\d-\d\dT[\d:.]+Z\t[^\t]*\t([A-Z]+)\t(.*)$/s.exec(r.message);
  if (!m) return `${who} ${r.stream === 'stderr' ? p.red(r.message) : r.message}`;
  const [, level = 'INFO', text = ''] = m;
  const shown = level === 'INFO' ? '' : `${p[LEVEL_COLOR[level] ?? 'dim'](level)} `;
  return `${who} ${shown}${indent(text)}`;
}

function describeError(json: string, p: Paint): string {
  let error: { errorType?: unknown; errorMessage?: unknown; trace?: unknown };
  try {
    error = JSON.parse(json) as typeof error;
  } catch {
    return json;
  }
  const head = `${String(error.errorType)}: ${String(error.errorMessage)}`;
  // The first trace line repeats the type and message.
  const trace = Array.isArray(error.trace) ? error.trace.slice(1).map(String) : [];
  return trace.length === 0 ? head : `${head}\n${trace.map((t) => p.dim(`    ${t.trim()}`)).join('\n')}`;
}

const indent = (text: string): string => text.replaceAll('\n', '\n    ');

export interface ReloadReport {
  readonly ms: number;
  /** The previous reload had failed: the app loads again. */
  readonly fixed: boolean;
  readonly changes: Readonly<Record<string, { readonly changed?: readonly string[]; readonly added?: readonly string[]; readonly removed?: readonly string[] }>>;
}

const NOUN: Record<string, string> = { functions: 'functions', gateway: 'routes' };

/** What a reload changed, one line a kind of change; nothing when nothing changed and nothing was fixed. */
export function formatReload(r: ReloadReport, p: Paint): string[] {
  const lines: string[] = [];
  for (const [service, c] of Object.entries(r.changes)) {
    const noun = NOUN[service] ?? service;
    if (c.changed?.length) lines.push(`  ${p.yellow('~')} ${noun} changed: ${c.changed.join(', ')}`);
    if (c.added?.length) lines.push(`  ${p.green('+')} ${noun} added: ${c.added.join(', ')}`);
    if (c.removed?.length) lines.push(`  ${p.red('-')} ${noun} removed: ${c.removed.join(', ')}`);
  }
  if (lines.length === 0 && !r.fixed) return [];
  const head = r.fixed ? `${p.green('Fixed:')} the app loads again; reloaded (${r.ms} ms)` : `Reloaded (${r.ms} ms)`;
  return [head, ...lines];
}
