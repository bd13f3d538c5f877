# shellcheck shell=sh
# Apply a sysctl change as Ansible's module does, in one go: $1 name, $2 value, $3 "set" to set it now
# (sysctl -w), $4 "write" to write the file $5 (its new content on stdin, $6 bytes), $7 "reload" to load
# that file (sysctl -p), $8 "ignore" to pass -e. A failure prints Ansible's message (sysctl's output
# whole, with its last newline) and exits 1.
name=$1 value=$2 file=$5 ignore=$8
sc() { if [ "$ignore" = ignore ]; then LC_ALL=C sysctl -e "$@"; else LC_ALL=C sysctl "$@"; fi; }
failed() { printf '%s\n' "$1" | grep -Eq '^sysctl: setting key "[^"]+": (Invalid argument|Read-only file system)$'; }
if [ "$3" = set ]; then
  out=$(sc -w "$name=$value" 2>&1; echo "x$?"); rc=${out##*x}; out=${out%x*}
  if [ "$rc" -ne 0 ] || failed "$out"; then printf 'setting %s failed: %s' "$name" "$out"; exit 1; fi
fi
if [ "$4" = write ]; then
  set -e
  case $file in */*) dir=${file%/*}; dir=${dir:-/} ;; *) dir=. ;; esac
  tmp=$(mktemp -- "$dir/.ansible_m_sysctl_XXXXXXXX.conf")
  trap 'rm -f -- "$tmp"' EXIT
  cat > "$tmp"
  n=$(wc -c < "$tmp"); [ "$n" -eq "$6" ] || { echo "the content arrived cut short ($n of $6 bytes)"; exit 1; }
  if [ -e "$file" ]; then chown --reference="$file" -- "$tmp"; chmod --reference="$file" -- "$tmp"; else chmod 0644 -- "$tmp"; fi
  mv -f -- "$tmp" "$file"
  trap - EXIT
  set +e
fi
if [ "$7" = reload ]; then
  out=$(sc -p "$file" 2>&1; echo "x$?"); rc=${out##*x}; out=${out%x*}
  if [ "$rc" -ne 0 ] || failed "$out"; then printf 'Failed to reload sysctl: %s' "$out"; exit 1; fi
fi
exit 0
