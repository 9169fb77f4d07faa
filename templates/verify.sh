# verify.sh: run on one machine, check each of its peers over the tailnet through OpenClaw's A2A channel, as
# this machine's gateway reaches them, all peers at once. Each peer's outbound token (what this machine presents
# to it) comes in PEERS and goes to curl as a header line on stdin (-H @-): never in argv, and never as curl
# configuration (a -K config line would let a token holding a quote and a newline add `output = ...`).
# Few refused probes on purpose: one without a token and one with a wrong token per peer.
# @var PEERS secret: lines "NAME IP PORT TOKEN"; TOKEN meets the token rule (src/peer-yaml/token-rule.ts: checked before)
# @var NONCE: a random word the test message carries
# @var SEND_MESSAGE: 1: also have this machine's gateway send each peer a message, then find it on the peer
# @var FROM: this machine's name, in the test message
# @var CONFIG: this machine's OpenClaw config (`openclaw gateway call` reads its gateway's address and token there)
# @var AUDIT: 1: also run `openclaw security audit --json` here (its report comes back as audit_b64)
# Result: unchanged; per check "PEER.CHECK": ok or fail, and "PEER.CHECK.detail": what was answered.
set -u
find_openclaw
work=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/peer-provision-verify.XXXXXX") \
  || fail "cannot create a temporary folder in ${TMPDIR:-/tmp} (disk full or not writable): nothing was checked"
on_exit 'rm -rf "$work"'

http() { # METHOD URL TOKEN|- BODY -> prints "STATUS BODY"; nothing answered: "000 curl's error"
  method=$1 url=$2 token=$3 body=$4
  answer=$(mktemp "$work/answer.XXXXXX")
  status=$({ [ "$token" != - ] && printf 'Authorization: Bearer %s\n' "$token"; } |
    curl -sS --connect-timeout 5 --max-time 15 -H @- -X "$method" -H 'Content-Type: application/json' ${body:+--data "$body"} \
      -o "$answer" -w '%{http_code}' "$url" 2>"$answer.err")
  # curl's own error (refused, timed out) comes after the status, so a caller matches "000" whatever curl said
  printf '%s ' "${status:-000}"; tr '\n' ' ' < "$answer"; tr '\n' ' ' < "$answer.err"; rm -f "$answer" "$answer.err"
}
# A gateway that has just restarted answers 5xx or nothing (refused, or no answer in time on a loaded machine) for
# a while; one that took a config change reloads its A2A channel a moment later (until then a new token is
# refused). Retry those, and answers that start with RETRY_PATTERN, for up to 45 s from the first try. FIRST is an
# answer already had (first_try's), or empty: a final one is taken as it is, with no request.
http_settled() { # FIRST RETRY_PATTERN METHOD URL TOKEN BODY
  out=$1 retry=$2; shift 2
  final "$out" "$retry" && { printf '%s' "$out"; return; }
  until_s=$(( $(date +%s) + 45 ))
  while :; do
    [ -n "$out" ] || out=$(http "$@")
    final "$out" "$retry" && { printf '%s' "$out"; return; }
    [ "$(date +%s)" -ge "$until_s" ] && { printf '%s' "$out"; return; }
    sleep 0.5
    out=
  done
}
final() { # ANSWER RETRY_PATTERN: is ANSWER one to keep (not nothing, not to be asked again)?
  case "$1" in ''|000*|5*|"$2"*) return 1 ;; esac
}
# first_try BASE TOKEN: the four requests of a peer's checks (the bodies check_peer made) in one curl, at once (-Z), where http starts a curl,
# a temporary file and a few pipes for each: a converged peer answers them all at the first try, so a converged up
# costs its machines one process here. Sets ans_card ans_none ans_wrong ans_accepted to "STATUS BODY", or to
# nothing where no answer came (a curl without -Z, before 7.66, answers none): http_settled asks those again.
first_try() {
  ft=$(mktemp -d "$work/first.XXXXXX")
  json='Content-Type: application/json' limits='--connect-timeout 5 --max-time 15'
  # shellcheck disable=SC2086 # $limits: two options, split on purpose
  printf 'Authorization: Bearer %s\n' "$2" | curl -sSZ 2>/dev/null \
    $limits -D "$ft/card.h" -o "$ft/card.b" "$1/.well-known/agent-card.json" --next \
    $limits -D "$ft/none.h" -o "$ft/none.b" -H "$json" --data "$body_none" "$1/a2a/v1" --next \
    $limits -D "$ft/wrong.h" -o "$ft/wrong.b" -H "$json" -H "Authorization: Bearer $WRONG_TOKEN" --data "$body_wrong" "$1/a2a/v1" --next \
    $limits -D "$ft/accepted.h" -o "$ft/accepted.b" -H "$json" -H @- --data "$body_accepted" "$1/a2a/v1"
  ans_card=$(answer_in "$ft/card") ans_none=$(answer_in "$ft/none") ans_wrong=$(answer_in "$ft/wrong")
  ans_accepted=$(answer_in "$ft/accepted")
  rm -rf "$ft"
}
CR=$(printf '\r')
answer_in() { # FILE_PREFIX -> "STATUS BODY" from FILE_PREFIX.h (the status line) and .b, read by the shell alone
  [ -s "$1.h" ] || return 0
  read -r _proto status _reason < "$1.h"
  printf '%s ' "${status%"$CR"}" # HTTP/2 and an empty reason phrase leave the CR on the code
  while IFS= read -r line || [ -n "$line" ]; do printf '%s ' "$line"; done < "$1.b"
}
# report PEER CHECK ok|fail DETAIL: one line (collected into the result at the end), first 300 characters.
# OpenClaw's CLI on this machine's own config (the one peer.yaml names, when it names one)
oc() { if [ -n "$CONFIG" ]; then OPENCLAW_CONFIG_PATH=$CONFIG openclaw "$@"; else openclaw "$@"; fi; }
report() { printf '%s %s %s %s\n' "$1" "$2" "$3" "$(printf '%s' "$4" | tr '\n' ' ' | cut -c1-300)"; }
get_task() { printf '{"jsonrpc":"2.0","id":"pp-verify","method":"GetTask","params":{"id":"%s"}}' "$1"; }
# the token of the wrong-token probe: not a secret, and no peer's (a peer's token meets the token rule)
WRONG_TOKEN="pp-wrong-$NONCE-$NONCE-$NONCE"

