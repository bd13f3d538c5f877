# shellcheck shell=sh
u=$1 p=$2
pw=$(getent passwd "$u") || { echo nouser; exit 0; }
home=$(printf '%s\n' "$pw" | cut -d: -f6)
gid=$(printf '%s\n' "$pw" | cut -d: -f4)
g=$(getent group "$gid" | cut -d: -f1)
printf 'group=%s\n' "${g:-$gid}"
uid=${pw#*:*:}
printf 'ids=%s:%s\n' "${uid%%:*}" "$gid"
[ -n "$p" ] || p=$home/.ssh/authorized_keys
# A literal ~/ at the start of the path argument, as Ansible accepts it (not the shell's tilde).
# shellcheck disable=SC2088
case $p in '~/'*) p=$home/${p#'~/'} ;; esac
printf 'path=%s\n' "$(printf '%s' "$p" | base64 -w0)"
d=$(dirname -- "$p")
if [ -e "$d" ] || [ -L "$d" ]; then printf 'dir=%s\n' "$(stat -c '%F|%a|%U|%G|%s' -- "$d")"; else echo dir=absent; fi
echo --
set -- "$p" content
. ./lib/file-facts.sh
