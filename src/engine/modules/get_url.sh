# shellcheck shell=sh
# get_url, the whole of it on the host in one trip, as Ansible's module decides:
# $1 check|apply, $2 dest, $3 force (yes or empty), $4 the checksum's algorithm, $5 the checksum (hex,
# empty: none, or `url`: read from the checksum file whose request comes first on stdin), $6 backup (yes
# or empty), $7 tmp_dest, $8 owner, $9 group, ${10} mode, ${11} the URL's file name. Stdin: the requests,
# as http_req reads them. Prints key=value lines (step=... says where it stopped), then the stat of the
# destination (path info, as Ansible adds it to every result).
set -u
. ./lib/http.sh
run=$1 dest=$2 force=$3 algo=$4 sum=$5 backup=$6 tmpd=$7 own=$8 grp=$9 perm=${10} urlname=${11}
# shellcheck disable=SC2088 # the literal text '~/', as given
case $dest in '~') dest=$HOME ;; '~/'*) dest=$HOME/${dest#'~/'} ;; esac
printf 'dest=%s\n' "$dest"
um=$(umask)
umask 077

finish() {
  pathinfo "$dest"
  exit 0
}
digest() {
  "${algo}sum" -- "$1" | cut -d' ' -f1
}
now() {
  date +%s%N
}
attrs() {
  set_attrs "$1" "$own" "$grp" "$perm" "$run"
}

if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1; then echo tool=none; exit 0; fi
if [ -n "$tmpd" ] && [ ! -d "$tmpd" ]; then
  if [ -e "$tmpd" ]; then echo step=tmp_dest_file; else echo step=tmp_dest_absent; fi
  exit 0
fi
t=$(mktemp -d "${tmpd:-${TMPDIR:-/tmp}}/get_url.XXXXXXXX") || exit 1
trap 'rm -rf -- "$t"' EXIT

if [ "$sum" = url ]; then
  http_req "$t/sums" "$t/sh" "$t/si" "" ""
  { read -r code; read -r _; read -r rc; } < "$t/si"
  if [ "$rc" != 0 ] || [ "$code" != 200 ]; then
    echo step=sums_request; http_report "$t/si" "$t/sh"; finish
  fi
  # As Ansible: one line of one word is the checksum; else lines "SUM NAME" (NAME after one space and
  # a ' ' or '*' type mark, leading dots and slashes dropped), the first naming the URL's file.
  sum=$(awk -v f="$urlname" '
    { l[NR] = $0 }
    END {
      if (NR == 1 && split(l[1], w) == 1) { print w[1]; exit }
      for (i = 1; i <= NR; i++) {
        p = index(l[i], " "); if (!p) continue
        n = substr(l[i], p + 1); if (n ~ /^[ *]/) n = substr(n, 2)
        sub(/^[.\/]+/, "", n)
        if (n == f) { print substr(l[i], 1, p - 1); exit }
      }
    }' "$t/sums")
  if [ -z "$sum" ]; then echo step=sums_missing; finish; fi
  sum=$(printf '%s' "$sum" | LC_ALL=C tr -cd 'A-Za-z0-9_' | LC_ALL=C tr '[:upper:]' '[:lower:]')
  case $sum in '' | *[!0-9a-f_]*) echo step=sums_invalid; finish ;; esac
  printf 'checksum=%s\n' "$sum"
fi

since_arg=
if [ ! -d "$dest" ] && [ -e "$dest" ]; then
  if [ -z "$force" ] && [ -n "$sum" ]; then
    if [ "$(digest "$dest")" = "$sum" ]; then
      echo step=exists
      attrs "$dest" || { echo step=attrs_failed; finish; }
      finish
    fi
    force=yes
  fi
  if [ -z "$force" ]; then since_arg=$(since "$dest"); fi
fi

start=$(now)
if [ "$run" = check ]; then
  http_req "$t/body" "$t/h" "$t/i" yes "$since_arg"
  : > "$t/body"
else
  http_req "$t/body" "$t/h" "$t/i" "" "$since_arg"
fi
printf 'elapsed=%s\n' "$((($(now) - start) / 1000000000))"
http_report "$t/i" "$t/h"
{ read -r code; read -r eff; read -r rc; } < "$t/i"
if [ "$rc" != 0 ] || [ "$code" != 200 ]; then echo step=request; finish; fi

if [ -d "$dest" ]; then
  # The name the server gives (Content-Disposition), else the last part of the URL it ended at.
  name=$(tr -d '\r' < "$t/h" | sed -n 's/^[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Dd][Ii][Ss][Pp][Oo][Ss][Ii][Tt][Ii][Oo][Nn]: *attachment; \{0,1\}filename="\{0,1\}\([^"]*\).*/\1/p' | tail -n 1)
  name=${name##*/}
  if [ -z "$name" ] && [ -z "$eff" ]; then
    # wget does not say where it ended: the last Location, else the URL asked for.
    eff=$(tr -d '\r' < "$t/h" | sed -n 's/^[Ll][Oo][Cc][Aa][Tt][Ii][Oo][Nn]: *//p' | tail -n 1)
    [ -n "$eff" ] || name=$urlname
  fi
  if [ -z "$name" ]; then
    name=${eff#*://}; name=${name%%[?#]*}
    case $name in */*) name=${name##*/} ;; *) name= ;; esac
  fi
  dest=${dest%/}/${name:-index.html}
  printf 'dest=%s\n' "$dest"
fi
printf 'checksum_src=%s\n' "$(sha1sum < "$t/body" | cut -d' ' -f1)"
if [ -e "$dest" ]; then
  if [ ! -w "$dest" ]; then echo step=dest_not_writable; finish; fi
  if [ ! -r "$dest" ]; then echo step=dest_not_readable; finish; fi
  printf 'checksum_dest=%s\n' "$(sha1sum < "$dest" | cut -d' ' -f1)"
else
  dir=${dest%/*}; [ "$dir" != "$dest" ] || dir=.
  if [ ! -e "${dir:-/}" ]; then echo step=dir_absent; finish; fi
  if [ ! -w "${dir:-/}" ]; then echo step=dir_not_writable; finish; fi
fi
if [ "$run" = check ]; then echo step=checked; finish; fi

if ! cmp -s -- "$t/body" "$dest" 2>/dev/null; then
  if [ -n "$backup" ] && [ -e "$dest" ]; then
    b="$dest.$$.$(date +%Y-%m-%d@%H:%M:%S)~"
    cp -p -- "$dest" "$b" && printf 'backup_file=%s\n' "$b"
  fi
  install_file "$t/body" "$dest" "$um" || { echo step=move_failed; finish; }
  echo moved=yes
fi
if [ -n "$sum" ]; then
  got=$(digest "$dest")
  if [ "$got" != "$sum" ]; then
    rm -f -- "$dest"; printf 'step=mismatch\ngot=%s\n' "$got"; finish
  fi
fi
attrs "$dest" || { echo step=attrs_failed; finish; }
printf 'md5sum=%s\n' "$(md5sum < "$dest" | cut -d' ' -f1)"
echo step=done
finish
