# shellcheck shell=sh
# Whether a rollback is still armed (its token), then what the last rollback logged. Run as the command
# itself (no sh -c, no parameters): @DIR@ the directory (/etc/relay-play).
printf 'armed=%s\n' "$(cat -- @DIR@/rollback/armed 2>/dev/null)"; cat -- @DIR@/rollback.log 2>/dev/null; exit 0
