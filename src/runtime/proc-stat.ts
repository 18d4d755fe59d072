import { readFileSync } from 'node:fs';

/**
 * The fields of `/proc/<pid>/stat` after the command name (Linux), so that index 0 is the state
 * (`man 5 proc`'s field 3); undefined where the file cannot be read. The name, in parentheses, may
 * hold spaces and parentheses itself: the fields start after the last `)`.
 */
export function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
