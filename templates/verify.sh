# verify.sh: run on one machine, check each of its peers over the tailnet as an agent would reach them.
# Prints one line per check: "PEER CHECK ok|fail DETAIL". The token is read from the peer's token file
# and handed to curl on stdin (-K -), never in argv.
# Vars: PEERS (lines "NAME IP PORT TOKEN_FILE"), NONCE, SEND_MESSAGE (1: also deliver and read back a message), FROM.
set -u
http() { # METHOD URL TOKEN_FILE|- BODY -> prints "STATUS BODY"
  method=$1 url=$2 token_file=$3 body=$4
  { [ "$token_file" != - ] && printf 'header = "Authorization: Bearer %s"\n' "$(cat "$token_file")"; } |
    curl -sS --max-time 15 -K - -X "$method" -H 'Content-Type: application/json' ${body:+--data "$body"} \
      -o /tmp/peer-provision-verify.$$ -w '%{http_code}' "$url" 2>&1
  printf ' '; tr '\n' ' ' < /tmp/peer-provision-verify.$$ 2>/dev/null; rm -f /tmp/peer-provision-verify.$$
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
# The whole answer is searched (a session's history is long); a report shows its first 300 characters.
report() { printf '%s %s %s %s\n' "$1" "$2" "$3" "$(printf '%s' "$4" | cut -c1-300)"; }
printf '%s\n' "$PEERS" | while read -r name ip port token_file; do
  [ -n "$name" ] || continue
  base="http://$ip:$port"
  out=$(http GET "$base/health" - '')
  case "$out" in 200*) report "$name" health ok "$base/health";; *) report "$name" health fail "$out"; continue;; esac
  out=$(http_settled POST "$base/tools/invoke" "$token_file" '{"tool":"sessions_list","args":{}}')
  case "$out" in 200*) report "$name" token-accepted ok "sessions_list 200";; *) report "$name" token-accepted fail "$out";; esac
  out=$(http POST "$base/tools/invoke" - '{"tool":"sessions_list","args":{}}')
  case "$out" in 401*) report "$name" token-enforced ok "no token: 401";; *) report "$name" token-enforced fail "no token: $out";; esac
  [ "$SEND_MESSAGE" = 1 ] || continue
  message="peer-provision verify $NONCE from $FROM"
  out=$(http_settled POST "$base/tools/invoke" "$token_file" "{\"tool\":\"sessions_send\",\"args\":{\"sessionKey\":\"agent:main:main\",\"message\":\"$message\",\"timeoutSeconds\":0}}")
  case "$out" in 200*) ;; *) report "$name" message fail "sessions_send: $out"; continue;; esac
  found=fail; i=0
  while [ $i -lt 60 ]; do
    out=$(http_settled POST "$base/tools/invoke" "$token_file" '{"tool":"sessions_history","args":{"sessionKey":"agent:main:main","limit":50}}')
    case "$out" in 200*"$NONCE"*) found=ok; break;; esac
    i=$((i + 1)); sleep 0.5
  done
  report "$name" message "$found" "sessions_send then sessions_history: ${found}"
done