check_peer() { # NAME IP PORT TOKEN
  name=$1 base="http://$2:$3" token=$4
  body_none=$(get_task pp-verify-none) body_wrong=$(get_task pp-verify-wrong) body_accepted=$(get_task "pp-verify-$NONCE")
  first_try "$base" "$token"
  # 404 too: a gateway that has just started serves the card once its A2A channel has started
  out=$(http_settled "$ans_card" 404 GET "$base/.well-known/agent-card.json" - '')
  case "$out" in 200*'/a2a/v1'*) report "$name" agent-card ok "$base/.well-known/agent-card.json";; *) report "$name" agent-card fail "$out"; return;; esac
  # settled too: right after a config change the channel answers "503 plugin route is restarting; retry".
  # The accepted one needs no model: an unknown task is "not found" (-32001) for a peer whose token is accepted.
  none=$ans_none wrong=$ans_wrong out=$ans_accepted
  if ! { final "$none" 000 && final "$wrong" 000 && final "$out" 401; }; then
    # The three token probes at once (each settles on its own): a peer still settling costs one wait, not three.
    http_settled "$none" 000 POST "$base/a2a/v1" - "$body_none" > "$work/probe.$name.none" &
    http_settled "$wrong" 000 POST "$base/a2a/v1" "$WRONG_TOKEN" "$body_wrong" > "$work/probe.$name.wrong" &
    http_settled "$out" 401 POST "$base/a2a/v1" "$token" "$body_accepted" > "$work/probe.$name.accepted" &
    wait
    none=$(cat "$work/probe.$name.none") wrong=$(cat "$work/probe.$name.wrong") out=$(cat "$work/probe.$name.accepted")
    rm -f "$work/probe.$name".*
  fi
  case "$none/$wrong" in
    401*/401*) report "$name" token-enforced ok "no token: 401, a wrong token: 401" ;;
    *) report "$name" token-enforced fail "no token: $(printf '%s' "$none" | cut -c1-100); a wrong token: $(printf '%s' "$wrong" | cut -c1-100)" ;;
  esac
  case "$out" in 200*'-32001'*) report "$name" token-accepted ok "GetTask: task not found (-32001)";; *) report "$name" token-accepted fail "$out"; return;; esac
  [ "$SEND_MESSAGE" = 1 ] || return
  # Sent by this machine's own gateway (its `send` method): the channel's url and outboundToken for the peer are proved.
  # The same idempotency key while the CLI only gave up waiting (a send the gateway finished after that is then
  # answered, not repeated). A new key after the gateway itself answered an error: it keeps a failed result under
  # its key for 5 minutes and answers every retry with it, so one refusal would last the whole deadline
  # ("StateDatabaseCoordinatorContentionError: another OpenClaw process owns state-lifecycle": its state database's
  # write lock, held for a moment by another OpenClaw process on this machine, a CLI or its own maintenance).
  # 30 s a try (the CLI's default is 10 s; a gateway busy with a restart or an audit on a small machine takes longer).
  attempt=0
  deadline=$(( $(date +%s) + 75 ))
  while :; do
    params=$(printf '{"channel":"a2a","to":"%s","message":"%s peer-provision verify from %s","idempotencyKey":"pp-%s-%s-%s"}' "$name" "$NONCE" "$FROM" "$NONCE" "$name" "$attempt")
    sent=$(oc gateway call send --json --timeout 30000 --params "$params" </dev/null 2>&1)
    id=$(printf '%s' "$sent" | sed -n 's/^ *"messageId": *"\([A-Za-z0-9-]*\)".*/\1/p' | head -n 1)
    [ -n "$id" ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      # the CLI prints the gateway's answer as indented JSON: one line, from its error on
      why=$(printf '%s' "$sent" | tr '\n' ' ' | tr -s ' ')
      case "$why" in *'"error"'*) why="\"error\"${why#*\"error\"}" ;; esac
      report "$name" message fail "$FROM's gateway did not send: $why"; return
    fi
    case "$sent" in *'"error"'*) attempt=$((attempt + 1)) ;; esac
    sleep 2
  done
  out=$(http_settled '' 5 POST "$base/a2a/v1" "$token" "$(get_task "$id")")
  case "$out" in
    200*"\"id\":\"$id\""*) report "$name" message ok "sent by $FROM's gateway; $name holds the task $id" ;;
    *) report "$name" message fail "sent by $FROM's gateway as $id, but $name does not have it: $out" ;;
  esac
}

# the peers' lines go through a pipe (no file holds a token), each checked in the background
printf '%s\n' "$PEERS" | {
  while read -r name ip port token; do
    [ -n "$name" ] || continue
    check_peer "$name" "$ip" "$port" "$token" > "$work/result.$name" &
  done
  wait
}
# The audit only after the sends: an OpenClaw CLI process takes the state database's lifecycle lock, and a send
# through the gateway meanwhile is refused ("StateDatabaseCoordinatorContentionError: another OpenClaw process owns
# state-lifecycle", seen for over 75 s with the audit running beside it on a loaded machine).
if [ "$AUDIT" = 1 ]; then
  oc security audit --json </dev/null > "$work/audit" 2>/dev/null || true
fi
for f in "$work"/result.*; do
  [ -f "$f" ] || continue
  while read -r name check status detail; do
    val "$name.$check" "$status"
    val "$name.$check.detail" "$detail"
  done < "$f"
done
[ "$AUDIT" = 1 ] && val audit_b64 "$(b64 < "$work/audit" 2>/dev/null)"
result false ''
