# shellcheck shell=sh
p=$1
if [ -L "$p" ]; then r=$(readlink -f -- "$p") && [ -n "$r" ] && p=$r; fi
printf '%s' "$p" | base64 -w0; echo
if [ -d "$(dirname -- "$p")" ]; then echo parent; else echo noparent; fi
set -- "$p" content
. ./file-facts.sh
