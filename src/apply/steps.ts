// The steps apply runs on one machine, in order. Each sends one script from templates/ and fails with a
// StepError naming the machine, the step and the remote error (redacted by value).
import { TOOL_FOR_PEERS } from '../observe/owned-keys.js';
import { StepError } from '../errors.js';
import { redact } from '../output/redact.js';
import { lastLines, UnreachableError } from '../transport/remote.js';
import { parseResult, ScriptResultError, type ScriptResult } from '../transport/result.js';
import { script, type Vars } from '../transport/script.js';
import type { MachineRun } from './context.js';
import { layout, renderPeerFiles, type PeerInfo } from './peer-files.js';

const RESTART_TIMEOUT_SECONDS = 120;

/** Runs one template; its parsed result line (src/transport/result.ts) once it exits 0. */
export async function remoteStep(run: MachineRun, step: string, template: string, vars: Vars): Promise<ScriptResult> {
  try {
    const result = await run.remote.run(script(template, vars));
    if (result.exitCode !== 0) {
      throw new StepError(run.machine.name, step, redact(lastLines(result.stderr || result.stdout) || `exit code ${result.exitCode}`));
    }
    return parseResult(result.stdout, `${template}.sh`);
  } catch (error) {
    if (error instanceof UnreachableError || error instanceof ScriptResultError) throw new StepError(run.machine.name, step, redact(error.message));
    throw error;
  }
}

export async function installTailscale(run: MachineRun): Promise<void> {
  await remoteStep(run, 'install Tailscale', 'install-tailscale', { OS: run.state.os, INSTALL_URL: run.machine.tailscale.installUrl });
}

export async function join(run: MachineRun): Promise<void> {
  if (!run.authKey) throw new StepError(run.machine.name, 'join', 'no auth key was minted or given for this machine');
  const takeOver = run.actions.find((a) => a.resource === 'tailnet-node')?.takeOver;
  const { values } = await remoteStep(run, 'join the tailnet', 'join', {
    AUTH_KEY: run.authKey,
    FORCE_REAUTH: takeOver ? 1 : 0,
    HOSTNAME_WANTED: run.machine.tailscale.hostname,
    TAGS: run.machine.tags.join(','),
  });
  const ip = values.ip;
  if (!ip || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) throw new StepError(run.machine.name, 'join the tailnet', `tailscale ip -4 printed no IPv4 address${ip ? ` (${redact(ip)})` : ''}`);
  run.ip = ip;
}

/** peer-provision's keys of the gateway config; every other key stays as the user has it. */
export function gatewayPatch(run: MachineRun): object {
  const allow = run.state.gateway.toolsAllow.includes(TOOL_FOR_PEERS) ? run.state.gateway.toolsAllow : [...run.state.gateway.toolsAllow, TOOL_FOR_PEERS];
  return {
    gateway: {
      mode: 'local',
      bind: 'tailnet',
      port: run.machine.gateway.port,
      auth: { mode: 'token', token: run.token },
      tools: { allow },
    },
  };
}

export async function configureGateway(run: MachineRun): Promise<void> {
  const config = run.state.gateway.configPath;
  if (!config) throw new StepError(run.machine.name, 'patch the gateway config', 'OpenClaw did not say where its config is (`openclaw config file`); set gateway.configPath');
  const edited = run.actions.find((a) => a.resource === 'gateway-config')?.edited;
  await remoteStep(run, 'patch the gateway config', 'gateway-config', {
    STACK: run.spec.name,
    CONFIG: config,
    PATCH: JSON.stringify(gatewayPatch(run)),
    EDITED: edited ? 1 : 0,
  });
}

/** Restarts the gateway and waits until /health answers on listenIp:port (the tailnet address after up). */
export async function restartGateway(run: MachineRun, listenIp = run.ip, port = run.machine.gateway.port): Promise<void> {
  const { values } = await remoteStep(run, 'restart the gateway', 'restart', {
    SERVICE: run.state.gateway.serviceManager,
    RESTART_CMD: run.machine.gateway.restart,
    OLD_PID: run.state.gateway.pid,
    PORT: port,
    LISTEN_IP: listenIp,
    TIMEOUT: RESTART_TIMEOUT_SECONDS,
  });
  run.state.gateway.pid = Number(values.pid) || undefined;
}

const base64 = (text: string) => Buffer.from(text).toString('base64');

export function peerFilesFor(run: MachineRun, peers: PeerInfo[]) {
  const where = layout(run.state.gateway.configPath!, run.private.config, run.private.home);
  return renderPeerFiles(run.spec.name, run.machine.name, peers, where);
}

export async function writePeerFiles(run: MachineRun, peers: PeerInfo[]): Promise<void> {
  const rendered = peerFilesFor(run, peers);
  await remoteStep(run, 'write peer files', 'peer-files', {
    STACK: run.spec.name,
    FILES: rendered.files.map((f) => `${f.mode} ${base64(f.path)} ${base64(f.content)}`).join('\n'),
    OWNED_DIRS: rendered.ownedDirs.join('\n'),
    DIGEST: rendered.digest,
  });
}
