// Lambda's Node.js contract at its edges, as the reference runtime (aws-lambda-nodejs-runtime-
// interface-client: Errors.toRapidResponse, CallbackContext, Runtime._setDefaultExitListener) answers.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, ROOT, startNuvola, type Running } from '../helpers/nuvola.js';

let nuvola: Running;
beforeAll(async () => {
  nuvola = await startNuvola(await copyApp(path.join(ROOT, 'test/fixtures/edges')));
});
afterAll(() => nuvola.stop());

const invoke = async (fn: string) => {
  const res = await nuvola.control(`/functions/${fn}/invoke`, { method: 'POST', body: '{}' });
  return (await res.json()) as { result: unknown; error: { type: string; message: string } | null };
};

describe('what a handler throws', () => {
  it('reports `throw null` and `throw undefined` in an async handler as the "handled" string', async () => {
    for (const fn of ['throwsNull', 'throwsUndefined']) {
      const out = await invoke(fn);
      expect(out.error).toEqual({ type: 'string', message: 'handled' });
      expect(out.result).toEqual({ errorType: 'string', errorMessage: 'handled', trace: [] });
    }
  });

  it('reports a thrown plain value by its type and string form', async () => {
    expect((await invoke('throwsObject')).result).toEqual({ errorType: 'object', errorMessage: '[object Object]', trace: [] });
    expect((await invoke('throwsString')).result).toEqual({ errorType: 'string', errorMessage: 'plain words', trace: [] });
  });

  it('reports a value that cannot even be turned into text with the runtime’s fixed record', async () => {
    expect((await invoke('throwsUnprintable')).result).toEqual({
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    });
  });

  it('takes a synchronous `throw null` as no error at all: the answer is null', async () => {
    expect(await invoke('syncThrowsNull')).toMatchObject({ result: null, error: null });
  });
});

describe('handlers that never finish, once nothing is left to run', () => {
  it('fails an async handler whose promise can never settle with Runtime.NodeJsExit, not a timeout', async () => {
    const out = await invoke('neverSettles');
    expect(out.error?.type).toBe('Runtime.NodeJsExit');
    expect(out.error?.message).toMatch(/^The Lambda runtime client detected an unexpected Node\.js exit code\. This is most commonly caused by a Promise that was never settled\./);
  });

  it('answers null for a callback handler that never calls back', async () => {
    expect(await invoke('neverCallsBack')).toMatchObject({ result: null, error: null });
  });

  it('ignores what a handler that is not async returns, as Lambda does, and says so in its log', async () => {
    const res = await nuvola.control('/functions/syncReturns/invoke', { method: 'POST', body: '{}' });
    const out = (await res.json()) as { requestId: string; result: unknown; error: unknown; logs: string };
    expect(out).toMatchObject({ result: null, error: null });
    expect(out.logs).toMatch(new RegExp(`\\t${out.requestId}\\tWARN\\tThe handler returned a value without a promise: Lambda ignores it and answers null`));
  });

  it('answers a callback once the event loop is empty', async () => {
    expect(await invoke('callsBackEarly')).toMatchObject({ result: 'early', error: null });
  });
});

describe('the task root', () => {
  it('is the working directory of the handler, as on Lambda', async () => {
    const { result } = await invoke('cwd');
    const { cwd, taskRoot } = result as { cwd: string; taskRoot: string };
    expect(cwd).toBe(taskRoot);
  });
});

describe('the region and Node’s warnings', () => {
  it('gives functions the configured region, in their environment and their ARN', async () => {
    const elsewhere = await startNuvola(await copyApp(path.join(ROOT, 'test/fixtures/edges')), { env: { NUVOLA_REGION: 'eu-south-1', NUVOLA_ACCOUNT_ID: '123456789012' } });
    try {
      const res = await elsewhere.control('/functions/where/invoke', { method: 'POST', body: '{}' });
      expect(((await res.json()) as { result: unknown }).result).toEqual({
        region: 'eu-south-1',
        defaultRegion: 'eu-south-1',
        arn: 'arn:aws:lambda:eu-south-1:123456789012:function:where',
      });
    } finally {
      await elsewhere.stop();
    }
  });

  it('logs a Node warning printed during an invocation under its request id', async () => {
    const res = await nuvola.control('/functions/where/invoke', { method: 'POST', body: '{}' });
    const { requestId } = (await res.json()) as { requestId: string };
    const logs = (await (await nuvola.control(`/logs?fn=where&requestId=${requestId}`)).json()) as { records: { message: string }[] };
    expect(logs.records.map((r) => r.message)).toContainEqual(expect.stringMatching(new RegExp(`\\t${requestId}\\tWARN\\t\\(node\\) DeprecationWarning: something is deprecated$`)));
  });
});
