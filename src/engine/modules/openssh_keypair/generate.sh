# shellcheck shell=sh
if [ -e "$1" ] || [ -L "$1" ]; then echo "$1 already exists; not overwriting it" >&2; exit 1; fi
umask 077
ssh-keygen -q -t ed25519 -N '' -C "$2" -f "$1" </dev/null
