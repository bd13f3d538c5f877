# shellcheck shell=sh
# The runner reached the device through the new tunnel: confirm the change.
# $1 the unit's invocation before the change, $2 our rollback's token ("" when none was armed);
# @TUNNEL_UNIT@ the tunnel's unit, @DIR@ the directory (/etc/relay-play), @RB@ its rollback's directory
# (rollback, or rollback-RELAY), @TIMER@ its rollback timer.
# Confirmed only once the tunnel runs a new invocation (a probe through the old one proves nothing).
# Prints "confirmed", "waiting STATE", or "rolled-back" when the device already undid the change.
unit=@TUNNEL_UNIT@ d=@DIR@ rb=@DIR@/@RB@
exec 9>"$d/.rollback.lock"; flock 9
armed=; if [ -f "$rb/armed" ]; then IFS= read -r armed < "$rb/armed"; fi
if [ -n "$2" ] && [ "$armed" != "$2" ]; then echo rolled-back; exit 0; fi
# One systemctl for both (every device runs this at once in a first apply).
inv='' state=''
for kv in $(systemctl show -p InvocationID,ActiveState -- "$unit"); do
  case $kv in InvocationID=*) inv=${kv#*=} ;; ActiveState=*) state=${kv#*=} ;; esac
done
if [ "$state" != active ] || [ "$inv" = "$1" ]; then echo "waiting $state"; exit 0; fi
if [ -n "$2" ]; then systemctl stop @TIMER@.timer 2>/dev/null; rm -rf -- "$rb"; fi
echo confirmed
