// peer-provision accept FILE: the friend's side of the friend flow (docs/friend.md), on the friend's own machine, with
// no peer.yaml. Opens the invite with the friend's key (every refusal before anything is touched), shows its
// fingerprint, then runs an `up` of this one machine (ssh: local): Tailscale installed if missing, joined to the
// inviter's tailnet with the invite's key, the gateway's A2A channel given the inviter's machines as peers, and a verify
// from here to each of them. What it did is recorded (accepted.json) for `leave`.
import { UsageError } from '../../errors.js';
import { acceptedFrom, readAccepted, refuseReplay, withAccepted, writeAccepted } from '../../friend/accepted.js';
import { loadIdentity } from '../../friend/identity.js';
import { openInvite } from '../../friend/invite.js';
import { fixedPeers, localSpec } from '../../friend/local-spec.js';
import type { View } from '../../output/view.js';
import { FileRefused, KiB, readRegularFile } from '../../peer-yaml/read-file.js';
import { DEFAULT_REKEY_WINDOW_SECONDS } from '../../plan/node-keys.js';
import type { CommonOptions } from '../../program.js';
import { converge } from '../converge.js';

export interface AcceptOptions extends CommonOptions {
  invite: string;
  yes?: boolean;
  /** Leave another tailnet this node is logged in to, for the inviter's (as peer.yaml's tailscale.takeOver). */
  takeOver?: boolean;
  /** Let in only the gateway's port on the tailnet interface (nftables), whatever the inviter's policy allows. */
  guard?: boolean;
  /** Where Tailscale's Linux install script comes from when it is missing (a mirror; as peer.yaml's tailscale.installUrl). */
  installUrl?: string;
  verbose?: boolean;
}

export async function run(options: AcceptOptions, view: View): Promise<number> {
  if (options.installUrl !== undefined && !/^https:\/\/[^\s\p{Cc}]{1,2040}$/u.test(options.installUrl))
    throw new UsageError('--install-url: an https:// URL (one line, no spaces)');
  const identity = await loadIdentity();
  let text: string;
  try {
    text = readRegularFile(options.invite, 64 * KiB).text;
  } catch (error) {
    if (!(error instanceof FileRefused)) throw error;
    throw new UsageError(`${options.invite} ${error.reason}`);
  }
  const now = new Date();
  const { invite, fingerprint } = await openInvite(options.invite, text, identity, now);
  const records = readAccepted();
  refuseReplay(options.invite, invite, records);
  const record = acceptedFrom(invite, now);
  // what it is, before the plan: the fingerprint the inviter reads aloud, and who the invite comes from
  view.tell(
    { event: 'invite', friend: invite.to.friend, file: options.invite, fingerprint, expires: invite.expires },
    [
      `Invite ${options.invite}: from stack ${invite.from.stack}, for ${invite.to.friend} (this machine joins as ${invite.to.machine}), valid until ${invite.expires}.`,
      `Fingerprint: ${fingerprint}   (accept only if it is the one the inviter reads you)`,
      `Peers: ${invite.peers.map((p) => `${p.name} (${p.tailnetIp})`).join(', ')}`,
      ...(invite.tailnet.controlUrl ? [`Control server: ${invite.tailnet.controlUrl} (the inviter's own, instead of Tailscale's)`] : []),
      '',
      '',
    ].join('\n'),
  );
  const spec = localSpec(record, { authKey: invite.tailnet.authKey, takeOver: options.takeOver, installUrl: options.installUrl, guard: options.guard });
  return converge(spec, { ...options, machine: undefined }, 'accept', view, {
    fixedPeers: fixedPeers(invite),
    nodeKeys: { now: now.getTime(), windowSeconds: DEFAULT_REKEY_WINDOW_SECONDS, rekey: false },
    // recorded before the first change, so that `leave` undoes a run stopped half-way too
    beforeRun: () => writeAccepted(withAccepted(records, record)),
    async finish() {
      return {
        problems: [],
        text: `\nThe inviter's next \`peer-provision up\` completes their side (your machine's address). \`peer-provision leave\` undoes this.\n`,
      };
    },
  });
}
