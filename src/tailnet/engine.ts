// The seam between the orchestration (index.ts) and Pulumi: exactly the Automation API calls we use, plus the
// policy read. The real implementation loads @pulumi/pulumi/automation lazily so `--help` stays fast.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StackLocation } from './backend.js';
import { hardenTree } from './backend.js';
import { createTailscaleApi } from './devices.js';
import { TailnetError } from './errors.js';
import type { TailnetCredentials } from '../spec/secrets.js';

export type OutputMap = Record<string, { value: unknown; secret: boolean }>;
/** Resource operation → count, e.g. { create: 2, same: 1 }. */
export type ChangeSummary = Record<string, number>;
export type ConfigMap = Record<string, { value: string; secret: boolean }>;

export interface StackTarget {
  location: StackLocation;
  /** Environment of the Pulumi CLI and the provider plugin: passphrase and provider credentials. Never argv. */
  env: Record<string, string>;
  secretsProvider?: string;
}
export interface StackArgs extends StackTarget {
  program: () => Promise<Record<string, unknown>>;
}

export interface EngineStack {
  setAllConfig(config: ConfigMap): Promise<void>;
  preview(opts: { refresh: boolean }): Promise<{ changeSummary: ChangeSummary }>;
  up(opts: { refresh: boolean }): Promise<{ changeSummary: ChangeSummary }>;
  destroy(): Promise<{ changeSummary: ChangeSummary }>;
  outputs(): Promise<OutputMap>;
}

export interface TailnetEngine {
  /** Throws a TailnetError (with the install hint) when the Pulumi CLI is missing or too old. */
  checkCli(): Promise<void>;
  stackExists(target: StackTarget): Promise<boolean>;
  createOrSelectStack(args: StackArgs): Promise<EngineStack>;
  removeStack(target: StackTarget): Promise<void>;
  /** The current tailnet policy as HuJSON (a direct API read with the same credentials). */
  readPolicy(creds: TailnetCredentials, tailnet: string): Promise<string>;
}

// ---------------------------------------------------------------------------------------------------------------------
// The Pulumi CLI

/**
 * A floor we chose, not one Pulumi publishes: the Automation SDK itself accepts 3.2+, but @pulumi/pulumi 3.248 passes
 * flags to the CLI that much older releases lack. Keep the CLI reasonably current.
 */
export const MIN_PULUMI_VERSION = '3.100.0';
export const PULUMI_INSTALL_HINT =
  'Install the Pulumi CLI: https://www.pulumi.com/docs/install/ (Linux/macOS: curl -fsSL https://get.pulumi.com | sh; ' +
  'macOS: brew install pulumi/tap/pulumi; Windows: winget install pulumi), then run again. ' +
  'Or set tailnet.provider: provided and give each machine an auth key.';

export type RunCommand = (cmd: string, args: string[]) => Promise<string>;

const runCommand: RunCommand = (cmd, args) =>
  new Promise((resolve, reject) =>
    execFile(cmd, args, { env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: 'true' }, timeout: 30_000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );

const parseVersion = (s: string) => {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(s);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
};
const older = (a: number[], b: number[]) => {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
};

/** Runs `pulumi version`; returns the version. ENOENT, unparsable or too old → TailnetError with the install hint. */
export async function checkPulumiCli(run: RunCommand = runCommand, min = MIN_PULUMI_VERSION): Promise<string> {
  let out: string;
  try {
    out = await run('pulumi', ['version']);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new TailnetError('The Pulumi CLI (pulumi) was not found on PATH: it is needed to mint auth keys and write the tailnet policy.', PULUMI_INSTALL_HINT);
    throw new TailnetError(`\`pulumi version\` failed: ${(e as Error).message.split('\n')[0]}`, PULUMI_INSTALL_HINT);
  }
  const v = parseVersion(out);
  if (!v) throw new TailnetError(`cannot tell the Pulumi CLI's version from \`pulumi version\` (${out.trim().slice(0, 80)})`, PULUMI_INSTALL_HINT);
  if (older(v, parseVersion(min)!)) throw new TailnetError(`the Pulumi CLI is too old (${v.join('.')}; ${min} or newer is needed)`, PULUMI_INSTALL_HINT);
  return v.join('.');
}

/** A failed Automation API call as a TailnetError: the CLI missing, or the tail of Pulumi's stderr. */
export function pulumiError(what: string, e: unknown): TailnetError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/ENOENT/.test(msg) && /pulumi/.test(msg)) return new TailnetError('The Pulumi CLI (pulumi) was not found on PATH.', PULUMI_INSTALL_HINT);
  const stderr = /stderr: ([\s\S]*?)\n err\?:/.exec(msg)?.[1]?.trim();
  const detail = (stderr || msg).split('\n').filter((l) => l.trim()).slice(-12).join('\n');
  return new TailnetError(`pulumi ${what} failed:\n${detail}`);
}

