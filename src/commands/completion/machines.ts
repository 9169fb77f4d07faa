// peer-provision __complete-machines [-f FILE]: the machine names of a peer.yaml, one a line, for the completion
// scripts (after --machine, --from, and send's PEER). It reads the file alone: no machine, no secret. Whatever goes
// wrong (no file, an invalid one, an unknown flag) it prints nothing and exits 0: a completion has no place to
// show an error, and a stray line would be offered as a machine.

import { stdout } from '../../console/io.js';
import { EXIT } from '../../errors.js';
import { loadSpec } from '../../peer-yaml/load.js';

/** The -f/--file a command line names (as commander reads it: -f X, -fX, --file X, --file=X; the last wins). */
export function fileOf(args: string[]): string {
  let file = 'peer.yaml';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if ((a === '-f' || a === '--file') && i + 1 < args.length) file = args[++i]!;
    else if (a.startsWith('--file=')) file = a.slice('--file='.length);
    else if (a.startsWith('-f') && a.length > 2 && !a.startsWith('--')) file = a.slice(2);
  }
  return file;
}

export async function run(args: string[]): Promise<number> {
  try {
    const names = loadSpec(fileOf(args)).machines.map((m) => m.name);
    if (names.length) stdout(names.join('\n') + '\n');
  } catch {
    // nothing to offer
  }
  return EXIT.ok;
}
