# shellcheck shell=sh
# Whether a rollback is still armed (its token), the token last confirmed (confirm.sh), then what the
# last rollback logged. Run as the command
# itself (no sh -c, no parameters): @DIR@ the directory (/etc/relay-play), @RB@ the tunnel's rollback
# directory (rollback, or rollback-RELAY).
printf 'armed=%s\n' "$(cat -- @DIR@/@RB@/armed 2>/dev/null)"
printf 'confirmed=%s\n' "$(cat -- @DIR@/@RB@.confirmed 2>/dev/null)"; cat -- @DIR@/@RB@.log 2>/dev/null; exit 0
