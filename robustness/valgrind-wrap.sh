#!/bin/sh
# libadagrad — `meson test --wrapper` for the memcheck run of scripts/test-all.sh:
# runs an ELF test program under valgrind memcheck (any error, or a definite
# or possible leak, fails the test with exit status 99), and anything else
# (python checks of the docs) as it is.
#   robustness/valgrind-wrap.sh PROGRAM ARGS...
supp=$(dirname "$0")/valgrind.supp
if [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; then
    exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible \
        --suppressions="$supp" "$@"
fi
exec "$@"
