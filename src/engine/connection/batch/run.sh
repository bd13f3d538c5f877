# shellcheck shell=sh
# The commands of one run (one user): $1 a boundary token, $2 the index below which a non-zero exit
# ends the trip (0: none does; a trip's steps stop it, the reads that follow them don't); then triples
# (index, command, bytes of stdin). Each command's output is framed on stdout and on stderr by
# "<token> <index> begin" and "<token> <index> end [<exit code>]" lines, as MIME parts are: the token
# is random per trip, so no output can fake a frame. Exits 1 when it stopped at a failure. Each
# command runs in a subshell of this one (a fork, not a new sh: a trip holds dozens), with no
# positional parameters and none of this script's variables or functions, as `sh -c` would give it.
. ./take.sh
one() { ( _c=$1; set --; unset b stopbelow code gnu n; unset -f take feed one; eval "unset _c; $_c" ); }
b=$1 stopbelow=$2; shift 2
while [ $# -ge 3 ]; do
  printf '%s %s begin\n' "$b" "$1"; printf '%s %s begin\n' "$b" "$1" >&2
  feed "$3" one "$2"
  code=$?
  printf '\n%s %s end %s\n' "$b" "$1" "$code"; printf '\n%s %s end\n' "$b" "$1" >&2
  if [ "$code" -ne 0 ] && [ "$1" -lt "$stopbelow" ]; then exit 1; fi
  shift 3
done
