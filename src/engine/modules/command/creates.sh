# shellcheck shell=sh
IFS=
if [ -n "$1" ]; then cd -- "$1" 2>/dev/null || true; fi
exists() { for f in $1; do if [ -e "$f" ] || [ -L "$f" ]; then return 0; fi; done; return 1; }
if [ -n "$2" ] && exists "$2"; then echo creates-exists; fi
if [ -n "$3" ] && ! exists "$3"; then echo removes-absent; fi
exit 0
