// Step kinds, the one place each is described: the input its executor takes (StepInputs), and its row in STEP_KINDS:
// the resource it acts on (how the plan shows it), its title (progress lines, --json step events, "stopped at …")
// and the script from templates/ it runs on its machine (the tailnet's kinds run on this host). The rows' order is
// the order a machine's steps run in: chain() sorts by it. Its executor is in apply/executors/ (a kind without one
// does not compile); the planner decides when it is needed (machine-up.ts, machine-down.ts, tailnet.ts).
import type { ServiceManager } from '../observe/types.js';

/**
 * A friend's auth key, one per invite (a new invite replaces the key of the one before: revoked), declared while the
 * invite is pending. Its expiry is the invite's, fixed when the invite was made, so that declaring it again changes nothing.
 */
export interface FriendKey {
  friend: string;
  /** The invite's id. */
  invite: string;
  expirySeconds: number;
}

/** Where a friend's key is among the minted keys, beside the machines' (a machine name never holds a colon). */
export const friendKeyOutput = (friend: string) => `friend:${friend}`;

/** What a step acts on, as a person reads it in the plan (`+ tailnet-node join the tailnet as …`). */
export type Resource =
  | 'tailnet-key'
  | 'tailnet-policy'
  | 'tailnet-devices'
  | 'inbound-guard'
  | 'tailscale-install'
  | 'tailnet-node'
  | 'gateway-config'
  | 'gateway-restart'
  | 'peer-files';

/** down: how one config peer-provision patched is put back (decided from what was observed, never at apply). */
export interface RestoreDecision {
  id: string;
  path: string;
  /** bytes: the original, byte for byte; patch: only peer-provision's keys undone; none: it is the original already. */
  mode: 'bytes' | 'patch' | 'none';
}

/** How a machine joins: the key minted for it in this run (provider pulumi) or the one peer.yaml gives; loginServer: tailnet.controlUrl. */
export interface JoinWith {
  key: 'minted' | 'provided';
  loginServer?: string;
}

/**
 * Every step kind with the input its executor takes. Inputs hold decisions and non-secret values only; secrets
 * (auth keys, gateway tokens, the original token a reverse patch puts back) are resolved at apply time.
 */
export interface StepInputs {
  /** up, tailnet: write this stack's policy entries (If-Match), tests for the machines in `testsFor`; the policy the plan saw had this hash. */
  'merge-policy': { policyHash?: string; testsFor: string[] };
  /** up, tailnet: mint one single-use key per machine (Pulumi). */
  /** machines: those that join in this run; friends: every friend with a pending invite (their keys are kept while it is). */
  'mint-keys': { machines: string[]; friends?: FriendKey[] };
  /** up, machine */
  'install-tailscale': { os: string; installUrl: string };
  /** rekey: the node is on the tailnet already and gets a fresh key (its key expires soon, or has): same name, tags, address. */
  join: { hostname: string; tags: string[]; forceReauth: boolean; rekey: boolean } & JoinWith;
  /** The inbound guard's nftables table (inet) and the one TCP port it lets in on the tailnet interface. */
  guard: { table: string; port: number };
  unguard: { table: string };
  'patch-config': {
    configPath: string;
    port: number;
    /** keep: the token the gateway has; set: the token peer.yaml gives, or a new one (generate). Resolved at apply. */
    token: 'keep' | 'set';
    /** The list gateway.tools.allow gets (the previous version's sessions_send taken out); absent: left alone. */
    toolsAllow?: string[] | null;
    /** gateway.controlUi.allowedOrigins to set (the config has none: OpenClaw requires them beyond loopback); absent: left alone. */
    allowedOrigins?: string[];
    /**
     * channels.a2a: these peers (their URLs and tokens resolved at apply); these friends (by hostname; the URL known now,
     * or none before their machine joins; their tokens resolved at apply), recorded as peer-provision's; these of the
     * stack's peers and recorded friends removed.
     */
    a2a: {
      peers: string[];
      friends: { name: string; url?: string }[];
      dropPeers: string[];
      rateLimitPerMinute: number;
      exposeAgents?: string[];
    };
    /** Someone else changed the config since peer-provision's last write (down keeps their change). */
    edited: boolean;
  };
  restart: {
    serviceManager: ServiceManager;
    command?: string;
    oldPid?: number;
    port: number;
    /** Where /health must answer after the restart: the tailnet address (known after join) or loopback. */
    listen: 'tailnet' | 'loopback';
  };
  /** digest: what the files will hash to; after-join: a peer joins in this run, its address is known then. */
  /** peers: the stack's machines (their addresses known at apply); friends: friends' machines whose address is known now. */
  'write-peer-files': { peers: string[]; friends?: { name: string; hostname: string; ip: string; port: number }[]; digest?: string };
  /** down, machine */
  'restore-config': { records: RestoreDecision[] };
  'remove-peer-files': Record<string, never>;
  /** tags: what the node must still carry when leave.sh runs (it checks again). */
  leave: { detach: boolean; tags: string[] };
  /** down, tailnet */
  'revoke-keys': Record<string, never>;
  'remove-devices': { tag: string };
  /** up, tailnet: the devices of friends taken out of peer.yaml (their invite's tags), and their records. */
  'remove-friend-devices': { friends: string[] };
  'remove-policy': Record<string, never>;
  /** Shown only, never run: a step whose state is not known (offline, unreachable, not read). */
  unknown: Record<string, never>;
}
export type StepKind = keyof StepInputs;

