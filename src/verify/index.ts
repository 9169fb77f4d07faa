// verify: from each machine, over the tailnet, to each of its peers, through OpenClaw's A2A channel as that
// machine's gateway reaches them: the agent card answers; no token and a wrong token are refused (401); the
// machine's own token for that peer is accepted (GetTask on an unknown task: "not found", no model woken); and,
// after a change, a message the machine's own gateway sends is found on the peer; then OpenClaw's own security
// audit on the machines asked for (after a change: those whose config it wrote or put in effect). One remote command per machine.
import { randomBytes } from 'node:crypto';
import JSON5 from 'json5';
import { a2aSecrets, causedByOwnSettings } from '../model/gateway-settings.js';
import { redact } from '../model/redact.js';
import type { Observed } from '../observe/index.js';
import { nodeWithTags } from '../observe/tailscale-status.js';
import { tokenProblem } from '../peer-yaml/token-rule.js';
import { peersOf, type Spec } from '../peer-yaml/types.js';
import { lastLines, type Remote, type Transport, UnreachableError } from '../transport/remote.js';
import { decoded, parseResult, type ScriptResult, ScriptResultError } from '../transport/result.js';
import { runScript } from '../transport/run-script.js';

const CHECKS = ['agent-card', 'token-enforced', 'token-accepted', 'message', 'audit'] as const;
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
  /** Its OpenClaw config (the gateway that sends the test message reads it). */
  configPath?: string;
  /** Per peer, the A2A token this machine presents to it (its config's channels.a2a.peers.<peer>.outboundToken). */
  outbound: Map<string, string | undefined>;
  /** Why the machine could not be observed (ssh failed): then nothing is checked from or to it, and this is said. */
  unreachable?: string;
  /** Its friends' machines whose address is known (joined, or given by the invite): checked as its peers are. */
  friends?: Map<string, { ip: string; port: number }>;
}

/** Called as each machine starts and finishes checking its peers (machines check concurrently). */
export type VerifyProgress = (machine: string, status: 'start' | 'done') => void;

/**
 * audited: the machines whose OpenClaw's security audit runs (by default every machine when a message is sent). The
 * audit reads a machine's own config and state, and costs seconds of CPU there: after a change, only a machine
 * whose config the change wrote or put in effect has anything new to audit.
 */
