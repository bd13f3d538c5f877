# shellcheck shell=sh
n=$1 g=$2 h=$3 lock=$4
field() { f=$1; i=1; while [ "$i" -lt "$2" ]; do f=${f#*:}; i=$((i + 1)); done; f=${f%%:*}; } # field LINE N → $f
if pw=$(getent passwd "$n"); then
  printf 'passwd=%s\n' "$pw"
  # The primary group's name: shown when a wanted group differs.
  if [ -n "$g" ]; then field "$pw" 4; gr=$(getent group "$f"); printf 'pgroup=%s\n' "${gr%%:*}"; fi
  if [ -z "$h" ]; then field "$pw" 6; h=$f; fi
  if [ -z "$lock" ]; then :
  elif s=$(getent shadow "$n" 2>/dev/null); then
    field "$s" 2
    case $f in '!'*) echo lock=locked ;; *) echo lock=unlocked ;; esac
  else
    echo lock=unknown
  fi
else
  echo passwd=
  # useradd then needs to know whether a group of the same name exists.
  if getent group "$n" >/dev/null; then echo namegroup=yes; else echo namegroup=no; fi
fi
if [ -n "$g" ]; then
  if gr=$(getent group "$g"); then field "$gr" 3; printf 'group=%s:%s\n' "${gr%%:*}" "$f"; else echo group=; fi
fi
if [ -n "$h" ]; then if [ -d "$h" ]; then echo home=yes; else echo home=no; fi; fi
exit 0
