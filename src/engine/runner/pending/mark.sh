# shellcheck shell=sh
# Leave a marker for each notified handler ($@: their keys) in the play user's ~/.relay-play/pending/.
# Never fails: a host where they can't be written only loses this safety.
mkdir -p "$HOME/.relay-play/pending" 2>/dev/null && cd "$HOME/.relay-play/pending" && touch -- "$@" 2>/dev/null; exit 0
