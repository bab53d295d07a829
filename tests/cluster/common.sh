# shellcheck shell=bash
#
# tests/cluster/common.sh - sourced by every tests/cluster/test_*.sh.
#
# Tests use a prefix and subnet of their own (EC_TEST_PREFIX, default ect;
# EC_TEST_NET, default 254) so they never touch a demo or up.sh cluster.
# A test exits 0 (pass), 1 (fail) or 77 (skip: no root or a kernel feature
# missing).  Replica logs and test files stay in build/cluster-tests/NAME/.

EC_PREFIX=${EC_TEST_PREFIX:-ect}
EC_NET=${EC_TEST_NET:-254}
# shellcheck source=SCRIPTDIR/../../cluster/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../cluster/lib.sh"
# shellcheck disable=SC2034 # used by the tests
T_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T_NAME=$(basename "$0" .sh)
T_OUT=$EC_ROOT/build/cluster-tests/$T_NAME
T_SKIP=77

# Skip the test with a reason.
t_skip() {
	echo "SKIP: $*"
	exit "$T_SKIP"
}

# Fail the test with a reason.
t_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Print a progress line.
t_info() {
	echo "# $*"
}

# Run "$@"; fail the test naming the command when it fails.
t_run() {
	"$@" || t_fail "command failed (status $?): $*"
}

# Fail unless "$@" (from $2 on) exits with status $1.
t_run_status() {
	local want=$1 rc=0
	shift
	"$@" || rc=$?
	[ "$rc" -eq "$want" ] || t_fail "command exited with status $rc, want $want: $*"
}

# Fail unless $1 == $2; $3 names the value.
t_eq() {
	[ "$1" = "$2" ] || t_fail "$3: got '$1', want '$2'"
}

