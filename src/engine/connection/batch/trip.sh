# shellcheck shell=sh
# The trip: $1 "stop" or "all", then pairs (bytes of the run's stdin, the run's command line). A run
# that cannot start (sudo refused) takes its bytes all the same, so the runs after it find theirs.
. ./take.sh
stop=$1; shift
while [ $# -ge 2 ]; do
  if ! feed "$1" sh -c "$2" && [ "$stop" = stop ]; then exit 1; fi
  shift 2
done
