// observe: read every machine's current state, concurrently and read-only (one remote command each).

import { redact, registerSecret } from '../model/redact.js';
import type { MachineSpec, Spec } from '../peer-yaml/types.js';
import { lastLines, type Transport, UnreachableError } from '../transport/remote.js';
import { runScript } from '../transport/run-script.js';
import { type Private, parseObservation } from './parse.js';
import type { MachineObservation } from './types.js';

export interface Observed {
  observation: MachineObservation;
  private?: Private;
}

export async function observeMachine(spec: Spec, machine: MachineSpec, transport: Transport, wantBackup = false): Promise<Observed> {
  try {
    const result = await runScript(transport.for(machine), 'observe', {
      STACK: spec.name,
      PORT: machine.gateway.port,
      CONFIG_PATH: machine.gateway.configPath,
      WANT_BACKUP: wantBackup ? 1 : 0,
      GUARD: machine.tailscale.guard ? 1 : 0,
    });
    if (result.exitCode !== 0) {
      const reason = windowsShell(result.stderr) ? windowsReason(machine.name) : `observe failed: ${lastLines(result.stderr)}`;
      return { observation: { status: 'unreachable', reason: redact(reason) } };
    }
    const parsed = parseObservation(
      result.stdout,
      spec.machines.map((m) => m.name),
    );
    for (const secret of parsed.private.secrets) registerSecret(secret); // before anything about this machine is printed
    return { observation: { status: 'observed', state: parsed.state }, private: parsed.private };
  } catch (error) {
    const reason = error instanceof UnreachableError ? error.message : `observe failed: ${(error as Error).message}`;
    return { observation: { status: 'unreachable', reason: redact(reason) } };
  }
}

export async function observeAll(spec: Spec, transport: Transport, wantBackup = false): Promise<Map<string, Observed>> {
  const results = await Promise.all(spec.machines.map((m) => observeMachine(spec, m, transport, wantBackup)));
  return new Map(spec.machines.map((m, i) => [m.name, results[i]]));
}

/** Windows' OpenSSH runs the command in cmd.exe or PowerShell, which have no `sh` (their own words for that). */
const windowsShell = (stderr: string) =>
  /'sh' is not recognized as an internal or external command|The term 'sh' is not recognized as (the )?(name of a )?cmdlet/i.test(stderr);

export const windowsReason = (machine: string) =>
  'a Windows machine (its ssh runs cmd or PowerShell, which have no sh): peer-provision runs on Linux and macOS. ' +
  'OpenClaw on Windows runs in WSL2: start sshd inside the WSL2 distribution and point ' +
  `machines.${machine}.ssh at it (for example you@host -p 2222, with that port forwarded to WSL2), or run peer-provision inside WSL2 with ssh: local`;
