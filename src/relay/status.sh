# shellcheck shell=sh
# `relay-play status` on the relay (as root), in one round trip: $1 the fleet state file, $2
# relay-play's directory under /run. Prints the fleet state, the tunnel watcher's record (watch/state
# beside the fleet state), the listeners, the age of every listening process, and for each device port
# that is listening the ed25519 host key seen through it. Sections start with "---".
#
# A tunnel is one sshd session on the relay, and what answers through it can't change while that
# session lives: its host key is read (ssh-keyscan, 32 at a time, 4 s at most each) once per session
# and remembered in $2/status-checked (port, session = pid.start time, key), so a status of hundreds of
# tunnels scans only those that came up since the last one. Device ports are the "port" keys of the
# entries under "devices" in the state file as relay-play writes it (one key a line); with $3.. given,
# those ports instead.
f=$1 run=$2; shift 2
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
echo '---fleet'; if [ -f "$f" ]; then cat -- "$f"; fi
echo '---watch'; if [ -f "${f%/*}/watch/state" ]; then cat -- "${f%/*}/watch/state"; fi
if [ $# -gt 0 ]; then printf '%s\n' "$@" > "$t/ports"
else
  awk '{ if (depth == 1 && $0 ~ /^ *"[^"]*":/) sec = ($0 ~ /^ *"devices":/) }
    sec && depth == 3 && /^ *"port": *[0-9]+/ { gsub(/[^0-9]/, ""); print }
    { depth += gsub(/[{]/, "&") - gsub(/[}]/, "&") }' "$f" > "$t/ports" 2>/dev/null
fi
scan=yes; command -v ssh-keyscan >/dev/null 2>&1 || scan=no
ss -Hltnp >"$t/ss" 2>&1
# "port pid" of sshd's listeners on loopback, then "port pid.starttime": a session's identity.
awk '{ n = split($4, a, ":"); p = a[n]; addr = substr($4, 1, length($4) - length(p) - 1)
  if ((addr == "127.0.0.1" || addr == "[::1]") && match($0, /"sshd[^"]*",pid=[0-9]+/)) { s = substr($0, RSTART, RLENGTH); sub(/.*pid=/, "", s); print p, s } }' "$t/ss" | sort -u -k1,1 > "$t/listen"
while read -r port pid; do
  # shellcheck disable=SC2086 # split on purpose: field 22 is the start time (field 2, the name, is sshd's: one word)
  if read -r st < "/proc/$pid/stat"; then set -- $st; echo "$port $pid.${22}"; fi
done < "$t/listen" > "$t/sessions" 2>/dev/null
cat -- "$run/status-checked" > "$t/checked" 2>/dev/null
# Device ports that listen: the key remembered for their session, or a scan.
awk -v keys="$t/keys" -v scans="$t/scan" 'FILENAME == ARGV[1] { want[$1] = 1; next }
  FILENAME == ARGV[2] { sid[$1] = $2; next }
  ($1 in want) && ($1 in sid) && sid[$1] == $2 && !($1 in seen) { seen[$1] = 1; print > keys }
  END { for (p in want) if ((p in sid) && !(p in seen)) print p > scans }' "$t/ports" "$t/sessions" "$t/checked"
touch "$t/keys" "$t/scan"
if [ $scan = yes ] && [ -s "$t/scan" ]; then
  # shellcheck disable=SC2016 # $1 and $2 are the inner sh's
  xargs -P 32 -I{} sh -c 'ssh-keyscan -T 4 -t ed25519 -p "$2" 127.0.0.1 > "$1/k$2" 2>/dev/null' sh "$t" {} < "$t/scan"
  awk -v dir="$t" 'FILENAME == dir "/sessions" { sid[$1] = $2; next } /^#/ || !NF { next }
    { p = FILENAME; sub(/.*\/k/, "", p); if (!(p in done)) { done[p] = 1; print p, sid[p], $0 } }' "$t/sessions" "$t"/k* >> "$t/keys"
fi
# shellcheck disable=SC2174 # /run exists: only relay-play's own directory is made, with that mode
if mkdir -p -m 0700 -- "$run" && cp -- "$t/keys" "$run/.status-checked.tmp"; then mv -f -- "$run/.status-checked.tmp" "$run/status-checked"; fi 2>/dev/null
echo '---ports'; cat "$t/ports"
echo "---scan $scan"
echo '---ss'; cat "$t/ss"
pids=$(grep -o 'pid=[0-9]*' "$t/ss" | cut -d= -f2 | sort -u | tr '\n' ',' | sed 's/,$//')
echo '---ps'; if [ -n "$pids" ]; then ps -o pid=,etimes= -p "$pids" 2>/dev/null; fi
while read -r port _ line; do echo "---key $port"; echo "$line"; done < "$t/keys"
exit 0
