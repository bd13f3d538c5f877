# shellcheck shell=sh
if [ ! -e "$1" ]; then echo absent; exit 0; fi
if [ -d "$1" ]; then echo directory; exit 0; fi
echo ok
base64 -w0 -- "$1"
