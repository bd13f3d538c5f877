# shellcheck shell=sh
# $1 name, $2 wanted primary group (or ''), $3 wanted home (or ''), $4 "shadow" to read the shadow entry,
# $5 wanted supplementary groups, comma-separated ('' for none asked, "," for an empty list).
n=$1 g=$2 h=$3 shadow=$4 groups=$5
field() { f=$1; i=1; while [ "$i" -lt "$2" ]; do f=${f#*:}; i=$((i + 1)); done; f=${f%%:*}; } # field LINE N → $f
if pw=$(getent passwd "$n"); then
  printf 'passwd=%s\n' "$pw"
  # The primary group's name: shown when a wanted group differs.
  if [ -n "$g" ]; then field "$pw" 4; gr=$(getent group "$f"); printf 'pgroup=%s\n' "${gr%%:*}"; fi
  if [ -z "$h" ]; then field "$pw" 6; h=$f; fi
  if [ -z "$shadow" ]; then :
  elif s=$(getent shadow "$n" 2>/dev/null); then
    # Never the hash itself: whether it is locked, and a digest to compare a wanted one with.
    field "$s" 2
    case $f in '!'*) echo lock=locked ;; *) echo lock=unlocked ;; esac
    f=${f#"${f%%[!!]*}"}
    printf 'pwsum=%s\n' "$(printf %s "$f" | sha256sum)"
    field "$s" 4; printf 'min=%s\n' "$f"
    field "$s" 5; printf 'max=%s\n' "$f"
    field "$s" 8; printf 'expire=%s\n' "$f"
  else
    echo lock=unknown
  fi
  if [ -n "$groups" ]; then
    # Groups that list the user as a member (the primary one too, when it does).
    m=
    while IFS= read -r line; do
      field "$line" 4
      case ",$f," in *",$n,"*) m=$m${m:+,}${line%%:*} ;; esac
    done <<EOF
$(getent group)
EOF
    printf 'member=%s\n' "$m"
  fi
else
  echo passwd=
  # useradd then needs to know whether a group of the same name exists.
  if getent group "$n" >/dev/null; then echo namegroup=yes; else echo namegroup=no; fi
fi
if [ -n "$g" ]; then
  if gr=$(getent group "$g"); then field "$gr" 3; printf 'group=%s:%s\n' "${gr%%:*}" "$f"; else echo group=; fi
fi
# Each wanted supplementary group: its name and gid, or nothing when it does not exist.
old_ifs=$IFS
IFS=,
for w in $groups; do
  if [ -z "$w" ]; then continue; fi
  if gr=$(getent group "$w"); then field "$gr" 3; printf 'g=%s:%s:%s\n' "$w" "${gr%%:*}" "$f"; else printf 'g=%s::\n' "$w"; fi
done
IFS=$old_ifs
if [ -n "$h" ]; then
  if [ -d "$h" ]; then echo home=yes; else echo home=no; fi
  if [ -d "${h%/*}" ] || [ -z "${h%/*}" ]; then echo homeparent=yes; else echo homeparent=no; fi
fi
exit 0
