// The AWS SDK v3 inside functions, as Lambda's Node.js runtimes provide it: an app with no
// package.json and no node_modules imports @aws-sdk/client-lambda and calls another of its
// functions through the Lambda API, with the endpoint and credentials the platform gives it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, ROOT, startNuvola, type Running } from '../helpers/nuvola.js';

let nuvola: Running;
let appDir: string;

beforeAll(async () => {
  // Copied out of the repository, whose node_modules the bundler would otherwise find by itself.
  appDir = await copyApp(path.join(ROOT, 'test/fixtures/sdk'));
  nuvola = await startNuvola(appDir);
});
afterAll(() => nuvola?.stop());

describe('the AWS SDK v3 in a function', () => {
  it('is there for an app that did not install it', () => {
    for (let dir = appDir; ; dir = path.dirname(dir)) {
      expect(existsSync(path.join(dir, 'node_modules', '@aws-sdk', 'client-lambda')), `${dir}/node_modules holds the SDK`).toBe(false);
      if (path.dirname(dir) === dir) break;
    }
  });

  it("invokes another function through the Lambda API with the function's own endpoint and credentials", async () => {
    const res = await nuvola.control('/functions/caller/invoke', { method: 'POST', body: JSON.stringify({ name: 'sdk' }) });
    const body = (await res.json()) as { result: unknown; error: unknown; logs: string };
    expect(body.error, body.logs).toBeNull();
    expect(body.result).toEqual({ statusCode: 200, functionError: null, answer: { greeting: 'hello sdk', from: 'callee' } });
  });
});
