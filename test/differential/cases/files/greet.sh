#!/bin/sh
# The differential suite's script: its arguments, where it runs, stderr, its exit code.
echo "hello $1"
echo "in $(pwd)"
echo "to stderr" >&2
exit "${2:-0}"
