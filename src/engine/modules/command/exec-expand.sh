# shellcheck shell=sh
# exec.sh after what Ansible expands (Python's expanduser(expandvars())): $2 says which, d the
# directory ($1), a the arguments ("$3"...).
. ./expand.sh
d=$1 x=$2; shift 2
case $x in *d*) eval "d=$(pyexpand "$d")" ;; esac
case $x in *a*) eval "set -- $(pyexpand "$@")" ;; esac
set -- "$d" "$@"
. ./exec.sh
