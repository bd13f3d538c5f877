# shellcheck shell=sh
# $1 the command text, $2 the shell that runs it. On a terminal, as Ansible's ssh runs raw (`ssh -tt`):
# output with CRLF line ends, stderr joined to stdout. util-linux's script(1) (Debian's essential
# bsdutils) gives it one, echoing nothing (no input reaches it); without script, a plain shell. Never
# the trip's standard input.
if command -v script >/dev/null 2>&1; then
  SHELL=$2 exec script -q -E never -e -c "$1" /dev/null < /dev/null
fi
exec "$2" -c "$1" < /dev/null
