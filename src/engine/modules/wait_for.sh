# shellcheck shell=sh
# wait_for's loop on the host, as Ansible's module runs it: the same checks, sleeps and deadline.
# $1 what (sleep|path|port|drained), $2 present|absent, $3 timeout, $4 delay, $5 sleep between checks,
# $6 connect_timeout, $7 host, $8 port, $9 path, $10 the search regex ("(?m)…", empty: none),
# $11 connection states (/proc/net/tcp codes), $12 the host's addresses, $13 the excluded ones (both
# FAMILY:HEX as /proc/net/tcp* write them), $14 the port in /proc's hex.
# Prints "ok|timeout|stat-error NANOSECONDS [STRERROR]"; once ok, what Ansible's add_path_info adds of an
# existing path (uid|gid|owner|group|mode|size|kind, "-" if none), then a file the regex matched, base64.
# $15 "expand": the path as Ansible's type=path has it (~ and $VARS, see pyexpand), printed first as
# "expanded BASE64".
# TCP through bash's /dev/tcp (Debian's bash is essential), the regex through grep -P (PCRE).
set -u
. ./command/expand.sh
what=$1 state=$2 timeout=$3 delay=$4 pause=$5 ct=$6 host=$7 port=$8 path=$9
shift 9
re=$1 states=$2 ips=$3 excl=$4 porthex=$5
if [ "${6:-}" = expand ]; then
  eval "path=$(pyexpand "$path")"
  printf 'expanded %s\n' "$(printf '%s' "$path" | base64 -w0)"
fi
now() { date +%s%N; }
start=$(now)
end=$((start + timeout * 1000000000))
done_() {
  printf '%s %s%s\n' "$1" "$(($(now) - start))" "${2:+ $2}"
  [ "$1" = ok ] || exit 0
  if [ -n "$path" ] && [ -e "$path" ]; then
    if [ -L "$path" ]; then k="link"; elif [ -d "$path" ]; then k=directory; elif [ "$(stat -L -c %h -- "$path")" -gt 1 ]; then k="hard"; else k="file"; fi
    stat -c "%u|%g|%U|%G|%a|%s|$k" -- "$path"
  else
    echo -
  fi
  [ -z "${3:-}" ] || base64 -w0 -- "$path"
  exit 0
}
# Whole seconds left before the deadline, rounded up (at least 1 while the loop runs).
left() { echo $(((end - $(now) + 999999999) / 1000000000)); }
# shellcheck disable=SC2016 # expanded by the bash that opens the socket
connect() { timeout "$1" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null; }
# On an open socket (fd 3): read as recv(1024) does until the regex matches ($1, exit 0) or the peer closes (1).
# shellcheck disable=SC2016
reader='t=$(mktemp) || exit 1
trap "rm -f \"\$t\"" EXIT
while :; do
  n=$(wc -c < "$t")
  dd bs=1024 count=1 <&3 >> "$t" 2>/dev/null
  [ "$(wc -c < "$t")" -gt "$n" ] || exit 1
  LC_ALL=C grep -Pzq -- "$1" "$t" && exit 0
done'
# shellcheck disable=SC2016 # expanded by the bash that opens the socket
search_port() {
  timeout "$(left)" bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 2; exec sh -c "$2" sh "$3"' \
    "$host" "$port" "$reader" "$re" 2>/dev/null
}
active() {
  n=0
  for f in 4:/proc/net/tcp 6:/proc/net/tcp6; do
    fam=${f%%:*} f=${f#*:}
    [ -f "$f" ] || continue
    while read -r _ loc rem st _; do
      [ "$loc" = local_address ] && continue
      case " $states " in *" $st "*) ;; *) continue ;; esac
      [ "${loc##*:}" = "$porthex" ] || continue
      case " $excl " in *" $fam:${rem%:*} "*) continue ;; esac
      lip=${loc%:*}
      if [ "$fam" = 4 ]; then all=00000000; else all=00000000000000000000000000000000; fi
      case " $ips " in *" $fam:$lip "* | *" $fam:$all "*)
        n=$((n + 1))
        continue
        ;;
      esac
      case $lip in 0000000000000000FFFF0000*)
        case " $ips " in *" $fam:0000000000000000FFFF000000000000 "*) n=$((n + 1)) ;; esac
        ;;
      esac
    done < "$f"
  done
  [ "$n" -eq 0 ]
}

[ "$delay" -gt 0 ] && sleep "$delay"
if [ "$what" = sleep ]; then
  sleep "$timeout"
  done_ ok
fi
while [ "$(now)" -lt "$end" ]; do
  case $what.$state in
    path.absent) [ -e "$path" ] || done_ ok ;;
    port.absent) connect "$ct" || done_ ok ;;
    path.present)
      if err=$(LC_ALL=C stat -L -c '' -- "$path" 2>&1 > /dev/null); then
        [ -z "$re" ] && done_ ok
        LC_ALL=C grep -Pzq -- "$re" "$path" 2> /dev/null && done_ ok '' matched
      else
        case $err in *': No such file or directory') ;; *) done_ stat-error "${err##*: }" ;; esac
      fi
      ;;
    port.present)
      c=$(left)
      [ "$c" -lt "$ct" ] || c=$ct
      if [ -n "$re" ]; then
        search_port && done_ ok
      else
        connect "$c" && done_ ok
      fi
      ;;
    drained.*) active && done_ ok ;;
  esac
  sleep "$pause"
done
done_ timeout