export async function verify(
  spec: Spec,
  endpoints: Map<string, VerifyEndpoint>,
  sendMessage: boolean,
  progress: VerifyProgress = () => undefined,
  audited: (machine: string) => boolean = () => sendMessage,
): Promise<CheckResult[]> {
  const nonce = randomBytes(6).toString('hex');
  const perMachine = await Promise.all(
    spec.machines.map(async ({ name }) => {
      progress(name, 'start');
      try {
        return await checkFrom(spec, endpoints, name, { nonce, sendMessage, audit: audited(name) });
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
  options: { nonce: string; sendMessage: boolean; audit: boolean },
): Promise<CheckResult[]> {
  const from = endpoints.get(machine);
  const peers = peersOf(spec, machine);
  const fail = (to: string, detail: string, check: Check = 'agent-card'): CheckResult => ({ from: machine, to, check, ok: false, detail });
  if (from?.unreachable) return peers.map((p) => fail(p, `${machine} is unreachable: ${from.unreachable}`));
  const lines: string[] = [];
  const results: CheckResult[] = [];
  for (const [friend, target] of from?.friends ?? []) {
    const token = from?.outbound.get(friend);
    if (token === undefined || tokenProblem(token)) results.push(fail(friend, `${machine}'s OpenClaw config has no usable A2A token for ${friend}: run up`));
    else lines.push(`${friend} ${target.ip} ${target.port} ${token}`);
  }
  for (const peer of peers) {
    const target = endpoints.get(peer);
    const token = from?.outbound.get(peer);
    if (target?.unreachable) results.push(fail(peer, `${peer} is unreachable: ${target.unreachable}`));
    else if (!target?.ip) results.push(fail(peer, `${peer} has no tailnet address: it has not joined`));
    else if (token === undefined)
      results.push(fail(peer, `${machine}'s OpenClaw config has no A2A token for ${peer} (channels.a2a.peers.${peer}.outboundToken): run up`));
    else if (tokenProblem(token)) results.push(fail(peer, `the A2A token for ${peer} in ${machine}'s config ${tokenProblem(token)}: not sent; run up`));
    else lines.push(`${peer} ${target.ip} ${target.port} ${token}`);
  }
  const audit = options.audit && Boolean(from?.configPath);
  if (lines.length === 0 && !audit) return results;
  const peersAsked = lines.map((l) => l.split(' ')[0]!);
  const failAll = (detail: string) => [...results, ...peersAsked.map((p) => fail(p, redact(detail)))];
  try {
    const vars = {
      PEERS: lines.join('\n'),
      NONCE: options.nonce,
      SEND_MESSAGE: options.sendMessage ? 1 : 0,
      FROM: machine,
      CONFIG: from?.configPath ?? '',
      AUDIT: audit ? 1 : 0,
    };
    const out = await runScript(from!.remote, 'verify', vars);
    if (out.exitCode !== 0) return failAll(lastLines(out.stderr));
    const result = parseResult(out.stdout, 'verify.sh');
    const audited = audit ? [auditCheck(machine, decoded(result.values, 'audit_b64'))] : [];
    return [...results, ...withUnanswered(machine, peersAsked, checksOf(machine, result)), ...audited];
  } catch (error) {
    if (error instanceof UnreachableError || error instanceof ScriptResultError) return failAll(error.message);
    throw error;
  }
}

/**
 * OpenClaw's own `security audit --json` on a machine: a critical finding about the settings peer-provision manages
 * (gateway.*, channels.a2a) fails; every other finding is named in the detail for the operator to read.
 */
export function auditCheck(machine: string, report: string | undefined): CheckResult {
  const check = (ok: boolean, detail: string): CheckResult => ({ from: machine, to: machine, check: 'audit', ok, detail: redact(detail) });
  let findings: { checkId?: string; severity?: string }[];
  try {
    findings = (JSON5.parse(report ?? '') as { findings?: typeof findings }).findings ?? [];
  } catch {
    return check(false, `\`openclaw security audit --json\` on ${machine} gave no report`);
  }
  const ids = (severity: string) => findings.filter((f) => f.severity === severity).map((f) => String(f.checkId));
  const critical = ids('critical');
  const ours = critical.filter(causedByOwnSettings);
  const others = [...critical.filter((id) => !causedByOwnSettings(id)).map((id) => `${id} (critical)`), ...ids('warn')];
  const notes = others.length ? `; also: ${others.join(', ')}` : '';
  return ours.length ? check(false, `critical: ${ours.join(', ')}${notes}`) : check(true, `no critical finding about the gateway or A2A${notes}`);
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
  return [...checks, ...silent.map((to) => ({ from, to, check: 'agent-card' as const, ok: false, detail: `no answer for ${to} from verify.sh on ${from}` }))];
}

/** Per peer, the outbound A2A token a config holds (a secret: observe registered it for redaction). */
export const outboundTokens = (config: Record<string, unknown> | undefined): Map<string, string | undefined> =>
  new Map(a2aSecrets(config).map((p) => [p.peer, p.outboundToken]));

/** Endpoints as observed (verify and status): a machine's address once joined, its A2A tokens once up wrote them. */
export function observedEndpoints(spec: Spec, transport: Transport, observed: Map<string, Observed>): Map<string, VerifyEndpoint> {
  return new Map(
    spec.machines.map((machine) => {
      const o = observed.get(machine.name)!;
      const state = o.observation.status === 'observed' ? o.observation.state : undefined;
      const unreachable = o.observation.status === 'unreachable' ? o.observation.reason : undefined;
      return [
        machine.name,
        {
          remote: transport.for(machine),
          ip: state?.tailscale.ip,
          port: machine.gateway.port,
          configPath: state?.gateway.configPath,
          outbound: outboundTokens(o.private?.config),
          unreachable,
          friends: new Map(
            spec.friends.flatMap((f) => {
              const ip = state && f.with.includes(machine.name) ? nodeWithTags(state.tailscale, f.tags)?.ip : undefined;
              return ip ? [[f.hostname, { ip, port: f.port }]] : [];
            }),
          ),
        },
      ];
    }),
  );
}
