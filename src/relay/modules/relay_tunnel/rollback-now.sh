# shellcheck shell=sh
# Undo now (the runner can still reach the device directly), then say what the new tunnel logged.
# $1 our rollback's token ("" when none was armed); @TUNNEL_UNIT@ the tunnel's unit, @DIR@ the directory,
# @RB@ its rollback's directory (rollback, or rollback-RELAY), @TIMER@ its rollback timer.
systemctl stop @TIMER@.timer 2>/dev/null
if [ -n "$1" ] && [ "$(cat -- @DIR@/@RB@/armed 2>/dev/null)" = "$1" ]; then
  /usr/local/lib/relay-play/tunnel-rollback @RB@ >/dev/null
fi
echo '---log'
journalctl -u @TUNNEL_UNIT@ -n 30 -o cat --no-pager 2>/dev/null; exit 0
