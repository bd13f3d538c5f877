# shellcheck shell=sh
# copy of a directory: what is at its destination $1. The path's own stat line (or "absent"); under a
# directory, then one record per entry below it, each ended by a NUL: "TYPE|MODE|OWNER|GROUP|PATH"
# (find's %y, %m, %u, %g, %P), after a link "link|TEXT", and for each regular file sha1sum's
# "SHA1  ./PATH".
b=$1
if [ ! -e "$b" ] && [ ! -L "$b" ]; then echo absent; exit 0; fi
stat -c '%F|%a|%U|%G|%s|%u|%g' -- "$b" || exit 1
if [ -L "$b" ] || [ ! -d "$b" ]; then exit 0; fi
cd -- "$b" || exit 1
find . -mindepth 1 -printf '%y|%m|%u|%g|%P\0' -type l -printf 'link|%l\0' || exit 1
find . -mindepth 1 -type f -exec sha1sum -z -- {} + || exit 1
