// What the end-to-end tests share: a lab for the file, the real CLI against it, and the secret checks.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import JSON5 from 'json5';
import { type CliResult, runCli } from '../helpers.js';
import type { Lab } from '../lab/lab.js';

export const up = (file: string, ...args: string[]) => runCli(['up', '--yes', '-f', file, ...args]);
export const down = (file: string, ...args: string[]) => runCli(['down', '--yes', '-f', file, ...args]);

export const CONFIG = '/root/.openclaw/openclaw.json';
export const config = (lab: Lab, machine: string) => JSON5.parse(lab.readFile(machine, CONFIG)) as { gateway: Record<string, any>; [k: string]: any };

/** The machine's tailnet address as `tailscale ip -4` reports it, or undefined when not joined. */
export async function tailnetIp(lab: Lab, machine: string): Promise<string | undefined> {
  const r = await lab.run(machine, 'tailscale ip -4 2>/dev/null');
  return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

export async function listening(lab: Lab, machine: string): Promise<string[]> {
  const r = await lab.run(machine, "ss -ltnH 'sport = :18789' | awk '{print $4}'");
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((a) => a.replace(/:18789$/, ''));
}

/** Every secret the lab handed out or a gateway holds: auth keys from the key files, gateway tokens. */
export function secretsOf(lab: Lab, machines: string[]): string[] {
  const keys = readdirSync(join(lab.stateDir, 'keys')).map((f) => readFileSync(join(lab.stateDir, 'keys', f), 'utf8').trim());
  const tokens = machines.flatMap((m) => {
    try {
      const c = config(lab, m);
      const peers = Object.values(c.channels?.a2a?.peers ?? {}) as { token?: string; outboundToken?: string }[];
      return [c.gateway?.auth?.token, ...peers.flatMap((p) => [p.token, p.outboundToken])].filter((t): t is string => typeof t === 'string');
    } catch {
      return [];
    }
  });
  return [...keys, ...tokens, ...lab.machines.map((m) => m.gatewayToken)].filter((s) => s.length >= 8);
}

/** Fails when a secret appears in the CLI's output or in any argv tailscale was run with (the lab's argv log). */
export function assertNoLeak(lab: Lab, secrets: string[], ...results: CliResult[]): void {
  for (const r of results) {
    for (const s of secrets) {
      if (r.stdout.includes(s) || r.stderr.includes(s)) throw new Error(`a secret (…${s.slice(-4)}) appeared in the CLI's output`);
    }
  }
  for (const m of lab.machines) {
    for (const entry of lab.argvLog(m.name)) {
      if (entry.leak) throw new Error(`${m.name}: tailscale was given a key in argv: ${entry.argv[1]}`);
      for (const s of secrets) if (entry.argv.some((a) => a.includes(s))) throw new Error(`${m.name}: a secret appeared in tailscale's argv`);
    }
  }
}

export const mode = (lab: Lab, machine: string, path: string) => (statSync(lab.hostPath(machine, path)).mode & 0o777).toString(8);

/**
 * Files on a machine that hold any of the secrets, with their modes ("600 /root/.openclaw/openclaw.json").
 * The secrets reach the machine on stdin, into a 0600 file that is removed again. /var/cache is left out: on a lab
 * machine it is the host's (the lab's own package cache, gigabytes of Node, OpenClaw and a Debian tree that nothing
 * on the machine writes), and reading it made each scan take seconds.
 */
export async function filesWithSecrets(lab: Lab, machine: string, secrets: string[]): Promise<string[]> {
  const r = await lab.run(
    machine,
    'p=$(umask 077; mktemp); cat > "$p"; find /root /home /etc /var /tmp -path /var/cache -prune -o -type f -print0 2>/dev/null | ' +
      'xargs -0 -r grep -lF -f "$p" 2>/dev/null | grep -vxF "$p" | xargs -r stat -c \'%a %n\'; rm -f "$p"',
    { input: secrets.join('\n') + '\n' },
  );
  if (r.code !== 0 && r.code !== 123) throw new Error(`scan on ${machine} failed (${r.code}): ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

/**
 * Writes a machine's gateway config the way a user would, then waits for OpenClaw to settle: it re-reads its config,
 * and a change that needs a new process (bind, port) makes it exit for its supervisor to start another. Planning
 * in between would observe a machine with no gateway running. path: the file to write (a symlinked config's target).
 */
export async function writeConfigAndSettle(lab: Lab, machine: string, text: string, path = lab.machine(machine).configPath): Promise<void> {
  const before = lab.gatewayPid(machine);
  lab.writeFile(machine, path, text, 0o600);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && lab.gatewayPid(machine) === before) await new Promise((r) => setTimeout(r, 250));
  await lab.waitGateways([machine]);
}

/**
 * A message `sender`'s own gateway sends `receiver` on the A2A channel (its configured outbound peer: url and
 * outboundToken), then what the receiving gateway shows: the text in `sender`'s per-peer A2A session there
 * (agent:main:a2a:default:direct:SENDER:ctx-oc-RECEIVER, OpenClaw's own key), read with the receiver's own CLI.
 * (The lab's gateways have no model: a session's first message, whose run fails before a reply, is not kept in its
 * transcript; verify's message opened the session, so this one shows.) Polled for up to a minute.
 */
export async function sendAndShow(lab: Lab, sender: string, receiver: string): Promise<void> {
  const text = `e2e-${Date.now().toString(36)} from ${sender} to ${receiver}`;
  const send = JSON.stringify({ channel: 'a2a', to: receiver, message: text, idempotencyKey: text.replaceAll(' ', '-') });
  const sent = await lab.run(sender, `openclaw gateway call send --json --params '${send}'`);
  if (!/"messageId"/.test(sent.stdout)) throw new Error(`${sender}'s gateway did not send: ${sent.stdout}${sent.stderr}`);
  const params = JSON.stringify({ sessionKey: `agent:main:a2a:default:direct:${sender}:ctx-oc-${receiver}`, limit: 50 });
  let last = '';
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 2000))) {
    const r = await lab.run(receiver, `openclaw gateway call chat.history --json --params '${params}'`);
    last = r.stdout + r.stderr;
    if (last.includes(text)) return;
  }
  throw new Error(`${receiver} does not show "${text}" from ${sender}: ${last.slice(0, 1500)}`);
}

