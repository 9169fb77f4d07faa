// What observing a machine found. Read-only facts; secrets (the gateway token) are never part of this:
// only a hash of the token is kept, so a state can be printed, planned over and serialised safely.

export type ServiceManager = 'systemd' | 'launchd' | 'supervisor' | 'none';

export interface MachineState {
  os: string; // uname -s, lowercased: linux, darwin
  arch: string;
  user: string;
  tailscale: {
    installed: boolean;
    version?: string;
    backendState?: string; // Running, NeedsLogin, Stopped, ...
    hostname?: string;
    tags: string[];
    ip?: string; // the node's tailnet IPv4
  };
  gateway: {
    installed: boolean; // the openclaw command is there
    configPath?: string;
    configExists: boolean;
    /** The config file exists but is not valid JSON5. */
    configError?: string;
    mode?: string;
    bind?: string;
    port?: number;
    authMode?: string;
    /** sha256 of gateway.auth.token, hex; undefined when no token is set. */
    tokenHash?: string;
    toolsAllow: string[];
    /** peer-provision's backup of the user's original config exists (written once, on the first up). */
    backupExists: boolean;
    serviceManager: ServiceManager;
    pid?: number;
    /** Addresses the gateway is listening on at its port, e.g. ["127.0.0.1", "100.64.0.1"]. */
    listening: string[];
  };
  /** sha256 of the peer files peer-provision wrote (peer-config, token files, skill), as one digest; undefined if none. */
  peerFilesHash?: string;
}

export type MachineObservation =
  | { status: 'observed'; state: MachineState }
  | { status: 'unreachable'; reason: string }
  | { status: 'offline' }; // not looked at: plan --offline
