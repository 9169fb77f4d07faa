# peer-files.sh: write the files that tell this machine's agent about its peers, atomically, and record
# their digest (so a re-run that would write the same bytes writes nothing).
# @var STACK: the stack's name (its state lives in ~/.peer-provision/STACK)
# @var FILES: lines "MODE PATH_BASE64 DATA_BASE64" (no secret in them: the A2A tokens live in the gateway's
#   config); paths are base64 so a space or newline in a path stays part of it
# @var DIGEST: sha256 of the files, recorded for observe.sh
# Only what peer-provision made is its own: the files it wrote (peer-files.list) and the folders it had to create for
# them (created-dirs), both as base64 lines (a path may hold a newline). down removes exactly those, folders only when
# empty. A file already at one of these paths that peer-provision did not write (a skill of the user's) is refused.
# Result: changed; written: how many files were written, removed: how many of the last run's went.
set -eu
state_dir="$HOME/.peer-provision/$STACK"
(umask 077 && mkdir -p "$state_dir")
work=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/peer-provision-files.XXXXXX")
on_exit 'rm -rf "$work"'
printf '%s\n' "$FILES" > "$work/list"
: > "$work/written"
touch "$state_dir/created-dirs" "$state_dir/peer-files.list" || fail "cannot write in $state_dir (disk full?)"
written=0 removed=0
# mkdir -p, noting each folder it creates (outermost first) in created-dirs
make_dirs() {
  md_missing= md_dir=$1
  while [ ! -d "$md_dir" ]; do md_missing="$md_dir
$md_missing"; md_dir=$(dirname "$md_dir"); done
  printf '%s' "$md_missing" | while IFS= read -r md_new; do
    [ -n "$md_new" ] || continue
    mkdir "$md_new" || exit 1
    printf '%s\n' "$(printf '%s' "$md_new" | b64)" >> "$state_dir/created-dirs"
  done
}
while read -r mode path64 data; do
  [ -n "$path64" ] || continue
  path=$(printf '%s' "$path64" | base64 -d)
  if [ -e "$path" ] || [ -L "$path" ]; then
    grep -qxF "$path64" "$state_dir/peer-files.list" ||
      fail "$path is there already and peer-provision did not write it (a file of yours?): move it away, then re-run"
  fi
  make_dirs "$(dirname "$path")" || fail "cannot create the folder of $path"
  tmp=$(umask 077 && mktemp "$path.XXXXXX") || fail "cannot write beside $path (disk full or not writable)"
  printf '%s' "$data" | base64 -d > "$tmp" || { rm -f "$tmp"; fail "cannot write $path (disk full?)"; }
  chmod "$mode" "$tmp" && mv -f "$tmp" "$path" || { rm -f "$tmp"; fail "cannot write $path"; }
  printf '%s\n' "$path64" >> "$work/written"
  written=$((written + 1))
done < "$work/list"
# Files the last run wrote and this one does not go (a peer no longer listed; the token files an earlier
# version wrote, when peers still called each other with the owner's gateway token); nothing else is touched.
if [ -f "$state_dir/peer-files.list" ]; then
  while read -r path64; do
    grep -qxF "$path64" "$work/written" || { rm -f "$(printf '%s' "$path64" | base64 -d)"; removed=$((removed + 1)); }
  done < "$state_dir/peer-files.list"
fi
cp "$work/written" "$state_dir/peer-files.list.tmp" && mv -f "$state_dir/peer-files.list.tmp" "$state_dir/peer-files.list" || fail "cannot write $state_dir/peer-files.list"
printf '%s\n' "$DIGEST" > "$state_dir/peer-files.sha256.tmp" && mv -f "$state_dir/peer-files.sha256.tmp" "$state_dir/peer-files.sha256" || fail "cannot write the peer files' digest"
result true '' written "$written" removed "$removed"