/** A node this stack never joined: logged in with a key of the lab's tailnet, as someone's "laptop". */
export async function joinAsSomeoneElse(lab: Lab, machine: string, hostname: string): Promise<void> {
  const install = await lab.run(machine, `command -v tailscale >/dev/null || curl -fsSL ${lab.installUrl} | sh`);
  assert.equal(install.code, 0, install.stderr);
  const key = lab.mintKey({ label: `${machine}-other` });
  const r = await lab.run(machine, `k=$(mktemp); cat > "$k"; tailscale up --reset --auth-key=file:"$k" --hostname=${hostname} --timeout=30s; rm -f "$k"`, {
    input: readFileSync(key.file, 'utf8'),
  });
  assert.equal(r.code, 0, r.stderr);
}

/**
 * The HTTP code the A2A endpoint at ip:18789 answers, from machine `from`, to a GetTask with this token (handed to
 * curl on stdin as a header line: never in an argv).
 */
export async function a2aAnswer(lab: Lab, from: string, ip: string, token: string): Promise<string> {
  const body = '{"jsonrpc":"2.0","id":"1","method":"GetTask","params":{"id":"x"}}';
  const r = await lab.run(
    from,
    `printf 'Authorization: Bearer %s\\n' "$(cat)" | curl -s -o /dev/null -w '%{http_code}' -H @- -X POST -H 'Content-Type: application/json' --data '${body}' http://${ip}:18789/a2a/v1`,
    { input: token },
  );
  return r.stdout;
}
