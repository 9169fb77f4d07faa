# gateway-config.sh: back up the OpenClaw config once, then apply peer-provision's patch atomically.
# The patch is applied by OpenClaw itself (`openclaw config patch`, which validates) to a temporary copy;
# only a valid result is renamed over the config, so a failure or Ctrl-C leaves the original untouched.
# Vars: STACK, CONFIG (path), PATCH (JSON; holds the gateway token: a secret, never in argv).
set -eu
state_dir="$HOME/.peer-provision/$STACK"
(umask 077 && mkdir -p "$state_dir")
printf '%s\n' "$CONFIG" > "$state_dir/config-path"
if [ ! -f "$state_dir/openclaw.json.orig" ] && [ ! -f "$state_dir/openclaw.json.absent" ]; then
  if [ -f "$CONFIG" ]; then
    (umask 077 && cp -p "$CONFIG" "$state_dir/openclaw.json.orig.tmp" && mv "$state_dir/openclaw.json.orig.tmp" "$state_dir/openclaw.json.orig")
  else
    : > "$state_dir/openclaw.json.absent"
  fi
fi
patch_config "$CONFIG" "$PATCH" patched
(umask 077 && cp "$CONFIG" "$state_dir/openclaw.json.applied")
