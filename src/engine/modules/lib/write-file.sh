# shellcheck shell=sh
set -e
dest=$1 owner=$2 group=$3 mode=$4
case $dest in */*) dir=${dest%/*}; dir=${dir:-/} ;; *) dir=. ;; esac
tmp=$(mktemp -- "$dir/.relay-play.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
if [ "$8" = base64 ]; then base64 -d > "$tmp"; else cat > "$tmp"; fi
# A connection cut mid-stream ends the input early: never put a truncated file in place.
n=$(wc -c < "$tmp"); [ "$n" -eq "$6" ] || { echo "the content arrived cut short ($n of $6 bytes)" >&2; exit 4; }
# Attributes not asked for are kept from the file it replaces (a new file: 0644, the writer's owner).
if [ -e "$dest" ]; then
  if [ -z "$owner" ] || [ -z "$group" ]; then chown --reference="$dest" -- "$tmp"; fi
  if [ -z "$mode" ]; then chmod --reference="$dest" -- "$tmp"; fi
elif [ -z "$mode" ]; then chmod 0644 -- "$tmp"; fi
if [ -n "$owner" ]; then chown -- "$owner${group:+:$group}" "$tmp"; elif [ -n "$group" ]; then chgrp -- "$group" "$tmp"; fi
if [ -n "$mode" ]; then chmod -- "$mode" "$tmp"; fi
if [ -n "$5" ]; then
  VALIDATE_TMP=$tmp sh -c "$5" >&2 || { echo "validation failed" >&2; exit 3; }
fi
if [ "$7" = backup ] && [ -f "$dest" ]; then
  b="$dest.$$.$(date +%Y-%m-%d@%H:%M:%S)~"; cp -p -- "$dest" "$b"; printf 'backup_file=%s\n' "$b"
fi
mv -f -- "$tmp" "$dest"
trap - EXIT
stat -c 'written=%u|%g|%U|%G|%a' -- "$dest"
