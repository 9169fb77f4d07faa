// The one error type of the Tailscale side: an operational failure (exit 1) with an optional hint (what to
// do about it). The CLI's boundary prints both. Messages never contain a secret value.
import { PeerProvisionError } from '../errors.js';

export class TailnetError extends PeerProvisionError {}
