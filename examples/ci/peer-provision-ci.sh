#!/bin/sh
# peer-provision from any CI: a plain POSIX script that GitHub Actions, GitLab CI, Jenkins or cron can call.
#
#   peer-provision-ci.sh validate   check peer.yaml and report every missing secret, tool and credential
#   peer-provision-ci.sh plan       write the plan as JSON to $PLAN_ARTIFACT (no secret in it); exit 0 with or
#                                   without pending changes, 1 when a machine is unreachable or something blocks
#   peer-provision-ci.sh drift      the scheduled check: exit 0 converged, 3 drift (changes pending), 1 unreachable/blocked
#   peer-provision-ci.sh apply      up --yes: JSON events on stdout (also kept in $EVENTS_ARTIFACT), progress on stderr
#   peer-provision-ci.sh destroy    down --yes, the same way
#
# Inputs, all from the environment (put the secret ones in your CI's secret store):
#   SSH_PRIVATE_KEY        the deploy key: loaded into an ssh-agent for this run only, never written to disk
#   SSH_KNOWN_HOSTS        the machines' host keys (ssh-keyscan output you checked once). Never use
#                          --accept-new-host-keys in CI: a new host key there is an attack, not a first visit
#   SSH_KNOWN_HOSTS_FILE   where ssh reads them (default ~/.ssh/known_hosts)
#   PEER_FILE              the peer.yaml (default ./peer.yaml)
#   PLAN_ARTIFACT          default plan.json;  EVENTS_ARTIFACT: default peer-provision-events.jsonl
#   PEER_PROVISION         how to run the tool (default: peer-provision on PATH; README.md "Install" says how)
#   and whatever peer.yaml references: TS_OAUTH_CLIENT_ID, TS_OAUTH_CLIENT_SECRET, gateway tokens, auth keys,
#   PULUMI_CONFIG_PASSPHRASE (and the backend's own credentials, e.g. AWS_* for s3://). See docs/ci.md.
set -eu

command=${1:?usage: peer-provision-ci.sh validate|plan|drift|apply|destroy}
pp=${PEER_PROVISION:-peer-provision}
file=${PEER_FILE:-peer.yaml}
export CI="${CI:-true}" # timestamped progress on stderr; up refuses a state that would vanish with the runner

if [ -n "${SSH_KNOWN_HOSTS:-}" ]; then
  known_hosts=${SSH_KNOWN_HOSTS_FILE:-$HOME/.ssh/known_hosts}
  mkdir -p "$(dirname "$known_hosts")"
  chmod 700 "$(dirname "$known_hosts")"
  printf '%s\n' "$SSH_KNOWN_HOSTS" >> "$known_hosts"
fi
if [ -n "${SSH_PRIVATE_KEY:-}" ]; then
  eval "$(ssh-agent -s)" > /dev/null
  trap 'ssh-agent -k > /dev/null 2>&1' EXIT
  trap 'exit 130' INT TERM
  printf '%s\n' "$SSH_PRIVATE_KEY" | ssh-add -q - # from stdin: the key never touches the disk
fi

status=0
case "$command" in
  validate)
    $pp validate -f "$file" || status=$?
    ;;
  plan)
    $pp plan -f "$file" --detailed-exitcode --json > "${PLAN_ARTIFACT:-plan.json}" || status=$?
    [ "$status" = 3 ] && status=0 # pending changes are what a pull request is for
    echo "plan written to ${PLAN_ARTIFACT:-plan.json}" >&2
    ;;
  drift)
    $pp plan -f "$file" --detailed-exitcode || status=$?
    ;;
  apply | destroy)
    verb=up
    [ "$command" = destroy ] && verb=down
    events=${EVENTS_ARTIFACT:-peer-provision-events.jsonl}
    $pp "$verb" -f "$file" --yes --json > "$events" || status=$?
    cat "$events"
    ;;
  *)
    echo "peer-provision-ci.sh: unknown command $command (validate, plan, drift, apply, destroy)" >&2
    exit 2
    ;;
esac
exit "$status"
