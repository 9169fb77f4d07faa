# restart.sh: start a new gateway process (bind and port are only read at process start), then wait until
# it is ready on the tailnet address.
# @var SERVICE: systemd|systemd-system|launchd|supervisor|none
# @var RESTART_CMD: peer.yaml's gateway.restart override, may be empty
# @var OLD_PID: the gateway's pid before (may be empty)
# @var PORT: the gateway's port
# @var LISTEN_IP: where /health must answer
# @var TIMEOUT: seconds to wait for it
# Result: changed; pid: the new gateway's pid.
set -u
find_openclaw
if [ -n "$RESTART_CMD" ]; then
  # Its output goes to a file, not to this session: a command that starts the gateway in the background (`... &`)
  # would otherwise hold the session's output open, and the step would wait for the gateway to exit.
  log=$(umask 077 && mktemp "${TMPDIR:-/tmp}/peer-provision-restart.XXXXXX") \
    || fail "cannot create a temporary file in ${TMPDIR:-/tmp} (disk full or not writable); the gateway was not restarted"
  on_exit 'rm -f "$log"'
  sh -c "$RESTART_CMD" </dev/null >"$log" 2>&1 || {
    rc=$?
    echo "the restart command from peer.yaml failed (exit $rc): $RESTART_CMD" >&2
    tail -n 20 "$log" >&2
    exit 1
  }
else
  case "$SERVICE" in
    supervisor)
      # OPENCLAW_SUPERVISOR_MODE=external: SIGUSR2 makes the gateway exit; its supervisor starts a new one.
      # A config change that needs a new process may already have done that: then there is nothing to signal.
      current=$(gateway_pid)
      if [ -n "$current" ] && { [ -z "$OLD_PID" ] || [ "$current" = "$OLD_PID" ]; }; then kill -USR2 "$current"; fi ;;
    systemd)
      XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" systemctl --user restart openclaw-gateway.service || exit 1 ;;
    systemd-system)
      as_root systemctl restart openclaw-gateway.service || exit 1 ;;
    launchd)
      launchctl kickstart -k "gui/$(id -u)/ai.openclaw.gateway" || exit 1 ;;
    *)
      echo "no service manager runs the OpenClaw gateway here (no systemd user unit, no launchd job, no supervisor);" \
           "install one with 'openclaw gateway install' or set gateway.restart in peer.yaml" >&2
      exit 1 ;;
  esac
fi
deadline=$(( $(date +%s) + TIMEOUT ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  pid=$(gateway_pid)
  if [ -n "$pid" ] && [ "$pid" != "$OLD_PID" ] || [ -n "$RESTART_CMD" ] && [ -n "$pid" ]; then
    if curl -fsS --max-time 2 "http://$LISTEN_IP:$PORT/health" >/dev/null 2>&1; then
      result true '' pid "$pid"
      exit 0
    fi
  fi
  sleep 0.5
done
echo "the gateway did not become ready on $LISTEN_IP:$PORT within ${TIMEOUT}s (pid before: ${OLD_PID:-none}, now: ${pid:-none})" >&2
exit 1
