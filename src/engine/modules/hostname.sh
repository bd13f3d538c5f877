# shellcheck shell=sh
# The host's names, as Ansible's hostname module reads them: with systemd running, hostnamectl's
# transient (current) and static (permanent) names; without, /etc/hostname for both (Debian's
# FileStrategy). Then the FQDN as Python's socket.getfqdn() finds it. With $1 = NAME, it first sets
# them (what $2 and $3 say: "current", "permanent") and prints only the FQDN after.
fqdn() {
  n=$(hostname)
  a=$(getent ahosts "$n" | head -n 1)
  if [ -z "$a" ]; then printf 'fqdn=%s\n' "$n"; return; fi
  r=$(getent hosts "${a%% *}") || { printf 'fqdn=%s\n' "$n"; return; }
  # shellcheck disable=SC2086 # the names, split on blanks
  set -- $r
  shift
  h=${1:-$n}
  for x; do case $x in *.*) printf 'fqdn=%s\n' "$x"; return ;; esac; done
  printf 'fqdn=%s\n' "$h"
}
if [ -d /run/systemd/system ] && command -v hostnamectl >/dev/null 2>&1; then how='systemd'; else how='file'; fi
if [ -n "$1" ]; then
  set -e
  if [ "$how" = systemd ]; then
    if [ "$3" = permanent ]; then hostnamectl --pretty --static set-hostname "$1"; fi
    if [ "$2" = current ]; then hostnamectl --transient set-hostname "$1"; fi
  elif [ "$3" = permanent ]; then
    printf '%s\n' "$1" > /etc/hostname
  fi
  fqdn
  exit 0
fi
echo "how=$how"
if [ "$how" = systemd ]; then
  printf 'current=%s\n' "$(hostnamectl --transient status)"
  printf 'permanent=%s\n' "$(hostnamectl --static status)"
else
  p=; if [ -f /etc/hostname ]; then p=$(cat /etc/hostname); fi
  printf 'current=%s\npermanent=%s\n' "$p" "$p"
fi
fqdn
