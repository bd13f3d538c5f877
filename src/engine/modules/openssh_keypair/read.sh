# shellcheck shell=sh
p=$1 nl='
'
if { [ -e "$p" ] || [ -L "$p" ]; } && [ -f "$p.pub" ]; then
  # Both (the usual case): one stat for the two.
  s=$(stat -c '%F|%a|%U|%G|%s' -- "$p" "$p.pub")
  printf 'key=%s\npubstat=%s\n' "${s%%"$nl"*}" "${s#*"$nl"}"
else
  if [ -e "$p" ] || [ -L "$p" ]; then printf 'key=%s\n' "$(stat -c '%F|%a|%U|%G|%s' -- "$p")"; else echo key=absent; fi
  if [ -f "$p.pub" ]; then printf 'pubstat=%s\n' "$(stat -c '%F|%a|%U|%G|%s' -- "$p.pub")"; fi
fi
case $p in */*) d=${p%/*}; d=${d:-/} ;; *) d=. ;; esac
if [ -d "$d" ]; then echo dir=yes; else echo dir=no; fi
if [ -f "$p.pub" ]; then
  IFS= read -r line < "$p.pub" || :
  printf 'pub=%s\n' "$line"
fi
exit 0
