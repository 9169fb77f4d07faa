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
