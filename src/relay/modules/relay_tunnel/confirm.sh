# shellcheck shell=sh
# The runner reached the device through the new tunnel: confirm the change.
# $1 the unit's invocation before the change, $2 our rollback's token ("" when none was armed);
# @TUNNEL_UNIT@ the tunnel's unit, @DIR@ the directory (/etc/relay-play), @RB@ its rollback's directory
# (rollback, or rollback-RELAY), @TIMER@ its rollback timer.
# Confirmed only once the tunnel runs a new invocation (a probe through the old one proves nothing).
# Prints "confirmed", "waiting STATE", or "rolled-back" when the device already undid the change.
# A confirm whose answer was lost on the way (its connection cut under it) is asked again: the token it
# confirmed is kept in @RB@.confirmed, so the second answer is "confirmed" too, never "rolled-back".
unit=@TUNNEL_UNIT@ d=@DIR@ rb=@DIR@/@RB@
exec 9>"$d/.rollback.lock"; flock 9
armed=; if [ -f "$rb/armed" ]; then IFS= read -r armed < "$rb/armed"; fi
if [ -n "$2" ] && [ "$armed" != "$2" ]; then
  was=; if [ -f "$rb.confirmed" ]; then IFS= read -r was < "$rb.confirmed"; fi
  if [ "$was" = "$2" ]; then echo confirmed; else echo rolled-back; fi
  exit 0
fi
# One systemctl for both (every device runs this at once in a first apply).
inv='' state=''
for kv in $(systemctl show -p InvocationID,ActiveState -- "$unit"); do
  case $kv in InvocationID=*) inv=${kv#*=} ;; ActiveState=*) state=${kv#*=} ;; esac
done
if [ "$state" != active ] || [ "$inv" = "$1" ]; then echo "waiting $state"; exit 0; fi
if [ -n "$2" ]; then
  systemctl stop @TIMER@.timer 2>/dev/null
  printf '%s\n' "$2" > "$rb.confirmed.tmp" && mv -f -- "$rb.confirmed.tmp" "$rb.confirmed"
  rm -rf -- "$rb"
fi
echo confirmed
