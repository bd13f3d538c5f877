# shellcheck shell=sh
# Start the reboot command line ($1) a second after this returns, detached from this session (its own
# session, hangups ignored), so this exec's exit status is back before sshd goes down. Prints the private
# directory where the command leaves its stdout (out), stderr (err) and then its exit code (rc): a reboot
# that never comes is explained from it.
set -e
d=$(mktemp -d)
# shellcheck disable=SC2016 # the job's own shell expands these
job='sleep 1; (eval "$1") >"$2/out" 2>"$2/err" && rc=0 || rc=$?; echo "$rc" >"$2/rc.new"; mv "$2/rc.new" "$2/rc"'
trap '' HUP
if command -v setsid >/dev/null 2>&1; then
  setsid sh -c "$job" sh "$1" "$d" </dev/null >/dev/null 2>&1 &
else
  sh -c "$job" sh "$1" "$d" </dev/null >/dev/null 2>&1 &
fi
printf '%s\n' "$d"
