/** A small client of the control API, for the commands that talk to a running platform. */
import type { LogRecord } from '../ports/executor.js';

export interface InvokeOutput {
  requestId: string;
  result?: unknown;
  error?: { type: string; message: string } | null;
  logs: string;
}

export function controlClient(baseUrl: string, token: string | undefined) {
  const base = baseUrl.replace(/\/+$/, '');

  async function call(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
    try {
      res = await fetch(`${base}/_nuvola${path}`, { ...init, headers });
    } catch {
      throw new Error(`cannot reach Nuvola at ${base} (is \`nuvola dev\` running? set --url or NUVOLA_URL)`);
    }
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      throw new Error(body.error?.message ?? `${res.status} ${res.statusText}`);
    }
    return res;
  }

  return {
    async invoke(fn: string, payload: string, type: 'RequestResponse' | 'Event'): Promise<InvokeOutput> {
      const res = await call(`/functions/${encodeURIComponent(fn)}/invoke?type=${type}`, { method: 'POST', body: payload });
      return (await res.json()) as InvokeOutput;
    },
    async logs(fn: string | undefined, limit: number): Promise<LogRecord[]> {
      const q = new URLSearchParams({ limit: String(limit), ...(fn ? { fn } : {}) });
      const res = await call(`/logs?${q}`);
      return ((await res.json()) as { records: LogRecord[] }).records;
    },
    /** Prints records until the platform goes away. */
    async follow(fn: string | undefined, limit: number, onRecord: (r: LogRecord) => void): Promise<void> {
      const q = new URLSearchParams({ limit: String(limit), follow: '1', ...(fn ? { fn } : {}) });
      const res = await call(`/logs?${q}`);
      const decoder = new TextDecoder();
      let rest = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) if (line) onRecord(JSON.parse(line) as LogRecord);
      }
    },
    async invocations(fn: string | undefined, failed: boolean, limit: number): Promise<AsyncInvocation[]> {
      const q = new URLSearchParams({ limit: String(limit), ...(fn ? { fn } : {}), ...(failed ? { failed: '1' } : {}) });
      const res = await call(`/invocations?${q}`);
      return ((await res.json()) as { invocations: AsyncInvocation[] }).invocations;
    },
    /** Each function's queue of asynchronous invocations. */
    async asyncQueues(): Promise<Record<string, { visible: number; inFlight: number; delayed: number }>> {
      const res = await call('/functions');
      return ((await res.json()) as { async: Record<string, { visible: number; inFlight: number; delayed: number }> }).async;
    },
    async queues(): Promise<{ name: string; visible: number; inFlight: number; delayed: number; deadLetterQueue?: string }[]> {
      const res = await call('/queues');
      return ((await res.json()) as { queues: { name: string; visible: number; inFlight: number; delayed: number; deadLetterQueue?: string }[] }).queues;
    },
    async peek(queue: string, max: number): Promise<{ messageId: string; body: string; attributes: Record<string, { DataType: string; StringValue?: string }>; groupId?: string; sentAt: number; receiveCount: number }[]> {
      const res = await call(`/queues/${encodeURIComponent(queue)}/peek?max=${max}`);
      return ((await res.json()) as { messages: never[] }).messages;
    },
    /** Moves a dead-letter queue's messages back to where they were sent, or to `to`; how many. */
    async redrive(queue: string, to: string | undefined): Promise<number> {
      const res = await call(`/queues/${encodeURIComponent(queue)}/redrive${to ? `?to=${encodeURIComponent(to)}` : ''}`, { method: 'POST' });
      return ((await res.json()) as { moved: number }).moved;
    },
    async events(): Promise<{ name: string; rules: { name: string; enabled: boolean; pattern: string; targets: string[] }[] }[]> {
      const res = await call('/events');
      return ((await res.json()) as { buses: never[] }).buses;
    },
    async putEvent(entry: Record<string, unknown>): Promise<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }> {
      const res = await call('/events', { method: 'POST', body: JSON.stringify(entry) });
      return (await res.json()) as { EventId?: string; ErrorCode?: string; ErrorMessage?: string };
    },
    async sites(): Promise<SiteListing[]> {
      const res = await call('/sites');
      return ((await res.json()) as { sites: SiteListing[] }).sites;
    },
    /** Makes the version before the current one current; its number. */
    async rollbackSite(name: string): Promise<number> {
      const res = await call(`/sites/${encodeURIComponent(name)}/rollback`, { method: 'POST' });
      return ((await res.json()) as { current: number }).current;
    },
  };
}

export interface AsyncInvocation {
  requestId: string;
  fn: string;
  status: string;
  attempts: number;
  error?: { type: string; message: string };
  destination?: string;
  queuedAt: number;
  at: number;
}

export interface SiteListing {
  name: string;
  path: string;
  dir: string;
  current: number;
  versions: { version: number; createdAt: number; files: number; bytes: number }[];
}
