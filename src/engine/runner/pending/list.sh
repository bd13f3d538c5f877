# shellcheck shell=sh
# The markers present, one per line (run as the command itself: no sh -c, no parameters).
ls -1 "$HOME/.relay-play/pending" 2>/dev/null; exit 0
