// The Lambda API through the unchanged AWS SDK v3 client, pointed at Nuvola with an endpoint URL.
import path from 'node:path';
import {
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionEventInvokeConfigCommand,
  InvalidParameterValueException,
  ListFunctionEventInvokeConfigsCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionEventInvokeConfigCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignatureV4 } from '@smithy/signature-v4';
import { copyApp, eventually, ROOT, startNuvola, TEST_KEY, type Running } from '../helpers/nuvola.js';
import { Sha256 } from '../helpers/signing.js';

let nuvola: Running;
let lambda: LambdaClient;

beforeAll(async () => {
  nuvola = await startNuvola(await copyApp(path.join(ROOT, 'test/fixtures/app')));
  lambda = new LambdaClient({
    endpoint: nuvola.url,
    region: 'us-east-1',
    credentials: TEST_KEY,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  lambda?.destroy();
  await nuvola?.stop();
});

const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('utf8');

describe('Invoke', () => {
  it('runs a function synchronously and returns its result', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(JSON.stringify({ hello: 'sdk' })) }));
    expect(out.StatusCode).toBe(200);
    expect(out.ExecutedVersion).toBe('$LATEST');
    expect(out.FunctionError).toBeUndefined();
    expect((JSON.parse(text(out.Payload)) as { event: unknown }).event).toEqual({ hello: 'sdk' });
  });

  it('accepts a function ARN as the name', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:legacy' }));
    expect(JSON.parse(text(out.Payload))).toEqual({ statusCode: 200, body: 'legacy/ok' });
  });

  it('returns function errors with X-Amz-Function-Error and the log tail', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'throws', LogType: 'Tail' }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    expect(JSON.parse(text(out.Payload))).toMatchObject({ errorType: 'ValidationError', errorMessage: 'the input was wrong' });
    const tail = Buffer.from(out.LogResult!, 'base64').toString('utf8');
    expect(tail).toMatch(/^START RequestId: /);
    expect(tail).toMatch(/REPORT RequestId: /);
  });

  it('reports a timeout as Lambda does', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'sleepy', Payload: Buffer.from('{"queryStringParameters":{"ms":"3000"}}') }));
    expect(out.FunctionError).toBe('Unhandled');
    expect(JSON.parse(text(out.Payload))).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/Task timed out after 1\.00 seconds$/) });
  });

  it('queues Event invocations (202) and runs them', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: Buffer.from('{"rawPath":"/async-marker"}') }));
    expect(out.StatusCode).toBe(202);
    await eventually(async () => {
      const res = await nuvola.control(`/logs?fn=echo&limit=1000`);
      const { records } = (await res.json()) as { records: { message: string }[] };
      return records.some((r) => r.message.includes('echo /async-marker'));
    });
  });

  it('answers DryRun with 204', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }));
    expect(out.StatusCode).toBe(204);
  });

  it('fails with ResourceNotFoundException for an unknown function', async () => {
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'missing' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('rejects a payload that is not JSON', async () => {
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{nope') }))).rejects.toMatchObject({
      name: 'InvalidRequestContentException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('throttles beyond reserved concurrency with TooManyRequestsException', async () => {
    const busy = lambda.send(new InvokeCommand({ FunctionName: 'limited', Payload: Buffer.from('{"queryStringParameters":{"ms":"1500"}}') }));
    await eventually(async () => {
      const res = await nuvola.control(`/functions`);
      const { stats } = (await res.json()) as { stats: { functions: Record<string, { busy: number }> } };
      return stats.functions.limited!.busy === 1;
    });
    const err = await lambda.send(new InvokeCommand({ FunctionName: 'limited' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooManyRequestsException);
    expect((err as TooManyRequestsException).Reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect((await busy).StatusCode).toBe(200);
  });
});

describe('event invoke config', () => {
  const echoArn = 'arn:aws:lambda:us-east-1:000000000000:function:echo';

  it("gives the manifest's settings, replaced by Put, merged by Update, back to the manifest's after Delete", async () => {
    const initial = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'respond' }));
    expect(initial).toMatchObject({
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:respond:$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnSuccess: {}, OnFailure: {} },
    });
    expect(initial.LastModified).toBeInstanceOf(Date);
    const put = await lambda.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: 'respond', MaximumRetryAttempts: 1, DestinationConfig: { OnFailure: { Destination: echoArn } } }),
    );
    expect(put).toMatchObject({ MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 21600, DestinationConfig: { OnSuccess: {}, OnFailure: { Destination: echoArn } } });
    const updated = await lambda.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'respond', MaximumEventAgeInSeconds: 120 }));
    expect(updated).toMatchObject({ MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 120, DestinationConfig: { OnFailure: { Destination: echoArn } } });
    const listed = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'respond' }));
    expect(listed.FunctionEventInvokeConfigs).toEqual([expect.objectContaining({ MaximumEventAgeInSeconds: 120 })]);
    await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'respond' }));
    expect(await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'respond' }))).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21600 });
  });

  it("refuses out-of-range settings, destinations that are no function of the app, and unknown functions, with Lambda's errors", async () => {
    const tooMany = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'respond', MaximumRetryAttempts: 3 })).catch((e: unknown) => e);
    expect((tooMany as Error).name).toBe('ValidationException');
    const tooYoung = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'respond', MaximumEventAgeInSeconds: 59 })).catch((e: unknown) => e);
    expect((tooYoung as Error).name).toBe('ValidationException');
    const queue = await lambda
      .send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'respond', DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:dlq' } } }))
      .catch((e: unknown) => e);
    expect(queue).toBeInstanceOf(InvalidParameterValueException);
    const nobody = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'respond', DestinationConfig: { OnSuccess: { Destination: 'nobody' } } })).catch((e: unknown) => e);
    expect(nobody).toBeInstanceOf(InvalidParameterValueException);
    const missing = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'missing' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers malformed bodies with 400 and the error type Lambda gives, never a fault', async () => {
    const put = async (body: string) => {
      const url = new URL(`${nuvola.url}/2019-09-25/functions/respond/event-invoke-config`);
      const signer = new SignatureV4({ credentials: TEST_KEY, region: 'us-east-1', service: 'lambda', sha256: Sha256 });
      const signed = await signer.sign({ method: 'PUT', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, headers: { host: url.host }, query: {}, body });
      const res = await fetch(url, { method: 'PUT', headers: signed.headers, body });
      return [res.status, res.headers.get('x-amzn-errortype')];
    };
    expect(await put('not json')).toEqual([400, 'InvalidRequestContentException']);
    expect(await put('[1]')).toEqual([400, 'InvalidRequestContentException']);
    expect(await put('{"MaximumRetryAttempts":"2"}')).toEqual([400, 'ValidationException']);
    expect(await put('{"DestinationConfig":"x"}')).toEqual([400, 'ValidationException']);
    expect(await put('{"DestinationConfig":{"OnFailure":5}}')).toEqual([400, 'ValidationException']);
    expect(await put('{"DestinationConfig":{"OnFailure":{"Destination":7}}}')).toEqual([400, 'ValidationException']);
    expect(await put('{"DestinationConfig":{"OnFailure":{"Destination":"arn:aws:sns:us-east-1:000000000000:t"}}}')).toEqual([400, 'InvalidParameterValueException']);
    expect(await put('{"DestinationConfig":{"OnFailure":null}}')).toEqual([200, null]);
    await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'respond' }));
  });

  it('applies what was put to the next asynchronous invocations: no retries, the failure said at once', async () => {
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'throws', MaximumRetryAttempts: 0 }));
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'throws', InvocationType: 'Event' }));
    expect(out.StatusCode).toBe(202);
    const id = out.$metadata.requestId!;
    await nuvola.waitForOutput(new RegExp(`asynchronous invocation ${id} of throws failed: 1 attempts failed: ValidationError: the input was wrong`));
    await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'throws' }));
  });
});

