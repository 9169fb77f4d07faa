// Where OpenClaw keeps its state and the agent's workspace on a machine, and so where peer-provision's
// peer files go: written by apply, read back by verify. Computed from paths alone (no I/O).
import { posix } from 'node:path';

export interface Layout {
  /** The folder of the peer-config and the per-peer token files. */
  peerDir: string;
  /** The peer-messaging skill in the agent's workspace. */
  skillDir: string;
}

/** From the config path, the config itself (agents.defaults.workspace) and the remote user's home. */
export function layout(configPath: string, config: Record<string, unknown> | undefined, home: string): Layout {
  const stateDir = posix.dirname(configPath);
  const configured = (config?.agents as { defaults?: { workspace?: unknown } } | undefined)?.defaults?.workspace;
  const workspace = typeof configured === 'string' ? configured.replace(/^~(?=\/|$)/, home) : posix.join(stateDir, 'workspace');
  return { peerDir: posix.join(stateDir, 'peer-agent'), skillDir: posix.join(workspace, 'skills', 'peer-messaging') };
}
