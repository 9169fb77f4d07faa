// The rules that keep up and down from losing a user's config or locking the operator out. Pure: from the
// spec and what was observed to blockers (nothing is touched on any machine while one stands) and notes.
import type { MachineState } from '../../observe/types.js';
import type { MachineSpec } from '../../peer-yaml/types.js';
import { restoreMode } from '../machine-down.js';
import { hasStackTags, isJoined, isLegacyNode, isTailnetAddress } from '../node.js';
import type { Blocker } from '../types.js';

/** Where the node is now, in a person's words. */
export function describeNode(state: MachineState): string {
  const ts = state.tailscale;
  if (!ts.installed) return 'Tailscale is not installed';
  if (ts.daemonError) return `tailscaled is not answering: ${ts.daemonError}`;
  if (!ts.loggedIn) return `Tailscale is not logged in (${ts.backendState ?? 'no state'})`;
  const where = ts.tailnet ? `tailnet ${ts.tailnet}` : 'a tailnet';
  const who = ts.tags.length ? `tags ${ts.tags.join(',')}` : ts.login ? `user ${ts.login}` : 'an unknown login';
  return `Tailscale: logged in to ${where} as ${ts.hostname ?? '(no hostname)'} (${who}), ${ts.backendState ?? 'unknown state'}`;
}

export function upBlockers(machine: MachineSpec, state: MachineState): Blocker[] {
  const blockers: Blocker[] = [];
  const path = state.gateway.configPath;
  const kind = state.gateway.configKind;
  const configField = `machines.${machine.name}.gateway.configPath`;
  if (kind === 'directory')
    blockers.push({
      reason: `the OpenClaw config path ${path} is a directory`,
      fix: `set ${configField} to the config file itself (e.g. ${path}/openclaw.json)`,
    });
  if (kind === 'special')
    blockers.push({
      reason: `the OpenClaw config path ${path} is not a regular file (a device, FIFO or socket)`,
      fix: `set ${configField} to the OpenClaw config file`,
    });
  if (kind === 'dangling')
    blockers.push({ reason: `the OpenClaw config path ${path} is a symlink to nothing`, fix: `fix the link, or set ${configField} to the real file` });
  if (kind === 'relative')
    blockers.push({ reason: `the OpenClaw config path ${path} is not absolute`, fix: `set ${configField} to an absolute path or ~/...` });

  if (state.tailscale.loggedIn && isLegacyNode(machine, state)) {
    blockers.push({
      reason: `the node joined with the tags of peer-provision 0.1 (${machine.legacyTags.join(',')}), whose machine tags can equal another stack's tags`,
      fix:
        `run peer-provision down, then up: the machine leaves, and joins again with ${machine.tags.join(',')}` +
        // provider provided: the user's key must carry the new tags (Tailscale and headscale give a node its key's tags)
        (machine.tailscale.authKey ? `; its auth key must carry those tags (\`peer-provision tailnet init\` lists each machine's)` : ''),
    });
    return blockers;
  }
  if (isJoined(machine, state) || machine.tailscale.takeOver) return blockers;
  const optIn = `${machine.tailscale.takeOverOptIn ?? `set machines.${machine.name}.tailscale.takeOver: true`} to log it out of that tailnet and join this stack's`;
  if (state.tailscale.loggedIn && !hasStackTags(machine, state)) {
    blockers.push({
      reason: `the node is already logged in elsewhere (${describeNode(state)}); joining would log it out of that tailnet and cut every connection that runs over it`,
      fix: `use a machine that is not on another tailnet, or ${optIn}`,
    });
  }
  if (isTailnetAddress(state.sshClient)) {
    blockers.push({
      reason: `peer-provision reaches this machine over Tailscale (ssh from ${state.sshClient}); joining the stack's tailnet would cut that connection mid-run`,
      fix: `reach it over another network (its LAN address or an ssh jump host), or ${optIn}`,
    });
  }
  return blockers;
}

/**
 * A config someone edited since up has only peer-provision's keys undone, to their original values: with an original
 * that is not JSON5 there are none to read, and down would guess. The user decides.
 */
export function downBlockers(stack: string, state: MachineState): Blocker[] {
  return (state.recorded ?? [])
    .filter((r) => r.origUnreadable && restoreMode(r) === 'patch')
    .map((r) => ({
      reason: `the backup of ${r.path} (the config before peer-provision's first up) is not valid JSON5, and the config was edited since: down cannot tell which gateway settings were yours`,
      fix: `set gateway.bind, port, auth and tools.allow in ${r.path} as you want them and remove the folder ~/.peer-provision/${stack}/configs/${r.id} (down then leaves that config as it is), or repair its file orig; then re-run down`,
    }));
}

/**
 * tailscaled stopped or crashed (installed, but `tailscale status` cannot reach it): no join or leave can run, and
 * the node's tags and address are unknown, so nothing is planned over a guess. Starting a daemon someone stopped is
 * theirs to decide; systemd's unit restarts a crashed one on its own.
 */
export function tailscaledBlockers(machine: MachineSpec, state: MachineState): Blocker[] {
  if (!state.tailscale.installed || !state.tailscale.daemonError) return [];
  return [
    {
      reason: `tailscaled is not running, or not answering (tailscale status: ${state.tailscale.daemonError})`,
      fix:
        state.os === 'darwin'
          ? `start Tailscale on ${machine.name} (the app, or sudo brew services start tailscale), then re-run`
          : `start it on ${machine.name} (sudo systemctl enable --now tailscaled, or however tailscaled is run there), then re-run`,
    },
  ];
}

/** Two entries that reach the same machine (same machine id) would be peered with themselves. */
export function duplicateMachines(states: { machine: string; state: MachineState }[]): Map<string, Blocker> {
  const seen = new Map<string, string>();
  const out = new Map<string, Blocker>();
  for (const { machine, state } of states) {
    if (!state.machineId) continue;
    const first = seen.get(state.machineId);
    if (first) {
      out.set(machine, {
        reason: `machines ${first} and ${machine} are the same machine (machine id ${state.machineId.slice(0, 8)}…)`,
        fix: `remove one of the two entries from peer.yaml (they reach one machine through two names)`,
      });
    } else seen.set(state.machineId, machine);
  }
  return out;
}
