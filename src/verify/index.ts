// verify: from each machine, over the tailnet, to each of its peers, as that machine's agent would:
// health answers; the peer's token is accepted and no token is refused (401); a message sent with
// sessions_send is then found in the peer's sessions_history. One remote command per machine.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { layout } from '../model/openclaw-layout.js';
import type { Observed } from '../observe/index.js';
import { redact } from '../output/redact.js';
import { peersOf, type Spec } from '../peer-yaml/types.js';
import { lastLines, type Remote, type Transport, UnreachableError } from '../transport/remote.js';
import { parseResult, type ScriptResult, ScriptResultError } from '../transport/result.js';
import { script } from '../transport/script.js';

const CHECKS = ['health', 'token-accepted', 'token-enforced', 'message'] as const;
export type Check = (typeof CHECKS)[number];

export interface CheckResult {
  from: string;
  to: string;
  check: Check;
  ok: boolean;
  detail: string;
}

export interface VerifyEndpoint {
  remote: Remote;
  /** Tailnet IPv4 of the machine's gateway. */
  ip?: string;
  port: number;
  /** Where this machine keeps its peers' token files. */
  peerDir?: string;
  /** Why the machine could not be observed (ssh failed): then nothing is checked from or to it, and this is said. */
  unreachable?: string;
}

/** Called as each machine starts and finishes checking its peers (machines check concurrently). */
export type VerifyProgress = (machine: string, status: 'start' | 'done') => void;

export async function verify(
  spec: Spec,
  endpoints: Map<string, VerifyEndpoint>,
  sendMessage: boolean,
  progress: VerifyProgress = () => undefined,
): Promise<CheckResult[]> {
  const nonce = randomBytes(6).toString('hex');
  const perMachine = await Promise.all(
    spec.machines.map(async ({ name }) => {
      progress(name, 'start');
      try {
        return await checkFrom(spec, endpoints, name, { nonce, sendMessage });
      } finally {
        progress(name, 'done');
      }
    }),
  );
  return perMachine.flat();
}

/** One machine checks all of its peers: one remote command. */
async function checkFrom(
  spec: Spec,
  endpoints: Map<string, VerifyEndpoint>,
  machine: string,
  options: { nonce: string; sendMessage: boolean },
): Promise<CheckResult[]> {
  const from = endpoints.get(machine);
  const peers = peersOf(spec, machine);
  const fail = (to: string, detail: string): CheckResult => ({ from: machine, to, check: 'health', ok: false, detail });
  if (from?.unreachable) return peers.map((p) => fail(p, `${machine} is unreachable: ${from.unreachable}`));
  if (!from?.peerDir) return peers.map((p) => fail(p, `${machine} has no peer files: run up`));
  const lines: string[] = [];
  const results: CheckResult[] = [];
  for (const peer of peers) {
    const target = endpoints.get(peer);
    if (target?.unreachable) results.push(fail(peer, `${peer} is unreachable: ${target.unreachable}`));
    else if (!target?.ip) results.push(fail(peer, `${peer} has no tailnet address: it has not joined`));
    else lines.push(`${peer} ${target.ip} ${target.port} ${posix.join(from.peerDir, 'tokens', `${peer}.token`)}`);
  }
  if (lines.length === 0) return results;
  const failAll = (detail: string) => [...results, ...lines.map((l) => fail(l.split(' ')[0], redact(detail)))];
  try {
    const vars = { PEERS: lines.join('\n'), NONCE: options.nonce, SEND_MESSAGE: options.sendMessage ? 1 : 0, FROM: machine };
    const out = await from.remote.run(script('verify', vars));
    if (out.exitCode !== 0) return failAll(lastLines(out.stderr));
    const peersAsked = lines.map((l) => l.split(' ')[0]!);
    return [...results, ...withUnanswered(machine, peersAsked, checksOf(machine, parseResult(out.stdout, 'verify.sh')))];
  } catch (error) {
    if (error instanceof UnreachableError || error instanceof ScriptResultError) return failAll(error.message);
    throw error;
  }
}

/** verify.sh's values: "PEER.CHECK" is ok or fail, "PEER.CHECK.detail" what was answered (in the order checked). */
export function checksOf(from: string, result: ScriptResult): CheckResult[] {
  return Object.entries(result.values).flatMap(([key, status]) => {
    const dot = key.lastIndexOf('.');
    const check = key.slice(dot + 1) as Check;
    if (dot < 1 || !CHECKS.includes(check)) return [];
    return [{ from, to: key.slice(0, dot), check, ok: status === 'ok', detail: redact(result.values[`${key}.detail`] ?? '') }];
  });
}

/** The checks, and a failed one for each peer verify.sh was asked about and said nothing of (a run without checks is no pass). */
export function withUnanswered(from: string, peers: string[], checks: CheckResult[]): CheckResult[] {
  const silent = peers.filter((p) => !checks.some((c) => c.to === p));
  return [...checks, ...silent.map((to) => ({ from, to, check: 'health' as const, ok: false, detail: `no answer for ${to} from verify.sh on ${from}` }))];
}

export function renderChecks(results: CheckResult[]): string {
  return results.map((r) => `  ${r.ok ? 'ok  ' : 'FAIL'} ${r.from} -> ${r.to} ${r.check.padEnd(14)} ${r.detail}`).join('\n') + '\n';
}

/** Endpoints as observed (verify and status): a machine's address once joined, its peer files once written. */
export function observedEndpoints(spec: Spec, transport: Transport, observed: Map<string, Observed>): Map<string, VerifyEndpoint> {
  return new Map(
    spec.machines.map((machine) => {
      const o = observed.get(machine.name)!;
      const state = o.observation.status === 'observed' ? o.observation.state : undefined;
      const peerDir =
        state?.peerFilesHash && state.gateway.configPath && o.private ? layout(state.gateway.configPath, o.private.config, o.private.home).peerDir : undefined;
      const unreachable = o.observation.status === 'unreachable' ? o.observation.reason : undefined;
      return [machine.name, { remote: transport.for(machine), ip: state?.tailscale.ip, port: machine.gateway.port, peerDir, unreachable }];
    }),
  );
}
