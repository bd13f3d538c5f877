# shellcheck shell=sh
# relay_fleet's read on the relay: $1 its host key (.pub), then a separator, then $2 the fleet state
# file (nothing when there is none yet).
cat -- "$1" || exit 1; echo '---relay-play---'; if [ -f "$2" ]; then cat -- "$2"; fi
