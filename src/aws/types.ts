/** The listener-neutral request and response the AWS protocol adapters work on. */
export interface AwsRequest {
  readonly method: string;
  /** The path, percent-decoded per segment by the adapter that needs it. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

export interface AwsResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer;
}
