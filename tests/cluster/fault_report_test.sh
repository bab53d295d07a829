#!/bin/bash
# fault_report_test.sh - tests/cluster/fault_report.py on hand-made files:
# a nemesis log with one fault of every kind, its start and stop lines as
# cluster/nemesis.sh writes them (a link fault's stop line leaves out its
# settings, a flip's names the way back), and a history whose longest
# time without a completion is a different known value during each fault
# and 3 s after each: every fault must be paired with its own stop, so
# that its unavailability is the gap inside it.  Then: a heal line ends
# what is open, two faults on one target pair in order, a fault never
# stopped is counted open, a stop of no open fault and bad usage are
# errors (exit 2).  Run from the top of the tree; EC_FAULT_REPORT
# overrides the script; KEEP=1 keeps the files (in a mktemp -d
# directory).  Needs no root.
set -u
report=${EC_FAULT_REPORT:-tests/cluster/fault_report.py}
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
failed=0
# the log's wall clock, in UTC; monotonic time 0 is 2025-01-01T12:00:00
export TZ=UTC
offset=1735732800000000000

# History of completions (and as many invokes) at the times in ms on
# stdin, one per line, to file $1.
history() {
	awk '{ printf "{\"process\": 0, \"type\": \"invoke\", \"f\": \"get\", \"key\": \"k\", \"value\": null, \"time\": %.0f}\n", $1 * 1000000 - 1
	       printf "{\"process\": 0, \"type\": \"ok\", \"f\": \"get\", \"key\": \"k\", \"value\": null, \"time\": %.0f}\n", $1 * 1000000 }' >"$1"
}

# One nemesis log line at MS milliseconds after 12:00:00: stamp MS WORDS...
stamp() {
	local ms=$1
	shift
	printf '2025-01-01T12:%02d:%02d.%03d nemesis %s\n' $((ms / 60000)) $((ms / 1000 % 60)) $((ms % 1000)) "$*"
}

# expect NAME STATUS HISTORY LOG: run the report, compare the status.
expect() {
	local name=$1 want=$2 got
	python3 "$report" "$3" "$4" "$offset" >"$tmp/out" 2>&1
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: $name: exit $got, want $want"
		sed 's/^/  | /' "$tmp/out"
		failed=1
	else
		echo "ok: $name (exit $got)"
	fi
}

# expect_line NAME LINE: the last run printed exactly LINE.
expect_line() {
	if ! grep -qxF -- "$2" "$tmp/out"; then
		echo "FAIL: $1: no line '$2'"
		sed 's/^/  | /' "$tmp/out"
		failed=1
	fi
}

# expect_text NAME REGEX: the last run's output matches.
expect_text() {
	if ! grep -qE -- "$2" "$tmp/out"; then
		echo "FAIL: $1: no line matches /$2/"
		sed 's/^/  | /' "$tmp/out"
		failed=1
	fi
}

# Every kind, as nemesis.sh wrote them on a live cluster: start;stop.
faults=(
	'crash 1 for 300ms;crash 1'
	'pause 2 for 300ms;pause 2'
	'pause-lease 0 for 300ms (lease 180ms, view timeout 200ms);pause-lease 0'
	'partition 1 | 0,2,3,4,c for 300ms;partition 1 | 0,2,3,4,c'
	'partition-oneway 0 -> 1,2 for 300ms;partition-oneway 0 -> 1,2'
	'loss c -> 0 loss 100 for 300ms;loss c -> 0'
	'dup 1 -> 2 dup 200 for 300ms;dup 1 -> 2'
	'delay c -> 3 delay 1000 jitter 500 for 300ms;delay c -> 3'
	'flip 1 fastack.prepare on->off for 300ms;flip 1 fastack.prepare off->on'
)
# Fault i runs from S = 10 s i + 1 s to S + 300 ms.  Completions every
# 20 ms, except none from S + 100 ms for gap i = 100 + 20 i ms (inside
# the fault), and none from S + 1 s to S + 4 s (3 s, after it).
{
	stamp 0 start "random seed 1 duration 90s"
	for i in "${!faults[@]}"; do
		s=$((10000 * i + 1000))
		stamp "$s" start "${faults[i]%%;*}"
		((i == 2)) && stamp $((s + 10)) skip pause "3 (not running)"
		stamp $((s + 300)) stop "${faults[i]#*;}"
	done
	stamp 90000 stop "random seed 1 after 90s"
} >"$tmp/every.log"
for ((t = 0; t <= 90000; t += 20)); do
	i=$(((t - 1000) / 10000)) s=$((t - 1000 - 10000 * ((t - 1000) / 10000)))
	if ((t >= 1000 && s > 100 && s < 100 + 100 + 20 * i)); then continue; fi
	if ((t >= 1000 && s > 1000 && s < 4000)); then continue; fi
	echo "$t"
