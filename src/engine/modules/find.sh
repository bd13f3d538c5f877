# shellcheck shell=sh
# $1 follow ("-L" or ""), $2 "sum" for SHA-1s, then the paths. Prints the host's clock, then for each
# path: "path\t<expanded>\0", then "dir\0" and every entry below it (find -printf, in directory order:
# depth, type, the type it points to, mode, uid, gid, user, group, size, inode, device, links, times,
# its path below the top, NUL-ended), or "notdir\0". With "sum", a regular file's line is followed by
# "sum\t<sha1>\0". find itself never reads a file's content.
follow=$1 sum=$2
shift 2
date +%s.%N
for p; do
  # shellcheck disable=SC2088 # the literal text '~/', as given
  case $p in '~') p=$HOME ;; '~/'*) p=$HOME/${p#'~/'} ;; esac
  printf 'path\t%s\0' "$p"
  if [ ! -d "$p" ]; then printf 'notdir\0'; continue; fi
  printf 'dir\0'
  if [ "$follow" = -L ]; then set -- -L; else set --; fi
  find "$@" "$p" -mindepth 1 -printf '%d\t%y\t%Y\t%m\t%U\t%G\t%u\t%g\t%s\t%i\t%D\t%n\t%A@\t%T@\t%C@\t%P\0' 2>/dev/null
  if [ "$sum" = sum ]; then
    find "$@" "$p" -mindepth 1 -type f -exec sh -c '
      r=$1; shift
      for f; do printf "sum\t%s\t%s\0" "$(sha1sum < "$f" | cut -d" " -f1)" "${f#"$r"}"; done' sh "$p" {} + 2>/dev/null
  fi
done
exit 0
