# join.sh: join the tailnet with a single-use auth key.
# @var AUTH_KEY secret: reaches this machine on ssh's stdin, goes into a 0600 file, never argv
# @var HOSTNAME_WANTED: the node's Tailscale hostname
# @var TAGS: comma-separated, e.g. tag:peer-lab,tag:peer-lab-alpha
# @var FORCE_REAUTH: 1: takeOver, the node is logged in elsewhere or reached over Tailscale; or a re-key, the
#   node's key is near expiry or expired: re-authenticate with the new key, and let the join finish even if it
#   cuts this connection
# Result: changed; ip: the node's tailnet IPv4.
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
    as_root tailscale up --reset --force-reauth --auth-key="file:$1" --hostname="$2" --advertise-tags="$3" --timeout=60s > "$4" 2>&1
    echo "rc=$?" >> "$4"; rm -f "$1"' join "$key_file" "$HOSTNAME_WANTED" "$TAGS" "$result" </dev/null >/dev/null 2>&1 &
  wait $! || true
  rc=$(sed -n 's/^rc=//p' "$result")
  [ "$rc" = 0 ] || { grep -v '^rc=' "$result" >&2; rm -f "$result"; exit 1; }
  rm -f "$result"
else
  as_root tailscale up --reset --auth-key="file:$key_file" --hostname="$HOSTNAME_WANTED" --advertise-tags="$TAGS" --timeout=60s
  rm -f "$key_file"
fi
result true '' ip "$(tailscale ip -4 | head -n 1)"
