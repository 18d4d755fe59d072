/**
 * The access keys Nuvola issues and accepts on its AWS endpoints: the developer's key pair (for the
 * SDK, the AWS CLI, scripts) and one per function (its execution role). A signature is checked
 * against these only; a key names who signed, its principal.
 */
export type Principal = { readonly kind: 'developer' } | { readonly kind: 'function'; readonly name: string };

export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export class KeyRing {
  private readonly keys = new Map<string, { secret: string; principal: Principal }>();

  add(key: AccessKey, principal: Principal): void {
    this.keys.set(key.accessKeyId, { secret: key.secretAccessKey, principal });
  }

  remove(accessKeyId: string): void {
    this.keys.delete(accessKeyId);
  }

  secretOf(accessKeyId: string): string | undefined {
    return this.keys.get(accessKeyId)?.secret;
  }

  principalOf(accessKeyId: string): Principal | undefined {
    return this.keys.get(accessKeyId)?.principal;
  }
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * A new random key pair shaped like AWS's (20-character id with a 4-letter prefix, 40-character
 * secret), so tools that check the shape accept it. `AKIA` is a long-term key, `ASIA` a role's.
 */
export function newAccessKey(prefix: 'AKIA' | 'ASIA', random: (bytes: Uint8Array) => Uint8Array = (b) => globalThis.crypto.getRandomValues(b)): AccessKey {
  const pick = (alphabet: string, n: number) => Array.from(random(new Uint8Array(n)), (b) => alphabet[b % alphabet.length]).join('');
  return { accessKeyId: prefix + pick(ID_ALPHABET, 16), secretAccessKey: pick(SECRET_ALPHABET, 40) };
}
