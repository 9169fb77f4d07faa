// The seam between the orchestration (index.ts) and Pulumi: exactly the Automation API calls we use (auth keys only;
// the policy is written by the tool's own API client with If-Match, see index.ts). The real implementation loads
// @pulumi/pulumi/automation lazily so `--help` stays fast.

import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { StackLocation } from './backend.js';
import { hardenTree } from './backend.js';
import { TailnetError } from './errors.js';
import { detachedPulumiCommand, runPulumi } from './pulumi-process.js';

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
  /**
   * Preflight, before anything is touched: the Pulumi CLI is there and new enough, and the tailscale resource plugin
   * is installed (installed now when it is missing and a download is possible). Throws a TailnetError with a hint.
   */
  checkCli(): Promise<void>;
  stackExists(target: StackTarget): Promise<boolean>;
  createOrSelectStack(args: StackArgs): Promise<EngineStack>;
  /** Removes the stack and the workspace folder beside the state. */
  removeStack(target: StackTarget): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------------
// The Pulumi CLI

/**
 * The real floor: @pulumi/pulumi 3.248's Stack.destroy() (and refresh) on an inline-program stack throws "destroy
 * with inline programs requires Pulumi version >= 3.181.0" (automation/stack.js checkInlineSupport: 3.181 added
 * --client). `down` needs destroy, so an older CLI must be refused before anything is touched, not halfway.
 */
export const MIN_PULUMI_VERSION = '3.181.0';
export const PULUMI_INSTALL_HINT =
  'Install the Pulumi CLI: https://www.pulumi.com/docs/install/ (Linux/macOS: curl -fsSL https://get.pulumi.com | sh; ' +
  'macOS: brew install pulumi/tap/pulumi; Windows: winget install pulumi), then run again. ' +
  'Or set tailnet.provider: provided and give each machine an auth key.';

/** The provider plugin @pulumi/tailscale needs, exactly (its package.json "pulumi" block). */
export function tailscalePluginVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('@pulumi/tailscale/package.json') as { pulumi: { version: string } }).pulumi.version;
}
export const pluginOfflineHint = (version: string) =>
  `On a host with internet access run \`pulumi plugin install resource tailscale v${version}\` and copy its plugin folder ` +
  `(~/.pulumi/plugins/resource-tailscale-v${version}, or $PULUMI_HOME/plugins/…) to this host; or point PULUMI_HOME at a ` +
  'Pulumi home that holds it. See docs/tailnet.md, "Offline hosts".';

export type RunCommand = (cmd: string, args: string[]) => Promise<string>;

/** Detached, as every Pulumi CLI run (pulumi-process.ts): a first Ctrl-C lets a plugin download finish. */
const runCommand: RunCommand = async (cmd, args) => {
  const r = await runPulumi(cmd, args, { env: { PULUMI_SKIP_UPDATE_CHECK: 'true' }, timeoutMs: 300_000 });
  if (r.exitCode !== 0) throw Object.assign(new Error(`Command failed: ${cmd} ${args.join(' ')}\n${r.stderr}`), { stderr: r.stderr });
  return r.stdout;
};

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
      throw new TailnetError(
        'The Pulumi CLI (pulumi) was not found on PATH: it is needed to mint auth keys and write the tailnet policy.',
        PULUMI_INSTALL_HINT,
      );
    throw new TailnetError(`\`pulumi version\` failed: ${(e as Error).message.split('\n')[0]}`, PULUMI_INSTALL_HINT);
  }
  const v = parseVersion(out);
  if (!v) throw new TailnetError(`cannot tell the Pulumi CLI's version from \`pulumi version\` (${out.trim().slice(0, 80)})`, PULUMI_INSTALL_HINT);
  if (older(v, parseVersion(min)!)) throw new TailnetError(`the Pulumi CLI is too old (${v.join('.')}; ${min} or newer is needed)`, PULUMI_INSTALL_HINT);
  return v.join('.');
}

/**
 * The tailscale resource plugin at exactly `version`: inline programs declare no required plugins, so without this
 * the CLI would download it in the middle of `up`/`down` (and fail there on an air-gapped host).
 */
