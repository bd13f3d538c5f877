# shellcheck shell=sh
# http_req OUT HDRS INFO [CURL OPTION...]: one request by curl, its URL, headers and credentials read as
# a curl config on stdin (never on a command line: they may hold secrets). The body goes to OUT, the
# headers of every response to HDRS; INFO gets the status of the last response (000 without one), the
# URL it ended at, curl's exit status and its error message, one a line.
http_req() {
  _o=$1 _h=$2 _i=$3; shift 3
  _w=$(curl -q -sS -K - -D "$_h" -o "$_o" -w '%{http_code}\n%{url_effective}\n' "$@" 2>"$_i.err")
  _rc=$?
  _code=${_w%%"
"*} _url=${_w#*"
"}
  # A file: URL has no status; Ansible takes what it read.
  case $_url in file:*) [ "$_rc" != 0 ] || _code=200 ;; esac
  printf '%s\n%s\n%s\n' "$_code" "$_url" "$_rc" > "$_i"
  tr '\n' ' ' < "$_i.err" >> "$_i"
  echo >> "$_i"
}

# http_report INFO HDRS: what the script prints of a request, for the module to read (values that may hold
# newlines or anything else in base64).
http_report() {
  { read -r _code; read -r _url; read -r _rc; read -r _err; } < "$1"
  printf 'status=%s\nfinal_url=%s\ncurl_rc=%s\ncurl_err=%s\n' "$_code" "$_url" "$_rc" "$_err"
  printf 'headers=%s\n' "$(base64 -w0 < "$2")"
}

# since FILE: FILE's modification time as an HTTP date, for If-Modified-Since.
since() {
  LC_ALL=C date -u -r "$1" '+%a, %d %b %Y %H:%M:%S GMT'
}

# pathinfo PATH: PATH's stat as Ansible adds it to a result naming a path that exists.
pathinfo() {
  if [ -e "$1" ] || [ -L "$1" ]; then
    printf 'pathinfo=%s|' "$1"
    stat -c '%u|%g|%U|%G|%a|%F|%h|%s' -- "$1"
  fi
}

# set_attrs FILE OWNER GROUP MODE APPLY: owner, group and mode as asked (empty: left alone); prints
# attrs=changed when one differed, and changes them only with APPLY=apply.
set_attrs() {
  _st=$(stat -c '%U|%G|%a' -- "$1") || return 1
  _c=
  if [ -n "$2" ] && [ "${_st%%|*}" != "$2" ]; then _c=1; fi
  _g=${_st#*|}
  if [ -n "$3" ] && [ "${_g%%|*}" != "$3" ]; then _c=1; fi
  if [ -n "$4" ] && [ "$(printf '%04o' "0${_st##*|}")" != "$(printf '%04o' "0$4")" ]; then _c=1; fi
  [ -n "$_c" ] || return 0
  echo attrs=changed
  [ "$5" = apply ] || return 0
  if [ -n "$2" ]; then chown -- "$2" "$1" || return 1; fi
  if [ -n "$3" ]; then chgrp -- "$3" "$1" || return 1; fi
  if [ -n "$4" ]; then chmod -- "$4" "$1" || return 1; fi
}

# install_file SRC DEST UMASK: SRC put at DEST by a rename in DEST's directory, as Ansible's atomic_move:
# a file it replaces keeps its owner and mode, a new one gets 0666 less the umask.
install_file() {
  _d=${2%/*}; [ "$_d" != "$2" ] || _d=.
  _n=$(mktemp -- "${_d:-/}/.relay-play.XXXXXXXX") || return 1
  if [ -e "$2" ]; then
    chown --reference="$2" -- "$_n" 2>/dev/null
    chmod --reference="$2" -- "$_n"
  else
    chmod "$(printf '%o' $((0666 & ~0$3)))" -- "$_n"
  fi
  if ! cat -- "$1" > "$_n" || ! mv -f -- "$_n" "$2"; then rm -f -- "$_n"; return 1; fi
}
