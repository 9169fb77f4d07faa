# restore.sh: put the OpenClaw config back and remove what peer-provision wrote on this machine.
# Vars: STACK, CONFIG, MODE (bytes: nobody edited the config since up, put the original back byte for byte;
#       patch: someone did, so apply REVERSE_PATCH, which undoes only peer-provision's own keys;
#       none: leave the config alone), REVERSE_PATCH.
set -eu
state_dir="$HOME/.peer-provision/$STACK"
[ -d "$state_dir" ] || exit 0
case "$MODE" in
  bytes)
    if [ -f "$state_dir/openclaw.json.absent" ]; then rm -f "$CONFIG"
    else
      tmp="$CONFIG.peer-provision-tmp"
      cp -p "$state_dir/openclaw.json.orig" "$tmp" && mv "$tmp" "$CONFIG"
    fi ;;
  patch)
    patch_config "$CONFIG" "$REVERSE_PATCH" restored ;;
esac
if [ -f "$state_dir/owned-dirs" ]; then
  while read -r dir; do [ -n "$dir" ] && rm -rf "$dir"; done < "$state_dir/owned-dirs"
fi
rm -rf "$state_dir"
rmdir "$HOME/.peer-provision" 2>/dev/null || true
