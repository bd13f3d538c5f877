# shellcheck shell=sh
# command / shell: whether the directory ($1) can be entered, and creates ($2) / removes ($3), globbed
# like Python's glob relative to it; $4 says which of the three Ansible expands first (d, c, r: see
# pyexpand). IFS= keeps a pattern one word; an unquoted parameter is globbed but never re-parsed as
# shell code.
. ./expand.sh
d=$1 c=$2 r=$3
case $4 in *d*) eval "d=$(pyexpand "$d")" ;; esac
case $4 in *c*) eval "c=$(pyexpand "$c")" ;; esac
case $4 in *r*) eval "r=$(pyexpand "$r")" ;; esac
IFS=
if [ -n "$d" ]; then
  # What Python's os.chdir would raise: the errno, then the directory (to the end).
  if [ ! -e "$d" ]; then e=2; elif [ ! -d "$d" ]; then e=20; elif ! cd -- "$d" 2>/dev/null; then e=13; else e=; fi
  if [ -n "$e" ]; then printf 'chdir-failed %s\n%s' "$e" "$d"; exit 0; fi
fi
exists() { for f in $1; do if [ -e "$f" ] || [ -L "$f" ]; then return 0; fi; done; return 1; }
if [ -n "$c" ] && exists "$c"; then echo creates-exists; fi
if [ -n "$r" ] && ! exists "$r"; then echo removes-absent; fi
exit 0
