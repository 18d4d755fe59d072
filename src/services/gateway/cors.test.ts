import { describe, expect, it } from 'vitest';
import { compileCors, type CorsConfig } from './cors.js';

const base: CorsConfig = {
  allowOrigins: ['https://app.example.com'],
  allowMethods: ['GET', 'POST'],
  allowHeaders: ['content-type', 'authorization'],
  exposeHeaders: ['x-request-id'],
  allowCredentials: false,
  maxAge: 600,
};

describe('CORS', () => {
  it('answers a preflight of an allowed origin with the configured headers', () => {
    expect(compileCors(base).preflight('https://app.example.com')).toEqual([
      ['access-control-allow-origin', 'https://app.example.com'],
      ['access-control-allow-methods', 'GET,POST'],
      ['access-control-allow-headers', 'content-type,authorization'],
      ['access-control-max-age', '600'],
    ]);
  });

  it('matches origins case-insensitively and gives a disallowed origin nothing', () => {
    const cors = compileCors(base);
    expect(cors.preflight('HTTPS://APP.EXAMPLE.COM')[0]).toEqual(['access-control-allow-origin', 'HTTPS://APP.EXAMPLE.COM']);
    expect(cors.preflight('https://evil.example.com')).toEqual([]);
    const headers: [string, string][] = [];
    cors.decorate('https://evil.example.com', headers);
    expect(headers).toEqual([]);
  });

  it('answers * for a wildcard without credentials, and echoes the origin with them', () => {
    expect(compileCors({ ...base, allowOrigins: ['*'] }).preflight('https://a.test')[0]).toEqual(['access-control-allow-origin', '*']);
    const withCredentials = compileCors({ ...base, allowOrigins: ['*'], allowCredentials: true }).preflight('https://a.test');
    expect(withCredentials).toContainEqual(['access-control-allow-origin', 'https://a.test']);
    expect(withCredentials).toContainEqual(['access-control-allow-credentials', 'true']);
  });

  it('adds origin, credentials and expose-headers to actual responses', () => {
    const headers: [string, string][] = [['apigw-requestid', 'x']];
    compileCors({ ...base, allowCredentials: true }).decorate('https://app.example.com', headers);
    expect(headers).toEqual([
      ['apigw-requestid', 'x'],
      ['access-control-allow-origin', 'https://app.example.com'],
      ['access-control-allow-credentials', 'true'],
      ['access-control-expose-headers', 'x-request-id'],
    ]);
  });

  it('leaves out what is not configured', () => {
    const minimal = compileCors({ allowOrigins: ['*'], allowMethods: [], allowHeaders: [], exposeHeaders: [], allowCredentials: false });
    expect(minimal.preflight('https://a.test')).toEqual([['access-control-allow-origin', '*']]);
  });

  it('refuses a max age out of range and values that cannot be header values', () => {
    expect(() => compileCors({ ...base, maxAge: 86401 })).toThrow(/maxAge/);
    expect(() => compileCors({ ...base, allowHeaders: ['x-a\r\nx-b'] })).toThrow(/control characters/);
    expect(() => compileCors({ ...base, allowOrigins: [''] })).toThrow(/non-empty/);
  });
});
