/** The environment a Lambda function sees (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime). */
import path from 'node:path';
import type { FunctionSpec } from '../ports/executor.js';

export interface PlatformIdentity {
  readonly region: string;
  readonly accountId: string;
  /** Where AWS SDK clients inside a function reach this platform. */
  readonly endpointUrl: () => string;
}

export function logStreamName(instanceId: string, now = new Date()): string {
  const d = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${d}/[$LATEST]${instanceId.padEnd(32, '0')}`;
}

/** User variables first; Lambda's reserved ones cannot be overridden, as on AWS. */
export function functionEnvironment(spec: FunctionSpec, identity: PlatformIdentity, instance: { id: string; codeDir: string; tmpDir: string }): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: identity.endpointUrl(),
    // The sandbox's users have no passwd entry, so without HOME `os.homedir()` throws, and with it
    // every AWS SDK client (it looks for ~/.aws/config). As the sandbox user's home on Lambda, this
    // one does not exist: the SDK finds no files there, and nothing can be written to it.
    HOME: path.join(path.dirname(instance.codeDir), 'home'),
    ...spec.environment,
    AWS_REGION: identity.region,
    AWS_DEFAULT_REGION: identity.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: spec.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: spec.provisionedConcurrency ? 'provisioned-concurrency' : 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName(instance.id),
    AWS_ACCESS_KEY_ID: spec.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: spec.credentials.secretAccessKey,
    LAMBDA_TASK_ROOT: instance.codeDir,
    LAMBDA_RUNTIME_DIR: instance.codeDir,
    TMPDIR: instance.tmpDir,
    TZ: ':UTC',
    _HANDLER: spec.handler,
    // Set only for functions that run several invocations per instance, as Lambda Managed Instances do.
    ...(spec.instanceConcurrency !== undefined && spec.instanceConcurrency > 1 ? { AWS_LAMBDA_MAX_CONCURRENCY: String(spec.instanceConcurrency) } : {}),
  };
}
