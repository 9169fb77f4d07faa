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
  printf ' '; head -c 2000 /tmp/peer-provision-verify.$$ 2>/dev/null | tr '\n' ' '; rm -f /tmp/peer-provision-verify.$$
}
report() { printf '%s %s %s %s\n' "$1" "$2" "$3" "$4"; }
printf '%s\n' "$PEERS" | while read -r name ip port token_file; do
  [ -n "$name" ] || continue
  base="http://$ip:$port"
  out=$(http GET "$base/health" - '')
  case "$out" in 200*) report "$name" health ok "$base/health";; *) report "$name" health fail "$out"; continue;; esac
  out=$(http POST "$base/tools/invoke" "$token_file" '{"tool":"sessions_list","args":{}}')
  case "$out" in 200*) report "$name" token-accepted ok "sessions_list 200";; *) report "$name" token-accepted fail "$out";; esac
  out=$(http POST "$base/tools/invoke" - '{"tool":"sessions_list","args":{}}')
  case "$out" in 401*) report "$name" token-enforced ok "no token: 401";; *) report "$name" token-enforced fail "no token: $out";; esac
  [ "$SEND_MESSAGE" = 1 ] || continue
  message="peer-provision verify $NONCE from $FROM"
  out=$(http POST "$base/tools/invoke" "$token_file" "{\"tool\":\"sessions_send\",\"args\":{\"sessionKey\":\"agent:main:main\",\"message\":\"$message\",\"timeoutSeconds\":0}}")
  case "$out" in 200*) ;; *) report "$name" message fail "sessions_send: $out"; continue;; esac
  found=fail; i=0
  while [ $i -lt 20 ]; do
    out=$(http POST "$base/tools/invoke" "$token_file" '{"tool":"sessions_history","args":{"sessionKey":"agent:main:main","limit":50}}')
    case "$out" in 200*"$NONCE"*) found=ok; break;; esac
    i=$((i + 1)); sleep 0.5
  done
  report "$name" message "$found" "sessions_send then sessions_history: ${found}"
done
