/**
 * The answers to a request whose SigV4 signature does not hold, in the wire format of the service it
 * was for. The JSON protocols (Lambda's REST-JSON, the JSON 1.0/1.1 of SQS, EventBridge, Step
 * Functions) name the error in `x-amzn-ErrorType` and the body's `message`.
 */
import type { SigV4Problem } from '../core/sigv4.js';
import type { AwsResponse } from './types.js';

/** SigV4 problem → HTTP status and AWS error type (as the JSON services answer). */
const JSON_ERRORS: Record<SigV4Problem, readonly [number, string]> = {
  incomplete: [400, 'IncompleteSignatureException'],
  'unknown-key': [403, 'UnrecognizedClientException'],
  mismatch: [403, 'InvalidSignatureException'],
  expired: [403, 'InvalidSignatureException'],
};

export function signatureErrorResponse(_service: string, problem: SigV4Problem, message: string): AwsResponse {
  const [status, type] = JSON_ERRORS[problem];
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': globalThis.crypto.randomUUID(), 'x-amzn-errortype': type },
    body: JSON.stringify({ message }),
  };
}
