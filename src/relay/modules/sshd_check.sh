# shellcheck shell=sh
# sshd_check's read: what sshd is on this host, and what it makes of its configuration.
# $1 config, $2 the -C spec ('' for none). Every line of output is tagged: key=value facts, then
# `I <include pattern>` (what sshd itself resolved, nested Includes too), `E <sshd -t message>`, and
# `T <sshd -T line>`. sshd's debug output names each Include it reads and its version; its other
# settings are dropped here. Every device runs this on every run, all at once on a small machine, so it
# costs as few processes as it can: without a -C spec one sshd —
# `sshd -T` tests the configuration exactly as -t does before it prints it (on stdout, lowercase
# keywords; messages go to stderr), so its lines are told apart by their shape. Its LogLevel is -ddd's,
# not the configuration's, so it is left out; a -C spec (whose settings are compared) gets its own -T.
PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
bin=$(command -v sshd) || bin=
echo "binary=$bin"
[ -n "$bin" ] || exit 0
# sshd's output, tagged; $1: what to do with a line that is not debug output.
tag() { sed -n -e '/^debug[0-9]*: .* line [0-9]*: new include /{s//I /p;d;}' -e '/^debug[0-9]*: sshd version \([^ ,]*\).*/{s//version=\1/p;d;}' -e '/^debug[0-9]*: /d' -e "$1"; }
if [ -z "$2" ]; then
  out=$("$bin" -ddd -T -f "$1" 2>&1)
  rc=$?
  echo "test_rc=$rc"
  if [ "$rc" -ne 0 ]; then printf '%s\n' "$out" | tag '/./s/^/E /p'; exit 0; fi
  echo "dump_rc=0"
  printf '%s\n' "$out" | tag '/^loglevel /d;/^[a-z0-9]* /s/^/T /p'
  exit 0
fi
out=$("$bin" -ddd -t -f "$1" 2>&1)
rc=$?
echo "test_rc=$rc"
printf '%s\n' "$out" | tag '/./s/^/E /p'
[ "$rc" -eq 0 ] || exit 0
out=$("$bin" -T -f "$1" -C "$2" 2>&1)
echo "dump_rc=$?"
printf '%s\n' "$out" | sed 's/^/T /'
