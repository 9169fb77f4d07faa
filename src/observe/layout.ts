// Where OpenClaw keeps its state and the agent's workspace on a machine, from its config path and the config.
import { posix } from 'node:path';

/** Where OpenClaw keeps its state and the agent's workspace, from the config path and the config itself. */
export function layout(configPath: string, config: Record<string, unknown> | undefined, home: string) {
  const stateDir = posix.dirname(configPath);
  const configured = (config?.agents as { defaults?: { workspace?: unknown } } | undefined)?.defaults?.workspace;
  const workspace = typeof configured === 'string' ? configured.replace(/^~(?=\/|$)/, home) : posix.join(stateDir, 'workspace');
  return { peerDir: posix.join(stateDir, 'peer-agent'), skillDir: posix.join(workspace, 'skills', 'peer-messaging') };
}

