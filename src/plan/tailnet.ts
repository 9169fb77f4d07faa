// The tailnet's part of a plan, for up and down, in the plan's own vocabulary (steps). Pure: the policy text is
// read by observe (src/observe/tailnet.ts) and handed in; without it the policy step is unknown until read.

import { sha256 } from '../model/hash.js';
import type { PolicyObservation } from '../observe/types.js';
import { formatDuration } from '../peer-yaml/duration.js';
import { machineTag, type Spec } from '../peer-yaml/types.js';
import { PROVIDED_NOTE } from '../tailnet/notes.js';
import { policyChanges, policyWarnings } from '../tailnet/policy/changes.js';
import { CLASH_FIX, policyClashes } from '../tailnet/policy/clashes.js';
import { ALLOW_ALL_FIX } from '../tailnet/policy/owned.js';
import { makeStep, TAILNET, unknownStep } from './step.js';
import type { FriendKey } from './step-kinds.js';
import type { Step } from './types.js';

export interface TailnetPlanInput {
  spec: Spec;
  command: 'up' | 'down';
  /** up: the machines in the tailnet with the right tags (the policy's tests are written for them). */
  joined: Set<string>;
  /** up: the machines that join in this run (each gets a key). */
  joining: string[];
  policy: PolicyObservation;
  /** up: friends' keys (see FriendKeys). */
  friendKeys?: FriendKeys;
  /** up: the friends whose machine one of the stack's machines sees on the tailnet with the friend's tags. */
  friendsJoined?: Set<string>;
}

/** Friends' keys: every pending invite's (declared again whenever keys are minted, so Pulumi keeps them), and those this run mints. */
export interface FriendKeys {
  pending: FriendKey[];
  /** invite: the friend whose new invite's key this run mints (it is among pending). */
  mint: string[];
  /** Friends taken out of peer.yaml whose invite has not expired: a Pulumi run no longer declares their key (revoked). */
  revoke?: string[];
  /** Friends taken out of peer.yaml, still recorded: their device is removed (after the revoke), then their record. */
  former?: string[];
}

export function planTailnet(input: TailnetPlanInput): { actions: Step[]; notes: string[] } {
  const planned = planTailnetSide(input);
  if (input.command === 'up' && input.friendKeys) planned.notes.push(...friendNotes(input));
  return planned;
}

/** Where each friend is: joined, invited and waiting, or not invited yet. */
function friendNotes({ spec, friendKeys, friendsJoined }: TailnetPlanInput): string[] {
  return spec.friends.map((f) =>
    friendsJoined?.has(f.name)
      ? `friend ${f.name}: joined, peers with ${f.with.join(', ')}`
      : friendKeys?.mint.includes(f.name)
        ? `friend ${f.name}: invited now; their machine joins when they run \`peer-provision accept\``
        : friendKeys?.pending.some((k) => k.friend === f.name)
          ? `friend ${f.name}: invited, waiting for them to accept`
          : `friend ${f.name}: not invited yet (\`peer-provision invite ${f.name}\`)`,
  );
}

