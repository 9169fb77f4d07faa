# observe.sh: read-only. Finds what peer-provision needs to plan; src/observe/parse.ts reads the result.
# @var STACK: the stack's name (its state lives in ~/.peer-provision/STACK)
# @var PORT: the gateway's port
# @var CONFIG_PATH: peer.yaml's gateway.configPath; may be empty (found here); ~/... is this machine's home
# @var WANT_BACKUP: 1: also report every config peer-provision patched and its backup, for down
# @var GUARD: 1: this machine is to be guarded (accept --guard): report nftables and the guard's table
# Result: unchanged; facts as values, file contents and tailscale's status as base64 (*_b64), and per
# config peer-provision patched "record.ID.*" (WANT_BACKUP only).
set -u
find_openclaw
state_dir="$HOME/.peer-provision/$STACK"

val os "$(uname -s | tr 'A-Z' 'a-z')"
val arch "$(uname -m)"
val user "$(id -un)"
val home "$HOME"
val tailscale "$(command -v tailscale || true)"
val openclaw "$(command -v openclaw || true)"
# Who this machine is, to tell two peer.yaml entries that reach the same machine apart.
machine_id=$(cat /etc/machine-id 2>/dev/null || cat /var/lib/dbus/machine-id 2>/dev/null ||
  ioreg -rd1 -c IOPlatformExpertDevice 2>/dev/null | sed -n 's/.*"IOPlatformUUID" = "\(.*\)"/\1/p' || true)
val machine_id "$machine_id"
# The address this ssh connection comes from: one in Tailscale's ranges (100.64.0.0/10, fd7a:115c:a1e0::/48, or IPv4-mapped)
# means the operator reaches us over Tailscale (src/plan/node.ts decides).
ssh_connection=${SSH_CONNECTION:-}
val ssh_client "${ssh_connection%% *}"

pid=$(gateway_pid)
val pid "$pid"

# Which service manager runs it: systemd user unit, launchd, or a respawning supervisor (OpenClaw's
# OPENCLAW_SUPERVISOR_MODE=external, where a SIGUSR2 makes the gateway exit for the supervisor to restart it).
service=none
if [ -n "$pid" ] && [ -r "/proc/$pid/environ" ] && tr '\0' '\n' < "/proc/$pid/environ" | grep -qx 'OPENCLAW_SUPERVISOR_MODE=external'; then
  service=supervisor
elif [ -n "$pid" ] && grep -q '/system\.slice/openclaw-gateway' "/proc/$pid/cgroup" 2>/dev/null; then
  service=systemd-system # a system unit (OpenClaw docs: "Linux (system service)"), restarted through root
elif command -v systemctl >/dev/null 2>&1 && XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" systemctl --user cat openclaw-gateway.service >/dev/null 2>&1; then
  service=systemd
elif command -v launchctl >/dev/null 2>&1 && launchctl print "gui/$(id -u)/ai.openclaw.gateway" >/dev/null 2>&1; then
  service=launchd
elif command -v systemctl >/dev/null 2>&1 && systemctl cat openclaw-gateway.service >/dev/null 2>&1; then
  service=systemd-system
fi
val service "$service"
# A systemd user unit outlives the ssh session only with lingering on (OpenClaw docs: loginctl enable-linger).
if [ "$service" = systemd ]; then
  linger=$(loginctl show-user "$(id -un)" --property=Linger --value 2>/dev/null)
  [ -n "$linger" ] || { [ -e "/var/lib/systemd/linger/$(id -un)" ] && linger=yes || linger=no; }
  val linger "$linger"
fi
# Tailscale (and a system unit) need root: as a user, that is sudo without a password (-n: never prompt).
if [ "$(id -u)" != 0 ]; then
  if sudo_out=$(sudo -n true 2>&1 </dev/null); then val sudo "ok"; else val sudo "refused: $(printf '%s' "$sudo_out" | head -n 1)"; fi
