# shellcheck shell=sh
# The file module's one read. $1 path, $2 "follow" or "", $3 a name to put the path inside when it is a
# directory (state=hard: Ansible's rewrite) or "", $4 "link"/"hard" (then $5 src) or "", $6 "tree" to
# list what is below the path (recurse, or absent's path_content), $7 owner, $8 group (names to resolve),
# $9 and $10 times ("YYYY-mm-dd HH:MM:SS", local) to turn into epochs, $11 "attr" for lsattr's flags,
# then the ancestors to look at.
# Prints NUL-ended records, TAB-separated, any path last: the umask, the path, "s" its own facts (find
# -printf, below; "l" and its link's text after a link), "t" the facts of what it resolves to.
p=$1 follow=$2 into=$3 kind=$4 src=$5 tree=$6 owner=$7 group=$8 mt=$9
shift 9
at=$1 attr=$2
shift 2
F='%y\t%Y\t%m\t%U\t%G\t%u\t%g\t%s\t%n\t%i\t%D\t%A@\t%T@'
# find takes a leading "-" for an option: such a path is given as ./-x
arg() { case $1 in -*) printf './%s' "$1" ;; *) printf '%s' "$1" ;; esac; }
facts() {
  if [ -e "$2" ] || [ -L "$2" ]; then
    find "$(arg "$2")" -maxdepth 0 -printf "$1\t$F\0" -type l -printf 'l\t%l\0' || exit 1
  else
    printf '%s\tabsent\0' "$1"
  fi
}
printf 'umask\t%s\0' "$(umask)"
printf 'me\t%s\t%s\0' "$(id -u)" "$(id -g)"
if [ -n "$into" ] && [ -d "$p" ]; then p=${p%/}/$into; fi
printf 'path\t%s\0' "$p"
facts s "$p"
r=$p
if [ -L "$p" ]; then
  r=$(readlink -f -- "$p") || r=
  printf 'real\t%s\0' "$r"
  if [ -n "$r" ]; then facts t "$r"; else printf 't\tabsent\0'; fi
fi
if [ "$kind" = link ]; then
  # Ansible's check: src relative to the link's directory (or to the path, a directory).
  case $src in /*) a=$src ;; *) if [ ! -L "$p" ] && [ -d "$p" ]; then a=$p/$src; else a=$(dirname -- "$p")/$src; fi ;; esac
  if [ -e "$a" ]; then
    printf 'srcx\t1\t'
    find -L "$(arg "$a")" -maxdepth 0 -printf "$F\t" || exit 1
    printf '%s\0' "$a"
  else printf 'srcx\t0\t%s\0' "$a"; fi
  if [ -d "$p" ] && [ ! -L "$p" ] && [ -n "$(ls -A -- "$p")" ]; then printf 'full\0'; fi
elif [ "$kind" = hard ]; then
  if [ -e "$src" ]; then find "$(arg "$src")" -maxdepth 0 -printf "x\t$F\0"; else printf 'x\tabsent\0'; fi
fi
if [ -n "$owner" ]; then printf 'uid\t%s\0' "$(getent passwd "$owner" | cut -d: -f3)"; fi
if [ -n "$group" ]; then printf 'gid\t%s\0' "$(getent group "$group" | cut -d: -f3)"; fi
if [ -n "$mt" ]; then printf 'mt\t%s\0' "$(date -d "$mt" +%s)"; fi
if [ -n "$at" ]; then printf 'at\t%s\0' "$(date -d "$at" +%s)"; fi
if [ -n "$attr" ]; then printf 'attr\t%s\0' "$(lsattr -d -- "$r" 2>/dev/null | cut -d' ' -f1 | tr -d -)"; fi
for d; do if [ -d "$d" ]; then printf 'anc\td\0'; elif [ -e "$d" ] || [ -L "$d" ]; then printf 'anc\tf\0'; else printf 'anc\t-\0'; fi; done
if [ "$tree" = tree ]; then
  if [ "$follow" = follow ]; then d=$r; else d=$p; fi
  if [ -d "$d" ] && [ ! -L "$d" ]; then
    # Every entry (its path below the top last), a link's text after it; with follow, what a link points to.
    find "$(arg "$d")" -mindepth 1 -printf "e\t$F\t%P\0" -type l -printf 'l\t%l\0' || exit 1
    if [ "$follow" = follow ]; then
      find "$(arg "$d")" -mindepth 1 -type l -exec sh -c '
        F=$1; shift
        for x; do if [ -e "$x" ]; then find -L "$x" -maxdepth 0 -printf "lt\t$F\t%p\0"; else printf "lt\tabsent\t%s\0" "$x"; fi; done' sh "$F" {} + || exit 1
    fi
  fi
fi
exit 0
