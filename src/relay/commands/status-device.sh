# shellcheck shell=sh
# `relay-play status`, asked of a device: its tunnel unit's ($1) state and restarts, then its journal.
printf 'state=%s\n' "$(systemctl is-active -- "$1" 2>/dev/null)"
printf 'restarts=%s\n' "$(systemctl show -p NRestarts --value -- "$1" 2>/dev/null)"
journalctl -u "$1" -n 30 --no-pager -o cat 2>/dev/null; exit 0
