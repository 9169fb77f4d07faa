# join.sh: join the tailnet with a single-use auth key.
# @var AUTH_KEY secret: reaches this machine on ssh's stdin, goes into a 0600 file, never argv
# @var HOSTNAME_WANTED: the node's Tailscale hostname
# @var ADVERTISE_TAGS: comma-separated tags to request with --advertise-tags, e.g. tag:peer-lab,tag:peer-lab-alpha;
#   empty: the key's own tags apply (a tagged auth key; headscale refuses the flag with any pre-auth key)
# @var LOGIN_SERVER: the control server to join (--login-server), e.g. a headscale; empty: Tailscale's own (or the one
#   the machine's device policy names)
# @var FORCE_REAUTH: 1: takeOver, the node is logged in elsewhere or reached over Tailscale; or a re-key, the
#   node's key is near expiry or expired: re-authenticate with the new key, and let the join finish even if it
#   cuts this connection (--accept-risk=lose-ssh: the real CLI refuses a re-authentication over Tailscale without it)
# Result: changed; status_b64: `tailscale status --json` after the join (the caller checks tags and address).
set -eu
as_root true || fail "sudo asks for a password: joining the tailnet needs root or passwordless sudo (sudo -n)"
key_file=$(umask 077 && mktemp "${TMPDIR:-/tmp}/peer-provision-key.XXXXXX")
on_exit 'rm -f "$key_file"'
printf '%s' "$AUTH_KEY" > "$key_file" || fail "cannot write the auth key file (disk full?)"
# --reset: every setting not given here returns to its default, so a re-join never trips over flags an
# earlier `tailscale up` set (tailscale issue #5597). The key is read from the file, not from argv.
if [ "$FORCE_REAUTH" = 1 ]; then
  # A logged-in node ignores a new key without --force-reauth. The join runs apart from this connection
  # (nohup, its own key-file cleanup), so a connection it cuts cannot leave it half done.
  trap - EXIT
  result=$(umask 077 && mktemp "${TMPDIR:-/tmp}/peer-provision-join.XXXXXX")
  nohup sh -c 'as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
    as_root tailscale up --reset --force-reauth --accept-risk=lose-ssh --auth-key="file:$1" --hostname="$2" ${3:+"--advertise-tags=$3"} \
      ${5:+"--login-server=$5"} --timeout=60s > "$4" 2>&1
    echo "rc=$?" >> "$4"; rm -f "$1"' join "$key_file" "$HOSTNAME_WANTED" "$ADVERTISE_TAGS" "$result" "$LOGIN_SERVER" </dev/null >/dev/null 2>&1 &
  wait $! || true
  rc=$(sed -n 's/^rc=//p' "$result")
  [ "$rc" = 0 ] || { grep -v '^rc=' "$result" >&2; rm -f "$result"; exit 1; }
  rm -f "$result"
else
  as_root tailscale up --reset --auth-key="file:$key_file" --hostname="$HOSTNAME_WANTED" ${ADVERTISE_TAGS:+"--advertise-tags=$ADVERTISE_TAGS"} \
    ${LOGIN_SERVER:+"--login-server=$LOGIN_SERVER"} --timeout=60s
  rm -f "$key_file"
fi
result true '' status_b64 "$(tailscale status --json | b64)"
