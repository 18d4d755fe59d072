import { describe, expect, it } from 'vitest';
import { DEFAULT_RESULT_CONTENT_TYPE, mapFunctionResult } from './response.js';

const ID = 'JKJaXmPLvHcESHA=';

describe('function results under payload format 2.0', () => {
  it('sends a string as the body of a 200 application/json response', () => {
    expect(mapFunctionResult('Hello from Lambda!', ID, false)).toEqual({
      statusCode: 200,
      headers: [['apigw-requestid', ID], ['content-type', 'application/json']],
      body: 'Hello from Lambda!',
    });
  });

  it('serializes an object without statusCode (and other JSON values) as a 200 JSON body', () => {
    const asData = (v: unknown) => mapFunctionResult(v, ID, false);
    expect(asData({ message: 'Hello', body: 'not a response' })).toMatchObject({ statusCode: 200, body: '{"message":"Hello","body":"not a response"}' });
    expect(asData([1, 2])).toMatchObject({ statusCode: 200, body: '[1,2]' });
    expect(asData(42)?.body).toBe('42');
    expect(asData(null)?.body).toBe('null');
    expect(asData(undefined)?.body).toBe('null');
    expect(asData({ a: 1 })?.headers).toContainEqual(['content-type', 'application/json']);
  });

  it('maps a full response: headers stringified, cookies, base64 body', () => {
    const r = mapFunctionResult(
      {
        statusCode: 201,
        headers: { 'Content-Type': 'image/png', 'X-Count': 3, 'X-Flag': true, 'X-Skip': null },
        multiValueHeaders: { 'X-Ignored': ['a'] },
        cookies: ['session=abc123; Secure; HttpOnly', 'theme=dark'],
        body: Buffer.from([137, 80, 78, 71]).toString('base64'),
        isBase64Encoded: true,
      },
      ID,
      false,
    );
    expect(r?.statusCode).toBe(201);
    expect(r?.headers).toEqual([
      ['apigw-requestid', ID],
      ['Content-Type', 'image/png'],
      ['X-Count', '3'],
      ['X-Flag', 'true'],
      ['set-cookie', 'session=abc123; Secure; HttpOnly'],
      ['set-cookie', 'theme=dark'],
    ]);
    expect(r?.body).toEqual(Buffer.from([137, 80, 78, 71]));
  });

  it('defaults the content type of a statusCode response to text/plain and its body to empty', () => {
    const r = mapFunctionResult({ statusCode: 204 }, ID, false);
    expect(r).toEqual({ statusCode: 204, headers: [['apigw-requestid', ID], ['content-type', DEFAULT_RESULT_CONTENT_TYPE]], body: '' });
    expect(mapFunctionResult({ statusCode: 200, body: 'x', isBase64Encoded: false }, ID, false)?.body).toBe('x');
  });

  it('drops framing headers, and access-control-* ones when the gateway owns CORS', () => {
    const result = { statusCode: 200, headers: { 'Content-Length': '999', 'Access-Control-Allow-Origin': '*', 'X-Ok': '1' }, body: 'hi' };
    expect(mapFunctionResult(result, ID, false)?.headers.map(([n]) => n)).toEqual(['apigw-requestid', 'Access-Control-Allow-Origin', 'X-Ok', 'content-type']);
    expect(mapFunctionResult(result, ID, true)?.headers.map(([n]) => n)).toEqual(['apigw-requestid', 'X-Ok', 'content-type']);
  });

  it.each([
    ['a string statusCode', { statusCode: '200' }],
    ['a fractional statusCode', { statusCode: 200.5 }],
    ['an out-of-range statusCode', { statusCode: 99 }],
    ['an informational statusCode', { statusCode: 101 }],
    ['a null statusCode', { statusCode: null }],
    ['an object body', { statusCode: 200, body: { a: 1 } }],
    ['headers as an array', { statusCode: 200, headers: [['a', 'b']] }],
    ['an object header value', { statusCode: 200, headers: { a: { b: 1 } } }],
    ['a header name node would refuse', { statusCode: 200, headers: { 'bad name': 'x' } }],
    ['a header value with a newline', { statusCode: 200, headers: { a: 'x\r\nInjected: 1' } }],
    ['cookies not an array', { statusCode: 200, cookies: 'a=1' }],
    ['a cookie not a string', { statusCode: 200, cookies: [1] }],
  ])('refuses %s', (_why, result) => {
    expect(mapFunctionResult(result, ID, false)).toBeNull();
  });
});
