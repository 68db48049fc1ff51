#!/usr/bin/env bash
# make test's runner: the CPU-bound suites ($1) one after another in this
# shell; the suites that mostly wait on real servers and compressed timers
# ($2) one after another in a second lane beside them; the suites that follow
# the real clock at production timings and use almost no CPU ($3) in a third
# lane. TEST_LANES=1 runs all in one lane, TEST_LANES=2 puts the third lane's
# suites at the end of the second. Every suite's time is printed at the end,
# passed or not. A failing suite stops its lane and tells the other lanes to
# stop after their current suite.
set -u
cpu_suites=$1
wait_suites=$2
clock_suites=${3:-}
make=${MAKE:-make}
lanes=${TEST_LANES:-2}

began=$(date +%s)
mkdir -p .data
stop=.data/test-stop
times_dir=$(mktemp -d)
trap 'rm -rf "$times_dir"' EXIT
rm -f "$stop"

# run_lane NAME SUITES...: runs each suite, records "suite seconds status".
run_lane() {
	local lane=$1 suite start status failed=0
	shift
	for suite in "$@"; do
		if [ -e "$stop" ]; then
			echo "$suite - skipped" >>"$times_dir/$lane"
			continue
		fi
		start=$(date +%s)
		$make --no-print-directory "$suite"
		status=$?
		echo "$suite $(($(date +%s) - start)) $status" >>"$times_dir/$lane"
		if [ "$status" -ne 0 ]; then
			echo "$suite" >"$stop"
			failed=1
		fi
	done
	return "$failed"
}

# start_lane NAME SUITES: runs a lane in the background, output in
# .data/test-NAME.log, printed after the CPU lane's.
pids=""
logs=""
start_lane() {
	local lane=$1 suites=$2
	[ -n "$suites" ] || return 0
	echo "make test: in lane $lane: $suites (output in .data/test-$lane.log, printed at the end)"
	# shellcheck disable=SC2086 # one word per suite
	run_lane "$lane" $suites >".data/test-$lane.log" 2>&1 &
	pids="$pids $!"
	logs="$logs $lane"
}

case "$lanes" in
1)
	# shellcheck disable=SC2086
	run_lane cpu $cpu_suites $wait_suites $clock_suites 2>&1 | tee .data/test-cpu.log
	;;
2)
	start_lane wait "$wait_suites${wait_suites:+${clock_suites:+ }}$clock_suites"
	# shellcheck disable=SC2086
	run_lane cpu $cpu_suites 2>&1 | tee .data/test-cpu.log
	;;
*)
	start_lane wait "$wait_suites"
	start_lane clock "$clock_suites"
	# shellcheck disable=SC2086
	run_lane cpu $cpu_suites 2>&1 | tee .data/test-cpu.log
	;;
esac
for pid in $pids; do
	wait "$pid"
done
for lane in $logs; do
	echo
	echo "===== make test: lane $lane's output"
	cat ".data/test-$lane.log"
done

printf '\nmake test: time per suite\n'
failed=""
failed_lanes=""
for lane in cpu wait clock; do
	[ -f "$times_dir/$lane" ] || continue
	while read -r suite secs status; do
		case "$status" in
		0) word=ok secs="${secs}s" ;;
		skipped) word="not run" ;;
		*) word=FAILED secs="${secs}s" failed="$failed $suite" failed_lanes="$failed_lanes $lane" ;;
		esac
		printf '%-5s %-16s %6s  %s\n' "$lane" "$suite" "$secs" "$word"
	done <"$times_dir/$lane"
done
echo "make test: $(($(date +%s) - began))s in all"
rm -f "$stop"
if [ -n "$failed" ]; then
	# The lines that say why, last: a long log is often read from its end.
	echo
	echo "make test: why it failed (from .data/test-*.log)"
	for lane in $failed_lanes; do
		[ -f ".data/test-$lane.log" ] || continue
		grep -E -A3 -e '^[[:space:]]*--- FAIL' -e '^[[:space:]]+[[:alnum:]_./-]+\.go:[0-9]+: ' \
			-e 'VIOLATION' -e 'still missing' -e '^panic: ' -e '^FAIL[[:space:]]' -e '^make(\[[0-9]+\])?: \*\*\*' \
			".data/test-$lane.log" | head -n 80 | sed "s/^/$lane| /"
	done
	echo "make test: FAILED in$failed"
	exit 1
fi
echo "make test: all checks passed"
