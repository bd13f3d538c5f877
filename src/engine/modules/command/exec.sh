# shellcheck shell=sh
# command / shell: run the program "$2" "$3"... in directory $1 (empty: where the login starts) with no
# shell in between, as Ansible's Python runs it (exec-expand.sh expands words first). What Python would raise instead of
# running it (no such directory, no such program, not executable) goes to stderr as a line
# "relay-play-exec: WHERE ERRNO" and then each argument and a NUL, with exit 127: the module reports
# it as Ansible does (rc = the errno, empty output).
d=$1; shift
cannot() { printf 'relay-play-exec: %s %s\n' "$1" "$2" >&2; shift 2; printf '%s\0' "$@" >&2; exit 127; }
if [ -n "$d" ]; then
  if [ ! -e "$d" ]; then cannot chdir 2 "$d"; elif [ ! -d "$d" ]; then cannot chdir 20 "$d"; fi
  cd -- "$d" 2>/dev/null || cannot chdir 13 "$d"
fi
case $1 in
  */*)
    if [ ! -e "$1" ]; then cannot exec 2 "$@"; elif [ -d "$1" ] || [ ! -x "$1" ]; then cannot exec 13 "$@"; fi
    p=$1 ;;
  *)
    # The PATH search of execvp: the first executable file; a file found that may not run is EACCES.
    p='' denied=''
    set -f; IFS=:
    for dir in ${PATH-/usr/bin:/bin}; do
      f=${dir:-.}/$1
      if [ -f "$f" ] && [ -x "$f" ]; then p=$f; break; fi
      if [ -e "$f" ]; then denied=1; fi
    done
    unset IFS; set +f
    if [ -z "$1" ] || [ -z "$p" ]; then if [ -n "$denied" ]; then cannot exec 13 "$@"; else cannot exec 2 "$@"; fi; fi ;;
esac
# exec takes no "--": a name that starts with "-" runs by its path.
case $1 in -*) shift; exec "$p" "$@" ;; esac
exec "$@"
