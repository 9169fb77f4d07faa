# lib.sh: sent ahead of every template (after its variables). Functions only: it runs nothing by itself.
# A template declares its variables in its header, one `# @var NAME[ secret]: why` line each (checked by
# src/transport/script.ts on every run and by test/templates/vars.test.ts), and ends with `result`.

# Tailscale needs root: as root run it, otherwise through passwordless sudo (never prompt).
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# find_openclaw: put OpenClaw's folder on PATH when the shell ssh gave us does not have it. `ssh host sh -s` reads no
# ~/.profile or ~/.bashrc, so the folders nvm, Homebrew, volta, pnpm, bun and npm's user prefix add there are missing,
# and `openclaw` (with the node it runs on, which those installers put beside it) seems not installed. The first
# of these folders that holds an `openclaw` is used.
find_openclaw() {
  command -v openclaw >/dev/null 2>&1 && return 0
  for fo_dir in "$HOME/.local/bin" "$HOME/.npm-global/bin" "$HOME/.volta/bin" "$HOME/.bun/bin" \
    "$HOME/.local/share/pnpm" "$HOME/Library/pnpm" /opt/homebrew/bin /usr/local/bin "$HOME"/.nvm/versions/node/*/bin; do
    if [ -x "$fo_dir/openclaw" ]; then
      PATH="$fo_dir:$PATH"
      export PATH
      return 0
    fi
  done
  return 0
}

# openclaw_package [PID]: the installed OpenClaw's package folder (where openclaw.mjs is), or nothing when not found:
# the running gateway's (PID's) command line names it, else the `openclaw` command is (a link to) it or a wrapper
# script that execs it.
openclaw_package() {
  op_entry=
  [ -n "${1:-}" ] && [ -r "/proc/$1/cmdline" ] && op_entry=$(tr '\0' '\n' < "/proc/$1/cmdline" | grep -m1 '/openclaw\.mjs$' || true)
  if [ -z "$op_entry" ] && op_cmd=$(command -v openclaw 2>/dev/null); then
    op_real=$(real_path "$op_cmd" 2>/dev/null || printf '%s' "$op_cmd")
    case "$op_real" in
      */openclaw.mjs) op_entry=$op_real ;;
      *) [ "$(head -c 2 "$op_real" 2>/dev/null)" = '#!' ] && op_entry=$(grep -o '/[^ "'"'"']*/openclaw\.mjs' "$op_real" 2>/dev/null | head -n 1) ;;
    esac
  fi
  if [ -n "$op_entry" ] && [ -f "${op_entry%/*}/package.json" ]; then printf '%s' "${op_entry%/*}"; fi
  return 0
}

