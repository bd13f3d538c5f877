# shellcheck shell=sh
# http_req OUT HDRS INFO HEAD SINCE: one request, by curl, else by GNU wget. Its URL, headers and
# credentials (secrets, maybe) come on stdin, never on a command line: curl's config, a line #wget, wget's
# (its first line "#url URL"), a line #end. HEAD: yes for a HEAD request; SINCE: an If-Modified-Since date
# or empty. The body goes to OUT, the headers of every response to HDRS (curl -D's form); INFO gets the
# last response's status (000 without one), the URL it ended at (empty: worked out from the Locations),
# the tool's exit status and its error message, one a line.
http_req() {
  _o=$1 _h=$2 _i=$3 _head=$4 _since=$5
  _cc='' _wc='' _u='' _s=c
  while IFS= read -r _l; do
    case $_l in
      '#wget') _s=w; continue ;;
      '#end') break ;;
      '#url '*) _u=${_l#'#url '}; continue ;;
    esac
    if [ "$_s" = c ]; then _cc="$_cc$_l
"; else _wc="$_wc$_l
"; fi
  done
  if command -v curl >/dev/null 2>&1; then
    set -- -q -sS -K - -D "$_h" -o "$_o" -w '%{http_code}\n%{url_effective}\n'
    [ -z "$_head" ] || set -- "$@" -I
    [ -z "$_since" ] || set -- "$@" -H "If-Modified-Since: $_since"
    _w=$(printf '%s' "$_cc" | curl "$@" 2>"$_i.err")
    _rc=$?
    _code=${_w%%"
"*} _url=${_w#*"
"}
    # A file: URL has no status; Ansible takes what it read.
    case $_url in file:*) [ "$_rc" != 0 ] || _code=200 ;; esac
    printf '%s\n%s\n%s\n' "$_code" "$_url" "$_rc" > "$_i"
    tr '\n' ' ' < "$_i.err" >> "$_i"
  else
    case $_wc in *'#unsupported '*)
      printf '000\n\n99\n%s\n' "$(printf '%s' "$_wc" | grep '^#unsupported ' | head -n 1)" > "$_i"
      return ;;
    esac
    # wget reads its settings from a regular file only: one in this script's private directory.
    printf '%s' "$_wc" > "$_i.rc"
    set -- --config="$_i.rc" -O "$_o"
    [ -z "$_head" ] || set -- "$@" --method=HEAD
    [ -z "$_since" ] || set -- "$@" "--header=If-Modified-Since: $_since"
    LC_ALL=C wget "$@" -i /dev/fd/3 2>"$_i.err" 3<<URL
$_u
URL
    _rc=$?
    rm -f -- "$_i.rc"
    # Its -S lines (two spaces in) as curl -D writes them: one block per response.
    awk '/^  HTTP\//{ if (n++) print "" } /^  /{ sub(/^  /, ""); print }' "$_i.err" > "$_h"
    _code=$(awk '/^HTTP\//{ c = $2 } END { print c ? c : "000" }' "$_h")
    printf '%s\n\n%s\n' "$_code" "$_rc" > "$_i"
    grep -E 'failed: |ERROR|unable to|Unable to' "$_i.err" | tail -n 1 | tr '\n' ' ' >> "$_i"
  fi
  echo >> "$_i"
}

# http_report INFO HDRS: what the script prints of a request, for the module to read (values that may hold
# newlines or anything else in base64).
http_report() {
  { read -r _code; read -r _url; read -r _rc; read -r _err; } < "$1"
  printf 'status=%s\nfinal_url=%s\nhttp_rc=%s\nhttp_err=%s\n' "$_code" "$_url" "$_rc" "$_err"
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
