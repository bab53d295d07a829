#!/bin/bash
# The nemesis (cluster/nemesis.sh) on a live 5-replica cluster with every
# offload on: each fault kind must do what it says, measurably, and the
# cluster must agree (same commit and digest, no lost write) after each.
#   delay      client -> replicas held 5 ms: the client's p50 grows by
#              about 5 ms
#   dup        every link sends 300 per mille twice, the client's link to
#              the leader every frame: ports count copies, the leader
#              receives about two requests per op, no divergence
#   partition  leader | rest under load: the rest move to a new view
#              while the old leader stays behind; after healing it joins
#              that view
#   oneway     leader -> rest cut only: the rest move on and the old
#              leader, which still hears them, learns the new view
#              while the cut lasts
#   pause      the leader SIGSTOPped under load: a new view; resumed, it
#              rejoins
#   pause-lease  the leader SIGSTOPped past its lease under a read-heavy
#              load, 2 clients pinned to it: asked for longer than the
#              lease it refuses; the log says how long against the lease;
#              resumed, the leader answers no GET it holds from its state
#              (reads_lease_expired grows); no write lost
#   crash      a follower SIGKILLed under load, restarted with --recover
#   (partition, pause and crash: the others commit at least $min_new ops
#   while the replica is out; it must commit all of them within 10 s of
#   the heal and then $min_after more, and the run must lose no write)
#   flip       offload switches flipped under load: no request lost
#   random     the same seed gives the same schedule; a seeded run under
#              load ends healed, with a summary, and loses no write
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench

n=5
min_new=500  # ops the others commit while a replica is out
min_after=200 # ops a healed replica commits after catching up
nemesis=$EC_ROOT/cluster/nemesis.sh
export EC_PREFIX EC_NET # for the nemesis
all=$(seq 0 $((n - 1)))

# Run the nemesis; its log goes to the test output and $T_OUT/nemesis.out.
nem() {
	"$nemesis" "$@" > >(tee -a "$T_OUT/nemesis.out")
}

# Sum of ec-port stats field $1 over every bridge port.
port_sum() {
	local node s=0 v
	for node in $(ec_nodes); do
		v=$(ec_port stats "$(ec_port_of "$node")" |
			awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }')
		s=$((s + v))
	done
	echo "$s"
}

# The view replica $1 reports (empty if it does not answer).
view_of() {
	ec_field "$1" view
}

# Wait up to $3 s (decimals allowed) until replica $1 reports a view
# above $2; fail with $4.
wait_view_above() {
	local now deadline v
	t_now_ms now
	deadline=$((now + $(awk -v s="$3" 'BEGIN { printf "%d", s * 1000 }')))
	while :; do
		v=$(view_of "$1")
		[ -n "$v" ] && ((v > $2)) && return 0
		t_now_ms now
		((now < deadline)) || t_fail "$4 (replica $1 view ${v:-?})"
		sleep 0.02
	done
}

# Start the verify-mode load run $1 (4 clients, stopped by caught_up) and
# wait until the leader of the view replica 1 is in has committed 100 ops
# of it.
load_start() {
	local leader c0 c deadline=$((SECONDS + 10))
	leader=$(($(view_of 1) % n))
	c0=$(ec_field "$leader" commit)
	t_bench_start "$1" 4 60
	while :; do
		c=$(ec_field "$leader" commit)
		((${c:-0} >= c0 + 100)) && return 0
		((SECONDS < deadline)) || t_fail "$1: leader $leader committed ${c:-nothing} (from $c0) in 10 s of load"
		sleep 0.05
	done
}

# Fault $1 is over (healed) under the load run $1 of load_start: replica
# $2 was out from commit $3 on, replica $4 was not.  The others must have
# committed at least min_new ops without it; it must commit all of them
# within 10 s and then min_after more; then the load stops, and every
# replica agrees and no write is lost (t_check_writes).
caught_up() {
	local name=$1 id=$2 c0=$3 live=$4 c1 c t0 now target deadline
	c1=$(ec_field "$live" commit)
	[ -n "$c1" ] || t_fail "$name: no commit from replica $live"
	t_info "$name: replica $live committed $((c1 - c0)) ops ($c0 -> $c1) while replica $id was out"
	((c1 - c0 >= min_new)) ||
		t_fail "$name: only $((c1 - c0)) ops committed while replica $id was out, want >= $min_new (no load?)"
	t_now_ms t0
	deadline=$((t0 + 10000)) target=$c1
	while :; do
		kill -0 "$T_BENCH_PID" 2>/dev/null || t_fail "$name: ec-bench ended early: $(cat "$T_OUT/$name.err")"
		c=$(ec_field "$id" commit)
		t_now_ms now
		if ((${c:-0} >= target)); then
			((target > c1)) && break
			t_info "$name: healed replica $id reached commit $c >= $c1 $((now - t0)) ms after the heal"
			target=$((c + min_after))
		fi
		((now < deadline)) ||
			t_fail "$name: healed replica $id at commit ${c:-?}, not $target, 10 s after the heal (the others had $c1 then)"
		sleep 0.02
	done
	t_bench_stop
	t_bench_wait "$name"
	t_bench_clean "$name"
	t_check_writes "$name" $all
	t_info "$name: healed replica $id went on to commit $c; $B_OPS ops, none lost; $T_STATE"
}

