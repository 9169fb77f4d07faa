# peer-files.sh: write the files that tell this machine's agent about its peers, atomically, and record
# their digest (so a re-run that would write the same bytes writes nothing).
# Vars: STACK, FILES (lines "MODE PATH_BASE64 DATA_BASE64": token files carry secrets, mode 600; paths are
#       base64 so a space or newline in a path stays part of it), OWNED_DIRS (lines: folders peer-provision
#       owns, emptied of files it no longer writes), DIGEST.
set -eu
state_dir="$HOME/.peer-provision/$STACK"
(umask 077 && mkdir -p "$state_dir")
work=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/peer-provision-files.XXXXXX")
on_exit 'rm -rf "$work"'
printf '%s\n' "$FILES" > "$work/list"
while read -r mode path64 data; do
  [ -n "$path64" ] || continue
  path=$(printf '%s' "$path64" | base64 -d)
  mkdir -p "$(dirname "$path")" || fail "cannot create the folder of $path"
  tmp="$path.peer-provision-tmp"
  (umask 077 && printf '%s' "$data" | base64 -d > "$tmp") || { rm -f "$tmp"; fail "cannot write $path (disk full?)"; }
  chmod "$mode" "$tmp" && mv -f "$tmp" "$path" || { rm -f "$tmp"; fail "cannot write $path"; }
  printf '%s\n' "$path" >> "$work/keep"
done < "$work/list"
printf '%s\n' "$OWNED_DIRS" > "$work/dirs"
while read -r dir; do
  [ -n "$dir" ] && [ -d "$dir" ] || continue
  find "$dir" -type f > "$work/found"
  while read -r f; do grep -qxF "$f" "$work/keep" || rm -f "$f"; done < "$work/found"
done < "$work/dirs"
cp "$work/dirs" "$state_dir/owned-dirs.tmp" && mv -f "$state_dir/owned-dirs.tmp" "$state_dir/owned-dirs" || fail "cannot write $state_dir/owned-dirs"
printf '%s\n' "$DIGEST" > "$state_dir/peer-files.sha256.tmp" && mv -f "$state_dir/peer-files.sha256.tmp" "$state_dir/peer-files.sha256" || fail "cannot write the peer files' digest"
