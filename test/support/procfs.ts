import { readFileSync, readdirSync } from 'node:fs';

/** The fields of /proc/<path>/stat after the command name (field 3 is index 0). */
function statFields(path: string): string[] {
  const stat = readFileSync(`/proc/${path}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Process group and session of a process (stat fields 5 and 6). */
export function groupAndSession(pid: number | 'self'): { pgid: number; sid: number } {
  const fields = statFields(String(pid));
  return { pgid: Number(fields[2]), sid: Number(fields[3]) };
}

/** Nice value of every live thread of this process (stat field 19). */
export function threadNices(): Map<number, number> {
  const nices = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      nices.set(Number(tid), Number(statFields(`self/task/${tid}`)[16]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return nices;
}
