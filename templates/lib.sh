# lib.sh: sent ahead of every template (after its variables). Functions only: it runs nothing by itself.

# Tailscale needs root: as root run it, otherwise through passwordless sudo (never prompt).
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# The running gateway's pid: OpenClaw sets its process title to openclaw-gateway (comm is cut to 15 chars).
gateway_pid() { pgrep -o -x openclaw-gatewa 2>/dev/null || pgrep -o -f '^openclaw-gateway' 2>/dev/null || true; }

# patch_config CONFIG PATCH WHAT: OpenClaw's own `openclaw config patch` (which validates) applies PATCH to a
# temporary copy of CONFIG ({} when there is none); only a valid result is renamed over CONFIG, so a failure
# or Ctrl-C leaves CONFIG as it was. On failure prints OpenClaw's message and exits 1.
patch_config() {
  pc_dir=$(dirname "$1")
  mkdir -p "$pc_dir"
  pc_work=$(umask 077 && mktemp -d "$pc_dir/.peer-provision.XXXXXX")
  trap 'rm -rf "$pc_work"' EXIT INT TERM
  if [ -f "$1" ]; then cp -p "$1" "$pc_work/openclaw.json"; else (umask 077 && echo '{}' > "$pc_work/openclaw.json"); fi
  if ! printf '%s' "$2" | OPENCLAW_CONFIG_PATH="$pc_work/openclaw.json" openclaw config patch --stdin > "$pc_work/out" 2>&1; then
    echo "OpenClaw rejected the $3 config ($1 is untouched):" >&2
    cat "$pc_work/out" >&2
    exit 1
  fi
  chmod 600 "$pc_work/openclaw.json"
  mv "$pc_work/openclaw.json" "$1"
}