describe('GetFunction and ListFunctions', () => {
  it('describes a function', async () => {
    const out = await lambda.send(new GetFunctionCommand({ FunctionName: 'hog' }));
    expect(out.Configuration).toMatchObject({
      FunctionName: 'hog',
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:hog',
      Runtime: `nodejs${process.versions.node.split('.')[0]}.x`,
      Handler: 'src/hog.handler',
      MemorySize: 128,
      Timeout: 20,
      Version: '$LATEST',
      State: 'Active',
    });
    expect(out.Configuration?.CodeSha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it('lists functions, page by page', async () => {
    const first = await lambda.send(new ListFunctionsCommand({ MaxItems: 5 }));
    expect(first.Functions).toHaveLength(5);
    expect(first.NextMarker).toBeTruthy();
    const rest = await lambda.send(new ListFunctionsCommand({ Marker: first.NextMarker }));
    const names = [...first.Functions!, ...rest.Functions!].map((f) => f.FunctionName);
    expect(names).toContain('echo');
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('credentials', () => {
  const client = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
    new LambdaClient({ endpoint: nuvola.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  const failure = async (c: LambdaClient) => {
    try {
      await c.send(new ListFunctionsCommand({}));
      return undefined;
    } catch (err) {
      return { name: (err as Error).name, message: (err as Error).message, status: (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode };
    } finally {
      c.destroy();
    }
  };

  it('refuses a wrong secret with InvalidSignatureException', async () => {
    expect(await failure(client({ ...TEST_KEY, secretAccessKey: 'wrong' }))).toEqual({
      name: 'InvalidSignatureException',
      status: 403,
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    });
  });

  it('refuses a key it did not issue with UnrecognizedClientException', async () => {
    expect(await failure(client({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }))).toEqual({
      name: 'UnrecognizedClientException',
      status: 403,
      message: 'The security token included in the request is invalid.',
    });
  });

  it('refuses a signature made 20 minutes ago as expired', async () => {
    const url = new URL(`${nuvola.url}/2015-03-31/functions`);
    const signer = new SignatureV4({ credentials: TEST_KEY, region: 'us-east-1', service: 'lambda', sha256: Sha256 });
    const signed = await signer.sign(
      { method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, headers: { host: url.host }, query: {} },
      { signingDate: new Date(Date.now() - 20 * 60_000) },
    );
    const res = await fetch(url, { headers: signed.headers });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
    expect(((await res.json()) as { message: string }).message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);
  });

  it('gives each function a key pair of its own, which opens the AWS endpoints', async () => {
    const whoami = JSON.parse(text((await lambda.send(new InvokeCommand({ FunctionName: 'whoami' }))).Payload)) as { accessKeyId: string; secretAccessKey: string };
    expect(whoami.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(whoami.accessKeyId).not.toBe(TEST_KEY.accessKeyId);
    const echo = JSON.parse(text((await lambda.send(new InvokeCommand({ FunctionName: 'echo' }))).Payload)) as { env: { AWS_ACCESS_KEY_ID: string } };
    expect(echo.env.AWS_ACCESS_KEY_ID).not.toBe(whoami.accessKeyId);
    const asFunction = client(whoami);
    expect((await asFunction.send(new ListFunctionsCommand({}))).Functions?.length).toBeGreaterThan(0);
    asFunction.destroy();
  });
});

describe('requests without a usable signature', () => {
  it('answers an SDK call without credentials with MissingAuthenticationTokenException', async () => {
    const res = await fetch(`${nuvola.url}/2015-03-31/functions`, { headers: { 'amz-sdk-invocation-id': 'x' } });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  it('answers a signature without a readable scope with IncompleteSignatureException', async () => {
    const res = await fetch(`${nuvola.url}/2015-03-31/functions`, { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=nope' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('IncompleteSignatureException');
  });
});
