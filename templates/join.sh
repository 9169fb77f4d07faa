# join.sh: join the tailnet with a single-use auth key, then print the node's tailnet IPv4.
# Vars: AUTH_KEY (secret: reaches this machine on ssh's stdin, goes into a 0600 file, never argv),
#       HOSTNAME_WANTED, TAGS (comma-separated).
set -eu
key_file=$(umask 077 && mktemp "${TMPDIR:-/tmp}/peer-provision-key.XXXXXX")
trap 'rm -f "$key_file"' EXIT INT TERM
printf '%s' "$AUTH_KEY" > "$key_file"
# --reset: every setting not given here returns to its default, so a re-join never trips over flags an
# earlier `tailscale up` set (tailscale issue #5597). The key is read from the file, not from argv.
as_root tailscale up --reset --auth-key="file:$key_file" --hostname="$HOSTNAME_WANTED" --advertise-tags="$TAGS" --timeout=60s
rm -f "$key_file"
tailscale ip -4 | head -n 1
