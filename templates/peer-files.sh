# peer-files.sh: write the files that tell this machine's agent about its peers, atomically, and record
# their digest (so a re-run that would write the same bytes writes nothing).
# Vars: STACK, FILES (lines "MODE PATH BASE64": token files carry secrets, mode 600), OWNED_DIRS (lines:
#       folders peer-provision owns, emptied of files it no longer writes), DIGEST.
set -eu
state_dir="$HOME/.peer-provision/$STACK"
(umask 077 && mkdir -p "$state_dir")
keep=$(umask 077 && mktemp)
trap 'rm -f "$keep"' EXIT INT TERM
printf '%s\n' "$FILES" | while read -r mode path data; do
  [ -n "$path" ] || continue
  mkdir -p "$(dirname "$path")"
  tmp="$path.peer-provision-tmp"
  (umask 077 && printf '%s' "$data" | base64 -d > "$tmp")
  chmod "$mode" "$tmp"
  mv "$tmp" "$path"
  echo "$path" >> "$keep"
done
printf '%s\n' "$OWNED_DIRS" | while read -r dir; do
  [ -n "$dir" ] && [ -d "$dir" ] || continue
  find "$dir" -type f | while read -r f; do grep -qxF "$f" "$keep" || rm -f "$f"; done
done
printf '%s\n' "$OWNED_DIRS" > "$state_dir/owned-dirs"
printf '%s\n' "$DIGEST" > "$state_dir/peer-files.sha256"