export interface StepKindInfo {
  resource: Resource;
  title: string;
  /** templates/<template>.sh, the script its executor runs (machine kinds). */
  template?: string;
}

export const STEP_KINDS = {
  // up, the tailnet side (this host): the policy first, then one key per machine
  'merge-policy': { resource: 'tailnet-policy', title: 'tailnet: write policy entries' },
  'mint-keys': { resource: 'tailnet-key', title: 'tailnet: mint auth keys (Pulumi)' },
  // a former friend's key is revoked (mint-keys) before his device goes, so that it cannot join again
  'remove-friend-devices': { resource: 'tailnet-devices', title: "tailnet: remove former friends' devices" },
  // each machine: up's and down's kinds in one order (they never meet in one plan)
  'install-tailscale': { resource: 'tailscale-install', title: 'install Tailscale', template: 'install-tailscale' },
  // before the join: the node is guarded from its first packet
  guard: { resource: 'inbound-guard', title: 'guard inbound on the tailnet', template: 'guard' },
  join: { resource: 'tailnet-node', title: 'join the tailnet', template: 'join' },
  'patch-config': { resource: 'gateway-config', title: 'patch the gateway config', template: 'gateway-config' },
  'restore-config': { resource: 'gateway-config', title: 'restore the gateway config', template: 'restore' },
  restart: { resource: 'gateway-restart', title: 'restart the gateway', template: 'restart' },
  'write-peer-files': { resource: 'peer-files', title: 'write peer files', template: 'peer-files' },
  'remove-peer-files': { resource: 'peer-files', title: 'remove peer files', template: 'restore' },
  // last: leaving may cut the connection down came over
  leave: { resource: 'tailnet-node', title: 'leave the tailnet', template: 'leave' },
  unguard: { resource: 'inbound-guard', title: 'remove the inbound guard', template: 'guard' },
  // down, the tailnet side, after the machines
  'revoke-keys': { resource: 'tailnet-key', title: 'tailnet: revoke keys' },
  'remove-devices': { resource: 'tailnet-devices', title: 'tailnet: remove devices' },
  'remove-policy': { resource: 'tailnet-policy', title: 'tailnet: remove policy entries' },
} as const satisfies { [K in Exclude<StepKind, 'unknown'>]: StepKindInfo };

export type RunKind = keyof typeof STEP_KINDS;

export const stepTitle = (kind: RunKind): string => STEP_KINDS[kind].title;

const ORDER = Object.keys(STEP_KINDS) as RunKind[];

/** Where a step runs among its machine's: its kind's row; a step shown but not known, at the first row of its resource. */
export function runOrder(step: { kind: StepKind; resource: Resource }): number {
  if (step.kind !== 'unknown') return ORDER.indexOf(step.kind);
  return ORDER.findIndex((k) => STEP_KINDS[k].resource === step.resource);
}

/** The kinds that run a script on their machine. */
export type MachineKind = { [K in RunKind]: (typeof STEP_KINDS)[K] extends { template: string } ? K : never }[RunKind];
