# send.sh: run on the sending machine: its own gateway sends PEER one message on OpenClaw's A2A channel, through the
# gateway's `send` method, as `openclaw gateway call send` (verify's message check) and an agent's message tool do.
# The channel's url and outboundToken for PEER are the gateway's own (its config): no token passes through here.
# The message is never a word of a command line nor a shell-quoted string: it comes base64 in MESSAGE_B64, goes to
# the gateway's own node (lib.sh openclaw_node) on its stdin, which decodes it and hands it to OpenClaw's own gateway client
# (openclaw/plugin-sdk/gateway-runtime's callGatewayFromCli, what `openclaw gateway call` runs; that CLI would need
# the message in argv, as --params).
# @var PEER: the peer's machine name (channels.a2a.peers.<PEER> in this machine's config)
# @var MESSAGE_B64: the message, base64 (only A-Z a-z 0-9 + / =)
# @var CONFIG: this machine's OpenClaw config (the gateway client reads its gateway's address and token there)
# @var KEY: the idempotency key of this send (a retry after a refusal adds -1, -2)
# Result: unchanged; "message_id" when the gateway accepted the message, else "answer": what it answered.
set -u
find_openclaw
gw_pid=$(gateway_pid)
oc_node=$(openclaw_node "$gw_pid")
[ -n "$oc_node" ] || fail "no node here: neither the gateway's (it is not running) nor one on PATH: nothing was sent"
oc_pkg=$(openclaw_package "$gw_pid")
[ -n "$oc_pkg" ] || fail "the OpenClaw package (openclaw.mjs) is not found here: nothing was sent"
[ -f "$oc_pkg/dist/plugin-sdk/gateway-runtime.js" ] \
  || fail "this OpenClaw ($oc_pkg) has no plugin-sdk/gateway-runtime (its gateway client): upgrade OpenClaw; nothing was sent"
work=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/peer-provision-send.XXXXXX") \
  || fail "cannot create a temporary folder in ${TMPDIR:-/tmp} (disk full or not writable): nothing was sent"
on_exit 'rm -rf "$work"'
# One line out: "id MESSAGE_ID" or "answer TEXT". A refusal because another OpenClaw process holds the state
# database's lock a moment is asked again under a new key (the gateway keeps a failed result under its key for 5
# minutes); a timeout is not (the gateway may have sent it).
cat > "$work/send.mjs" <<'SEND'
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [pkg, to, key] = process.argv.slice(2);
const message = Buffer.from(readFileSync(0, 'utf8'), 'base64').toString('utf8');
const line = (text) => process.stdout.write(String(text).replace(/\s+/g, ' ').trim() + '\n');
const { callGatewayFromCli } = await import(pathToFileURL(`${pkg}/dist/plugin-sdk/gateway-runtime.js`).href);
for (let attempt = 0; ; attempt++) {
  try {
    const params = { channel: 'a2a', to, message, idempotencyKey: attempt ? `${key}-${attempt}` : key };
    const result = await callGatewayFromCli('send', { timeout: '30000', json: true }, params, { sharedStateMode: 'read-only' });
    if (typeof result?.messageId === 'string' && result.messageId) line(`id ${result.messageId}`);
    else line(`answer ${JSON.stringify(result)}`);
    break;
  } catch (error) {
    const text = `${error?.gatewayCode ? `${error.gatewayCode}: ` : ''}${error?.message ?? error}`;
    if (attempt < 3 && /ContentionError/.test(text)) {
      await new Promise((done) => setTimeout(done, 2000));
      continue;
    }
    line(`answer ${text}`);
    break;
  }
}
process.exit(0);
SEND
if [ -n "$CONFIG" ]; then
  out=$(printf '%s' "$MESSAGE_B64" | OPENCLAW_CONFIG_PATH=$CONFIG "$oc_node" "$work/send.mjs" "$oc_pkg" "$PEER" "$KEY" 2>"$work/err" | grep -E '^(id|answer) ' | tail -n 1)
else
  out=$(printf '%s' "$MESSAGE_B64" | "$oc_node" "$work/send.mjs" "$oc_pkg" "$PEER" "$KEY" 2>"$work/err" | grep -E '^(id|answer) ' | tail -n 1)
fi
case "$out" in
  'id '*) val message_id "${out#id }" ;;
  'answer '*) val answer "$(printf '%s' "${out#answer }" | cut -c1-2000)" ;;
  *) val answer "OpenClaw's gateway client gave no answer: $(tail -n 5 "$work/err" | tr '\n' ' ' | cut -c1-1000)" ;;
esac
result false ''
