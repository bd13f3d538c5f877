# shellcheck shell=sh
# copy with remote_src and a directory src: $1 src, $2 dest, $3 the directory the copy goes to, $4 and
# $5 the owner and group to resolve (or ""). Prints
# NUL-ended records, TAB-separated, paths last: "dest" and the type of $2 as Python's os.path sees it
# (d, f, or absent), "me" with the user's uid and gid and the umask, "ids" with the owner's and group's,
# "own" with the mode, uid, gid, user, group and size of $1, $2 and $3 (or "absent"); then for $1 ("S") and $3 ("T") every entry below it
# (find -printf: type, type followed, mode, uid, gid, link text, path), and "sumS"/"sumT" with the
# SHA-1 of each file (a link's target's).
s=$1 d=$2 t=$3
resolve() { if [ -n "$2" ]; then getent "$1" "$2" | cut -d: -f3; fi; }
if [ -d "$d" ]; then k=d; elif [ -e "$d" ]; then k=f; else k=absent; fi
printf 'dest\t%s\0' "$k"
printf 'me\t%s\t%s\t%s\0' "$(id -u)" "$(id -g)" "$(umask)"
printf 'ids\t%s\t%s\0' "$(resolve passwd "$4")" "$(resolve group "$5")"
for p in "$s" "$d" "$t"; do
  if [ -d "$p" ]; then printf 'own\t%s\0' "$(stat -L -c '%a	%u	%g	%U	%G	%s' -- "$p")"; else printf 'own\tabsent\0'; fi
done
list() {
  [ -d "$2" ] || return 0
  (cd -- "$2" && find . -mindepth 1 -printf "$1\t%y\t%Y\t%m\t%U\t%G\t%l\t%P\0" &&
    find . -mindepth 1 \( -type f -o -xtype f \) -exec sha1sum -z -- {} + | sed -z "s/^/sum$1\t/") || exit 1
}
list S "$s"
list T "$t"
exit 0