done | history "$tmp/every.jsonl"

expect "every kind" 0 "$tmp/every.jsonl" "$tmp/every.log"
want_ops=$(grep -c '"invoke"' "$tmp/every.jsonl")
expect_line "every kind" "ops $want_ops"
expect_line "every kind" "completed $want_ops"
expect_line "every kind" "faults ${#faults[@]}"
expect_line "every kind" "open 0"
for i in "${!faults[@]}"; do
	kind=${faults[i]%% *}
	expect_line "every kind: $kind" "faults.$kind 1"
	expect_line "every kind: $kind paired with its own stop" \
		"unavail_ms.$kind $((100 + 20 * i)).0"
done

# A heal ends every open fault; a second fault on the same target pairs
# with the second stop; what the log leaves open lasts to the end.
{
	stamp 1000 start "loss c -> 0 loss 100 for 2000ms"
	stamp 1000 start "loss c -> 0 loss 300 for 2000ms"
	stamp 1100 stop "loss c -> 0"
	stamp 1200 start "partition 0 | 1,2,3,4,c for 5000ms"
	stamp 1300 heal "on exit (status 143)"
	stamp 10000 start "pause 4 for 1000ms"
} >"$tmp/heal.log"
for ((t = 0; t <= 20000; t += 20)); do
	# none in 1.0-1.1 s (a loss fault), 1.3-1.4 s (one to the heal),
	# 2-5 s (after every fault; before the pause), 15-18 s (the pause)
	((t > 1000 && t < 1100 || t > 1300 && t < 1400 ||
		t > 2000 && t < 5000 || t > 15000 && t < 18000)) || echo "$t"
done | history "$tmp/heal.jsonl"
expect "heal" 0 "$tmp/heal.jsonl" "$tmp/heal.log"
expect_line "heal" "faults 4"
expect_line "heal: two loss faults on c -> 0" "faults.loss 2"
expect_line "heal: the pause is never stopped" "open 1"
expect_line "heal: the second loss fault ends with the heal" "unavail_ms.loss 100.0"
expect_line "heal: the partition ends with the heal" "unavail_ms.partition 100.0"
expect_line "heal: the open pause lasts to the end" "unavail_ms.pause 3000.0"

{
	stamp 1000 start "dup 1 -> 2 dup 200 for 300ms"
	stamp 1300 stop "dup 2 -> 1"
} >"$tmp/stray.log"
expect "stop of no open fault" 2 "$tmp/heal.jsonl" "$tmp/stray.log"
expect_text "stop of no open fault" "stray.log:2: a stop of no open fault \(dup 2 -> 1\)"

stamp 1000 start "pause 2 for 300ms" | sed 's/2025-01-01T/2025-13-01T/' >"$tmp/badtime.log"
expect "bad time" 2 "$tmp/heal.jsonl" "$tmp/badtime.log"
expect_text "bad time" "badtime.log:1: "
expect "missing history" 2 "$tmp/nonexistent" "$tmp/heal.log"
python3 "$report" "$tmp/heal.jsonl" "$tmp/heal.log" >"$tmp/out" 2>&1
got=$?
[ "$got" -eq 2 ] || { echo "FAIL: usage: exit $got, want 2"; failed=1; }

exit $failed
