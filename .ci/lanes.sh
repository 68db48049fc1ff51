#!/usr/bin/env bash
# make test's runner: the CPU-bound suites ($1) one after another in this
# shell, and the suites that mostly wait on real servers and timers ($2) one
# after another in a second lane beside them (TEST_LANES=1: all in one lane).
# Every suite's time is printed at the end, passed or not. A failing suite
# stops its lane and tells the other lane to stop after its current suite.
set -u
cpu_suites=$1
wait_suites=$2
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

wait_pid=""
if [ "$lanes" -ge 2 ] && [ -n "$wait_suites" ]; then
	echo "make test: in a second lane: $wait_suites (output in .data/test-wait.log, printed at the end)"
	# shellcheck disable=SC2086 # one word per suite
	run_lane wait $wait_suites >.data/test-wait.log 2>&1 &
	wait_pid=$!
	# shellcheck disable=SC2086
	run_lane cpu $cpu_suites
else
	# shellcheck disable=SC2086
	run_lane cpu $cpu_suites $wait_suites
fi
if [ -n "$wait_pid" ]; then
	wait "$wait_pid"
	echo
	echo "===== make test: the second lane's output ($wait_suites)"
	cat .data/test-wait.log
fi

printf '\nmake test: time per suite\n'
failed=""
for lane in cpu wait; do
	[ -f "$times_dir/$lane" ] || continue
	while read -r suite secs status; do
		case "$status" in
		0) word=ok secs="${secs}s" ;;
		skipped) word="not run" ;;
		*) word=FAILED secs="${secs}s" failed="$failed $suite" ;;
		esac
		printf '%-5s %-16s %6s  %s\n' "$lane" "$suite" "$secs" "$word"
	done <"$times_dir/$lane"
done
echo "make test: $(($(date +%s) - began))s in all"
rm -f "$stop"
if [ -n "$failed" ]; then
	echo "make test: FAILED in$failed"
	exit 1
fi
echo "make test: all checks passed"
