# shellcheck shell=sh
# The switch: the new key (rotate), the rollback timer, and the restart.
# $1 the directory (/etc/relay-play), $2 the tunnel's unit, $3 the confirm timeout (seconds), $4 a key
# to switch to (or ''), $5 the comment of its public key, $6 a delay before the restart (or ''), $7 the
# rollback unit, $8 set when a unit systemd had loaded was disabled, $9 the tunnel's suffix (see snapshot.sh).
# When the runner is connected through this very tunnel ($6 = delay), systemd restarts it half a second
# later, so this command returns before the tunnel goes down; connected directly, at once.
# daemon-reload (~0.1 s of systemd's CPU) only when systemd asks for one: a unit it never loaded is read
# when it is first started. The rollback unit ($7) is enabled in the same calls (each systemctl costs a
# small device a process and a call to systemd). A unit systemd had loaded while it was disabled ($8 set)
# needs the reload all the same: systemd keeps the UnitFileState it read (see enable.sh). A rollback
# timer runs only while a change is armed (and its unit does nothing without one), so there is none to
# stop when nothing is armed.
set -e
d=$1 unit=$2 timeout=$3 newkey=$4 comment=$5 delay=$6 rbunit=$7 stale=$8 sfx=$9
if [ -n "$newkey" ] && [ -e "$newkey" ]; then
  mv -f -- "$newkey" "$d/id_relay"
  pub=$(ssh-keygen -y -f "$d/id_relay" </dev/null | cut -d' ' -f1,2)
  printf '%s %s\n' "$pub" "$comment" > "$d/.id_relay.pub.tmp"
  chmod 0644 -- "$d/.id_relay.pub.tmp"; mv -f -- "$d/.id_relay.pub.tmp" "$d/id_relay.pub"
  rm -f -- "$newkey.pub"
fi
# enable before the daemon-reload: on systemd 257 (Debian 13) an enable after it leaves every unit
# flagged NeedDaemonReload, and the next run would spend a round trip on another reload.
systemctl enable --quiet --no-reload -- "$unit" "$rbunit"
. ./reload-if-needed.sh
if [ -n "$stale" ]; then systemctl daemon-reload; else reload_if_needed "$unit" "$rbunit"; fi
# Each tunnel's timer undoes that tunnel's change only (the rollback program, given its suffix).
if [ -f "$d/rollback$sfx/armed" ]; then
  systemctl stop "relay-play-rollback-arm$sfx.timer" 2>/dev/null || true
  systemd-run --quiet --collect --unit="relay-play-rollback-arm$sfx" --on-active="$timeout" \
    --timer-property=AccuracySec=1s --timer-property=RemainAfterElapse=no \
    /usr/local/lib/relay-play/tunnel-rollback "rollback$sfx"
fi
if [ -n "$delay" ]; then
  systemd-run --quiet --collect --unit="relay-play-restart-$(date +%s%N)" --on-active="$delay" \
    --timer-property=AccuracySec=50ms --timer-property=RemainAfterElapse=no systemctl restart -- "$unit"
else
  systemctl restart --no-block -- "$unit"
fi
echo switched
