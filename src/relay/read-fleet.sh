# shellcheck shell=sh
# The fleet state file on the relay ($1), or nothing when there is none yet.
if [ -f "$1" ]; then cat -- "$1"; fi
