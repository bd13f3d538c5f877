# shellcheck shell=sh
# unarchive with GNU tar, on the host in one trip, as Ansible's TgzArchive and its kin decide:
# $1 src ("-": the archive comes base64 on stdin), $2 dest, $3 unused, $4 keep_newer (yes or
# empty), $5 owner, $6 group, $7 mode, then three lists, each its length and its items: extra_opts,
# exclude, include. Prints key=value lines (values that may hold anything in base64), then the path info
# of dest.
set -u
. ./lib/http.sh
src=$1 dest=$2 newer=$4 own=$5 grp=$6 perm=$7
shift 7
n=$1; shift; i=0; opts=
while [ "$i" -lt "$n" ]; do opts="$opts$(printf '%s' "$1" | base64 -w0) "; shift; i=$((i + 1)); done
n=$1; shift; i=0; excl=
while [ "$i" -lt "$n" ]; do excl="$excl$(printf '%s' "${1%/}" | base64 -w0) "; shift; i=$((i + 1)); done
n=$1; shift; i=0; incl=
while [ "$i" -lt "$n" ]; do incl="$incl$(printf '%s' "$1" | base64 -w0) "; shift; i=$((i + 1)); done

if [ ! -d "$dest" ]; then echo step=dest_not_dir; exit 0; fi
if [ "$src" = - ]; then
  # Where Ansible's action plugin puts the archive it sends.
  mkdir -p "$HOME/.ansible/tmp" && up=$(mktemp -d "$HOME/.ansible/tmp/ansible-tmp-XXXXXXXX") || exit 1
  trap 'rm -rf -- "$up"' EXIT
  src=$up/source
  base64 -d > "$src" || { echo step=upload_failed; exit 0; }
fi
printf 'src=%s\n' "$src"
if [ ! -e "$src" ]; then echo step=src_absent; exit 0; fi
if [ ! -r "$src" ]; then echo step=src_unreadable; exit 0; fi
if [ ! -s "$src" ]; then echo step=src_empty; exit 0; fi
t=$(mktemp -d) || exit 1
trap 'rm -rf -- "$t" ${up:+"$up"}' EXIT
# Ansible's handlers in its order: ZipArchive (unzip and zipinfo), ZipZArchive (unzip -Z), then GNU
# tar's. Each that cannot take the archive says why (base64 words; a command's stderr as it is);
# with none, the failure lists the reasons.
reasons=
because() { reasons="$reasons$(base64 -w0 < "$t/why") "; }
for bins in 'unzip zipinfo' 'unzip unzip'; do
  missing=
  for b in $bins; do command -v "$b" > /dev/null 2>&1 || missing="${missing:+$missing' or '}$b"; done
  if [ -n "$missing" ]; then
    printf "Unable to find required '%s' binary in the path." "$missing" > "$t/why"
  elif ! unzip -l "$src" > /dev/null 2> "$t/err"; then
    { printf 'Command "%s" could not handle archive: ' "$(command -v unzip)"; cat "$t/err"; } > "$t/why"
  else
    echo step=zip
    exit 0
  fi
  because
done

tar=$(command -v gtar || command -v tar) || {
  printf "Unable to find required 'gtar' or 'tar' binary in the path" > "$t/why"
  because
  printf 'step=no_handler\nreasons=%s\n' "$reasons"
  exit 0
}
case $("$tar" --version 2>/dev/null) in tar*GNU*) ;; *) echo step=not_gnu; exit 0 ;; esac
printf 'tar=%s\n' "$tar"

