# shellcheck shell=sh
p=$1; shift
facts() { if [ ! -e "$1" ] && [ ! -L "$1" ]; then echo absent; else stat -c '%F|%a|%U|%G|%s|%u|%g' -- "$1" || exit 1; fi; }
facts "$p"
if [ -L "$p" ]; then
  r=$(readlink -f -- "$p") || r=
  printf '%s\n' "$(printf '%s' "$r" | base64 -w0)"
  if [ -n "$r" ]; then facts "$r"; else echo absent; fi
fi
for d; do if [ -d "$d" ]; then echo d; elif [ -e "$d" ] || [ -L "$d" ]; then echo f; else echo -; fi; done
