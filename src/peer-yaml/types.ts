// The Spec: peer.yaml after parsing, schema validation and semantic checks, with every default filled in.
// Everything downstream (observe, plan, apply, verify) reads this, never the raw YAML.

/** Where a secret comes from. The secret itself is only ever resolved in memory, at the moment it is needed. */
export type SecretRef =
  | { kind: 'env'; name: string }
  | { kind: 'file'; path: string } // absolute: ~/ expanded, else resolved against peer.yaml's folder
  /** Keep the gateway's token when it meets the token rule, else make one; replaceWeak: also replace a weak one. */
  | { kind: 'generate'; replaceWeak?: true }
  /** Handed to the run in memory (accept: the invite's auth key, registered for redaction as it was opened); never from peer.yaml. */
  | { kind: 'given'; value: string; from: string };

export type SshTarget =
  | { kind: 'local' }
  /** destination: what is passed to ssh (an alias from ssh_config or user@host); port only when given. */
  | { kind: 'ssh'; destination: string; user?: string; host: string; port?: number };

export interface MachineSpec {
  name: string;
  ssh: SshTarget;
  /** Tags this machine joins with: the stack tag and its own machine tag (used to address it in the ACL). */
  tags: string[];
  /**
   * The tags peer-provision 0.1 joined it with (stack tag, tag:peer-<stack>-<machine>): recognised so that such a node
   * is known as this stack's (down leaves it; up asks for down first), never given to a new node.
   */
  legacyTags: string[];
  tailscale: {
    hostname: string;
    /** Required with provider: provided, absent with provider: pulumi (keys are minted). */
    authKey?: SecretRef;
    /** Linux install script URL (a mirror for air-gapped sites); macOS uses Homebrew. */
    installUrl: string;
    /**
     * Join even when the node is logged in to another tailnet, or the operator reaches it over Tailscale
     * (either could lock the operator out): off unless the user says so for this machine.
     */
    takeOver: boolean;
    /** How a person opts in to takeOver, as a refusal says it (accept: its --take-over); default: the peer.yaml field. */
    takeOverOptIn?: string;
    /**
     * The inbound guard (accept --guard): on the tailnet interface, only the gateway's port is let in (nftables), whatever
     * the tailnet's policy allows. For a friend's machine in someone else's tailnet; peer.yaml has no field for it.
     */
    guard?: boolean;
  };
  gateway: {
    port: number;
    /** The owner's gateway token (operator access to this gateway): never given to a peer. */
    token: SecretRef;
    /** OpenClaw's A2A channel, which peers talk through. */
    a2a: {
      /** Requests per minute each peer may make (OpenClaw's sliding window); 0: no limit. */
      rateLimitPerMinute: number;
      /** The agent ids the public agent card names; undefined: OpenClaw's default (every agent). */
      exposeAgents?: string[];
    };
    /** Override for the OpenClaw config path; default: the one the running gateway uses (OpenClaw's precedence). */
    configPath?: string;
    /** Override for how to restart the gateway; default: the service manager found on the machine. */
    restart?: string;
  };
}

export interface TailnetSpec {
  provider: 'pulumi' | 'provided';
  /** "-" means the credentials' default tailnet. */
  tailnet: string;
  /** Pulumi backend URL; default: a file backend under stacks/<name>/. */
  backend?: string;
  credentials?: {
    oauthClientId?: SecretRef;
    oauthClientSecret?: SecretRef;
    apiKey?: SecretRef;
  };
  keys: { expirySeconds: number; ephemeral: boolean };
  acl: 'merge' | 'skip';
  /** provider provided: the control server to join (`tailscale up --login-server`), e.g. a headscale; default Tailscale's. */
  controlUrl?: string;
  /** The tag every machine of this stack carries: tag:peer-<name>. */
  stackTag: string;
  /**
   * The tag of the OAuth client that mints this stack's keys: tag:peerprovision-<name>. No machine carries it; it owns
   * the stack tag and the machine tags, so a key carries only tags the client owns, never the client's own tag beside
   * them (Tailscale refuses that mix: tailscale/tailscale#12402), and a machine's tag never lets it take another's.
   */
  ownerTag: string;
}

/**
 * A friend: a person who peers a machine of their own with some of these machines, with no ssh to it (invite and
 * accept, docs/friend.md). On the tailnet their machine is one of this stack's, under a tag of its own.
 */
export interface FriendSpec {
  name: string;
  /** Their age public key (age1...), that invites are sealed to: not a secret. */
  publicKey: string;
  /** Their machine's Tailscale hostname, and its peer name on the A2A channel of the machines in `with`. */
  hostname: string;
  /** Their gateway's port (their A2A channel listens there). */
  port: number;
  /** The machines their machine peers with, in file order. */
  with: string[];
  /** The tags their machine joins with: the stack tag and a machine tag of its own (friends and machines never share a name). */
  tags: string[];
}

export interface Spec {
  /** Absolute path of the peer.yaml this came from. */
  file: string;
  version: 1;
  name: string;
  /** An ssh_config file passed to ssh with -F (absolute); default: ssh's own (~/.ssh/config). */
  sshConfig?: string;
  tailnet: TailnetSpec;
  /** In file order. */
  machines: MachineSpec[];
  /** Pairs of machine names, each pair sorted, in a stable order. Default: every pair. */
  peers: [string, string][];
  /** In file order; none when peer.yaml names none. */
  friends: FriendSpec[];
}

export const DEFAULT_GATEWAY_PORT = 18789;
/** OpenClaw's own default for channels.a2a.rateLimitPerMinute, written explicitly. */
export const DEFAULT_A2A_RATE_LIMIT = 30;
export const DEFAULT_INSTALL_URL = 'https://tailscale.com/install.sh';
// Tags: no two stacks' tags can be equal. A stack name never holds "--" (peer.yaml's rules refuse it) and ends in a
// letter or digit, so in tag:peer-<stack>--<machine> the first "--" ends the stack name: a machine tag is no stack's
// tag and no other stack's machine tag. (0.1 wrote tag:peer-<stack>-<machine>: machine eu of stack prod had the stack
// tag of a stack named prod-eu, so one stack's grants opened the other's machines.)
export const stackTag = (name: string) => `tag:peer-${name}`;
/** Its prefix is not tag:peer-, so it is no stack's tag and no machine's tag, whatever the names. */
export const ownerTag = (name: string) => `tag:peerprovision-${name}`;
export const MACHINE_TAG_SEPARATOR = '--';
export const machineTag = (name: string, machine: string) => `${stackTag(name)}${MACHINE_TAG_SEPARATOR}${machine}`;
/** The machine tag of peer-provision 0.1, which could collide (see above): only ever recognised, never written. */
export const legacyMachineTag = (name: string, machine: string) => `${stackTag(name)}-${machine}`;

/** The machines `machine` is paired with in spec.peers. */
export const peersOf = (spec: Spec, machine: string): string[] => spec.peers.flatMap(([a, b]) => (a === machine ? [b] : b === machine ? [a] : []));
