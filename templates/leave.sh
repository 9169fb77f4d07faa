# leave.sh: leave the tailnet (the node entry itself is removed on the tailnet side).
set -eu
command -v tailscale >/dev/null 2>&1 || exit 0
as_root tailscale logout
