# shellcheck shell=sh
state=$1 deb=$2; shift 2
printf 'cache %s %s\n' "$(stat -c %Y /var/cache/apt/pkgcache.bin 2>/dev/null || echo 0)" "$(date +%s)"
if [ -n "$deb" ]; then
  if [ -f "$deb" ]; then
    p=$(dpkg-deb -f "$deb" Package)
    printf 'deb|%s|%s|%s\n' "$p" "$(dpkg-deb -f "$deb" Version)" "$(dpkg-query -W -f='${db:Status-Abbrev}|${Version}' -- "$p" 2>/dev/null)"
  else echo 'deb-missing'; fi
fi
for spec; do
  n=${spec%%=*}
  s=$(dpkg-query -W -f='${db:Status-Abbrev}|${Version}' -- "$n" 2>/dev/null) || s='|'
  c=
  case $s in ii*|hi*) [ "$state" = latest ] && c=$(apt-cache policy -- "$n" 2>/dev/null | sed -n 's/^ *Candidate: //p') ;;
    *) c=$(apt-cache policy -- "$n" 2>/dev/null | sed -n 's/^ *Candidate: //p') ;; esac
  printf 'pkg|%s|%s|%s\n' "$n" "$s" "$c"
done
