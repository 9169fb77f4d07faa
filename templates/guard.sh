# guard.sh: the inbound guard of a friend's machine (accept --guard): on the tailnet interface only the gateway's port
# is let in, whatever the tailnet's policy allows; the rest of what arrives there is dropped (answers to this machine's
# own connections excepted). One nftables table of its own, replaced whole in one transaction, so Tailscale's own
# rules and anyone else's are never touched. Not kept across a reboot: observe sees it gone and the next run adds it.
# @var ACTION: add or remove
# @var TABLE: the table's name (inet family): peer-provision-<stack>
# @var PORT: add: the one TCP port let in (the gateway's)
# Result: changed when the table was written or removed.
set -eu
state_dir="$HOME/.peer-provision/${TABLE#peer-provision-}"
nft_bin=$(nft_path)
if [ "$ACTION" = remove ]; then
  if [ -n "$nft_bin" ] && as_root "$nft_bin" list table inet "$TABLE" >/dev/null 2>&1 </dev/null; then
    out=$(as_root "$nft_bin" delete table inet "$TABLE" 2>&1 </dev/null) || fail "nft delete table inet $TABLE: $out"
    rm -f "$state_dir/guard"
    result true "removed the inbound guard (nftables table inet $TABLE)"
  else
    rm -f "$state_dir/guard"
    result false 'no inbound guard'
  fi
  exit 0
fi
[ -n "$nft_bin" ] || fail 'nft is not installed: the guard is an nftables table (apt-get install nftables, dnf install nftables)'
case "$PORT" in '' | *[!0-9]*) fail "not a port: $PORT" ;; esac
as_root true || fail 'sudo asks for a password: the guard needs root or passwordless sudo (sudo -n)'
mkdir -p "$state_dir"
# recorded first: a guard set up and not recorded would be one leave never removes
: > "$state_dir/guard"
# the first two lines make the table if missing and then delete it, so the third always starts from nothing
out=$(as_root "$nft_bin" -f - 2>&1 <<RULES
table inet $TABLE
delete table inet $TABLE
table inet $TABLE {
  chain input {
    type filter hook input priority filter - 5; policy accept;
    iifname "tailscale0" ct state established,related accept
    iifname "tailscale0" tcp dport $PORT accept
    iifname "tailscale0" drop
  }
}
RULES
) || fail "nft: $out"
result true "on tailscale0 only tcp/$PORT is let in (nftables table inet $TABLE)"
