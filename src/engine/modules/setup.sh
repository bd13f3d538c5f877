# shellcheck shell=sh
# $1: fact_path (local facts: each *.fact's mode and content, base64, one line)
fact_path=$1
. /etc/os-release 2>/dev/null
say() { printf '%s=%s\n' "$1" "$2"; }
say hostname "$(hostname -s 2>/dev/null || hostname)"
say fqdn "$(hostname -f 2>/dev/null || hostname)"
say nodename "$(uname -n)"
say os_id "$ID"; say os_like "$ID_LIKE"; say os_version "$VERSION_ID"; say os_codename "$VERSION_CODENAME"; say os_pretty "$PRETTY_NAME"
say debian_version "$(cat /etc/debian_version 2>/dev/null)"
say kernel "$(uname -r)"; say arch "$(uname -m)"; say system "$(uname -s)"
say vcpus "$(nproc 2>/dev/null || echo 1)"
say memtotal_kb "$(awk '/^MemTotal:/{print $2}' /proc/meminfo 2>/dev/null)"
say user_id "$(id -un)"; say user_uid "$(id -u)"; say user_gid "$(id -g)"; say user_dir "$HOME"
say user_shell "$(getent passwd "$(id -u)" | cut -d: -f7)"; say user_gecos "$(getent passwd "$(id -u)" | cut -d: -f5)"
say epoch "$(date +%s)"
say default_if "$(ip -4 route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}')"
ip -4 -o addr show 2>/dev/null | awk '{split($4, a, "/"); print "addr=" $2 "|" a[1]}'
command -v apt-get >/dev/null && say pkg_mgr apt
[ -d /run/systemd/system ] && say service_mgr systemd
if [ -n "$fact_path" ] && [ -d "$fact_path" ]; then
  export LC_ALL=C
  for f in "$fact_path"/*.fact; do
    [ -e "$f" ] || continue
    if [ -x "$f" ]; then out=$("$f" 2>/dev/null; printf '\nrc=%s' "$?"); kind='exec'; else out=$(cat -- "$f" 2>/dev/null; printf '\nrc=0'); kind='file'; fi
    printf 'local=%s|%s|%s\n' "$kind" "$(printf '%s' "${f##*/}" | base64 -w0)" "$(printf '%s' "$out" | base64 -w0)"
  done
fi
exit 0
