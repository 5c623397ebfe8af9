#!/bin/sh
# SPDX-License-Identifier: MIT
#
# box-programs [PROGRAM...]: whole programs natively and under each way
# of sandboxing them (docs/benchmarks.md, "dune-box"): dune-box
# --profile permissive, box-ptrace (strace-style ptrace interposer),
# strace -f, box-unotify (seccomp user-notification supervisor), a plain
# seccomp filter (box-unotify -f), bubblewrap, gVisor's runsc (ptrace
# platform).  PROGRAMs (default all):
#   gzip    busybox gzip -c of a 16 MiB file (the numbers 1.. as text)
#   sh200   a busybox sh script that forks and execs 200 times
#   python  python3 start-up plus a short CPU-bound loop
#   find    busybox find over a tree of 10,000 files
# BOX_WAYS="native dune-box" (native first) runs only those ways.
# Each run is timed with box-tsc (TSC ticks from before fork to after
# wait), once.  A run counts only if it exits 0 with the native run's
# exact output; otherwise its cell reads "fails" and a line below the
# table says why.  Prints one markdown row per program: ticks in
# millions, and the ratio to native.
#
# bwrap, runsc, strace and python3 are looked up on $PATH
# (tools/dune-vm --add them; python3: build/python/vm-args).
tmp=${TMPDIR:-/tmp}/box-programs
mkdir -p "$tmp" || exit 1
PROGRAMS=${*:-gzip sh200 python find}
WAYS=${BOX_WAYS:-native dune-box box-ptrace strace box-unotify seccomp bwrap runsc}
BB=$(command -v busybox)
PY=$(command -v python3 || command -v python3.11)
fails=""

have() { command -v "$1" >/dev/null 2>&1; }

# The inputs, made once.
setup() {
	case $1 in
	gzip)
		[ -s "$tmp/gz.in" ] ||
			$BB seq 1 2300000 | $BB head -c 16777216 >"$tmp/gz.in"
		;;
	sh200)
		cat >"$tmp/fork.sh" <<EOF
i=0
while [ \$i -lt 200 ]; do
	$BB true
	i=\$((i + 1))
done
echo forked \$i
EOF
		;;
	python)
		cat >"$tmp/cpu.py" <<'EOF'
s = 0
for i in range(300000):
    s += i * i % 7
print(s)
EOF
		;;
	find)
		if [ ! -d "$tmp/tree/100" ]; then
			for d in $($BB seq 100); do
				mkdir -p "$tmp/tree/$d"
				(cd "$tmp/tree/$d" && $BB touch $($BB seq 100))
			done
		fi
		;;
	esac
}

# The command line of PROGRAM (absolute paths: runsc and bwrap want them).
cmdline() {
	case $1 in
	gzip) echo "$BB gzip -c $tmp/gz.in" ;;
	sh200) echo "$BB sh $tmp/fork.sh" ;;
	python) echo "$PY $tmp/cpu.py" ;;
	find) echo "$BB find $tmp/tree" ;;
	esac
}

# The wrapper of WAY, or nothing printed and status 1 when it is missing.
wrapper() {
	case $1 in
	native) echo "" ;;
	dune-box) have dune-box && echo "dune-box --profile permissive --" ;;
	box-ptrace) have box-ptrace && echo "box-ptrace --" ;;
	strace) have strace && echo "strace -f -o /dev/null" ;;
	box-unotify) have box-unotify && echo "box-unotify --" ;;
	seccomp) have box-unotify && echo "box-unotify -f --" ;;
	bwrap) have bwrap && echo "box-newroot $(command -v bwrap) --bind / / --dev /dev --proc /proc --unshare-all --die-with-parent --" ;;
	runsc) have runsc && echo "box-newroot $(command -v runsc) --platform=ptrace --network=none --ignore-cgroups --root $tmp/runsc-root do" ;;
	*) return 1 ;;
	esac
}

printf '| program |'
for w in $WAYS; do printf ' %s |' "$w"; done
echo
printf '|---------|'
for w in $WAYS; do printf -- '------|'; done
echo

for p in $PROGRAMS; do
	if [ "$p" = python ] && [ -z "$PY" ]; then
		fails="${fails}python: fails: no python3 in the machine (add build/python/vm-args)
"
		continue
	fi
	setup "$p"
	cmd=$(cmdline "$p")
	row="| $p |"
	base=""
	for w in $WAYS; do
		if ! wr=$(wrapper "$w"); then
			row="$row fails |"
			fails="${fails}$p, $w: fails: $w not installed
"
			continue
		fi
		# shellcheck disable=SC2086
		r=$(box-tsc -o "$tmp/out.$w" -- $wr $cmd 2>"$tmp/err.$w")
		ticks=${r% *}
		st=${r#* }
		why=""
		if [ -z "$r" ]; then
			why="box-tsc: $(tail -n 1 "$tmp/err.$w")"
		elif [ "$st" != 0 ]; then
			why="status $st: $(tail -n 1 "$tmp/err.$w")"
		elif [ "$w" != native ] && ! cmp -s "$tmp/out.native" "$tmp/out.$w"; then
			why="output differs from the native run"
		fi
		if [ -n "$why" ]; then
			row="$row fails |"
			fails="${fails}$p, $w: fails: $why
"
			[ "$w" = native ] && break
			continue
		fi
		[ "$w" = native ] && base=$ticks
		row="$row $(awk -v t="$ticks" -v b="$base" \
			'BEGIN { printf "%.1fM (%.3f)", t / 1e6, t / b }') |"
	done
	echo "$row"
	rm -f "$tmp"/out.* "$tmp"/err.*
done
echo "TSC ticks in millions (ratio to native), fork to wait, one run each"
if have bwrap || have runsc; then
	a=$(box-tsc -- box-newroot "$BB" true)
	b=$(box-tsc -- "$BB" true)
	echo "(bwrap and runsc run under box-newroot: box-newroot busybox true ${a% *} ticks, busybox true ${b% *})"
fi
[ -n "$fails" ] && printf '%s' "$fails"
[ -z "$fails" ]
