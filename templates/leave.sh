# leave.sh: leave the tailnet (the node entry itself is removed on the tailnet side). Runs last in down, after
# the gateway config is back and the gateway restarted, and only on a node this stack joined (the plan checks
# its hostname and tags): leaving may cut the connection this script came over.
# @var DETACH: 1: the operator reaches this machine over Tailscale; log out in the background, so the logout
#   completes even when it cuts this very connection
# Result: changed when it logged out (or started to); unchanged without tailscale.
set -eu
command -v tailscale >/dev/null 2>&1 || { result false 'tailscale is not installed'; exit 0; }
if [ "$DETACH" = 1 ]; then
  as_root true || fail "sudo asks for a password: tailscale logout needs root or passwordless sudo"
  (sleep 2; as_root tailscale logout) </dev/null >/dev/null 2>&1 &
  result true 'logging out in the background (this connection runs over Tailscale)'
  exit 0
fi
# A logout can fail for a moment while tailscaled talks to its control server ("500 Internal Server Error: fetch
# control key: … use of closed network connection", seen with three nodes logging out at once): try again, twice.
tries=0
until err=$(as_root tailscale logout 2>&1); do
  tries=$((tries + 1))
  [ "$tries" -lt 3 ] || fail "$err"
  sleep 1
done
result true ''
