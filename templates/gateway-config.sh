# gateway-config.sh: back up the OpenClaw config (once per path), then apply peer-provision's patch atomically.
# The patch is applied by OpenClaw itself (`openclaw config patch`, which validates) to a temporary copy;
# only a valid result is renamed over the config, so a failure, a full disk or Ctrl-C leaves it untouched.
# @var STACK: the stack's name (its state lives in ~/.peer-provision/STACK)
# @var CONFIG: the OpenClaw config's absolute path
# @var PATCH: JSON; holds the gateway token and the A2A peer tokens (registered for redaction where they are made), never in argv
# @var EDITED: 1: someone else changed the config since peer-provision last wrote it (the plan decided)
# @var FRIENDS: the friends' A2A peer names (hostnames, space-separated) this patch writes: recorded, so that up and down remove exactly those
# Result: changed; backup: taken (this run saved the original) or kept (saved by an earlier run).
set -eu
find_openclaw
state_dir="$HOME/.peer-provision/$STACK"
require_config_file "$CONFIG"
rec=$(record_dir "$state_dir" "$CONFIG")
(umask 077 && mkdir -p "$rec") || fail "cannot create $rec (disk full or not writable)"
if [ ! -f "$rec/path" ]; then
  { (umask 077 && printf '%s\n' "$CONFIG" > "$rec/path.tmp"); } 2>/dev/null && mv -f "$rec/path.tmp" "$rec/path" || fail "cannot write $rec/path (disk full?)"
fi
# The backup is the user's original, taken before peer-provision's first write to this path and never replaced.
backup=kept
if [ ! -f "$rec/orig" ] && [ ! -f "$rec/absent" ]; then
  backup=taken
  if [ -e "$CONFIG" ]; then copy_atomic "$CONFIG" "$rec/orig"; else (umask 077 && : > "$rec/absent") || fail "cannot write $rec/absent"; fi
elif [ "$EDITED" = 1 ]; then
  # Someone else changed the config since peer-provision last wrote it: putting the original back byte for
  # byte would now lose their change, so down will remove only peer-provision's keys.
  (umask 077 && : > "$rec/edited") || fail "cannot write $rec/edited"
fi
{ printf '%s\n' "$CONFIG" > "$state_dir/config-path.tmp"; } 2>/dev/null && mv -f "$state_dir/config-path.tmp" "$state_dir/config-path" || fail "cannot write $state_dir/config-path (disk full?)"
# Recorded before the patch with the friends recorded so far (a failure in between leaves none unrecorded), and
# only this patch's once it is written.
record_friends() { { (set -f && umask 077 && printf '%s\n' $1 > "$state_dir/friends.tmp"); } 2>/dev/null && mv -f "$state_dir/friends.tmp" "$state_dir/friends" || fail "cannot write $state_dir/friends (disk full?)"; }
if [ -n "$FRIENDS" ] || [ -f "$state_dir/friends" ]; then record_friends "$(cat "$state_dir/friends" 2>/dev/null) $FRIENDS"; fi
patch_config "$CONFIG" "$PATCH" patched "$rec/applied"
if [ -n "$FRIENDS" ]; then record_friends "$FRIENDS"; else rm -f "$state_dir/friends"; fi
result true '' backup "$backup"
