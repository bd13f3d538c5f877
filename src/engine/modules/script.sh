# shellcheck shell=sh
# script: the local script (on standard input) saved in a new temporary directory and run by a shell on
# a terminal, as Ansible's ssh runs it (`ssh -tt`: lines end in CRLF, stderr joins stdout), then removed.
# $1 its file name, $2 what comes before the command line ("cd DIR && ", the executable), $3... the
# command line's pieces around each place the script's path goes (the user's text: the shell reads it).
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
cat > "$d/$1" || exit 1
chmod 700 "$d/$1"
p=$d/$1 line=$2$3
shift 3
for piece; do line=$line$p$piece; done
if command -v script > /dev/null 2>&1; then
  SHELL=/bin/sh script -q -E never -e -c "$line" /dev/null < /dev/null
else
  /bin/sh -c "$line" < /dev/null
fi
