# restore.sh: put each OpenClaw config peer-provision patched back, then remove the peer files it wrote.
# A backup is removed only once its config is back in place (and, byte for byte, compared equal).
# @var STACK: the stack's name (its state lives in ~/.peer-provision/STACK)
# @var RECORDS: lines "ID MODE PATCH_BASE64", one per config path peer-provision patched; MODE is
#   bytes: nobody but peer-provision changed the config, put the original back byte for byte;
#   patch: someone did, apply the patch, which undoes only peer-provision's own keys (it may hold the
#   original token, registered for redaction when observed); none: leave the config alone
# @var FILES_TOO: 1: also remove the peer files
# Result: changed unless there was nothing of this stack; records: how many configs were dealt with.
set -eu
find_openclaw
state_dir="$HOME/.peer-provision/$STACK"
[ -d "$state_dir" ] || { result false 'nothing of this stack on this machine'; exit 0; }
records=0

restore_record() { # ID MODE PATCH_BASE64
  rec="$state_dir/configs/$1"
  [ -d "$rec" ] || return 0
  config=$(cat "$rec/path") || fail "cannot read $rec/path"
  case "$2" in
    bytes)
      if [ -f "$rec/absent" ]; then
        rm -f "$config" || fail "cannot remove $config"
      else
        [ -f "$rec/orig" ] || fail "the backup $rec/orig is missing; $config is left as it is"
        require_config_file "$config"
        target=$(real_path "$config")
        tmp=$(umask 077 && mktemp "$target.XXXXXX") || fail "cannot write beside $config (disk full or not writable); it and its backup are untouched"
        cp -p "$rec/orig" "$tmp" || { rm -f "$tmp"; fail "cannot write $tmp (disk full?); $config and its backup are untouched"; }
        mv -f "$tmp" "$target" || { rm -f "$tmp"; fail "cannot replace $config; its backup is kept in $rec"; }
        cmp -s "$rec/orig" "$target" || fail "$config differs from its backup after the restore; the backup is kept in $rec"
      fi ;;
    patch)
      patch_config "$config" "$(printf '%s' "$3" | base64 -d)" restored ;;
    none) ;;
    *) fail "unknown restore mode $2" ;;
  esac
  rm -rf "$rec"
  records=$((records + 1))
}

printf '%s\n' "$RECORDS" > "$state_dir/.restore-list"
while read -r id mode patch; do
  [ -n "$id" ] || continue
  restore_record "$id" "$mode" "$patch"
done < "$state_dir/.restore-list"
rm -f "$state_dir/.restore-list"

# The peer files: exactly the files peer-provision wrote, then the folders it created for them, deepest first and
# only when empty (anything of the user's in them stays, and so do they). An earlier version recorded whole folders
# (owned-dirs): those are emptied of its files the same way, never removed with what else they hold.
if [ "$FILES_TOO" = 1 ] && [ -f "$state_dir/peer-files.list" ]; then
  while read -r path64; do
    [ -n "$path64" ] && { rm -f "$(printf '%s' "$path64" | base64 -d)" || fail "cannot remove a peer file"; }
  done < "$state_dir/peer-files.list"
  {
    [ -f "$state_dir/created-dirs" ] && while read -r dir64; do [ -n "$dir64" ] && printf '%s' "$dir64" | base64 -d && echo; done < "$state_dir/created-dirs"
    [ -f "$state_dir/owned-dirs" ] && while IFS= read -r dir; do [ -n "$dir" ] && printf '%s/tokens\n%s\n' "$dir" "$dir"; done < "$state_dir/owned-dirs"
  } | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2- | while IFS= read -r dir; do rmdir "$dir" 2>/dev/null || true; done
  rm -f "$state_dir/created-dirs" "$state_dir/owned-dirs" "$state_dir/peer-files.sha256" "$state_dir/peer-files.list"
fi
# Whatever is left (the config path note) goes once no backup is left in it.
if [ -z "$(ls -A "$state_dir/configs" 2>/dev/null)" ] && [ ! -f "$state_dir/peer-files.list" ]; then
  rm -rf "$state_dir"
  rmdir "$HOME/.peer-provision" 2>/dev/null || true
fi
result true '' records "$records"
