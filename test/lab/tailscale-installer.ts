/**
 * The lab's Tailscale installer (served by mirror-server.ts as /install.sh, run by peer-provision's install step as
 * Tailscale's own install script would be). It installs the REAL tailscale and tailscaled, built from source into
 * the lab cache (build-go-tools.sh), not a stand-in:
 *  - where Tailscale's packages put them (/usr/sbin/tailscaled, /usr/bin/tailscale) on a systemd machine, with the
 *    package's own unit (`Type=notify`) enabled and started; on a machine without systemd (the supervisor kind, whose
 *    /usr is the host's) under /usr/local, started as a container's entrypoint would start it;
 *  - pointed at the lab's headscale through device policy (/etc/tailscale/syspolicy.json `LoginURL`, read by
 *    tailscaled at start), so peer-provision's `tailscale up` runs unchanged, with no lab-only flag;
 *  - with what a machine without internet needs: no log upload (--no-logs-no-support), DERP over plain HTTP to the
 *    lab's own DERP region (TS_DEBUG_USE_DERP_HTTP=1), no port mapping probes.
 * What it adds of its own: `tailscale` is a small script that records each invocation's arguments in
 * /var/log/pplab-tailscale/argv.log (base64 per argument; the tests check that no secret is ever in argv), then runs
 * the real CLI (`exec -a tailscale` the multi-call binary, as Tailscale's `tailscale` link to it does).
 */
export const TAILSCALE_VERSION = process.env.PEER_LAB_TAILSCALE_VERSION ?? '1.102.5';
export const ARGV_LOG = '/var/log/pplab-tailscale/argv.log';
export const tailscaledBinary = (cache: string) => `${cache}/bin/tailscale-${TAILSCALE_VERSION}/tailscaled`;

/** tailscale's own cmd/tailscaled/tailscaled.service (v1.102.5), as the Debian package installs it. */
const UNIT = `[Unit]
Description=Tailscale node agent
Documentation=https://tailscale.com/kb/
Wants=network-pre.target
After=network-pre.target

[Service]
EnvironmentFile=/etc/default/tailscaled
ExecStartPre=/usr/sbin/tailscaled --cleanup
ExecStart=/usr/sbin/tailscaled --state=/var/lib/tailscale/tailscaled.state --socket=/run/tailscale/tailscaled.sock --port $PORT $FLAGS
ExecStopPost=/usr/sbin/tailscaled --cleanup

Restart=on-failure

RuntimeDirectory=tailscale
RuntimeDirectoryMode=0755
StateDirectory=tailscale
StateDirectoryMode=0750
CacheDirectory=tailscale
CacheDirectoryMode=0750
Type=notify

[Install]
WantedBy=multi-user.target
`;

/**
 * Starts tailscaled as the package's unit would, on a machine without systemd (SBIN set: where it is installed), and
 * waits for its socket. Also what the lab does to start a tailscaled a test stopped.
 */
export const START_TAILSCALED = `  mkdir -p /run/tailscale
  ( set -a; . /etc/default/tailscaled; set +a
    exec setsid "$SBIN/tailscaled" --state=/var/lib/tailscale/tailscaled.state --socket=/run/tailscale/tailscaled.sock --port "$PORT" $FLAGS \\
      </dev/null >>/var/log/pplab-tailscale/tailscaled.log 2>&1 ) &
  i=0; while [ ! -S /run/tailscale/tailscaled.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done`;

/** controlUrl: the device policy's LoginURL; undefined: no device policy (Tailscale's default control server). */
export function installScript(controlUrl: string | undefined): string {
  return `#!/bin/sh
# peer-provision lab: installs the real tailscale ${TAILSCALE_VERSION} from the lab cache (see test/lab/tailscale-installer.ts)
set -eu
[ "$(id -u)" = 0 ] || { echo "the installer needs root" >&2; exit 1; }
SRC=/opt/peer-provision-lab/bin/tailscale-${TAILSCALE_VERSION}
[ -x "$SRC/tailscaled" ] || { echo "no tailscaled in $SRC: run test/lab/prepare.sh on the host" >&2; exit 1; }
if [ -d /run/systemd/system ]; then SBIN=/usr/sbin BIN=/usr/bin; else SBIN=/usr/local/sbin BIN=/usr/local/bin; fi
mkdir -p "$SBIN" "$BIN" /etc/tailscale /var/lib/tailscale /var/log/pplab-tailscale
cp "$SRC/tailscaled" "$SBIN/tailscaled.new" && chmod 755 "$SBIN/tailscaled.new" && mv "$SBIN/tailscaled.new" "$SBIN/tailscaled"
: >> ${ARGV_LOG} && chmod 0666 ${ARGV_LOG}
cat > "$BIN/tailscale.new" <<EOF
#!/bin/bash
# peer-provision lab: records the arguments (base64 each), then runs the real tailscale CLI
{ printf '%s %s' "\\$(date -u +%FT%TZ)" "\\$\\$"; for a in "\\$@"; do printf ' %s' "\\$(printf '%s' "\\$a" | base64 -w0)"; done; echo; } >> ${ARGV_LOG} 2>/dev/null || true
exec -a tailscale $SBIN/tailscaled "\\$@"
EOF
chmod 755 "$BIN/tailscale.new" && mv "$BIN/tailscale.new" "$BIN/tailscale"
${controlUrl ? `printf '{"LoginURL": "%s"}\\n' '${controlUrl}' > /etc/tailscale/syspolicy.json` : 'rm -f /etc/tailscale/syspolicy.json'}
cat > /etc/default/tailscaled <<'EOF'
# Set the port to listen on for incoming VPN packets.
PORT="41641"
# Extra flags you might want to pass to tailscaled.
FLAGS="--no-logs-no-support"
# peer-provision lab: DERP over plain HTTP to the lab's own region; no port mapping probes
TS_DEBUG_USE_DERP_HTTP=1
TS_DEBUG_DISABLE_PORTMAPPER=1
EOF
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  cat > /lib/systemd/system/tailscaled.service <<'UNIT'
${UNIT}UNIT
  systemctl daemon-reload
  systemctl enable --now tailscaled.service
else
${START_TAILSCALED}
fi
"$BIN/tailscale" version >/dev/null
echo "Installation complete! Log in to start using Tailscale by running:"
echo
echo "tailscale up"
`;
}
