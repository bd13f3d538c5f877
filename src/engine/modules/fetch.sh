# shellcheck shell=sh
# $1 the remote file ('~' is the home of whom this runs as). Prints its path expanded, then "absent",
# "directory", "unreadable", or "file" and its content in base64.
p=$1
# shellcheck disable=SC2088 # the literal text '~/', as given
case $p in '~') p=$HOME ;; '~/'*) p=$HOME/${p#'~/'} ;; esac
printf '%s\n' "$p"
if [ -d "$p" ]; then echo directory
elif [ ! -e "$p" ]; then echo absent
elif [ ! -r "$p" ]; then echo unreadable
else echo file; base64 -w0 -- "$p"; fi
