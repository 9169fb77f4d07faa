// --verbose (or PEER_PROVISION_LOG=debug): each remote command and what it answered, on stderr, as ssh -v and
// terraform's TF_LOG=debug show theirs. Through the same redaction as every other stream. A template's secret
// variables are never shown, not even redacted, and a base64 value (a config, a status, an audit) only by its
// size: redaction by value cannot see a secret inside base64.
import { stderr } from '../console/io.js';
import type { RunResult } from './remote.js';
import { declaredVars, type Vars } from './script.js';

let enabled = false;
export const enableTrace = () => {
  enabled = true;
};
const tracing = () => enabled || process.env.PEER_PROVISION_LOG === 'debug';

const say = (machine: string, text: string): void => {
  stderr(
    `${text
      .split('\n')
      .map((l) => `[${machine}] ${l}`)
      .join('\n')}\n`,
  );
};

/** The command about to be sent: the template and its variables (a secret's name only). */
export function traceSend(machine: string, name: string, vars: Vars): void {
  if (!tracing()) return;
  const secret = declaredVars(name);
  const shown = Object.entries(vars)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => (secret.get(k)?.secret ? `${k}=(secret)` : `${k}=${JSON.stringify(String(v))}`));
  say(machine, `run ${name}.sh ${shown.join(' ')}`);
}

/** What it answered: exit code, time, its result values (base64 ones by size) and stderr. */
export function traceAnswer(machine: string, name: string, result: RunResult | Error, ms: number): void {
  if (!tracing()) return;
  const took = `${Math.round(ms)} ms`;
  if (result instanceof Error) {
    say(machine, `${name}.sh failed after ${took}: ${result.message}`);
    return;
  }
  const lines = [`${name}.sh exit ${result.exitCode} after ${took}`];
  for (const line of result.stdout.split('\n').filter(Boolean)) {
    let values: Record<string, unknown> | undefined;
    try {
      values = (JSON.parse(line) as { values?: Record<string, unknown> }).values;
    } catch {
      values = undefined;
    }
    if (!values) lines.push(`  stdout: ${line.length > 200 ? `${line.slice(0, 200)}… (${line.length} characters)` : line}`);
    else
      for (const [k, v] of Object.entries(values))
        lines.push(`  ${k} = ${k.endsWith('_b64') ? `(base64, ${String(v).length} characters)` : JSON.stringify(v)}`);
  }
  for (const line of result.stderr.trimEnd().split('\n').filter(Boolean)) lines.push(`  stderr: ${line}`);
  say(machine, lines.join('\n'));
}