# run_tar ACTION FLAG: tar as Ansible runs it (its options in that order, the lists decoded), in dest;
# for --extract, its argv on fd 3 first.
run_tar() {
  set -- "$tar" "--$1" -C "$dest" ${2:+"$2"}
  if [ -n "$opts" ]; then
    set -- "$@" --show-transformed-names
    for _o in $opts; do set -- "$@" "$(printf '%s' "$_o" | base64 -d)"; done
  fi
  if [ "$2" != --list ]; then
    [ -z "$own" ] || set -- "$@" "--owner=$own"
    [ -z "$grp" ] || set -- "$@" "--group=$grp"
    [ -z "$newer" ] || set -- "$@" --keep-newer-files
  fi
  for _o in $excl; do set -- "$@" "--exclude=$(printf '%s' "$_o" | base64 -d)"; done
  set -- "$@" -f "$src"
  for _o in $incl; do set -- "$@" "$(printf '%s' "$_o" | base64 -d)"; done
  if [ "$2" = --extract ]; then for _o in "$@"; do printf 'cmd=%s\n' "$(printf '%s' "$_o" | base64 -w0)" >&3; done; fi
  (cd "$dest" && LANG=C.UTF-8 LC_ALL=C.UTF-8 LC_MESSAGES=C.UTF-8 LANGUAGE=C.UTF-8 "$@")
}

handler=
for h in TgzArchive:-z TarArchive: TarBzipArchive:-j TarXzArchive:-J TarZstdArchive:--use-compress-program=zstd; do
  z=${h#*:}
  if ! run_tar list "$z" > "$t/list" 2> "$t/err"; then
    { printf 'Command "%s" could not handle archive: Unable to list files in the archive: ' "$tar"; cat "$t/err"; } > "$t/why"
  elif [ ! -s "$t/list" ]; then
    printf 'Command "%s" found no files in archive. Empty archive files are not supported.' "$tar" > "$t/why"
  else
    handler=${h%%:*}
    break
  fi
  because
done
if [ -z "$handler" ]; then printf 'step=no_handler\nreasons=%s\n' "$reasons"; exit 0; fi
printf 'handler=%s\n' "$handler"

# The archive's files as Ansible lists them: no leading /, the excluded ones (fnmatch) left out.
: > "$t/files"
while IFS= read -r f; do
  f=${f#/}
  skip=
  for e in $excl; do
    # shellcheck disable=SC2254 # the exclude is a pattern
    case $f in $(printf '%s' "$e" | base64 -d)) skip=1 ;; esac
  done
  [ -n "$skip" ] || printf '%s\n' "$f" >> "$t/files"
done < "$t/list"
printf 'files=%s\n' "$(base64 -w0 < "$t/files")"

# Unpacked already unless tar --diff reports what Ansible counts: times, missing files, bad owners,
# and owners or modes it would not set anyway.
pat=': Mod time differs$|: Warning: Cannot stat: No such file or directory$|: Invalid owner|: Invalid group'
if [ "$(id -u)" = 0 ] && [ -z "$own" ]; then pat="$pat|: Uid differs\$"; fi
if [ "$(id -u)" = 0 ] && [ -z "$grp" ]; then pat="$pat|: Gid differs\$"; fi
if [ -z "$perm" ]; then pat="$pat|: Mode differs\$"; fi
run_tar diff "$z" > "$t/dout" 2> "$t/derr"
if grep -v ': : Warning: Cannot stat: No such file or directory$' "$t/dout" "$t/derr" -h | grep -Eq "$pat"; then
  run_tar extract "$z" 3>&1 > "$t/xout" 2> "$t/xerr"
  printf 'extract_rc=%s\n' "$?"
  printf 'extract_out=%s\nextract_err=%s\n' "$(base64 -w0 < "$t/xout")" "$(base64 -w0 < "$t/xerr")"
fi
if [ -n "$own$grp$perm" ]; then
  top=
  while IFS= read -r f; do
    set_attrs "$dest/$f" "$own" "$grp" "$perm" apply 2>/dev/null
    case $f in */*) top="$top
${f%%/*}" ;; esac
  done < "$t/files"
  printf '%s\n' "$top" | awk 'NF && !seen[$0]++' | while IFS= read -r f; do
    set_attrs "$dest/$f" "$own" "$grp" "$perm" apply 2>/dev/null
  done
fi
pathinfo "$dest"
