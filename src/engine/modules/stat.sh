# shellcheck shell=sh
p=$1 sum=$2
if [ "$3" = follow ] && [ -L "$p" ]; then r=$(readlink -f -- "$p") && [ -e "$r" ] && p=$r; fi
if [ ! -e "$p" ] && [ ! -L "$p" ]; then echo absent; exit 0; fi
stat -c '%F|%a|%U|%G|%s|%u|%g|%Y|%X|%Z|%i|%d|%h' -- "$p" || exit 1
if [ -L "$p" ]; then printf 'link=%s\n' "$(readlink -- "$p" | base64 -w0)"; printf 'source=%s\n' "$(readlink -f -- "$p" | base64 -w0)"; fi
access=; [ -r "$p" ] && access=r; [ -w "$p" ] && access=${access}w; [ -x "$p" ] && access=${access}x; printf 'access=%s\n' "$access"
if [ -n "$sum" ] && [ -f "$p" ] && [ ! -L "$p" ] && [ -r "$p" ]; then printf 'sum=%s\n' "$("${sum}sum" < "$p" | cut -d' ' -f1)"; fi
exit 0
