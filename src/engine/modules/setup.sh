# shellcheck shell=sh
. /etc/os-release 2>/dev/null
say() { printf '%s=%s\n' "$1" "$2"; }
say hostname "$(hostname -s 2>/dev/null || hostname)"
say fqdn "$(hostname -f 2>/dev/null || hostname)"
say nodename "$(uname -n)"
say os_id "$ID"; say os_like "$ID_LIKE"; say os_version "$VERSION_ID"; say os_codename "$VERSION_CODENAME"; say os_pretty "$PRETTY_NAME"
say kernel "$(uname -r)"; say arch "$(uname -m)"; say system "$(uname -s)"
say vcpus "$(nproc 2>/dev/null || echo 1)"
say memtotal_kb "$(awk '/^MemTotal:/{print $2}' /proc/meminfo 2>/dev/null)"
say user_id "$(id -un)"; say user_uid "$(id -u)"; say user_gid "$(id -g)"; say user_dir "$HOME"
say epoch "$(date +%s)"
say default_if "$(ip -4 route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}')"
ip -4 -o addr show 2>/dev/null | awk '{split($4, a, "/"); print "addr=" $2 "|" a[1]}'
command -v apt-get >/dev/null && say pkg_mgr apt
[ -d /run/systemd/system ] && say service_mgr systemd
exit 0