function planTailnetSide({ spec, command, joined, joining, policy, friendKeys }: TailnetPlanInput): { actions: Step[]; notes: string[] } {
  const t = spec.tailnet;
  if (t.provider === 'provided')
    return {
      actions: [],
      notes: [
        PROVIDED_NOTE,
        ...(command === 'up' ? (friendKeys?.former ?? []) : []).map(
          (f) =>
            `${f} is no longer a friend: remove their device (tag ${machineTag(spec.name, f)}) in your tailnet's admin console, and revoke the key you gave them`,
        ),
      ],
    };
  if (command === 'down') return planTailnetDown(spec, policy);
  const notes: string[] = [];
  const actions: Step[] = [];
  const pending = spec.machines.filter((m) => joining.includes(m.name));
  const keyWords = `single-use, preauthorized${t.keys.ephemeral ? ', ephemeral' : ''}, expires in ${formatDuration(t.keys.expirySeconds)}`;
  if ('unread' in policy && policy.offline) {
    // offline: whether a machine has joined is not known either
    for (const m of spec.machines) {
      actions.push(
        unknownStep(undefined, 'tailnet-key', `mint a key for ${m.name} if it has not joined: ${keyWords}, tags ${m.tags.join(',')}`, policy.unread, {
          id: `${TAILNET}/unknown:key:${m.name}`,
        }),
      );
    }
  }
  if (t.acl === 'skip') notes.push('acl: skip: the tailnet policy is left alone');
  else if ('unread' in policy) {
    actions.push(
      unknownStep(
        undefined,
        'tailnet-policy',
        `merge this stack's entries: tagOwners, grants for ${[...spec.peers.map((p) => p.join('<->')), ...spec.friends.map((f) => `${f.name} (friend)<->${f.with.join('|')}`)].join(', ')} on the gateway ports, tests`,
        policy.unread,
      ),
    );
  } else {
    const set = (x?: string[]) => (x ? new Set(x) : undefined);
    const changes = policyChanges(policy.text, spec, {
      ours: new Set(policy.ours),
      oursGrants: set(policy.oursGrants),
      oursTests: set(policy.oursTests),
      testsFor: joined,
    });
    if (changes.length > 0) {
      const op = changes.every((c) => c.op === '+') ? 'add' : changes.every((c) => c.op === '-') ? 'destroy' : 'change';
      actions.push(
        makeStep('merge-policy', undefined, {
          op,
          summary: `merge this stack's entries into the policy (${[...new Set(changes.map((c) => c.section))].join(', ')})`,
          changes: changes.map((c) => ({ field: `${c.op} ${c.section}`, to: `(${c.summary})` })),
          input: { policyHash: sha256(policy.text), testsFor: [...joined].sort() },
        }),
      );
    }
    for (const c of policyClashes(policy.text, spec)) notes.push(`policy clash: ${c}. up will refuse. Fix: ${CLASH_FIX}`);
    for (const w of policyWarnings(policy.text))
      notes.push(
        `policy warning: ${w}. up will refuse: with it every device reaches every gateway port and this stack's policy tests (port 22 denied between peers) fail. Fix: ${ALLOW_ALL_FIX}`,
      );
    if (pending.some((m) => !joined.has(m.name)) && joined.size < spec.machines.length)
      notes.push('policy tests are written for machines that have joined: the first up after they join adds them');
  }
  const minting = spec.friends.filter((f) => friendKeys?.mint.includes(f.name));
  const revoking = friendKeys?.revoke ?? [];
  if ((pending.length > 0 || minting.length > 0 || revoking.length > 0) && !('unread' in policy && policy.offline)) {
    const policyStep = actions.find((a) => a.resource === 'tailnet-policy');
    const invited = (name: string) => friendKeys?.pending.find((k) => k.friend === name);
    const friendWords = (name: string) => `single-use, preauthorized, expires in ${formatDuration(invited(name)?.expirySeconds ?? 0)}`;
    const forWhom = [
      ...(pending.length ? [`${pending.map((m) => `${m.name}${joined.has(m.name) ? ' (to re-key its node)' : ''}`).join(', ')}: ${keyWords}`] : []),
      ...minting.map((f) => `friend ${f.name}: ${friendWords(f.name)}`),
    ];
    const revokeWords = revoking.map((f) => `revoke the key of ${f}'s invite (no longer a friend)`);
    actions.push(
      makeStep('mint-keys', undefined, {
        op: forWhom.length ? 'add' : 'destroy',
        summary: [...(forWhom.length ? [`mint an auth key for ${forWhom.join('; ')}`] : []), ...revokeWords].join('; '),
        changes: [
          ...pending.map((m) => ({ field: m.name, to: `(tags ${m.tags.join(', ')})` })),
          ...minting.map((f) => ({ field: `${f.name} (friend)`, to: `(tags ${f.tags.join(', ')})` })),
          ...revoking.map((f) => ({ field: `${f} (former friend)`, from: '(invite key)', to: undefined })),
        ],
        // the stack's tags must be in tagOwners before a key may carry them
        needs: policyStep && policyStep.op !== 'unknown' ? [policyStep.id] : [],
        input: { machines: pending.map((m) => m.name), ...(friendKeys?.pending.length ? { friends: friendKeys.pending } : {}) },
      }),
    );
  }
  const former = friendKeys?.former ?? [];
  if (former.length > 0 && !('unread' in policy && policy.offline)) {
    const revokeStep = actions.find((a) => a.kind === 'mint-keys');
    actions.push(
      makeStep('remove-friend-devices', undefined, {
        op: 'destroy',
        summary: `remove the device of ${former.join(', ')} (no longer a friend: tag ${former.map((f) => machineTag(spec.name, f)).join(', ')})`,
        changes: former.map((f) => ({ field: `${f} (former friend)`, from: '(device)', to: undefined })),
        needs: revokeStep ? [revokeStep.id] : [],
        input: { friends: former },
      }),
    );
  }
  return { actions, notes };
}

function planTailnetDown(spec: Spec, policy: PolicyObservation): { actions: Step[]; notes: string[] } {
  if ('unread' in policy && policy.offline) {
    const reason = policy.unread;
    const actions = [
      unknownStep(undefined, 'tailnet-key', `revoke this stack's keys (stack ${spec.name})`, reason),
      unknownStep(undefined, 'tailnet-devices', `remove devices tagged ${spec.tailnet.stackTag} and one of its machine tags`, reason),
    ];
    if (spec.tailnet.acl === 'merge') actions.push(unknownStep(undefined, 'tailnet-policy', "remove this stack's entries from the policy", reason));
    return { actions, notes: spec.tailnet.acl === 'skip' ? ['acl: skip: the tailnet policy is left alone'] : [] };
  }
  // Keys, then devices, then the policy: each complete before the next, so a down stopped part-way is finished by the next.
  const actions: Step[] = [
    makeStep('revoke-keys', undefined, { op: 'destroy', summary: `revoke this stack's keys (stack ${spec.name})`, input: {} }),
    makeStep('remove-devices', undefined, {
      op: 'destroy',
      summary: `remove devices tagged ${spec.tailnet.stackTag} and one of its machine tags`,
      needs: [`${TAILNET}/revoke-keys`],
      input: { tag: spec.tailnet.stackTag },
    }),
  ];
  if (spec.tailnet.acl === 'merge') {
    actions.push(
      makeStep('remove-policy', undefined, {
        op: 'destroy',
        summary: "remove this stack's entries from the policy",
        needs: [`${TAILNET}/remove-devices`],
        input: {},
      }),
    );
  }
  return { actions, notes: spec.tailnet.acl === 'skip' ? ['acl: skip: the tailnet policy is left alone'] : [] };
}
