# shellcheck shell=sh
# $1 enabled (it also runs at boot), then, with $2 = start, started: the rollback unit, and a tunnel
# installed as wanted but not running. Always a daemon-reload: these units are already loaded, and
# systemd keeps the UnitFileState it read then — after `enable --no-reload` it still says "disabled"
# (NeedDaemonReload=no; seen on Debian 12), and the next run would enable it again and again.
set -e
systemctl enable --quiet --no-reload -- "$1"
systemctl daemon-reload
if [ "$2" = start ]; then systemctl start -- "$1"; fi
