# leave.sh: leave the tailnet (the node entry itself is removed on the tailnet side). Runs last in down, after
# the gateway config is back and the gateway restarted, and only on a node this stack joined (the plan checks
# its hostname and tags): leaving may cut the connection this script came over.
# @var DETACH: 1: the operator reaches this machine over Tailscale; log out in the background, so the logout
#   completes even when it cuts this very connection
# @var TAGS: comma-separated tags the node must carry to be logged out: the machine's tags, as the plan saw them. The
#   node is read again here, so a node that changed since the plan (or a plan edited to name another machine's
#   node) stays logged in. Empty: no check (join logging out the node it has just joined without the tags).
# Result: changed when it logged out (or started to); unchanged without tailscale or when already logged out.
set -eu
command -v tailscale >/dev/null 2>&1 || { result false 'tailscale is not installed'; exit 0; }
if [ -n "$TAGS" ]; then
  status=$(tailscale status --json --peers=false 2>&1) || fail "cannot read the node's status: $status"
  case "$status" in
    *'"BackendState": "NeedsLogin"'* | *'"BackendState": "NoState"'*) result false 'already logged out'; exit 0 ;;
  esac
  for tag in $(printf '%s' "$TAGS" | tr ',' ' '); do
    case "$status" in
      *"\"$tag\""*) ;;
      *) fail "the node does not carry $tag (it changed since the plan, or is another stack's): it stays logged in" ;;
    esac
  done
fi
# `tailscale down` first: a logout that itself stops a running node races the stop (tailscaled closed the
# connection the logout was using: "500 Internal Server Error: fetch control key: … use of closed network
# connection", seen with three nodes logging out at once), and a failed logout leaves tailscaled without the node
# key it still reports (every later logout: "no nodekey to log out", until tailscaled restarts).
if [ "$DETACH" = 1 ]; then
  as_root true || fail "sudo asks for a password: tailscale logout needs root or passwordless sudo"
  (sleep 2; as_root tailscale down --accept-risk=lose-ssh; as_root tailscale logout) </dev/null >/dev/null 2>&1 &
  result true 'logging out in the background (this connection runs over Tailscale)'
  exit 0
fi
as_root tailscale down
# A logout that still fails for a moment is tried again, twice. A failed logout also empties the control client's
# copy of the node key (tailscale 1.102 control/controlclient/direct.go TryLogout clears it whatever control
# answered) while tailscaled's profile keeps the key: each later logout then says "no nodekey to log out". Starting
# the backend again on its own preferences (LocalAPI start, what `tailscale up` calls; the failed logout already set
# it logged out, so it does not connect) makes a new control client from the profile; a tailscaled that systemd runs
# is restarted as a last resort.
tries=0
restarted=0
first=''
until err=$(as_root tailscale logout 2>&1); do
  first=${first:-$err}
  case "$err" in
    *'no nodekey to log out'*)
      if [ "$restarted" = 0 ] && as_root tailscale debug localapi POST start '{}' >/dev/null 2>&1; then
        restarted=1
        continue
      fi
      if [ "$restarted" -lt 2 ] && command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet tailscaled 2>/dev/null \
        && as_root systemctl restart tailscaled; then
        restarted=2 i=0
        until tailscale status --json >/dev/null 2>&1 || [ $i -ge 30 ]; do sleep 0.5; i=$((i + 1)); done
        continue
      fi
      fail "tailscaled lost the node key it reports after an earlier failed logout (a Tailscale client fault${first:+; the first logout said: $first}): restart tailscaled (sudo systemctl restart tailscaled), then run down again" ;;
  esac
  tries=$((tries + 1))
  [ "$tries" -lt 3 ] || fail "$err"
  sleep 1
done
result true ''
