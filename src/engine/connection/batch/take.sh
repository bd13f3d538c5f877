# shellcheck shell=sh
# Inputs (file contents, keys, rendered templates) never travel on a command line, where every local
# user reads them in /proc/*/cmdline and sudo logs them: the exec channel's stdin carries the inputs
# of the whole trip one after the other, and each level takes exactly its own bytes from it — the
# trip's runs (one sudo each) their share, each command in a run its own. `take N` reads exactly N
# bytes (GNU head reads no further than asked; elsewhere dd, one byte at a time), and what a command
# leaves unread is drained, so the next one starts at its own first byte whatever the previous did.
# `feed N COMMAND...` runs COMMAND on the next N bytes of stdin. Sourced by run.sh and trip.sh.
take() { if [ "$gnu" = y ]; then head -c "$1"; else dd bs=1 count="$1" 2>/dev/null; fi; }
feed() { n=$1; shift
  if [ "$n" = 0 ]; then "$@" </dev/null; return; fi
  [ -n "$gnu" ] || case $(head --version 2>/dev/null) in *GNU*) gnu=y;; *) gnu=n;; esac
  take "$n" | { "$@"; c=$?; cat >/dev/null; exit $c; }
}