fi

# The config path, cheapest answer first: the peer.yaml override; the path the first up recorded; OpenClaw's
# own precedence where it is plain (OPENCLAW_CONFIG_PATH, else $OPENCLAW_STATE_DIR/openclaw.json, else
# ~/.openclaw/openclaw.json when no OPENCLAW_* variable moves it), read from the running gateway's environment;
# and only then OpenClaw's CLI, `openclaw config file` (exact, but it costs a second or two).
# The gateway's environment, one NAME=VALUE a line. A line break inside a value becomes \001 first, so that no
# value can pass for a variable of its own on the next line.
gateway_environ() { tr '\n\0' '\001\n' < "/proc/$pid/environ"; }
gateway_env() { # NAME -> its value in the gateway's environment (or this shell's, with no gateway running)
  if [ -n "$pid" ] && [ -r "/proc/$pid/environ" ]; then gateway_environ | sed -n "s/^$1=//p" | head -n 1
  else eval "printf '%s' \"\${$1:-}\""; fi
}
config="$CONFIG_PATH"
case "$config" in "~/"*) config="$HOME/${config#"~/"}" ;; esac
[ -z "$config" ] && [ -f "$state_dir/config-path" ] && config=$(cat "$state_dir/config-path")
if [ -z "$config" ]; then
  oc_config=$(gateway_env OPENCLAW_CONFIG_PATH); oc_state=$(gateway_env OPENCLAW_STATE_DIR)
  oc_moved=$(gateway_env OPENCLAW_HOME)$(gateway_env OPENCLAW_PROFILE)
  case "$oc_config" in /*) config="$oc_config" ;; esac
  if [ -z "$config" ] && [ -z "$oc_config" ]; then
    case "$oc_state" in
      /*) [ -f "$oc_state/openclaw.json" ] && config="$oc_state/openclaw.json" ;;
      "") [ -z "$oc_moved" ] && [ -f "$HOME/.openclaw/openclaw.json" ] && config="$HOME/.openclaw/openclaw.json" ;;
    esac
  fi
fi
if [ -z "$config" ] && command -v openclaw >/dev/null 2>&1; then
  if [ -n "$pid" ] && [ -r "/proc/$pid/environ" ]; then
    # its OPENCLAW_* variables exported as values (never spliced into a command line: they may hold any word)
    config=$(gateway_environ | {
      while IFS= read -r kv; do
        case "$kv" in OPENCLAW_CONFIG_PATH=*|OPENCLAW_STATE_DIR=*|OPENCLAW_HOME=*|OPENCLAW_PROFILE=*) export "$kv" ;; esac
      done
      openclaw config file 2>/dev/null </dev/null | tail -n 1
    })
  else
    config=$(openclaw config file 2>/dev/null | tail -n 1)
  fi
fi
val config "$config"
if [ -n "$config" ]; then
  val config_kind "$(config_kind "$config")"
  [ -f "$config" ] && val config_exists "1" || val config_exists "0"
  rec=$(record_dir "$state_dir" "$config")
  [ -f "$rec/orig" ] || [ -f "$rec/absent" ] && val backup "1" || val backup "0"
  # the user's original: up reads what it allowed in gateway.tools (an earlier peer-provision added sessions_send)
  if [ -f "$rec/orig" ]; then val backup_orig_b64 "$(b64 < "$rec/orig")"; elif [ -f "$rec/absent" ]; then val backup_orig_b64 ""; fi
else
  val config_exists "0"
  val backup "0"
fi

# The installed OpenClaw's version, and whether it ships the A2A channel peers talk through (an OpenClaw without it
# is a blocker in plan).
oc_pkg=$(openclaw_package "$pid")
if [ -n "$oc_pkg" ]; then
  val openclaw_version "$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$oc_pkg/package.json" | head -n 1)"
  [ -f "$oc_pkg/dist/extensions/a2a/openclaw.plugin.json" ] && val a2a_channel 1 || val a2a_channel 0
fi

# curl installs Tailscale, waits for the gateway's health and runs the peer checks: a precondition plan checks.
val curl "$(command -v curl || true)"

# What peer-provision last wrote to this config, when it differs now: up tells drift of its own keys apart
# from someone else's edit (which down must keep).
[ -n "$config" ] && [ -f "$rec/applied" ] && ! cmp -s "$config" "$rec/applied" 2>/dev/null && val applied_b64 "$(b64 < "$rec/applied")"

# A status that fails (tailscaled stopped, crashed, or its socket gone) is said in the CLI's own words: the plan
# then asks for tailscaled to be started, instead of planning a join that cannot run.
if command -v tailscale >/dev/null 2>&1; then
  if ts_status=$(tailscale status --json 2>/dev/null); then
    val tailscale_status_b64 "$(printf '%s\n' "$ts_status" | b64)"
  else
    val tailscale_error "$(tailscale status 2>&1 >/dev/null | tr '\n' ' ' | cut -c1-400)"
  fi
fi

[ -n "$config" ] && [ -f "$config" ] && val config_b64 "$(b64 < "$config")"

# The addresses listening at the port, space-separated.
if command -v ss >/dev/null 2>&1; then
  val listening "$(ss -ltnH "sport = :$PORT" 2>/dev/null | awk '{printf "%s ", $4}')"
elif command -v netstat >/dev/null 2>&1; then
  val listening "$(netstat -an -p tcp 2>/dev/null | awk -v p=".$PORT" '$NF == "LISTEN" && substr($4, length($4) - length(p) + 1) == p {printf "%s ", $4}')"
fi

# Every config peer-provision patched (one record per path), for down: its flags, what it holds now, the original.
if [ "${WANT_BACKUP:-0}" = 1 ]; then
  for rec in "$state_dir"/configs/*; do
    [ -f "$rec/path" ] || continue
    id=${rec##*/}
    path=$(cat "$rec/path")
    val "record.$id.path" "$path"
    val "record.$id.kind" "$(config_kind "$path")"
    [ -f "$rec/absent" ] && val "record.$id.absent" "1"
    [ -f "$rec/edited" ] && val "record.$id.edited" "1"
    [ -f "$rec/applied" ] && cmp -s "$path" "$rec/applied" 2>/dev/null && val "record.$id.applied_same" "1"
    [ -f "$rec/orig" ] && cmp -s "$path" "$rec/orig" 2>/dev/null && val "record.$id.orig_same" "1"
    [ -f "$path" ] && val "record.$id.current_b64" "$(b64 < "$path")"
    [ -f "$rec/orig" ] && val "record.$id.orig_b64" "$(b64 < "$rec/orig")"
  done
fi

[ -f "$state_dir/peer-files.sha256" ] && read -r digest < "$state_dir/peer-files.sha256" && val peer_files "$digest"
# The inbound guard (guard.sh): whether nft is here, and the port its table lets in; looked at only when it is wanted
# or was set up (root is needed to list a table: no sudo on other machines).
if [ "${GUARD:-0}" = 1 ] || [ -f "$state_dir/guard" ]; then
  nft_bin=$(nft_path)
  val nft "${nft_bin:+1}"
  val guard_table "peer-provision-$STACK"
  if [ -n "$nft_bin" ] && table=$(as_root "$nft_bin" list table inet "peer-provision-$STACK" 2>/dev/null </dev/null); then
    val guard_port "$(printf '%s\n' "$table" | sed -n 's/.*tcp dport \([0-9][0-9]*\) accept.*/\1/p' | head -n 1)"
  fi
fi
# The friends' A2A entries peer-provision wrote (gateway-config.sh records them): up and down remove exactly those.
[ -f "$state_dir/friends" ] && val friends "$(tr '\n' ' ' < "$state_dir/friends")"
result false ''