# Check that all replicas agree; prints the state.
converged() {
	T_STATE=$(ec_wait_converged 20 $all) || t_fail "replicas did not converge after $1"
	t_info "after $1: $T_STATE"
}

ec_up "$n" --offload all
disown -a # the nemesis crashes them: no "Killed" news from this shell

# --- delay -------------------------------------------------------------
t_bench base 1 1.5
t_bench_clean base
base_p50=$B_P50
nem delay 4 5000 0 c all >/dev/null &
nem_pid=$!
deadline=$((SECONDS + 5))
until ec_port stats "$(ec_port_of c)" | grep -q ' rules [1-9]'; do
	((SECONDS < deadline)) || t_fail "the nemesis set no delay rule"
	sleep 0.02
done
t_bench delayed 1 1.5
wait "$nem_pid" || t_fail "nemesis delay failed"
t_bench_clean delayed
grow=$((B_P50 - base_p50))
t_info "delay 5000 us on client -> replicas: p50 $base_p50 us -> $B_P50 us (+$grow us)"
((grow >= 4500 && grow <= 9000)) || t_fail "p50 grew by $grow us under a 5000 us delay"
grep -q ' 0 send errors' "$EC_RUN/delay-line.log" || t_fail "delay line: $(cat "$EC_RUN/delay-line.log")"
converged delay

# --- dup ---------------------------------------------------------------
leader=$(($(view_of 1) % n))
t_snap "$leader" dup0
dup0=$(port_sum duplicated)
nem dup 3 300 all all >/dev/null &
nem_pid=$!
# the nemesis logs its start once its rules are set: only then the
# client's link to the leader, every frame (set earlier, the nemesis's
# 300 per mille could replace it)
deadline=$((SECONDS + 5))
until grep -q ' nemesis start dup ' "$EC_RUN/nemesis.log" 2>/dev/null; do
	((SECONDS < deadline)) || t_fail "the nemesis did not start dup in 5 s"
	sleep 0.02
done
ec_link c "$leader" dup 1000
t_bench dup 8 2
wait "$nem_pid" || t_fail "nemesis dup failed"
t_bench_clean dup
t_snap "$leader" dup1
copies=$(($(port_sum duplicated) - dup0))
# what reached the leader, in user space or answered by its XDP program
rxreq=$(t_delta "$leader" dup0 dup1 '^(rx\.(REQUEST|READ)|xdp\.read_answered)$')
ratio=$(t_ratio "$rxreq" "$B_OPS")
t_info "dup: ports sent $copies copies; leader $leader received $rxreq requests for $B_OPS ops ($ratio per op)"
((copies > 100)) || t_fail "only $copies copies under dup"
t_gt "$ratio" 1.8 || t_fail "the leader received $ratio requests per op with every request sent twice"
t_check_writes dup $all
t_info "after dup: $T_STATE"

# --- two-way partition leader | rest, under load -----------------------
load_start partition
v0=$(view_of 1)
old=$((v0 % n))
other=$(((old + 1) % n))
c0=$(ec_field "$other" commit)
nem partition 2.5 "$old" rest &
nem_pid=$!
wait_view_above "$other" "$v0" 2.4 "the rest did not change view while cut off from the leader"
vold=$(view_of "$old")
t_eq "$vold" "$v0" "view of the cut-off old leader $old during the partition"
wait "$nem_pid" || t_fail "nemesis partition failed"
caught_up partition "$old" "$c0" "$other"
t_info "partition: the rest left view $v0, old leader $old stayed in it until healed"

# --- one-way partition old leader -> rest ------------------------------
v0=$(view_of 1)
old=$((v0 % n))
nem partition-oneway 2.5 "$old" rest &
nem_pid=$!
wait_view_above "$old" "$v0" 2.4 "the old leader did not learn the new view over the open direction"
wait "$nem_pid" || t_fail "nemesis partition-oneway failed"
converged partition-oneway
t_info "one-way: old leader $old learned a view above $v0 while its sends were cut"

# --- pause the leader, under load --------------------------------------
load_start pause
v0=$(view_of 1)
old=$((v0 % n))
other=$(((old + 1) % n))
c0=$(ec_field "$other" commit)
nem pause 2 "$old" &
nem_pid=$!
wait_view_above "$other" "$v0" 1.9 "no view change while the leader was paused"
wait "$nem_pid" || t_fail "nemesis pause failed"
caught_up pause "$old" "$c0" "$other"
t_info "pause: leader $old paused, view $v0 -> $(view_of "$old"), it rejoined"

