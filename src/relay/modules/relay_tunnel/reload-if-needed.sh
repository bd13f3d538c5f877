# shellcheck shell=sh
# `reload_if_needed UNIT...`: daemon-reload unless systemd says, for every unit, that it has read the
# unit's files as they are (NeedDaemonReload=no; systemctl prints a block per unit, an empty line
# between). No answer, or any other, reloads. Sourced by switch.sh.
reload_if_needed() {
  n=0
  for v in $(systemctl show -p NeedDaemonReload --value -- "$@"); do if [ "$v" = no ]; then n=$((n + 1)); else n=-1; break; fi; done
  [ "$n" -eq $# ] || systemctl daemon-reload
}
