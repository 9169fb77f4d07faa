// peer-provision unfriend FRIEND: the inviter ends a friend's peering (docs/friend.md). An `up` of peer.yaml without
// the friend: the key of an invite he has not accepted revoked, his A2A entries on your machines and the grants for his
// tag removed (OpenClaw reloads channels.a2a: his token is refused at once), then his device removed from the tailnet.
// friends.FRIEND is taken out of peer.yaml once the plan is confirmed, before the first change, so that a run stopped
// part-way is finished by the next `up` (or `unfriend` again: the stack's record of his invite still names him).
import { accessSync, constants, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../../errors.js';
import { readInvites } from '../../friend/pending.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import { withoutFriend } from '../../peer-yaml/remove-friend.js';
import type { Spec } from '../../peer-yaml/types.js';
import { writeWhole } from '../../peer-yaml/write-whole.js';
import { converge, type UpOptions } from '../converge.js';

export interface UnfriendOptions extends Omit<UpOptions, 'machine'> {
  friend: string;
}

export async function run(options: UnfriendOptions, view: View): Promise<number> {
  const spec = loadSpec(options.file);
  const name = options.friend;
  const listed = spec.friends.some((f) => f.name === name);
  if (!listed && !readInvites(spec).some((i) => i.friend === name)) {
    const known = spec.friends.map((f) => f.name);
    throw new UsageError(
      `${spec.file}: no friend named ${JSON.stringify(name)} under friends:${known.length ? ` (there are ${known.join(', ')})` : ' (there is none)'}`,
    );
  }
  const file = listed ? writableFile(spec.file) : undefined;
  const takeOut = () => {
    if (!file) return;
    const text = readFileSync(file, 'utf8');
    const edited = withoutFriend(text, name);
    if (edited !== text) writeWhole(file, edited, statSync(file).mode & 0o777);
  };
  const without: Spec = { ...spec, friends: spec.friends.filter((f) => f.name !== name) };
  return converge(without, { ...options, machine: undefined }, 'unfriend', view, {
    beforeRun: takeOut,
    // a plan with nothing to run (he never got that far) takes him out of peer.yaml too
    async finish() {
      takeOut();
      return { problems: [], text: `\n${name} is no longer a friend${file ? `: taken out of ${spec.file}` : ''}.\n` };
    },
  });
}

/** peer.yaml's real path (a link's target is edited, not replaced by a file), checked writable before anything runs. */
function writableFile(path: string): string {
  const real = realpathSync(path);
  try {
    accessSync(real, constants.W_OK);
    accessSync(dirname(real), constants.W_OK);
  } catch {
    throw new UsageError(`${path}: unfriend takes the friend out of it, and it (or its folder) is not writable`);
  }
  return real;
}
