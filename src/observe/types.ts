import type { A2aObserved } from '../model/gateway-settings.js';

// What observing a machine found. Read-only facts; secrets (the gateway token) are never part of this:
// only a hash of the token is kept, so a state can be printed, planned over and serialised safely.

/** systemd: a user unit (systemctl --user); systemd-system: a system unit (restarted through root). */
export type ServiceManager = 'systemd' | 'systemd-system' | 'launchd' | 'supervisor' | 'none';

/** What a config path is on the machine: only a regular file (or a symlink to one) or nothing yet can be patched. */
export type ConfigKind = 'file' | 'absent' | 'directory' | 'special' | 'dangling' | 'relative';

/** A config peer-provision patched (one per path), as down finds it. Contents stay private. */
export interface RecordedConfig {
  id: string;
  path: string;
  kind: ConfigKind;
  /** There was no config before peer-provision wrote one. */
  absent: boolean;
  /** Someone else changed the config between two of peer-provision's writes. */
  edited: boolean;
  /** The config is what peer-provision last wrote. */
  appliedSame: boolean;
  /** The config is the original again (nothing to put back). */
  origSame: boolean;
  /** gateway.port of the original (the gateway listens there once it is put back). */
  origPort?: number;
  /** The backup of the original is there but is not JSON5 (down can then only put it back byte for byte). */
  origUnreadable?: boolean;
}

export interface MachineState {
  os: string; // uname -s, lowercased: linux, darwin
  arch: string;
  user: string;
  /** /etc/machine-id (or the platform UUID): two entries with the same one are the same machine. */
  machineId?: string;
  /** The address the tool's ssh connection comes from; in Tailscale's ranges the operator reaches the machine over Tailscale. */
  sshClient?: string;
  /** How the ssh user gets root (Tailscale needs it): is root, sudo without a password, or sudo's refusal. */
  root?: { via: 'root' | 'sudo' } | { via: 'refused'; reason: string };
  /** curl is there (installing Tailscale, the gateway's health, verify all use it). Unknown: undefined. */
  curl?: boolean;
  tailscale: {
    installed: boolean;
    /** `tailscale status` failed, in the CLI's words: tailscaled is not running (stopped, crashed) or not answering. */
    daemonError?: string;
    version?: string;
    backendState?: string; // Running, NeedsLogin, Stopped, ...
    /** The node holds a login (a node key), whatever its backend state. */
    loggedIn: boolean;
    /** The tailnet it is logged in to, and as whom (a user's login name, or tagged-devices). */
    tailnet?: string;
    login?: string;
    hostname?: string;
    tags: string[];
    ip?: string; // the node's tailnet IPv4
    /**
     * When the node key expires (RFC 3339, `tailscale status --json` Self.KeyExpiry), past or future. Absent: key
     * expiry is disabled for this node (Tailscale's default for tagged nodes), or the node has no key.
     */
    keyExpiry?: string;
    /** The tagged nodes this node sees (a friend's machine is found here, by hostname and tags, once it has joined). */
    peers?: { hostname: string; tags: string[]; ip?: string }[];
  };
  gateway: {
    installed: boolean; // the openclaw command is there
    configPath?: string;
    configKind?: ConfigKind;
    configExists: boolean;
    /** The config file exists but is not valid JSON5. */
    configError?: string;
    mode?: string;
    bind?: string;
    port?: number;
    authMode?: string;
    /** sha256 of gateway.auth.token, hex; undefined when no token is set. */
    tokenHash?: string;
    /** The token written in the config breaks the token rule: why (src/peer-yaml/token-rule.ts; never the token). */
    tokenProblem?: string;
    toolsAllow: string[];
    /** gateway.tools.allow of the user's original config (peer-provision's backup); undefined: no backup, or unreadable. */
    origToolsAllow?: string[];
    /** channels.a2a as the config has it (which peer keys are set; never their values). */
    a2a: A2aObserved;
    /** The friends' entries peer-provision wrote under channels.a2a.peers (recorded on the machine, so that exactly those are removed). */
    friendPeers?: string[];
    /** gateway.controlUi.allowedOrigins as the config has them (empty: none). */
    allowedOrigins: string[];
    /** gateway.reload.mode: "off" means a config change takes effect only when the gateway restarts. */
    reloadMode?: string;
    /** The installed OpenClaw's version (its package.json), when found. */
    version?: string;
    /** The installed OpenClaw ships the A2A channel (dist/extensions/a2a); undefined: its package was not found. */
    a2aChannel?: boolean;
    /** Someone else changed the config (outside peer-provision's keys) since peer-provision last wrote it. */
    editedSinceApplied?: boolean;
    /** peer-provision's backup of the user's original config exists (written once, on the first up). */
    backupExists: boolean;
    serviceManager: ServiceManager;
    /** For a systemd user unit: whether lingering is on (without it the unit stops with the last session). */
    lingering?: boolean;
    pid?: number;
    /** Addresses the gateway is listening on at its port, e.g. ["127.0.0.1", "100.64.0.1"]. */
    listening: string[];
  };
  /** Configs peer-provision patched (observed for down only). */
  recorded?: RecordedConfig[];
  /**
   * The inbound guard (accept --guard), when wanted or set up before: nft is here; its nftables table (inet) and the
   * port the table lets in (none: no table).
   */
  guard?: { nft: boolean; table: string; port?: number };
  /** sha256 of the peer files peer-provision wrote (peer-config, token files, skill), as one digest; undefined if none. */
  peerFilesHash?: string;
}

export type MachineObservation = { status: 'observed'; state: MachineState } | { status: 'unreachable'; reason: string } | { status: 'offline' }; // not looked at: plan --offline

/** The tailnet policy as observe read it (with the tagOwners entries this stack recorded as its own), or why not. */
/** ours: the tagOwners entries this stack added; oursGrants/oursTests: the grants and tests it wrote (undefined: not recorded yet). */
export type PolicyObservation = { text: string; ours: string[]; oursGrants?: string[]; oursTests?: string[] } | { unread: string; offline?: boolean };
