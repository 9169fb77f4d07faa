# leave.sh: leave the tailnet (the node entry itself is removed on the tailnet side).
set -eu
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
command -v tailscale >/dev/null 2>&1 || exit 0
as_root tailscale logout
