# shellcheck shell=sh
# Keep what runs now (unless an earlier change is still unconfirmed: then the kept copy is what ran
# before that one, and stays). Nothing to keep when no tunnel was ever installed.
# $1 the directory (/etc/relay-play), $2 the tunnel's unit, $3 the change's token (kept in rollback/armed),
# $4 the tunnel's suffix ('' for relay-tunnel.service, -RELAY for relay-tunnel-RELAY.service: its own
# rollback$4/ and pinned key known_hosts$4).
# Prints "armed", or "none" when there is nothing to roll back to.
set -e
d=$1 unit=$2 token=$3 sfx=$4 rb=$1/rollback$4
exec 9>"$d/.rollback.lock"; flock 9
if [ ! -f "$rb/armed" ]; then
  if [ ! -f "/etc/systemd/system/$unit" ]; then echo none; exit 0; fi
  rm -rf -- "$rb"; mkdir -m 0700 -- "$rb"
  cp -p -- "/etc/systemd/system/$unit" "$rb/"
  for f in id_relay id_relay.pub "known_hosts$sfx"; do if [ -e "$d/$f" ]; then cp -p -- "$d/$f" "$rb/"; fi; done
fi
date +%s > "$rb/since"
printf '%s\n' "$token" > "$rb/armed.tmp"; mv -f -- "$rb/armed.tmp" "$rb/armed"
echo armed
