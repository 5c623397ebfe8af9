#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Runs inside the emulated machine: every itest-* program on PATH, in name
# order, then one summary line.  Usage: run-itests [-t PROG/TEST | -t TEST]
only=""
[ "$1" = "-t" ] && only="$2"
passed=0
failed=0
dir=$(dirname "$(command -v itest-module)")
for prog in "$dir"/itest-*; do
	name=${prog##*/}
	args=""
	case "$only" in
	"") ;;
	*/*) [ "${only%%/*}" = "$name" ] || continue; args="-t ${only#*/}" ;;
	*) "$prog" -l | grep -qx "$only" || continue; args="-t $only" ;;
	esac
	out=$("$prog" $args 2>&1)
	echo "$out" | grep -v '^itest: '
	p=$(echo "$out" | sed -n 's/^itest: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$out" | sed -n 's/^itest: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then
		echo "FAIL $name: no summary (crashed?)"
		p=0 f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
if [ $((passed + failed)) = 0 ]; then
	echo "FAIL run-itests: no test matched '$only'"
	failed=1
fi
echo "itests: $passed passed, $failed failed"
[ "$failed" = 0 ]
