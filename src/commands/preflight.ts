// Everything on this side that must be in place before a command may touch anything, checked in one pass:
// every secret reference, the Pulumi CLI, the Tailscale API credentials, and (in CI) where the state goes.
// Each problem becomes a Blocker with its fix (the checks collect, they do not throw); refuseBadInput then turns
// a missing or unusable secret among them into one InputError (exit 2) that lists the others too.
import { accessSync, constants, rmdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { stderr } from '../console/io.js';
import { EXIT, formatProblem, InputError, PeerProvisionError, type Problem } from '../errors.js';
import { stackDir } from '../model/stack-dir.js';
import { formatBlocker } from '../output/checks.js';
import { checkSecrets, type SecretCheck } from '../peer-yaml/secret-check.js';
import { describeRef, resolveSecret } from '../peer-yaml/secrets.js';
import type { Spec } from '../peer-yaml/types.js';
import { allSteps, type Plan, type PlanBlocker } from '../plan/types.js';

export interface LocalChecks {
  /** up only: refuse the local default state backend on a CI runner unless told it is intended. */
  ciState?: { allowLocalState: boolean };
  /** Gateway tokens and provided auth keys (up, plan, validate; not down, which needs none of them). */
  secrets: boolean;
  /** The tailnet is touched (false: down --machine, which leaves it alone and needs neither Pulumi nor credentials). */
  tailnet?: boolean;
}

export async function localBlockers(spec: Spec, checks: LocalChecks): Promise<PlanBlocker[]> {
  const blockers: PlanBlocker[] = [];
  if (checks.secrets) blockers.push(...secretBlockers(spec));
  if (spec.tailnet.provider === 'pulumi' && checks.tailnet !== false) {
    const tool = await pulumiOnPath(); // no process: the full check waits for a plan that runs Pulumi (pulumiBlockers)
    if (tool) blockers.push(tool);
    if (!checks.secrets) blockers.push(...credentialBlockers(spec)); // with secrets, secretBlockers covers them
    if (
      checks.ciState &&
      !checks.ciState.allowLocalState &&
      !truthy(process.env.PEER_PROVISION_ALLOW_LOCAL_STATE) &&
      runningInCi() &&
      spec.tailnet.backend === undefined
    ) {
      blockers.push({
        where: 'tailnet',
        kind: 'state',
        reason:
          `CI is set and the Pulumi state would go to the local default backend (stacks/${spec.name}/ beside peer.yaml): ` +
          'on a throwaway runner it is lost with its passphrase, and a later `down` cannot revoke keys or remove devices',
        fix:
          'set tailnet.backend to a persistent backend (s3://…, gs://…, azblob://…, https://api.pulumi.com); or commit ' +
          `stacks/${spec.name}/ (without its passphrase file), give PULUMI_CONFIG_PASSPHRASE from a secret and pass ` +
          '--allow-local-state (or PEER_PROVISION_ALLOW_LOCAL_STATE=1). See docs/ci.md',
      });
    }
  }
  return blockers;
}

/** CI=true (GitHub Actions, GitLab, most others) or any non-empty value but false/0/no. */
const truthy = (value: string | undefined) => Boolean(value) && !/^(false|0|no|off)$/i.test(value ?? '');
export const runningInCi = () => truthy(process.env.CI);

/** The positioned problem behind each secret blocker, and whether the secret is only missing here. */
const positioned = new WeakMap<PlanBlocker, { problem: Problem; missing: boolean }>();

/**
 * A secret that is missing or unusable is bad input: refuse before connecting to anything (exit 2, FILE:LINE:COL),
 * and say in the same breath what else this side lacks (the Pulumi CLI, credentials, the state), so that one run
 * lists everything to fix here.
 */
export function refuseBadInput(spec: Spec, blockers: PlanBlocker[]): void {
  const secrets = blockers.filter((b) => positioned.has(b));
  if (secrets.length === 0) return;
  const others = blockers.filter((b) => !positioned.has(b)).map((b): Problem => ({ file: spec.file, field: b.where, message: `${b.reason}; fix: ${b.fix}` }));
  throw new InputError([...secrets.map((b) => positioned.get(b)!.problem), ...others]);
}

/**
 * validate: a secret that is present but unusable (a FIFO, too large, empty, weak) is an error in the file's
 * inputs (exit 2); one that is simply not on this machine is not (a PR check, a laptop): it stays a blocker.
 */
export function refuseUnusableSecrets(blockers: PlanBlocker[]): void {
  const unusable = blockers.flatMap((b) => {
    const p = positioned.get(b);
    return p && !p.missing ? [p.problem] : [];
  });
  if (unusable.length) throw new InputError(unusable);
}

function secretBlockers(spec: Spec): PlanBlocker[] {
  const { problems, missing } = readSecretReferences(spec);
  const all = [...problems.map((problem) => ({ problem, missing: false })), ...missing.map((problem) => ({ problem, missing: true }))];
  return all
    .sort((a, b) => (a.problem.line ?? 0) - (b.problem.line ?? 0))
    .map((found) => {
      const p = found.problem;
      const blocker: PlanBlocker = {
        where: p.field.startsWith('machines.') ? p.field.split('.')[1]! : 'peer.yaml',
        kind: 'secret' as const,
        reason: formatProblem(p), // FILE:LINE:COL: field: message, as every other input problem
        fix: found.missing ? fixForMissing(p.message) : fixForUnusable(p.field),
      };
      positioned.set(blocker, found);
      return blocker;
    });
}

const fixForMissing = (message: string) => {
  const env = /environment variable (\S+)/.exec(message)?.[1];
  if (env) return `export ${env} (in CI: from the CI's secret store), or point the reference at a file:PATH`;
  return 'create the file (readable by you only, chmod 600), or point the reference at an env:NAME';
};

// The value is there (an exported variable, an existing file): what to change is the value, as the message says.
const fixForUnusable = (field: string) =>
  field.endsWith('.gateway.token')
    ? 'give a token that meets the token rule (e.g. from `openssl rand -hex 32`), or set gateway.token: generate'
    : field === 'sshConfig'
      ? 'point sshConfig at a regular ssh_config file'
      : 'replace the value as the message says, or point the reference at another env:NAME or file:PATH';

function credentialBlockers(spec: Spec): PlanBlocker[] {
  const blockers: PlanBlocker[] = [];
  for (const [name, ref] of Object.entries(spec.tailnet.credentials ?? {})) {
    if (!ref) continue;
    try {
      resolveSecret(ref, `tailnet.credentials.${name}`);
    } catch (error) {
      blockers.push({
        where: 'tailnet',
        kind: 'credentials',
        reason: `${(error as Error).message} (Tailscale API credentials: needed to read the policy, mint keys and revoke them)`,
        fix:
          ref.kind === 'env'
            ? `export ${ref.name} (in CI: from a secret). An OAuth client with scopes auth_keys, devices:core, policy_file is recommended`
            : `create ${describeRef(ref)} (chmod 600), or point the reference at an env:NAME`,
      });
    }
  }
  return blockers;
}

/**
 * The Pulumi CLI and plugin checked in full (a `pulumi` process or two), only when the plan has a step that runs
 * Pulumi: a converged up starts no Pulumi process at all. Nothing when the CLI was already found missing.
 */
export async function pulumiBlockers(spec: Spec, plan: Plan): Promise<PlanBlocker[]> {
  if (spec.tailnet.provider !== 'pulumi' || plan.blockers.some((b) => b.kind === 'tool')) return [];
  if (!allSteps(plan).some((s) => s.kind === 'mint-keys' || s.kind === 'revoke-keys')) return [];
  const { defaultEngine, PULUMI_INSTALL_HINT } = await import('../tailnet/engine.js');
  try {
    await defaultEngine().checkCli(); // the same check up and down make before they run Pulumi
    return [];
  } catch (error) {
    return [{ where: 'tailnet', kind: 'tool', reason: (error as Error).message, fix: (error as PeerProvisionError).hint ?? PULUMI_INSTALL_HINT }];
  }
}

async function pulumiOnPath(): Promise<PlanBlocker | undefined> {
  if (onPath('pulumi')) return undefined;
  const { PULUMI_INSTALL_HINT } = await import('../tailnet/engine.js');
  return {
    where: 'tailnet',
    kind: 'tool',
    reason: 'the Pulumi CLI (pulumi) is not on PATH: it mints auth keys and writes the tailnet policy',
    fix: PULUMI_INSTALL_HINT,
  };
}

const onPath = (command: string) =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir || '.', command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/**
 * up or down refuses: the plan cannot be applied. Exit 2 when every blocker is an input this side gives
 * (a secret, where the state goes), exit 1 when a tool, credentials or a machine is not ready. Nothing was touched.
 */
export class BlockedError extends PeerProvisionError {
  override readonly exitCode: number;
  constructor(
    readonly command: string,
    readonly blockers: PlanBlocker[],
    unreachable: Plan['machines'] = [],
  ) {
    super(
      [
        `${command} refused, nothing was changed:`,
        ...blockers.map(formatBlocker),
        ...unreachable.map((m) => `  - ${m.machine}: unreachable: ${m.reason}`),
      ].join('\n'),
      `fix ${blockers.length === 1 ? 'this' : `these ${blockers.length}`}, then \`peer-provision plan\` shows whether anything still blocks, and \`${command}\` again`,
    );
    this.exitCode = blockers.every((b) => b.kind === 'secret' || b.kind === 'state') ? EXIT.invalid : EXIT.failure;
  }
}

/**
 * The spec to plan with while some secret is missing: a machine whose token reference cannot be resolved is
 * planned as `generate` (keep the gateway's token), so observing and planning still work and show everything
 * else; its blocker says what is missing, and up refuses. Never used to apply.
 */
export function specForPlanning(spec: Spec, blockers: PlanBlocker[]): Spec {
  // the field the secret blocker was made from (never its reason's text)
  const missing = new Set(blockers.filter((b) => positioned.get(b)?.problem.field.endsWith('.gateway.token')).map((b) => b.where));
  if (missing.size === 0) return spec;
  return { ...spec, machines: spec.machines.map((m) => (missing.has(m.name) ? { ...m, gateway: { ...m.gateway, token: { kind: 'generate' as const } } } : m)) };
}

/**
 * After a refusal: the lock (taken before observing) leaves stacks/<name>/ behind; remove the folders again when
 * they are empty, so a refused run leaves nothing. A folder with anything in it (state, a passphrase) stays.
 */
export function removeEmptyStateFolders(spec: Spec): void {
  const stack = stackDir(spec);
  for (const dir of [stack, dirname(stack)]) {
    try {
      rmdirSync(dir);
    } catch {
      return; // not empty, or not there
    }
  }
}

/**
 * Reads every env:/file: reference of the spec once (checkSecrets registers each value for redaction as it reads
 * it), and each warning (a secret file other users can read) is printed here, once per run.
 */
function readSecretReferences(spec: Spec): SecretCheck {
  const check = checkSecrets(spec);
  for (const w of check.warnings) stderr(`warning: ${formatProblem(w)}\n`);
  return check;
}
