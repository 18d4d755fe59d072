// Files beside the code (`package.include`) end to end: found in the task root by a real instance,
// under the permission model, and swapped in when they change.
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, eventually, ROOT, startNuvola, type Running } from '../helpers/nuvola.js';

let nuvola: Running;

beforeAll(async () => {
  nuvola = await startNuvola(await copyApp(path.join(ROOT, 'test/fixtures/files')));
});
afterAll(() => nuvola?.stop());

async function read(): Promise<Record<string, unknown>> {
  const res = await nuvola.control('/functions/reader/invoke', { method: 'POST', body: '{}' });
  const body = (await res.json()) as { result: Record<string, unknown>; error: unknown; logs: string };
  expect(body.error, body.logs).toBeNull();
  return body.result;
}

describe('package.include', () => {
  it('puts the included files in the task root, where the handler reads them by relative path or LAMBDA_TASK_ROOT', async () => {
    expect(await read()).toEqual({
      fromCwd: { greeting: 'hello from a file' },
      fromTaskRoot: { greeting: 'hello from a file' },
      cwdIsTaskRoot: true,
      deep: 'deep',
      page: '<p>page</p>',
      secret: false,
      notes: false,
    });
  });

  it('reloads the function when an included file changes', async () => {
    await writeFile(path.join(nuvola.dir, 'data/greeting.json'), '{ "greeting": "edited" }\n');
    await eventually(async () => ((await read())['fromCwd'] as { greeting: string }).greeting === 'edited', 10_000);
    expect((await read())['fromTaskRoot']).toEqual({ greeting: 'edited' });
  });
});