# EXIT trap: keep the replica logs of a failed test, then tear down.  A
# test's own EXIT handler calls it last, passing the exit status as $1.
t_on_exit() {
	local rc=${1:-$?}
	if [ "$rc" -ne 0 ] && [ "$rc" -ne "$T_SKIP" ] && [ -d "$EC_RUN" ]; then
		cp "$EC_RUN"/*.log "$EC_RUN"/cluster.conf "$T_OUT"/ 2>/dev/null || :
		echo "# replica logs kept in $T_OUT" >&2
	fi
	ec_down
	exit "$rc"
}

# Run ec-cli "$@" in the client namespace; fail unless it exits with $1 and
# prints exactly $2.
t_cli_expect() {
	local want_rc=$1 want_out=$2 out rc=0
	shift 2
	out=$(ec_client "$EC_BIN/ec-cli" --config "$EC_CONF" "$@" 2>"$T_OUT/cli.err") || rc=$?
	[ "$rc" -eq "$want_rc" ] ||
		t_fail "ec-cli $*: exit $rc, want $want_rc (stdout '$out', stderr '$(cat "$T_OUT/cli.err")')"
	t_eq "$out" "$want_out" "output of ec-cli $*"
}

# EXIT handler of the tests that freeze replicas (ec_pause): thaw every
# replica first (SIGCONT; harmless to a running one), so that teardown
# never waits on a frozen one, then t_on_exit.
t_on_exit_thaw() {
	local rc=$? i
	for ((i = 0; i < EC_MAX_REPLICAS; i++)); do
		ec_resume "$i" 2>/dev/null || :
	done
	t_on_exit "$rc"
}

# Skip unless the kernel has network namespaces, veth, bridges and native
# XDP on veth (probed on a throwaway bridge namespace of this prefix).
t_probe() {
	local br rc=0
	br=$(ec_ns_bridge)
	ip netns add "$br" 2>/dev/null || t_skip "no network namespaces"
	ip -n "$br" link add br0 type bridge 2>/dev/null || t_skip "no bridge support"
	ip -n "$br" link add "$EC_PREFIX-pa" type veth peer name "$EC_PREFIX-pb" \
		2>/dev/null || t_skip "no veth support"
	ip -n "$br" link set "$EC_PREFIX-pa" up
	ip netns exec "$br" "$EC_BIN/ec-port" attach "$EC_PREFIX-pa" || rc=$?
	[ "$rc" -ne 3 ] || t_skip "no native XDP on veth"
	[ "$rc" -eq 0 ] || t_fail "ec-port attach failed on the probe veth"
	ec_down
}

# Start a test that needs build/bin programs "$@": skip
# without root or kernel support, fail without the programs, remove what an
# interrupted earlier run left, and tear down on every exit.
t_begin() {
	[ "$(id -u)" -eq 0 ] || t_skip "needs root (network namespaces, XDP)"
	ec_require_bins "$@"
	ec_down
	rm -rf "$T_OUT"
	mkdir -p "$T_OUT"
	ec_trap_down t_on_exit
	t_probe
}

# Save replica $1's `ec-ctl offload` and `stats` answers as snapshot $2
# (file $T_OUT/snap/$2.r$1), for t_delta.
t_snap() {
	local f=$T_OUT/snap/$2.r$1
	mkdir -p "$T_OUT/snap"
	# replicas started with --no-bpf (T_NO_BPF=1) have no offload counters
	{ [ "${T_NO_BPF:-0}" = 1 ] || ec_ctl "$1" offload; } >"$f" &&
		ec_ctl "$1" stats >>"$f" ||
		t_fail "cannot read the counters of replica $1: $(tail -n 1 "$f")"
}

# t_snap as $1 on each replica $2...
t_snap_all() {
	local name=$1 i
	shift
	for i in "$@"; do
		t_snap "$i" "$name"
	done
}

# Print how much the counters of replica $1 whose names match the awk
# regular expression $4 grew, summed, from snapshot $2 to snapshot $3.
# Fails if no counter matches.
t_delta() {
	local d
	d=$(awk -v re="$4" '
		$1 !~ re || $2 !~ /^[0-9]+$/ { next }
		FNR == NR { before[$1] = $2; next }
		{ n++; sum += $2 - before[$1] }
		END { if (n) print sum }' \
		"$T_OUT/snap/$2.r$1" "$T_OUT/snap/$3.r$1")
	[ -n "$d" ] || t_fail "replica $1 has no counter matching '$4'"
	echo "$d"
}

# Print $1 / $2 with 3 decimals, or "-" when $2 is 0.
t_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b) printf "%.3f\n", a / b; else print "-" }'
}

# Succeed if the decimal number $1 is greater than $2.
t_gt() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "-" && a + 0 > b + 0) }'
}

# Start ec-bench in verify mode in the background from the client
# namespace: run $1 (files $T_OUT/$1.vlog, .out, .err), $2 clients, $3
# measured seconds, then extra ec-bench arguments.  Sets T_BENCH_PID and
# T_BENCH_MS (start time, see t_now_ms).
t_bench_start() {
	local name=$1 clients=$2 secs=$3
	shift 3
	ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients "$clients" \
		--duration "$secs" --warmup 0.3 --verify-log "$T_OUT/$name.vlog" \
		"$@" >"$T_OUT/$name.out" 2>"$T_OUT/$name.err" &
	T_BENCH_PID=$!
	t_now_ms T_BENCH_MS
}

# Milliseconds since the epoch into variable $1, without forking: the
# machine is saturated during a run and every fork costs milliseconds.
t_now_ms() {
	local us=${EPOCHREALTIME/./}
	printf -v "$1" '%s' $((us / 1000))
}

# During run $1 of t_bench_start: once the leader, replica 0, has committed
# 100 ops and $2 seconds of the run have passed, SIGKILL it.  Sets
# T_KILL_MS (when, see t_now_ms) and T_KILL_COMMIT (its commit then).
# shellcheck disable=SC2034 # the T_KILL variables are for the tests
t_kill_leader_after() {
	local name=$1 secs=$2 c now pid
	while :; do
		c=$(ec_field 0 commit)
		t_now_ms now
		[ "${c:-0}" -ge 100 ] && ((now - T_BENCH_MS >= secs * 1000)) && break
		((now - T_BENCH_MS < (secs + 10) * 1000)) ||
			t_fail "the leader committed ${c:-nothing} within $((secs + 10)) s of load"
		kill -0 "$T_BENCH_PID" 2>/dev/null ||
			t_fail "ec-bench exited early: $(cat "$T_OUT/$name.out" "$T_OUT/$name.err")"
		sleep 0.05
	done
	pid=$(ec_replica_pid 0) || t_fail "replica 0 is not running"
	t_now_ms T_KILL_MS
	ec_kill 0 "$pid"
	T_KILL_COMMIT=$c
}

# Wait (up to 20 s) until replica 1 is normal in a view above 0; one fork
# (ec-ctl) per poll, parsing in bash, so the time is close.  Sets T_VIEW,
# T_VIEW_COMMIT (replica 1's commit then) and T_VIEW_MS (see t_now_ms).
# shellcheck disable=SC2034 # the T_VIEW variables are for the tests
t_wait_new_view() {
	local nl=$'\n' sock st deadline=$((SECONDS + 20))
	sock=$(ec_sock 1)
	while :; do
		st=$("$EC_BIN/ec-ctl" "$sock" status 2>/dev/null) || st=
		t_now_ms T_VIEW_MS
		if [[ $st =~ (^|$nl)status\ normal($nl) && $st =~ (^|$nl)view\ ([0-9]+) ]] &&
			((BASH_REMATCH[2] >= 1)); then
			T_VIEW=${BASH_REMATCH[2]}
			break
		fi
		((SECONDS < deadline)) ||
			t_fail "replica 1 not normal in a new view 20 s after the kill: $st"
		sleep 0.01
	done
	[[ $st =~ (^|$nl)commit\ ([0-9]+) ]] || t_fail "no commit in status: $st"
	T_VIEW_COMMIT=${BASH_REMATCH[2]}
}

# Wait for the ec-bench run $1 of t_bench_start; fail if it failed.  Sets
# B_OPS (ops completed), B_RATE (ops/s), B_P50 (us), B_TIMEOUTS, B_ERRORS
# and B_STALL (longest interval without a completion, ms, as printed).
# shellcheck disable=SC2034 # the B_ variables are for the tests
t_bench_wait() {
	local out=$T_OUT/$1.out rc=0 detail summary
	wait "$T_BENCH_PID" || rc=$?
	[ "$rc" -eq 0 ] ||
		t_fail "ec-bench run $1 failed (status $rc): $(tail -n 5 "$T_OUT/$1.err" "$out")"
	detail=$(grep -E '^[0-9]+ ops, .*max stall' "$out") ||
		t_fail "no detail line in the output of ec-bench run $1: $(cat "$out")"
	summary=$(grep '^summary: ' "$out") ||
		t_fail "no summary line in the output of ec-bench run $1: $(cat "$out")"
	B_OPS=${detail%% *}
	[[ $detail =~ timeouts\ ([0-9]+) ]] || t_fail "no timeouts in: $detail"
	B_TIMEOUTS=${BASH_REMATCH[1]}
	[[ $detail =~ errors\ ([0-9]+) ]] || t_fail "no errors in: $detail"
	B_ERRORS=${BASH_REMATCH[1]}
	[[ $detail =~ max\ stall\ ([0-9.]+)\ ms ]] || t_fail "no max stall in: $detail"
	B_STALL=${BASH_REMATCH[1]}
	[[ $summary =~ \ ([0-9]+)\ ops/s,\ p50\ ([0-9]+)\ us ]] ||
		t_fail "no ops/s and p50 in: $summary"
	B_RATE=${BASH_REMATCH[1]}
	B_P50=${BASH_REMATCH[2]}
}

# End the ec-bench run of t_bench_start now (SIGINT: it stops starting
# requests, lets the outstanding ones finish and reports as usual); wait
# for it with t_bench_wait.
t_bench_stop() {
	ec_client_signal INT || t_fail "no ec-bench to stop in the client namespace"
}

# t_bench_start and t_bench_wait in one.
t_bench() {
	t_bench_start "$@"
	t_bench_wait "$1"
}

# Fail unless run $1 of t_bench had no timeouts and no errors.
t_bench_clean() {
	[ "$B_TIMEOUTS" -eq 0 ] || t_fail "run $1: $B_TIMEOUTS requests timed out"
	[ "$B_ERRORS" -eq 0 ] || t_fail "run $1: $B_ERRORS errors"
}

# Restart crashed replica $1 with --recover and replica arguments $4...;
# it must catch up with the others to commit $2 and digest $3 (T_STATE of
# the run before), and its store must hold every write of the verify-mode
# run $4 (files of t_bench_start).  Sets T_STATE.
t_check_recovered() {
	local id=$1 commit=$2 digest=$3 name=$4 others=() i n
	shift 4
	n=$(ec_count)
	for ((i = 0; i < n; i++)); do
		[ "$i" -eq "$id" ] || others+=("$i")
	done
	ec_start "$id" --recover "$@"
	ec_wait_ready "$id"
	t_check_writes "$name" "$id" "${others[@]}"
	t_info "after recovery all replicas agree: $T_STATE"
	read -r _ _ _ c _ d <<<"$T_STATE"
	t_eq "$c" "$commit" "commit after recovery"
	t_eq "$d" "$digest" "digest after recovery"
}

# After the verify-mode run $1: wait until replicas $2... agree (same view
# and commit, executed == commit, same digest), dump the first one's store
# and check the run's verify log against it with check_writes.py.  Sets
# T_STATE to "view V commit C digest D".
# shellcheck disable=SC2034 # T_STATE is for the tests
t_check_writes() {
	local name=$1
	shift
	T_STATE=$(ec_wait_converged 30 "$@") ||
		t_fail "after run $name, replicas $* did not converge"
	ec_ctl "$1" dump >"$T_OUT/$name.dump" || t_fail "dump of replica $1 failed"
	python3 "$T_DIR/check_writes.py" "$T_OUT/$name.vlog" "$T_OUT/$name.dump" ||
		t_fail "run $name lost or invented writes (check_writes.py above)"
}
