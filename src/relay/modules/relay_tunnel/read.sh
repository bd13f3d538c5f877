# shellcheck shell=sh
# relay_tunnel's read of a device (tunnelRead): every device reads this on every run, all at once on a
# small host, so it costs as few processes as it can.
# $1 the directory (/etc/relay-play), $2 the tunnel's unit, $3 a key to switch to (or ''), $4 the
# rollback unit (units are names under /etc/systemd/system), $5 the rollback script, $6 the tunnel's
# suffix (see snapshot.sh).
d=$1 unit=$2 newkey=$3 sfx=$6
# The four files: which exist, then one stat (owner, mode, size) and one base64 for all of them, cut
# apart by those sizes — three processes, not two a file.
# shellcheck disable=SC2034 # f1..f4 are read by the eval below, as $f
f1=/etc/systemd/system/$unit f2=$d/known_hosts$sfx f3=/etc/systemd/system/$4 f4=$5
set --
for n in 1 2 3 4; do
  eval "f=\$f$n"
  # shellcheck disable=SC2154 # f is set by the eval
  if [ -f "$f" ]; then set -- "$@" "$f"; echo "file$n=yes"; else echo "file$n=absent"; fi
done
if [ $# -gt 0 ]; then
  stat -L -c 'stat=%U:%G:%a %s' -- "$@"
  printf 'content='; cat -- "$@" | base64 -w0; echo
fi
armed=; if [ -f "$d/rollback$sfx/armed" ]; then IFS= read -r armed < "$d/rollback$sfx/armed"; fi
echo "armed=$armed"
if [ -n "$newkey" ] && [ -e "$newkey" ]; then echo newkey=yes; else echo newkey=no; fi
# Every tunnel unit installed (one per relay), so the role can remove those of relays no longer used.
printf 'units='; for f in /etc/systemd/system/relay-tunnel.service /etc/systemd/system/relay-tunnel-*.service; do
  if [ -f "$f" ]; then printf '%s ' "${f##*/}"; fi
done; echo