// ---------------------------------------------------------------------------------------------------------------------
// The real engine

export interface PulumiEngineOptions {
  /** Tailscale API base URL for the policy read (default TAILSCALE_BASE_URL or api.tailscale.com). */
  apiBaseUrl?: string;
  minVersion?: string;
}

export function createPulumiEngine(opts: PulumiEngineOptions = {}): TailnetEngine {
  const automation = () => import('@pulumi/pulumi/automation/index.js');
  const wsOptions = (t: StackTarget) => ({
    projectSettings: { name: t.location.projectName, runtime: 'nodejs' as const, backend: { url: t.location.backendUrl } },
    envVars: { PULUMI_SKIP_UPDATE_CHECK: 'true', ...t.env },
    secretsProvider: t.secretsProvider,
  });
  async function guarded<T>(t: StackTarget, what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw e instanceof TailnetError ? e : pulumiError(what, e);
    } finally {
      if (t.location.local) await hardenTree(t.location.stateDir);
    }
  }
  const sameStack = (name: string, want: string) => name === want || name.endsWith(`/${want}`);

  return {
    checkCli: async () => {
      await checkPulumiCli(undefined, opts.minVersion);
    },
    async stackExists(t) {
      if (t.location.local && !existsSync(join(t.location.stateDir, '.pulumi'))) return false;
      const { LocalWorkspace } = await automation();
      return guarded(t, 'stack ls', async () => {
        const ws = await LocalWorkspace.create(wsOptions(t));
        return (await ws.listStacks()).some((s) => sameStack(s.name, t.location.stackName));
      });
    },
    async createOrSelectStack(a) {
      const { LocalWorkspace } = await automation();
      const stack = await guarded(a, 'stack select', () =>
        LocalWorkspace.createOrSelectStack({ stackName: a.location.stackName, projectName: a.location.projectName, program: a.program }, wsOptions(a)),
      );
      return {
        setAllConfig: (config) => guarded(a, 'config set', () => stack.setAllConfig(config)),
        preview: (o) => guarded(a, 'preview', async () => ({ changeSummary: (await stack.preview({ refresh: o.refresh })).changeSummary })),
        up: (o) => guarded(a, 'up', async () => ({ changeSummary: ((await stack.up({ refresh: o.refresh })).summary.resourceChanges ?? {}) as ChangeSummary })),
        destroy: () => guarded(a, 'destroy', async () => ({ changeSummary: ((await stack.destroy()).summary.resourceChanges ?? {}) as ChangeSummary })),
        outputs: () => guarded(a, 'stack output', () => stack.outputs()),
      };
    },
    async removeStack(t) {
      const { LocalWorkspace } = await automation();
      await guarded(t, 'stack rm', async () => {
        const ws = await LocalWorkspace.create(wsOptions(t));
        await ws.removeStack(t.location.stackName);
      });
    },
    readPolicy: (creds, tailnet) => createTailscaleApi(creds, tailnet, { baseUrl: opts.apiBaseUrl }).getPolicy(),
  };
}
