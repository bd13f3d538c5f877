# shellcheck shell=sh
# uri, on the host in one trip: $1 dest (empty: none), $2 creates, $3 removes, $4 yes to print the body
# whatever its size, $5 the accepted statuses (space-separated), $6 owner, $7 group, $8 mode. Stdin: the
# request, as http_req reads it. Prints key=value lines (values that may hold anything in base64), then
# the path info of the file written.
set -u
. ./lib/http.sh
dest=$1 creates=$2 removes=$3 want=$4 accept=$5 own=$6 grp=$7 perm=$8
home() {
  # shellcheck disable=SC2088 # the literal text '~/', as given
  case $1 in '~') printf '%s' "$HOME" ;; '~/'*) printf '%s/%s' "$HOME" "${1#'~/'}" ;; *) printf '%s' "$1" ;; esac
}
dest=$(home "$dest") creates=$(home "$creates") removes=$(home "$removes")
if [ -n "$creates" ] && { [ -e "$creates" ] || [ -L "$creates" ]; }; then
  printf 'step=creates\npath=%s\n' "$creates"; exit 0
fi
if [ -n "$removes" ] && [ ! -e "$removes" ] && [ ! -L "$removes" ]; then
  printf 'step=removes\npath=%s\n' "$removes"; exit 0
fi
if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1; then echo tool=none; exit 0; fi
um=$(umask)
umask 077
t=$(mktemp -d "${TMPDIR:-/tmp}/uri.XXXXXXXX") || exit 1
trap 'rm -rf -- "$t"' EXIT

since_arg=
if [ -n "$dest" ] && [ -f "$dest" ]; then since_arg=$(since "$dest"); fi
start=$(date +%s%N)
http_req "$t/body" "$t/h" "$t/i" "" "$since_arg"
printf 'elapsed=%s\n' "$((($(date +%s%N) - start) / 1000000000))"
http_report "$t/i" "$t/h"
{ read -r code; read -r eff; read -r rc; } < "$t/i"
ok=
for s in $accept; do [ "$s" != "$code" ] || ok=1; done
if [ "$rc" = 0 ] || [ "$code" != 000 ]; then
  size=$(wc -c < "$t/body")
  if [ "$want" = yes ] || [ -z "$ok" ] || [ "$size" -le 4194304 ]; then
    printf 'body=%s\n' "$(base64 -w0 < "$t/body")"
  fi
  if [ -n "$dest" ]; then
    if [ -d "$dest" ]; then
      # The name the server gives (Content-Disposition), else the last part of the URL it ended at.
      name=$(tr -d '\r' < "$t/h" | sed -n 's/^[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Dd][Ii][Ss][Pp][Oo][Ss][Ii][Tt][Ii][Oo][Nn]:.*filename="\{0,1\}\([^";]*\).*/\1/p' | tail -n 1)
      if [ -z "$name" ]; then
        name=${eff#*://}; name=${name%%[?#]*}; name=${name%/}
        case $name in */*) name=${name##*/} ;; *) name= ;; esac
      fi
      dest=${dest%/}/${name:-index.html}
    fi
    printf 'path=%s\n' "$dest"
    if [ -n "$ok" ] && [ "$code" != 304 ]; then
      if ! cmp -s -- "$t/body" "$dest" 2>/dev/null; then
        install_file "$t/body" "$dest" "$um" || { echo step=write_failed; pathinfo "$dest"; exit 0; }
      fi
      echo written=yes
      set_attrs "$dest" "$own" "$grp" "$perm" apply || echo step=attrs_failed
    fi
    pathinfo "$dest"
  fi
fi
