/**
 * Reading (not yet verifying) AWS Signature V4 on incoming requests: which AWS service a request is
 * for, from the credential scope of its `Authorization` header or presigned `X-Amz-Credential`
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
 */
export interface CredentialScope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

const HEADER = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)/;

/** `AKID/20150830/us-east-1/iam/aws4_request` → its parts; undefined when malformed. */
export function parseCredential(credential: string): CredentialScope | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  if (!accessKeyId || !/^\d{8}$/.test(date) || !region || !service) return undefined;
  return { accessKeyId, date, region, service };
}

/** The credential scope of a signed request, from its Authorization header or presigned query. */
export function credentialScope(authorization: string | undefined, query: string): CredentialScope | undefined {
  if (authorization) {
    const m = HEADER.exec(authorization);
    return m ? parseCredential(m[1]!) : undefined;
  }
  if (!query.includes('X-Amz-Credential=')) return undefined;
  const credential = new URLSearchParams(query).get('X-Amz-Credential');
  return credential ? parseCredential(credential) : undefined;
}
