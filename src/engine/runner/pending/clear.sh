# shellcheck shell=sh
# Remove the marker of a handler that has run ($1: its key). Never fails.
rm -f -- "$HOME/.relay-play/pending"/"$1"; exit 0
