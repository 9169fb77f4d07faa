// A stand-in `pulumi` executable for PATH: answers what the Automation SDK and the preflight ask (version, plugin ls
// and install, stack ls/rm), and logs each call's working directory, PULUMI_BACKEND_URL and arguments to
// $FAKE_PULUMI_LOG. The real CLI cannot be installed here (see the shared notes on Tailscale and Pulumi); `up`/`destroy` are not answered:
// tests of those go through the engine seam.
export const FAKE_PULUMI = `#!/bin/sh
[ -n "$FAKE_PULUMI_LOG" ] && printf '%s|%s|%s\\n' "$PWD" "$PULUMI_BACKEND_URL" "$*" >> "$FAKE_PULUMI_LOG"
case "$1 $2" in
  "version "*) echo "\${FAKE_PULUMI_VERSION:-v3.190.0}" ;;
  "plugin ls") echo "\${FAKE_PLUGINS:-[]}" ;;
  "plugin install") [ -n "$FAKE_PLUGIN_INSTALL_OK" ] || { echo "error: could not get plugin: dial tcp: lookup get.pulumi.com: no such host" >&2; exit 255; } ;;
  "stack ls") echo '[{"name":"lab","current":false}]' ;;
  "stack rm") ;;
  *) echo "fake pulumi: unexpected $*" >&2; exit 2 ;;
esac
`;

/**
 * A stand-in `pulumi` for which every command but `version` is a long operation that reacts to signals as the real
 * CLI does (its cancellation scope): the first SIGINT or SIGTERM cancels (the operation in flight still finishes,
 * then it fails), the next one terminates at once. Logs to $FAKE_PULUMI_LOG: `started PID PGID ARGS`, each signal it got,
 * then `finished` (exit 0; `stack ls` lists the stack lab, `plugin ls` none), `cancelled` (exit 1) or `terminated` (exit 255).
 * $FAKE_STEPS tenths of a second long (default 20).
 */
export const SIGNAL_FAKE_PULUMI = `#!/bin/sh
log="$FAKE_PULUMI_LOG"
[ "$1" = version ] && { echo v3.248.0; exit 0; }
echo "started $$ $(ps -o pgid= -p $$ | tr -d ' ') $*" >> "$log"
signals=0
got() {
  echo "signal $1" >> "$log"
  signals=$((signals + 1))
  [ $signals -ge 2 ] && { echo terminated >> "$log"; exit 255; }
}
trap 'got INT' INT
trap 'got TERM' TERM
i=0
while [ $i -lt "\${FAKE_STEPS:-20}" ]; do sleep 0.1; i=$((i + 1)); done
[ $signals -gt 0 ] && { echo cancelled >> "$log"; echo 'error: update canceled' >&2; exit 1; }
echo finished >> "$log"
case "$1 $2" in
  "stack ls") echo '[{"name":"lab","current":false}]' ;;
  "plugin ls") echo '[]' ;;
esac
exit 0
`;
