// Which `tailscale up` flags a key needs. Decided from where the key comes from and its kind, never its secret part.

/**
 * Whether `tailscale up` must request the machine's tags with --advertise-tags:
 *  - a key peer-provision minted carries the tags itself: no flag (headscale refuses the flag with any pre-auth key);
 *  - an OAuth client secret used as the key (`tskey-client-`): Tailscale requires the flag, it registers tagged nodes only;
 *  - another Tailscale key given in peer.yaml (`tskey-auth-`): tagged or not, we cannot tell; Tailscale takes the flag
 *    for the key's own tags and for tags its owner owns, and an untagged key needs it;
 *  - any other key (`hskey-auth-`, a headscale pre-auth key): no flag, the key's tags apply.
 */
export function advertisesTags(key: string, minted: boolean): boolean {
  if (minted) return false;
  return key.startsWith('tskey-client-') || key.startsWith('tskey-auth-');
}
