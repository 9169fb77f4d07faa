# join.sh: join the tailnet with a single-use auth key.
# @var AUTH_KEY secret: reaches this machine on ssh's stdin, goes into a 0600 file, never argv
# @var HOSTNAME_WANTED: the node's Tailscale hostname
# @var ADVERTISE_TAGS: comma-separated tags to request with --advertise-tags, e.g. tag:peer-lab,tag:peer-lab--alpha;
#   empty: the key's own tags apply (a tagged auth key; headscale refuses the flag with any pre-auth key)
# @var LOGIN_SERVER: the control server to join (--login-server), e.g. a headscale; empty: Tailscale's own (or the one
#   the machine's device policy names)
# @var FORCE_REAUTH: 1: takeOver, the node is logged in elsewhere or reached over Tailscale; or a re-key, the
#   node's key is near expiry or expired: re-authenticate with the new key, and let the join finish even if it
#   cuts this connection (--accept-risk=lose-ssh: the real CLI refuses a re-authentication over Tailscale without it)
# Result: changed; status_b64: `tailscale status --json` after the join (the caller checks tags and address); kept:
#   the flags of settings made on this machine that were given back to `tailscale up` (empty: none to keep).
set -eu
as_root true || fail "sudo asks for a password: joining the tailnet needs root or passwordless sudo (sudo -n)"
key_file=$(umask 077 && mktemp "${TMPDIR:-/tmp}/peer-provision-key.XXXXXX")
on_exit 'rm -f "$key_file"'
printf '%s' "$AUTH_KEY" > "$key_file" || fail "cannot write the auth key file (disk full?)"
# The node's identity is ours to set: the key, the control server, the tags, the hostname. Every other setting a
# person made here (`tailscale set --ssh`, routes, an exit node, DNS, ...) is theirs and is kept.
OUR_FLAGS=' auth-key force-reauth accept-risk hostname advertise-tags login-server timeout reset '

# ts_up ARGS...: `tailscale up ARGS`, keeping this machine's own settings. Tried first without --reset: the CLI then
# refuses to revert any setting and names each with its current value ("requires mentioning all non-default
# flags"). Those that are not ours are given back on a second try with --reset, so that ours are exactly what ARGS
# say, not what an earlier join left (tailscale issue #5597). The kept flags go to $kept_file. A value the CLI had to
# quote is not guessed at: refused, with the CLI's own words.
ts_up() {
  if try_up "$@"; then printf '%s\n' "$out" >&2; return 0; fi
  # (the CLI wraps its message after "all")
  case $out in *'requires mentioning all'*) ;; *) printf '%s\n' "$out" >&2; health >&2; return 1 ;; esac
  line=$(printf '%s\n' "$out" | sed -n 's/^[[:space:]]*tailscale up //p' | head -n 1)
  case $line in *[\'\"\\]*)
    printf '%s\n%s\n' "$out" "settings made on this machine have values peer-provision does not take apart; run the command above with the new key, or reset them (tailscale up --reset), then run again" >&2
    return 1 ;;
  esac
  keep=''
  set -f # the words are flags: no globbing, here and when they are passed on
  for w in $line; do
    name=${w#--}; name=${name%%=*}
    case $OUR_FLAGS in *" $name "*) continue ;; esac
    keep="$keep $w"
  done
  printf '%s' "${keep# }" > "$kept_file"
  # shellcheck disable=SC2086 # one flag a word, checked above
  try_up --reset "$@" $keep && return 0
  printf '%s\n' "$out" >&2; health >&2; return 1
}

# try_up ARGS...: `tailscale up ARGS`, its words in $out. tailscaled retries a refused login (an expired or used key)
# with backoff and reports each retry's error on its IPN bus, and an `up` that starts in between can read that report
# as its own, "backend error: authkey expired", while its new key logs in (tailscale 1.102.5
# control/controlclient/auto.go authRoutine, cmd/tailscale/cli/up.go; seen in the lab). A node that was not running
# before and is running within 5 s has joined with the new key. A running node is never judged so (a re-key).
try_up() {
  out=$(as_root tailscale up "$@" 2>&1) && return 0
  case $out in *'backend error:'*) ;; *) return 1 ;; esac
  [ "$was_running" = 0 ] || return 1
  i=0
  while [ $i -lt 5 ]; do
    sleep 1
    if running; then
      out="$out
(an earlier login's error, reported while the new key logged in: the node is running)"
      return 0
    fi
    i=$((i + 1))
  done
  return 1
}
running() { tailscale status --json 2>/dev/null | grep -q '"BackendState": *"Running"'; }

# health: after a failed `up`, what tailscaled itself says is wrong (`tailscale status --json` Health): the CLI's
# "timeout waiting for Tailscale service to enter a Running state" alone does not say that the control server
# refused the connection or could not be resolved.
health() {
  tailscale status --json 2>/dev/null | sed -n '/^  "Health": \[/,/^  \]/s/^    "\(.*\)",\{0,1\}$/tailscaled: \1/p' \
    | sed 's/\\"/"/g' | head -n 3
}

kept_file=$(umask 077 && mktemp "${TMPDIR:-/tmp}/peer-provision-kept.XXXXXX")
was_running=0
if running; then was_running=1; fi
if [ "$FORCE_REAUTH" = 1 ]; then
  # A logged-in node ignores a new key without --force-reauth. The join runs apart from this connection
  # (a background job that ignores the hangup, with its own key-file cleanup), so a connection it cuts cannot leave
  # it half done.
  trap - EXIT
  result=$(umask 077 && mktemp "${TMPDIR:-/tmp}/peer-provision-join.XXXXXX")
  (
    trap '' HUP
    ts_up --force-reauth --accept-risk=lose-ssh --auth-key="file:$key_file" --hostname="$HOSTNAME_WANTED" \
      ${ADVERTISE_TAGS:+"--advertise-tags=$ADVERTISE_TAGS"} ${LOGIN_SERVER:+"--login-server=$LOGIN_SERVER"} --timeout=60s > "$result" 2>&1
    echo "rc=$?" >> "$result"
    rm -f "$key_file"
  ) </dev/null >/dev/null 2>&1 &
  wait $! || true
  rc=$(sed -n 's/^rc=//p' "$result")
  [ "$rc" = 0 ] || { grep -v '^rc=' "$result" >&2; rm -f "$result" "$kept_file"; exit 1; }
  rm -f "$result"
else
  ts_up --auth-key="file:$key_file" --hostname="$HOSTNAME_WANTED" ${ADVERTISE_TAGS:+"--advertise-tags=$ADVERTISE_TAGS"} \
    ${LOGIN_SERVER:+"--login-server=$LOGIN_SERVER"} --timeout=60s || { rm -f "$kept_file"; exit 1; }
  rm -f "$key_file"
fi
kept=$(cat "$kept_file"); rm -f "$kept_file"
result true '' status_b64 "$(tailscale status --json | b64)" kept "$kept"
