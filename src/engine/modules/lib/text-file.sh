# shellcheck shell=sh
# A text file to edit: its real path (base64), whether its parent is there, who would own a file
# created now and with what mode (umask; `id` only when the file is missing), then its facts.
p=$1
if [ -L "$p" ]; then r=$(readlink -f -- "$p") && [ -n "$r" ] && p=$r; fi
printf '%s' "$p" | base64 -w0; echo
if [ -d "$(dirname -- "$p")" ]; then echo parent; else echo noparent; fi
if [ -e "$p" ] || [ -L "$p" ]; then umask; else printf '%s %s\n' "$(umask)" "$(id)"; fi
set -- "$p" content
. ./file-facts.sh