export async function ensurePlugin(run: RunCommand = runCommand, version = tailscalePluginVersion()): Promise<'present' | 'installed'> {
  let listed: { name?: string; kind?: string; version?: string }[] = [];
  try {
    listed = JSON.parse((await run('pulumi', ['plugin', 'ls', '--json'])) || '[]');
  } catch (e) {
    throw new TailnetError(`\`pulumi plugin ls\` failed: ${(e as Error).message.split('\n')[0]}`, PULUMI_INSTALL_HINT);
  }
  const want = version.replace(/^v/, '');
  if (listed.some((p) => p.name === 'tailscale' && p.kind === 'resource' && (p.version ?? '').replace(/^v/, '') === want)) return 'present';
  try {
    await run('pulumi', ['plugin', 'install', 'resource', 'tailscale', `v${want}`]);
  } catch (e) {
    const why = ((e as { stderr?: string }).stderr || (e as Error).message).trim().split('\n').filter(Boolean).at(-1) ?? '';
    throw new TailnetError(`the Pulumi tailscale plugin v${want} is not installed and could not be installed: ${why}`, pluginOfflineHint(want));
  }
  return 'installed';
}

/** A failed Automation API call as a TailnetError: the CLI missing, or the tail of Pulumi's stderr. */
export function pulumiError(what: string, e: unknown): TailnetError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/ENOENT/.test(msg) && /pulumi/.test(msg)) return new TailnetError('The Pulumi CLI (pulumi) was not found on PATH.', PULUMI_INSTALL_HINT);
  const stderr = /stderr: ([\s\S]*?)\n err\?:/.exec(msg)?.[1]?.trim();
  const detail = (stderr || msg)
    .split('\n')
    .filter((l) => l.trim())
    .slice(-12)
    .join('\n');
  return new TailnetError(`pulumi ${what} failed:\n${detail}`);
}

// ---------------------------------------------------------------------------------------------------------------------
// The real engine

export interface PulumiEngineOptions {
  minVersion?: string;
  /** How `pulumi version` / `pulumi plugin …` are run (tests). */
  run?: RunCommand;
}

/** The workspace (Pulumi.yaml, Pulumi.<stack>.yaml) lives beside the state, not in a fresh /tmp/automation-XXXX. */
export const workspaceDir = (t: StackTarget) => join(t.location.stateDir, 'workspace');

/**
 * Options for LocalWorkspace. The SDK runs the CLI with the whole process environment plus these variables, and an
 * inherited PULUMI_BACKEND_URL would override the project's backend (state written elsewhere, and `down` would not
 * find the stack): the backend is pinned here, in the environment, where it wins.
 */
export function workspaceOptions(t: StackTarget) {
  return {
    workDir: workspaceDir(t),
    projectSettings: { name: t.location.projectName, runtime: 'nodejs' as const, backend: { url: t.location.backendUrl } },
    envVars: { PULUMI_SKIP_UPDATE_CHECK: 'true', ...t.env, PULUMI_BACKEND_URL: t.location.backendUrl },
    secretsProvider: t.secretsProvider,
  };
}

export function createPulumiEngine(opts: PulumiEngineOptions = {}): TailnetEngine {
  const automation = () => import('@pulumi/pulumi/automation/index.js');
  // `pulumi version` once per engine, as the SDK's PulumiCommand.get asks it once per workspace
  let cli: ReturnType<typeof detachedPulumiCommand> | undefined;
  const pulumiCommand = () =>
    (cli ??= detachedPulumiCommand().catch((e: unknown) => {
      cli = undefined;
      throw e;
    }));
  async function wsOptions(t: StackTarget) {
    await mkdir(workspaceDir(t), { recursive: true, mode: 0o700 });
    return { ...workspaceOptions(t), pulumiCommand: await pulumiCommand() };
  }
  async function guarded<T>(t: StackTarget, what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw e instanceof TailnetError ? e : pulumiError(what, e);
    } finally {
      await hardenTree(t.location.stateDir);
    }
  }
  const sameStack = (name: string, want: string) => name === want || name.endsWith(`/${want}`);

  return {
    checkCli: async () => {
      await checkPulumiCli(opts.run, opts.minVersion);
      await ensurePlugin(opts.run);
    },
    async stackExists(t) {
      if (t.location.local && !existsSync(join(t.location.stateDir, '.pulumi'))) return false;
      const { LocalWorkspace } = await automation();
      return guarded(t, 'stack ls', async () => {
        const ws = await LocalWorkspace.create(await wsOptions(t));
        return (await ws.listStacks()).some((s) => sameStack(s.name, t.location.stackName));
      });
    },
    async createOrSelectStack(a) {
      const { LocalWorkspace } = await automation();
      const stack = await guarded(a, 'stack select', async () =>
        LocalWorkspace.createOrSelectStack({ stackName: a.location.stackName, projectName: a.location.projectName, program: a.program }, await wsOptions(a)),
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
        const ws = await LocalWorkspace.create(await wsOptions(t));
        await ws.removeStack(t.location.stackName);
      });
      await rm(workspaceDir(t), { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// The engine the commands use: always the real one (the tests' own implementation is handed to the functions that
// take an engine, never swapped in here).

export const defaultEngine = (): TailnetEngine => createPulumiEngine();
