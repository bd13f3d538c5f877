# shellcheck shell=sh
# $1 file|directory, $2 the directory (empty: $TMPDIR or /tmp), $3 prefix, $4 suffix.
# A name as Python's tempfile makes one: prefix, 8 characters of [a-z0-9_], suffix; created exclusively
# (noclobber for a file, mkdir for a directory), mode 0600 / 0700; then its stat.
set -e
dir=${2:-${TMPDIR:-/tmp}}
[ -d "$dir" ] || { printf '[Errno 2] No such file or directory: %s\n' "'$dir'" >&2; exit 1; }
umask 077
n=0
while :; do
  r=$(LC_ALL=C tr -dc 'a-z0-9_' < /dev/urandom | head -c 8)
  p="$dir/$3$r$4"
  if [ "$1" = directory ]; then
    if mkdir -- "$p" 2>/dev/null; then break; fi
  elif (set -C; : > "$p") 2>/dev/null; then
    break
  fi
  n=$((n + 1))
  [ "$n" -lt 100 ] || { echo "no usable temporary name in $dir" >&2; exit 1; }
done
printf '%s\n' "$p"
stat -c '%u|%g|%U|%G|%a|%s' -- "$p"
