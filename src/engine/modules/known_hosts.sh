# shellcheck shell=sh
# $1 the known_hosts path as given ('~' is the home of whom this runs as). Prints the path expanded,
# who runs this (uid gid user group), then "absent", "other", or the file's stat and content (base64).
p=$1
# shellcheck disable=SC2088 # the literal text '~/', as given
case $p in '~') p=$HOME ;; '~/'*) p=$HOME/${p#'~/'} ;; esac
printf '%s\n' "$p"
printf '%s|%s|%s|%s\n' "$(id -u)" "$(id -g)" "$(id -un)" "$(id -gn)"
if [ -f "$p" ]; then
  stat -L -c '%u|%g|%U|%G|%a|%s' -- "$p" && base64 -w0 -- "$p" && echo
elif [ -e "$p" ]; then
  echo other
else
  echo absent
fi