# openclaw_node [PID]: the node that runs OpenClaw: the running gateway's (PID's) own binary where /proc shows it,
# else `node` on PATH. The gateway may run on another node than PATH's (a version manager's, a unit's ExecStart, the
# lab's Node 24 beside the host's Node 20), and OpenClaw's modules need the one it runs on.
openclaw_node() {
  on_exe=
  [ -n "${1:-}" ] && on_exe=$(readlink "/proc/$1/exe" 2>/dev/null || true)
  case "$on_exe" in
    /*' (deleted)' | '') command -v node 2>/dev/null || true ;;
    *) [ -x "$on_exe" ] && printf '%s\n' "$on_exe" || command -v node 2>/dev/null || true ;;
  esac
}

# fail MESSAGE: say why on stderr and stop the script.
fail() { printf '%s\n' "$*" >&2; exit 1; }

# Temp files must go however the script ends: an interrupted ssh (SIGHUP, SIGPIPE) or a Ctrl-C (INT, TERM)
# turns into an exit, and the EXIT trap cleans up. dash runs EXIT traps on `exit`, not on a fatal signal.
on_exit() {
  trap "$1" EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 141' PIPE
  trap 'exit 143' TERM
}

# The running gateway's pid, of this user only: OpenClaw sets its process title to openclaw-gateway (comm is
# cut to 15 chars) when run as `openclaw gateway run`. Another user's gateway is not the one this config belongs
# to. The unit `openclaw gateway install` writes runs `node .../dist/index.js gateway`, whose title stays node's:
# then the MainPID of the user unit (or of a system unit) openclaw-gateway.service.
gateway_pid() {
  gp_uid=$(id -u)
  pgrep -o -u "$gp_uid" -x openclaw-gatewa 2>/dev/null || pgrep -o -u "$gp_uid" -f '^openclaw-gateway' 2>/dev/null \
    || unit_pid --user || unit_pid || true
}
unit_pid() {
  command -v systemctl >/dev/null 2>&1 || return 1
  up_pid=$(XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" systemctl "$@" show -p MainPID --value openclaw-gateway.service 2>/dev/null)
  [ -n "$up_pid" ] && [ "$up_pid" != 0 ] && echo "$up_pid"
}

# record_dir STATE_DIR CONFIG: where the backup of one config path lives (one per path: a configPath that
# changes between two ups keeps both originals).
record_dir() {
  rd_id=$(printf '%s' "$2" | { sha256sum 2>/dev/null || shasum -a 256; } | cut -c1-16)
  printf '%s/configs/%s' "$1" "$rd_id"
}

# config_kind PATH: file, absent, or why it cannot be a config (directory, special, dangling, relative).
# A symlink to a regular file is a file (the link's target is patched, the link stays).
config_kind() {
  case "$1" in /*) ;; *) echo relative; return ;; esac
  if [ -L "$1" ] && [ ! -e "$1" ]; then echo dangling
  elif [ ! -e "$1" ]; then echo absent
  elif [ -d "$1" ]; then echo directory
  elif [ -f "$1" ]; then echo file
  else echo special; fi
}

# require_config_file PATH: refuse anything that is not a regular file or nothing yet, before writing.
require_config_file() {
  case "$(config_kind "$1")" in
    file|absent) ;;
    directory) fail "$1 is a directory, not an OpenClaw config file: set gateway.configPath to the file (e.g. $1/openclaw.json)" ;;
    dangling) fail "$1 is a symlink to nothing: fix the link or set gateway.configPath to the real file" ;;
    relative) fail "$1 is not an absolute path: set gateway.configPath to an absolute path or ~/..." ;;
    *) fail "$1 is not a regular file (a device, FIFO or socket): set gateway.configPath to the OpenClaw config file" ;;
  esac
}

# real_path PATH: the file a symlink points to (the path itself otherwise), so a write replaces the target
# and leaves the link as it is.
real_path() {
  if [ -L "$1" ]; then readlink -f "$1" 2>/dev/null || realpath "$1"; else printf '%s' "$1"; fi
}

# copy_atomic FROM TO: TO is FROM's bytes, 0600, or unchanged (a full disk or Ctrl-C never leaves half a file).
# The copy goes to a fresh temp file beside TO first (mktemp: never a name someone else made, say a folder).
copy_atomic() {
  ca_tmp=$(umask 077 && mktemp "$2.XXXXXX") || fail "cannot write $2 (disk full or not writable)"
  cat "$1" > "$ca_tmp" || { rm -f "$ca_tmp"; fail "cannot write $2 (disk full or not writable)"; }
  mv -f "$ca_tmp" "$2" || { rm -f "$ca_tmp"; fail "cannot write $2"; }
}

# patch_config CONFIG PATCH WHAT [KEEP]: OpenClaw's own `openclaw config patch` (which validates) applies PATCH to
# a temporary copy of CONFIG ({} when there is none); only a valid result is renamed over CONFIG (over its
# target when CONFIG is a symlink), so a failure, a full disk or Ctrl-C leaves CONFIG as it was. KEEP, when
# given, receives a copy of the result first (peer-provision's record of what it wrote). Exits 1 on failure.
patch_config() {
  require_config_file "$1"
  pc_target=$(real_path "$1")
  pc_dir=$(dirname "$pc_target")
  mkdir -p "$pc_dir" || fail "cannot create $pc_dir"
  pc_work=$(umask 077 && mktemp -d "$pc_dir/.peer-provision.XXXXXX") || fail "cannot write in $pc_dir (disk full or not writable)"
  on_exit 'rm -rf "$pc_work"'
  if [ -f "$pc_target" ]; then
    cp -p "$pc_target" "$pc_work/openclaw.json" || fail "cannot copy $1 (disk full?); it is untouched"
  else
    (umask 077 && echo '{}' > "$pc_work/openclaw.json") || fail "cannot write in $pc_dir (disk full?)"
  fi
  if ! printf '%s' "$2" | OPENCLAW_CONFIG_PATH="$pc_work/openclaw.json" openclaw config patch --stdin > "$pc_work/out" 2>&1; then
    echo "OpenClaw rejected the $3 config ($1 is untouched):" >&2
    cat "$pc_work/out" >&2
    exit 1
  fi
  chmod 600 "$pc_work/openclaw.json" || fail "cannot chmod the patched copy of $1; it is untouched"
  if [ -n "${4:-}" ]; then copy_atomic "$pc_work/openclaw.json" "$4"; fi
  mv -f "$pc_work/openclaw.json" "$pc_target" || fail "cannot replace $1; it is untouched"
}

# The result: every template that succeeds ends by printing ONE JSON line on stdout,
#   {"changed":true|false,"values":{"KEY":"VALUE",...},"message":"..."}
# which src/transport/result.ts parses (whatever a script's commands print comes before it; errors go to
# stderr with a non-zero exit, and then there is no result). Values are strings; file contents go as base64 (b64).

# val KEY VALUE: one value of the result line, escaped now (it may hold anything) and kept until `result`.
val() {
  case "$1" in ''|*[!A-Za-z0-9_.:/-]*) fail "result key '$1' is not [A-Za-z0-9_.:/-]+ (a template bug)" ;; esac
  json_escape "$2"
  rs_values="${rs_values:-}${rs_values:+,}\"$1\":\"$je_out\""
}

# result CHANGED MESSAGE [KEY VALUE]...: print the result line, with the values given to val before and these.
result() {
  case "$1" in true|false) ;; *) fail "result CHANGED is true or false, not '$1' (a template bug)" ;; esac
  rs_changed=$1 rs_message=${2:-}
  shift; [ $# -gt 0 ] && shift
  while [ $# -ge 2 ]; do val "$1" "$2"; shift 2; done
  [ $# -eq 0 ] || fail "result: key '$1' has no value (a template bug)"
  json_escape "$rs_message"
  printf '{"changed":%s,"values":{%s},"message":"%s"}\n' "$rs_changed" "${rs_values:-}" "$je_out"
}

# json_escape VALUE: sets je_out to VALUE as the inside of a JSON string. It sets a variable rather than
# printing: a $(...) around it would fork once per value. Printable ASCII without " or \ (nearly every value:
# paths, names, pids, base64) is taken as it is, with no process; anything else goes through one awk, which
# escapes \ and ", writes tab, newline and CR as \t \n \r and any other control character as \u00XX, and
# passes bytes from 0x80 on unchanged (UTF-8 stays UTF-8). The '\n' after the value keeps a trailing newline.
json_escape() {
  case "$1" in
    *[![:print:]]*|*[\"\\]*)
      je_out=$(printf '%s\n' "$1" | awk '
        BEGIN { re = "[\\\\\""
                for (i = 1; i < 32; i++) { c = sprintf("%c", i); e[c] = sprintf("\\u%04x", i); if (i != 10) re = re c }
                re = re "]"; e["\t"] = "\\t"; e["\r"] = "\\r"; e["\""] = "\\\""; e["\\"] = "\\\\" }
        NR > 1 { printf "\\n" }
        $0 !~ re { printf "%s", $0; next }
        { n = length($0); from = 1  # printed as it goes: building a string char by char is quadratic in awk
          for (i = 1; i <= n; i++) { c = substr($0, i, 1); if (c in e) { printf "%s%s", substr($0, from, i - from), e[c]; from = i + 1 } }
          printf "%s", substr($0, from) }') || fail "cannot escape a result value (is awk installed?)" ;;
    *) je_out=$1 ;;
  esac
}

# b64 < FILE: the bytes as one line of base64 (GNU base64 wraps at 76 columns, macOS's does not).
b64() { base64 | tr -d '\n'; }

# nft_path: where nft is (root's PATH has /usr/sbin; a user's ssh session may not); empty when not installed.
nft_path() { command -v nft 2>/dev/null || { [ -x /usr/sbin/nft ] && echo /usr/sbin/nft; } || true; }
