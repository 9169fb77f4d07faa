# observe.sh: read-only. Prints what peer-provision needs to plan, as marked sections.
# Vars: STACK, PORT, CONFIG_PATH (may be empty: found here; ~/... is this machine's home), MARK (a random
#       section marker), WANT_BACKUP (1: also print every config peer-provision patched and its backup, for down).
set -u
section() { printf '\n%s %s\n' "$MARK" "$1"; }
state_dir="$HOME/.peer-provision/$STACK"

section facts
echo "os=$(uname -s | tr 'A-Z' 'a-z')"
echo "arch=$(uname -m)"
echo "user=$(id -un)"
echo "home=$HOME"
echo "tailscale=$(command -v tailscale || true)"
echo "openclaw=$(command -v openclaw || true)"
# Who this machine is, to tell two peer.yaml entries that reach the same machine apart.
machine_id=$(cat /etc/machine-id 2>/dev/null || cat /var/lib/dbus/machine-id 2>/dev/null ||
  ioreg -rd1 -c IOPlatformExpertDevice 2>/dev/null | sed -n 's/.*"IOPlatformUUID" = "\(.*\)"/\1/p' || true)
echo "machine_id=$machine_id"
# The address this ssh connection comes from: a 100.64.0.0/10 one means the operator reaches us over Tailscale.
ssh_connection=${SSH_CONNECTION:-}
echo "ssh_client=${ssh_connection%% *}"

pid=$(gateway_pid)
echo "pid=$pid"

# Which service manager runs it: systemd user unit, launchd, or a respawning supervisor (OpenClaw's
# OPENCLAW_SUPERVISOR_MODE=external, where a SIGUSR2 makes the gateway exit for the supervisor to restart it).
service=none
if [ -n "$pid" ] && [ -r "/proc/$pid/environ" ] && tr '\0' '\n' < "/proc/$pid/environ" | grep -qx 'OPENCLAW_SUPERVISOR_MODE=external'; then
  service=supervisor
elif command -v systemctl >/dev/null 2>&1 && XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" systemctl --user cat openclaw-gateway.service >/dev/null 2>&1; then
  service=systemd
elif command -v launchctl >/dev/null 2>&1 && launchctl print "gui/$(id -u)/ai.openclaw.gateway" >/dev/null 2>&1; then
  service=launchd
fi
echo "service=$service"

# The config path, cheapest answer first: the peer.yaml override; the path the first up recorded; OpenClaw's
# own precedence where it is plain (OPENCLAW_CONFIG_PATH, else $OPENCLAW_STATE_DIR/openclaw.json, else
# ~/.openclaw/openclaw.json when no OPENCLAW_* variable moves it), read from the running gateway's environment;
# and only then OpenClaw's CLI, `openclaw config file` (exact, but it costs a second or two).
gateway_env() { # NAME -> its value in the gateway's environment (or this shell's, with no gateway running)
  if [ -n "$pid" ] && [ -r "/proc/$pid/environ" ]; then tr '\0' '\n' < "/proc/$pid/environ" | sed -n "s/^$1=//p" | head -n 1
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
    config=$(env $(tr '\0' '\n' < "/proc/$pid/environ" | grep -E '^OPENCLAW_(CONFIG_PATH|STATE_DIR|HOME|PROFILE)=' | tr '\n' ' ') openclaw config file 2>/dev/null | tail -n 1)
  else
    config=$(openclaw config file 2>/dev/null | tail -n 1)
  fi
fi
echo "config=$config"
if [ -n "$config" ]; then
  echo "config_kind=$(config_kind "$config")"
  [ -f "$config" ] && echo "config_exists=1" || echo "config_exists=0"
  rec=$(record_dir "$state_dir" "$config")
  [ -f "$rec/orig" ] || [ -f "$rec/absent" ] && echo "backup=1" || echo "backup=0"
else
  echo "config_exists=0"
  echo "backup=0"
fi

# Preconditions plan checks: root or passwordless sudo (Tailscale needs root; sudo -n never prompts), curl.
if [ "$(id -u)" = 0 ]; then echo "privilege=root"
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then echo "privilege=sudo"
else echo "privilege=none"; fi
echo "curl=$(command -v curl || true)"

# What peer-provision last wrote to this config, when it differs now: up tells drift of its own keys apart
# from someone else's edit (which down must keep).
section applied
[ -n "$config" ] && [ -f "$rec/applied" ] && ! cmp -s "$config" "$rec/applied" 2>/dev/null && cat "$rec/applied"

section tailscale-status
command -v tailscale >/dev/null 2>&1 && tailscale status --json 2>/dev/null

section config
[ -n "$config" ] && [ -f "$config" ] && cat "$config"

section listening
if command -v ss >/dev/null 2>&1; then
  ss -ltnH "sport = :$PORT" 2>/dev/null | awk '{print $4}'
elif command -v netstat >/dev/null 2>&1; then
  netstat -an -p tcp 2>/dev/null | awk -v p=".$PORT" '$NF == "LISTEN" && substr($4, length($4) - length(p) + 1) == p {print $4}'
fi

# Every config peer-provision patched (one record per path), for down: its flags, what it holds now, the original.
if [ "${WANT_BACKUP:-0}" = 1 ]; then
  for rec in "$state_dir"/configs/*; do
    [ -f "$rec/path" ] || continue
    id=${rec##*/}
    path=$(cat "$rec/path")
    section "record $id"
    echo "path=$path"
    echo "kind=$(config_kind "$path")"
    [ -f "$rec/absent" ] && echo "absent=1"
    [ -f "$rec/edited" ] && echo "edited=1"
    [ -f "$rec/applied" ] && cmp -s "$path" "$rec/applied" 2>/dev/null && echo "applied_same=1"
    [ -f "$rec/orig" ] && cmp -s "$path" "$rec/orig" 2>/dev/null && echo "orig_same=1"
    section "record-current $id"
    [ -f "$path" ] && cat "$path"
    section "record-orig $id"
    [ -f "$rec/orig" ] && cat "$rec/orig"
  done
fi

section peer-files
[ -f "$state_dir/peer-files.sha256" ] && cat "$state_dir/peer-files.sha256"
section end
