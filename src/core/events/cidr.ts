/** IPv4 and IPv6 ranges in CIDR notation, for the `cidr` operator of event patterns. */

export interface Cidr {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

/** The range `text` names, or the pattern's error (through `fail`). */
export function parseCidr(text: string, fail: (reason: string) => never): Cidr {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const mask = slash < 0 ? undefined : text.slice(slash + 1);
  if (mask !== undefined && !/^\d{1,3}$/.test(mask)) return fail('Malformed CIDR, mask bits must be an integer');
  const bytes = parseIp(address);
  if (!bytes) return fail(`Nonstandard IP address: ${address}`);
  let bits = bytes.length * 8;
  if (mask !== undefined) {
    bits = Number(mask);
    if (bits > bytes.length * 8) return fail(`Malformed CIDR, mask bits must be between 0 and ${bytes.length * 8}`);
  }
  return { bytes, bits };
}

export function inCidr(cidr: Cidr, address: string): boolean {
  const bytes = parseIp(address);
  if (!bytes || bytes.length !== cidr.bytes.length) return false;
  for (let bit = 0; bit < cidr.bits; bit++) {
    const i = bit >> 3;
    const m = 0x80 >> (bit & 7);
    if ((bytes[i]! & m) !== (cidr.bytes[i]! & m)) return false;
  }
  return true;
}

/** The bytes of an IPv4 (4) or IPv6 (16) address, or undefined. */
export function parseIp(text: string): Uint8Array | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split('.').map(Number);
    return parts.every((p) => p <= 255) ? Uint8Array.from(parts) : undefined;
  }
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const v4 = parseIp(g);
        if (!v4 || v4.length !== 4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0 || (halves.length === 2 && missing < 1)) return undefined;
  const all = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}
