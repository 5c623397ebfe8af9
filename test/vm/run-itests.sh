#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Runs inside the emulated machine: every itest-* program on PATH, then one
# summary line.  itest-module goes first (with DUNE_VM_NO_MODULE=1 it loads
# dune.ko by hand); after everything, dune.ko must unload cleanly (nothing
# leaked a reference) and load again.
#
# Usage: run-itests [-t PROG/TEST | -t PROG | -t TEST]
only=""
[ "$1" = "-t" ] && only="$2"
passed=0
failed=0
dir=$(dirname "$(command -v itest-module)")

# report NAME STATUS: one PASS/FAIL line for a check made here
report() {
	if [ "$2" = 0 ]; then
		echo "PASS $1"
		passed=$((passed + 1))
	else
		echo "FAIL $1"
		failed=$((failed + 1))
	fi
}

# A hung test leaves a trace: after 150 s (guest time) without new output,
# the state and kernel stack of every itest task, every 150 s.
watchdog() {
	last=-1
	while sleep 150; do
		n=$(cat /tmp/run-itests.out /tmp/run-itests.count 2>/dev/null | wc -c)
		if [ "$n" = "$last" ]; then
			echo "    watchdog: no test output for 150 s; itest tasks:"
			for t in /proc/[0-9]*/task/[0-9]*; do
				case "$(cat "$t/comm" 2>/dev/null)" in
				itest*) ;;
				*) continue ;;
				esac
				echo "    $t $(cat "$t/comm") $(grep State "$t/status")"
				sed 's/^/      /' "$t/stack" 2>/dev/null | head -6
			done
		fi
		last=$n
	done
}
watchdog &
watchdog_pid=$!

progs="$dir/itest-module $(ls "$dir"/itest-* | grep -v '/itest-module$')"
# A machine booted without dune.ko (DUNE_VM_NO_MODULE=1) gets it from
# itest-module/loaded: that runs first even when the filter leaves it out.
load_first=0
case "$only" in
""|itest-module|itest-module/*|loaded) ;;
*) [ "${DUNE_VM_NO_MODULE:-0}" = 1 ] && load_first=1 ;;
esac
for prog in $progs; do
	name=${prog##*/}
	args=""
	if [ $load_first = 1 ] && [ "$name" = itest-module ]; then
		args="-t loaded"
	else
		case "$only" in
		"") ;;
		*/*) [ "${only%%/*}" = "$name" ] || continue; args="-t ${only#*/}" ;;
		"$name") ;;
		*) "$prog" -l | grep -qx "$only" || continue; args="-t $only" ;;
		esac
	fi
	# streamed as it comes (a slow test shows progress), kept for counting
	"$prog" $args 2>&1 | tee /tmp/run-itests.out | grep -v '^itest: '
	echo "$name" >>/tmp/run-itests.count
	p=$(sed -n 's/^itest: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' /tmp/run-itests.out)
	f=$(sed -n 's/^itest: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' /tmp/run-itests.out)
	if [ -z "$p" ]; then
		echo "FAIL $name: no summary (crashed?)"
		p=0 f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
if [ -z "$only" ]; then
	rmmod dune
	report final/rmmod_after_all $?
	insmod "${DUNE_KO:-/opt/dune/dune.ko}" && dune-caps >/dev/null
	report final/insmod_again $?
fi
if [ $((passed + failed)) = 0 ]; then
	echo "FAIL run-itests: no test matched '$only'"
	failed=1
fi
kill "$watchdog_pid" 2>/dev/null
echo "itests: $passed passed, $failed failed"
[ "$failed" = 0 ]
