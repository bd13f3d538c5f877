# shellcheck shell=sh
# Undo now (the runner can still reach the device directly), then say what the new tunnel logged.
# $1 our rollback's token ("" when none was armed); @TUNNEL_UNIT@ the tunnel's unit, @DIR@ the directory.
systemctl stop relay-play-rollback-arm.timer 2>/dev/null
if [ -n "$1" ] && [ "$(cat -- @DIR@/rollback/armed 2>/dev/null)" = "$1" ]; then systemctl start relay-play-rollback.service; fi
echo '---log'
journalctl -u @TUNNEL_UNIT@ -n 30 -o cat --no-pager 2>/dev/null; exit 0
