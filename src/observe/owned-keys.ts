// The keys of an OpenClaw config that peer-provision owns. A change to anything else since peer-provision's
// last write is someone else's, and down must keep it; a change to these alone (drift that up puts right
// again) is not, so down may still put the original back byte for byte.
import { isDeepStrictEqual } from 'node:util';

export const OWNED_GATEWAY_KEYS = ['mode', 'bind', 'port'] as const;
/** The tool a peer's messages arrive through: peer-provision adds it to gateway.tools.allow. */
export const TOOL_FOR_PEERS = 'sessions_send';
/** OpenClaw stamps every write it makes here (meta.lastTouchedVersion, meta.migrations): not a user's edit. */
const WRITER_STAMP = 'meta';

type Json = Record<string, unknown>;
const object = (value: unknown): Json => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {});

export function withoutOwnedKeys(config: Json): Json {
  const copy = structuredClone(config);
  delete copy[WRITER_STAMP];
  const gateway = object(copy.gateway);
  for (const key of OWNED_GATEWAY_KEYS) delete gateway[key];
  const auth = object(gateway.auth);
  delete auth.mode;
  delete auth.token;
  if (Object.keys(auth).length === 0) delete gateway.auth;
  const tools = object(gateway.tools);
  if (Array.isArray(tools.allow)) tools.allow = tools.allow.filter((t) => t !== TOOL_FOR_PEERS);
  if (Array.isArray(tools.allow) && tools.allow.length === 0) delete tools.allow;
  if ('tools' in gateway && Object.keys(tools).length === 0) delete gateway.tools;
  if ('gateway' in copy && Object.keys(gateway).length === 0) delete copy.gateway;
  return copy;
}

/** Someone else changed the config since peer-provision wrote `applied` (keys it owns do not count). */
export const editedOutsideOwnedKeys = (current: Json, applied: Json) => !isDeepStrictEqual(withoutOwnedKeys(current), withoutOwnedKeys(applied));
