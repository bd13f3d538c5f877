# shellcheck shell=sh
# The run lock: hold a flock on $1 (waiting up to $2 seconds; exit 75 when another run holds it), say
# "locked", and keep it for as long as the SSH session lives (until stdin closes).
exec flock -w "$2" -E 75 "$1" sh -c 'echo locked; exec cat >/dev/null'