# --- pause the leader past its lease, under a read-heavy load ----------
v0=$(view_of 1)
old=$((v0 % n))
# the replicas run with the default view timeout, 200 ms: a 180 ms lease
if out=$("$nemesis" pause-lease 0.1 2>&1); then
	t_fail "pause-lease 0.1 s, within the lease, was not refused"
fi
[[ $out == *"not longer than the lease"* ]] || t_fail "pause-lease 0.1: $out"
t_snap "$old" plo0
t_bench_start pause-lease 4 3 --mix "get=90,put=10" --pin "$old:2"
sleep 1
nem pause-lease 0.6 >"$T_OUT/pause-lease.nem"
line=$(grep ' nemesis start pause-lease ' "$T_OUT/pause-lease.nem") ||
	t_fail "no start line: $(cat "$T_OUT/pause-lease.nem")"
[[ $line =~ \ pause-lease\ $old\ for\ 600ms\ \(lease\ ([0-9]+)ms,\ view\ timeout\ ([0-9]+)ms\)$ ]] ||
	t_fail "pause-lease did not pause leader $old for 600 ms: $line"
t_eq "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}" "180 200" "lease and view timeout in: $line"
t_bench_wait pause-lease
t_snap "$old" plo1
# refused for the lease by user space, or by its XDP read path, which
# went on running while the process was stopped
expired=$(t_delta "$old" plo0 plo1 '^(reads_lease_expired|xdp\.read_pass_lease)$')
t_gt "$expired" 0 ||
	t_fail "leader $old woke after its lease and answered every GET it held from its state"
t_check_writes pause-lease $all
t_info "pause-lease: leader $old paused 600 ms, lease 180 ms; $expired GETs found its lease run out; $B_OPS ops, none lost; $T_STATE"

# --- crash a follower, under load --------------------------------------
load_start crash
v0=$(view_of 1)
victim=$(((v0 + 2) % n))
leader=$((v0 % n))
pid0=$(ec_replica_pid "$victim")
c0=$(ec_field "$leader" commit)
nem crash 1 "$victim"
pid1=$(ec_replica_pid "$victim") || t_fail "replica $victim was not restarted"
[ "$pid0" != "$pid1" ] || t_fail "replica $victim kept pid $pid0 through a crash"
grep -q -- '--recover' "/proc/$pid1/cmdline" || t_fail "replica $victim restarted without --recover"
grep -q -- '--offload' "/proc/$pid1/cmdline" || t_fail "replica $victim lost its arguments"
caught_up crash "$victim" "$c0" "$leader"

# --- flip offloads under load ------------------------------------------
leader=$(($(view_of 1) % n))
t_bench_start flip 4 2.5
nem flip 1 "$leader" quorum.prepare_ok >/dev/null
nem flip 1 "$(((leader + 1) % n))" fastack.prepare >/dev/null
t_bench_wait flip
t_bench_clean flip
[ "$(ec_ctl "$leader" offload | awk '$1 == "switch.quorum.prepare_ok" { print $2 }')" = on ] ||
	t_fail "flip did not switch quorum.prepare_ok back on"
((B_OPS >= 1000)) || t_fail "flip: only $B_OPS ops under load while the switches flipped"
t_check_writes flip $all
t_info "flip: $B_OPS ops with switches flipped, none lost; $T_STATE"

# --- random ------------------------------------------------------------
a=$("$nemesis" --seed 11 random --duration 30 --dry-run)
b=$("$nemesis" --seed 11 random --duration 30 --dry-run)
c=$("$nemesis" --seed 12 random --duration 30 --dry-run)
t_eq "$b" "$a" "schedule of seed 11, twice"
[ "$a" != "$c" ] || t_fail "seeds 11 and 12 gave the same schedule"
t_bench_start random 4 20
nem --seed 11 random --duration 8 >"$T_OUT/random.nem"
cat "$T_OUT/random.nem"
summary=$(grep "^nemesis summary: seed 11, " "$T_OUT/random.nem") || t_fail "no summary"
if ! [[ $summary =~ ,\ ([0-9]+)\ faults: ]] || ((BASH_REMATCH[1] == 0)); then
	t_fail "the random run ran no fault: $summary"
fi
t_bench_stop
t_bench_wait random
((B_OPS >= 1000)) || t_fail "random: only $B_OPS ops under load"
[ "$(port_sum rules)" = 0 ] || t_fail "link rules left after the random run"
t_check_writes random $all
t_info "random: $summary; $B_OPS ops, $B_TIMEOUTS timeouts, no write lost; $T_STATE"
