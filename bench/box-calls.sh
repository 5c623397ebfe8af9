#!/bin/sh
# SPDX-License-Identifier: MIT
#
# box-calls [N]: dune-box's cost per system call against the other ways
# to interpose on a program's calls (docs/benchmarks.md, "dune-box").
# Runs box-bench-call (N calls per operation, default 500) natively,
# under dune-box --profile permissive, under box-ptrace (strace-style
# ptrace interposer), strace -f, box-unotify (seccomp user notification
# supervisor), box-unotify -f (a plain seccomp filter, no supervisor),
# bubblewrap and gVisor's runsc (ptrace platform), and prints one
# markdown table: TSC ticks per call, and dune-box's VM exits per call
# (from dune-box --stats: runs of N and 2N calls, the difference over N).
#
# A way that is missing or fails shows "fails: REASON" below the table.
# bwrap and runsc are looked up on $PATH (tools/dune-vm --add them);
# BOX_RUNSC_ARGS adds options to runsc.
N=${1:-500}
OPS="getppid getfs fstatat read1 deny"
DENY=135	# personality: the "deny" operation (box-bench-call.c)
tmp=${TMPDIR:-/tmp}/box-calls.$$
mkdir -p "$tmp" || exit 1
fails=""

# way NAME CMD...: run box-bench-call under CMD; NAME's results in $tmp/NAME
way() {
	name=$1
	shift
	if "$@" >"$tmp/$name" 2>"$tmp/$name.err"; then
		for op in $OPS; do
			grep -q "^$op " "$tmp/$name" && continue
			case "$name:$op" in runsc:deny) continue ;; esac
			fails="$fails$name: fails: no result for $op
"
			rm -f "$tmp/$name"
			return
		done
	else
		fails="$fails$name: fails: status $?: $(tail -n 1 "$tmp/$name.err")
"
		rm -f "$tmp/$name"
	fi
}

have() { command -v "$1" >/dev/null 2>&1; }

way native box-bench-call -n "$N"
way dune-box dune-box --profile permissive -- box-bench-call -d -n "$N"
way box-ptrace box-ptrace -d $DENY -- box-bench-call -d -n "$N"
if have strace; then
	way strace strace -f -o /dev/null box-bench-call -n "$N"
else
	fails="${fails}strace: fails: not installed
"
fi
way box-unotify box-unotify -d $DENY -- box-bench-call -d -n "$N"
way seccomp box-unotify -f -d $DENY -- box-bench-call -d -n "$N"
if have bwrap; then
	way bwrap box-newroot "$(command -v bwrap)" --bind / / --dev /dev \
		--proc /proc --unshare-all --die-with-parent -- \
		"$(command -v box-bench-call)" -n "$N"
else
	fails="${fails}bwrap: fails: not installed (tools/dune-vm --add bwrap)
"
fi
if have runsc; then
	# gVisor implements personality without ADDR_NO_RANDOMIZE (EINVAL):
	# no deny row there (it would be its own seccomp filter's anyway)
	way runsc box-newroot "$(command -v runsc)" --platform=ptrace --network=none --ignore-cgroups \
		--root "$tmp/runsc-root" $BOX_RUNSC_ARGS do \
		"$(command -v box-bench-call)" -n "$N" getppid getfs fstatat read1
else
	fails="${fails}runsc: fails: not installed (tools/dune-vm --add runsc)
"
fi

# dune-box's VM exits per call: --stats after N and after 2N calls
for op in $OPS; do
	e1=$(dune-box --stats --profile permissive -- box-bench-call -d -n "$N" $op 2>&1 >/dev/null |
		sed -n 's/^dune-box: VM exits \([0-9]*\).*/\1/p')
	e2=$(dune-box --stats --profile permissive -- box-bench-call -d -n $((2 * N)) $op 2>&1 >/dev/null |
		sed -n 's/^dune-box: VM exits \([0-9]*\).*/\1/p')
	if [ -n "$e1" ] && [ -n "$e2" ]; then
		echo "$op $e1 $e2" >>"$tmp/exits"
	else
		fails="${fails}exits: fails: no --stats line for $op
"
	fi
done

WAYS="native dune-box box-ptrace strace box-unotify seccomp bwrap runsc"
printf '| call    |'
for w in $WAYS; do
	[ -f "$tmp/$w" ] && printf ' %s |' "$w"
	[ "$w" = dune-box ] && [ -f "$tmp/$w" ] && printf ' VM exits/call |'
done
echo
printf '|---------|'
for w in $WAYS; do
	[ -f "$tmp/$w" ] && printf -- '------|'
	[ "$w" = dune-box ] && [ -f "$tmp/$w" ] && printf -- '------|'
done
echo
for op in $OPS; do
	printf '| %-7s |' "$op"
	for w in $WAYS; do
		if [ -f "$tmp/$w" ]; then
			v=$(sed -n "s/^$op //p" "$tmp/$w")
			printf ' %s |' "${v:-n/a}"
		fi
		if [ "$w" = dune-box ] && [ -f "$tmp/$w" ]; then
			v=$(awk -v op="$op" -v n="$N" \
				'$1 == op { printf "%.2f", ($3 - $2) / n }' \
				"$tmp/exits" 2>/dev/null)
			printf ' %s |' "${v:-n/a}"
		fi
	done
	echo
done
echo "N = $N calls per operation; TSC ticks per call"
[ -n "$fails" ] && printf '%s' "$fails"
rm -rf "$tmp"
[ -z "$fails" ]
