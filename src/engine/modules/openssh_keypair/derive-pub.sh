# shellcheck shell=sh
set -e
tmp=$(mktemp -- "$1.pub.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
ssh-keygen -y -f "$1" </dev/null > "$tmp"
chmod 0644 -- "$tmp"
mv -f -- "$tmp" "$1.pub"
trap - EXIT
