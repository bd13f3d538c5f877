# shellcheck shell=sh
p=$1
if [ ! -e "$p" ] && [ ! -L "$p" ]; then echo absent; exit 0; fi
stat -c '%F|%a|%U|%G|%s|%u|%g' -- "$p" || exit 1
if [ "$2" = content ] && [ -f "$p" ] && [ ! -L "$p" ]; then base64 -w0 -- "$p" || exit 1; fi
