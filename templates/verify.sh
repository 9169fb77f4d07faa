# verify.sh: run on one machine, check each of its peers over the tailnet as an agent would reach them,
# all peers at once. The token is read from the
# peer's token file and handed to curl as a header line on stdin (-H @-): never in argv, and never as curl
# configuration (a -K config line would let a token holding a quote and a newline add `output = ...`).
# A token file holding anything but a token (the rule of src/peer-yaml/token-rule.ts) is not sent at all.
# @var PEERS: lines "NAME IP PORT TOKEN_FILE"
# @var NONCE: a random word the test message carries, to find it in the peer's history
# @var SEND_MESSAGE: 1: also deliver and read back a message
# @var FROM: this machine's name, in the test message
# Result: unchanged; per check "PEER.CHECK": ok or fail, and "PEER.CHECK.detail": what was answered.
set -u
work=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/peer-provision-verify.XXXXXX") \
  || fail "cannot create a temporary folder in ${TMPDIR:-/tmp} (disk full or not writable): nothing was checked"
on_exit 'rm -rf "$work"'

http() { # METHOD URL TOKEN_FILE|- BODY -> prints "STATUS BODY" (the whole body: a session's history is long)
  method=$1 url=$2 token_file=$3 body=$4
  token=
  if [ "$token_file" != - ]; then
    token=$(cat "$token_file" 2>/dev/null) || { printf 'BAD cannot read the token file %s' "$token_file"; return; }
    case "$token" in
      *[!A-Za-z0-9._~+/=-]*|'') printf 'BAD the token file %s holds characters a token may not have: not sent' "$token_file"; return ;;
    esac
    [ ${#token} -ge 24 ] && [ ${#token} -le 512 ] || { printf 'BAD the token in %s is not 24-512 characters: not sent' "$token_file"; return; }
  fi
  answer=$(mktemp "$work/answer.XXXXXX")
  { [ -n "$token" ] && printf 'Authorization: Bearer %s\n' "$token"; } |
    curl -sS --max-time 15 -H @- -X "$method" -H 'Content-Type: application/json' ${body:+--data "$body"} \
      -o "$answer" -w '%{http_code}' "$url" 2>&1
  printf ' '; tr '\n' ' ' < "$answer"; rm -f "$answer"
}
# A gateway that has just restarted answers 5xx for a few seconds while its session store opens: retry
# those (and connection errors) for up to ~30 s; a 2xx or 4xx is an answer.
http_settled() {
  tries=0
  while :; do
    out=$(http "$@")
    case "$out" in 000*|5*) ;; *) printf '%s' "$out"; return;; esac
    tries=$((tries + 1)); [ $tries -ge 60 ] && { printf '%s' "$out"; return; }
    sleep 0.5
  done
}
# report PEER CHECK ok|fail DETAIL: one line (collected into the result at the end), with the first 300
# characters of what was answered.
report() { printf '%s %s %s %s\n' "$1" "$2" "$3" "$(printf '%s' "$4" | tr '\n' ' ' | cut -c1-300)"; }

check_peer() { # NAME IP PORT TOKEN_FILE
  name=$1 base="http://$2:$3" token_file=$4
  out=$(http GET "$base/health" - '')
  case "$out" in 200*) report "$name" health ok "$base/health";; *) report "$name" health fail "$out"; return;; esac
  out=$(http_settled POST "$base/tools/invoke" "$token_file" '{"tool":"sessions_list","args":{}}')
  case "$out" in 200*) report "$name" token-accepted ok "sessions_list 200";; *) report "$name" token-accepted fail "$out";; esac
  out=$(http POST "$base/tools/invoke" - '{"tool":"sessions_list","args":{}}')
  case "$out" in 401*) report "$name" token-enforced ok "no token: 401";; *) report "$name" token-enforced fail "no token: $out";; esac
  [ "$SEND_MESSAGE" = 1 ] || return
  # The nonce comes first: a session whose agent has not taken its inputs in lists them as pendingInputs, each cut
  # to a share of a 4 KiB budget (OpenClaw's SESSIONS_HISTORY_PENDING_MAX_BYTES), so with a dozen waiting a nonce
  # after 22 characters of text was cut off and the check failed on a gateway that had simply been verified often.
  message="$NONCE peer-provision verify from $FROM"
  out=$(http_settled POST "$base/tools/invoke" "$token_file" "{\"tool\":\"sessions_send\",\"args\":{\"sessionKey\":\"agent:main:main\",\"message\":\"$message\",\"timeoutSeconds\":0}}")
  case "$out" in 200*) ;; *) report "$name" message fail "sessions_send: $out"; return;; esac
  # the message shows in the peer's history once its session has taken it in (seconds on a busy machine)
  deadline=$(( $(date +%s) + 60 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    out=$(http_settled POST "$base/tools/invoke" "$token_file" '{"tool":"sessions_history","args":{"sessionKey":"agent:main:main","limit":50}}')
    case "$out" in 200*"$NONCE"*) report "$name" message ok "sessions_send then sessions_history: ok"; return;; esac
    sleep 0.3
  done
  report "$name" message fail "sessions_send accepted, but the message was not in sessions_history within 60 s"
}

i=0
printf '%s\n' "$PEERS" > "$work/peers"
while read -r name ip port token_file; do
  [ -n "$name" ] || continue
  i=$((i + 1))
  check_peer "$name" "$ip" "$port" "$token_file" > "$work/result.$i" &
done < "$work/peers"
wait
j=1
while [ $j -le $i ]; do
  while read -r name check status detail; do
    val "$name.$check" "$status"
    val "$name.$check.detail" "$detail"
  done < "$work/result.$j"
  j=$((j + 1))
done
result false ''
