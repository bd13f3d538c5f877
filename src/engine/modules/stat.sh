# shellcheck shell=sh
# stat's one read: $1 path, $2 checksum command (sha1, ...; empty: none), $3 "follow", $4 "md5",
# $5 "mime" (file's answer), $6 "attr" (lsattr's). Line 1: stat's fields; then key=value lines, text
# values in base64.
p=$1 sum=$2
b64() { base64 -w0; }
# follow: the link's target (os.stat); a link to nothing is no file.
if [ "$3" = follow ] && [ -L "$p" ]; then
  if [ -e "$p" ]; then p=$(readlink -f -- "$p"); else echo absent; exit 0; fi
fi
if [ ! -e "$p" ] && [ ! -L "$p" ]; then echo absent; exit 0; fi
stat -c '%F|%a|%U|%G|%s|%u|%g|%Y|%X|%Z|%i|%d|%h|%b|%o|%t|%T' -- "$p" || exit 1
if [ -L "$p" ]; then printf 'link=%s\n' "$(readlink -- "$p" | b64)"; printf 'source=%s\n' "$(readlink -m -- "$p" | b64)"; fi
access=; [ -r "$p" ] && access=r; [ -w "$p" ] && access=${access}w; [ -x "$p" ] && access=${access}x; printf 'access=%s\n' "$access"
if [ -f "$p" ] && [ ! -L "$p" ] && [ -r "$p" ]; then
  if [ -n "$sum" ]; then printf 'sum=%s\n' "$("${sum}sum" < "$p" | cut -d' ' -f1)"; fi
  if [ "$4" = md5 ]; then printf 'md5=%s\n' "$(md5sum < "$p" | cut -d' ' -f1)"; fi
fi
# As Ansible: `file` and `lsattr` on the path as given; a failure leaves their fields at their defaults.
if [ "$5" = mime ] && command -v file > /dev/null; then
  if out=$(file --mime-type --mime-encoding -- "$1" 2> /dev/null); then printf 'mime=%s\n' "$(printf '%s' "$out" | b64)"; fi
fi
if [ "$6" = attr ] && command -v lsattr > /dev/null; then
  if out=$(lsattr -vd -- "$1" 2> /dev/null); then printf 'attr=%s\n' "$(printf '%s' "$out" | b64)"; fi
fi
exit 0
