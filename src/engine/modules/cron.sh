# shellcheck shell=sh
# cron's read: where crontab is (as Ansible's get_bin_path looks: $PATH, then /sbin, /usr/sbin,
# /usr/local/sbin), who runs it, and the crontab now: the cron file ($1), or by `crontab -l` the
# crontab of the user ($2: -u only for another user than the one running it, as Ansible). Prints "found|missing PATHS", "me NAME", "rc N FILE(0|1)", then the text.
paths=$PATH
for d in /sbin /usr/sbin /usr/local/sbin; do
  case ":$paths:" in *":$d:"*) ;; *) [ -e "$d" ] && paths=$paths:$d ;; esac
done
found=
IFS=:
for d in $paths; do
  [ -n "$d" ] || continue
  if [ -e "$d/crontab" ] && [ ! -d "$d/crontab" ] && [ -x "$d/crontab" ]; then found=$d/crontab && break; fi
done
unset IFS
if [ -z "$found" ]; then
  printf 'missing %s\n' "$paths"
  exit 0
fi
printf 'found %s\nme %s\n' "$found" "$(id -un)"
if [ -n "$1" ]; then
  if [ -f "$1" ]; then isfile=1; else isfile=0; fi
  if text=$(cat -- "$1" 2> /dev/null && echo .); then text=${text%.}; else text=; fi
  printf 'rc 0 %s\n%s' "$isfile" "$text"
  exit 0
fi
u=$2 me=$(id -un)
set -- "$found" -l
[ -z "$u" ] || [ "$u" = "$me" ] || set -- "$found" -u "$u" -l
if text=$("$@" 2> /dev/null && echo .); then rc=0 text=${text%.}; else rc=$?; fi
printf 'rc %s 0\n%s' "$rc" "$text"
