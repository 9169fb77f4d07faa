// What a machine must have before `up` may touch it, checked against what observe found. Pure: the same
// spec, state and actions give the same blockers. A blocker names the cause and the fix, and `up` refuses
// while there is one (np's rule: check prerequisites before changing anything). plan/safety.ts has the rules
// that protect a user's config and connection; these are the ones a fresh machine fails first.
import type { MachineState } from '../../observe/types.js';
import type { MachineSpec } from '../../peer-yaml/types.js';
import type { Blocker, Step } from '../types.js';

export const SUPPORTED_OS = ['linux', 'darwin'];

/** Actions that run a command as root on the machine (Tailscale; a system unit's restart). */
function needsRoot(state: MachineState, actions: Step[]): boolean {
  return actions.some(
    (a) =>
      a.op !== 'unknown' &&
      (a.resource === 'tailscale-install' ||
        a.resource === 'tailnet-node' ||
        a.resource === 'inbound-guard' ||
        (a.resource === 'gateway-restart' && state.gateway.serviceManager === 'systemd-system')),
  );
}

export function machinePreconditions(machine: MachineSpec, state: MachineState, actions: Step[]): Blocker[] {
  const blockers: Blocker[] = [];
  const block = (reason: string, fix: string) => blockers.push({ reason, fix });
  const needs = (resource: Step['resource']) => actions.some((a) => a.resource === resource);

  if (/^(mingw|msys|cygwin)/.test(state.os)) {
    // Git for Windows' or Cygwin's sh answered: still Windows, where OpenClaw's gateway runs in WSL2
    block(
      `a Windows machine (${state.os}: Git Bash, MSYS or Cygwin answered ssh) is not supported; OpenClaw on Windows runs in WSL2`,
      `start sshd inside the WSL2 distribution and point machines.${machine.name}.ssh at it, or run peer-provision inside WSL2 with ssh: local`,
    );
    return blockers;
  }
  if (!SUPPORTED_OS.includes(state.os)) {
    block(`${state.os} is not supported yet (Linux and macOS are)`, `run this agent on Linux or macOS, or leave ${machine.name} out of peer.yaml`);
    return blockers; // nothing else said about such a machine would be worth acting on
  }
  if (!state.gateway.installed) {
    block(
      `OpenClaw is not installed: no \`openclaw\` command on the PATH of ${state.user}'s non-interactive shell`,
      'install it (npm install -g openclaw@latest --allow-scripts=openclaw), then `openclaw onboard --install-daemon`; ' +
        'if it is installed elsewhere than nvm, Homebrew, volta, pnpm, bun or npm put it (those are searched), link it into ' +
        '/usr/local/bin (ssh host sh -s reads no ~/.profile, so a PATH set there is not seen)',
    );
  }
  if (state.gateway.installed && state.gateway.a2aChannel === false) {
    block(
      `OpenClaw ${state.gateway.version ?? '(version unknown)'} has no A2A channel (dist/extensions/a2a), which peers talk through; ` +
        'OpenClaw 2026.9.6, the version peer-provision is tested with, ships it',
      'upgrade OpenClaw on this machine (npm install -g openclaw@latest, or `openclaw update`), restart its gateway, then re-run',
    );
  }
  if (state.gateway.installed && !state.gateway.configPath && needs('gateway-config')) {
    block(
      'OpenClaw did not say where its config is (no config where it looks by default, and `openclaw config file` printed nothing)',
      `set machines.${machine.name}.gateway.configPath to the OpenClaw config file (openclaw config file prints it on that machine)`,
    );
  }
  const restartable = state.gateway.serviceManager !== 'none' || Boolean(machine.gateway.restart);
  if (needs('gateway-restart') && !restartable) {
    block(
      state.gateway.pid
        ? 'the gateway runs, but under nothing peer-provision can restart (no systemd user unit, launchd job or respawning supervisor found)'
        : 'no gateway is running and no service manager runs one (no systemd user unit, launchd job or respawning supervisor found)',
      `\`openclaw gateway install\` (a systemd user unit with lingering, or launchd), or set machines.${machine.name}.gateway.restart to a command that restarts it`,
    );
  }
  if (state.root?.via === 'refused' && needsRoot(state, actions)) {
    block(
      `${state.user} cannot run commands as root without a password (sudo -n: ${state.root.reason}); Tailscale needs root`,
      `allow ${state.user} passwordless sudo on ${machine.name} (a NOPASSWD line in /etc/sudoers.d), or connect as root (ssh: root@host)`,
    );
  }
  if (actions.length > 0 && state.gateway.serviceManager === 'systemd' && state.gateway.lingering === false) {
    block(
      `lingering is off for ${state.user}: the gateway's systemd user unit stops when ${state.user}'s last session ends`,
      `sudo loginctl enable-linger ${state.user} (on ${machine.name}), then re-run`,
    );
  }
  if (state.guard && !state.guard.nft && actions.some((a) => a.kind === 'guard')) {
    block(
      'the inbound guard (--guard) is an nftables table, and nft is not installed',
      state.os === 'linux'
        ? 'install nftables (apt-get install nftables, dnf install nftables), or accept without --guard'
        : 'the guard is for Linux; accept without --guard',
    );
  }
  if (state.curl === false) {
    block(
      'curl is missing (it installs Tailscale, waits for the gateway to be healthy and runs the peer checks)',
      state.os === 'darwin'
        ? 'install curl (it ships with macOS; check the PATH of ssh sessions)'
        : 'install curl (apt-get install curl, dnf install curl, apk add curl)',
    );
  }
  return blockers;
}
