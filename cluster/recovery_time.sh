#!/bin/bash
# cluster/recovery_time.sh
#
# How long a restarted follower takes to be back after a long run.  A
# 5-replica cluster with every offload on (--offload all) and checkpoints
# at the default interval (or EC_RECOVERY_CHECKPOINT_OPS) serves one
# closed-loop ec-bench run of EC_RECOVERY_CLIENTS clients until the
# clients have completed EC_RECOVERY_REQUESTS requests (from ec-bench's
# -v progress lines; the time this takes is printed).  Then, with the
# load still running, one follower is killed (SIGKILL) and restarted at
# once with --recover --offload all, and the script measures, from the
# restart:
#   normal   until `ec-ctl SOCK status` says "status normal" (recovery
#            done: it has installed the latest checkpoint and the log
#            after it)
#   acking   until its XDP fast ack acknowledges PREPAREs again
#            (xdp.fastack_acked of `ec-ctl SOCK offload` above 0: the
#            restarted process counts from 0)
# Target: acking within 2 s (EC_RECOVERY_TARGET_MS).  Then the load stops
# and all five must agree (same commit and digest).  Exits 1 if the
# target is missed or they do not agree, 2 on a usage error.  Whatever
# happens, the cluster is torn down.
#
# Environment:
#   EC_RECOVERY_REQUESTS        requests before the kill (10000000)
#   EC_RECOVERY_CLIENTS         closed-loop clients (32)
#   EC_RECOVERY_KEYS            ec-bench --keys (100000)
#   EC_RECOVERY_CHECKPOINT_OPS  --checkpoint-ops (the replica's default)
#   EC_RECOVERY_TARGET_MS       the target (2000)
#   EC_RECOVERY_OUT             directory for logs
#                               (build/results/recovery-<date>-<time>)
#   EC_PREFIX, EC_NET           the cluster's name and subnet (lib.sh)
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
ec_help_if_asked "${1:-}"
[ $# -eq 0 ] || { ec_usage >&2; exit 2; }

want=${EC_RECOVERY_REQUESTS:-10000000}
clients=${EC_RECOVERY_CLIENTS:-32}
keys=${EC_RECOVERY_KEYS:-100000}
target_ms=${EC_RECOVERY_TARGET_MS:-2000}
out=${EC_RECOVERY_OUT:-$EC_ROOT/build/results/recovery-$(date +%Y%m%d-%H%M%S)}
n=5
args=(--offload all)
[ -z "${EC_RECOVERY_CHECKPOINT_OPS:-}" ] ||
	args+=(--checkpoint-ops "$EC_RECOVERY_CHECKPOINT_OPS")
for v in want clients keys target_ms; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "recovery_time.sh: $v '${!v}' is not a number" >&2; exit 2; }
done

EC_N=$n
ec_preflight ec-port ec-replica ec-ctl ec-bench
mkdir -p "$out"

EC_KEEP_LOGS=$out
ec_trap_down ec_exit_keep_logs

# Requests the clients completed so far (the last -v progress line).
completed() {
	awk '$2 == "s:" && $4 == "ops," { ops = $3 } END { print ops + 0 }' "$out/bench.err"
}

# Milliseconds since the epoch into variable $1, without forking.
now_ms() {
	local us=${EPOCHREALTIME/./}
	printf -v "$1" '%s' $((us / 1000))
}

ec_info "5 replicas, ${args[*]}, $clients clients, $keys keys, until $want requests; output in $out"
ec_up "$n" "${args[@]}"
ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients "$clients" \
	--duration 3600 --warmup 0.5 --keys "$keys" -v \
	>"$out/bench.out" 2>"$out/bench.err" &
bench=$!
start=$SECONDS
while :; do
	sleep 5
	kill -0 "$bench" 2>/dev/null || ec_die "ec-bench ended early: $(tail -n 3 "$out/bench.err")"
	done_req=$(completed)
	((done_req >= want)) && break
	if (((SECONDS - start) % 30 < 5)); then
		ec_info "$((SECONDS - start)) s: $done_req requests"
	fi
done
fill_s=$((SECONDS - start))
leader=$(ec_field 0 leader)
victim=$(((leader + n - 1) % n))
ec_info "$done_req requests in $fill_s s ($((done_req / fill_s)) requests/s); leader $leader: $(ec_ctl "$leader" status | awk '$1 ~ /^(view|commit|checkpoint|keys)$/ { printf "%s %s ", $1, $2 }')"
ec_info "killing follower $victim and restarting it with --recover ${args[*]}"
ec_kill "$victim"
sock=$(ec_sock "$victim")
normal_ms='' ack_ms='' t0=0 deadline=$((SECONDS + 60))
now_ms t0 # times are from the restart
ec_start "$victim" --recover "${args[@]}"
nl=$'\n'
while [ -z "$ack_ms" ]; do
	if [ -z "$normal_ms" ]; then
		st=$("$EC_BIN/ec-ctl" "$sock" status 2>/dev/null) || st=
		now_ms t
		[[ $st =~ (^|$nl)status\ normal($nl) ]] && normal_ms=$((t - t0))
	fi
	if [ -n "$normal_ms" ]; then
		off=$("$EC_BIN/ec-ctl" "$sock" offload 2>/dev/null) || off=
		now_ms t
		[[ $off =~ (^|$nl)xdp[.]fastack_acked\ ([0-9]+) ]] &&
			((BASH_REMATCH[2] > 0)) && ack_ms=$((t - t0))
	fi
	if ((SECONDS >= deadline)); then
		ec_log_tail "$victim"
		ec_die "replica $victim not acking 60 s after its restart (normal after ${normal_ms:-never} ms)"
	fi
	ec_replica_pid "$victim" >/dev/null || { ec_log_tail "$victim"; ec_die "replica $victim exited"; }
	sleep 0.005
done
installed=$(ec_ctl "$victim" stats | awk '$1 == "snapshot.installed" { print $2 }')
# $bench is the subshell of ec_client: signal ec-bench itself (SIGINT: it
# stops and reports)
ec_client_signal INT || :
wait "$bench" || :
state=$(ec_wait_converged 30 $(seq 0 $((n - 1)))) || ec_die "the replicas did not agree after the run"
echo "reached $done_req requests in $fill_s s"
echo "restarted follower $victim: normal after $normal_ms ms, acking (xdp.fastack_acked > 0) after $ack_ms ms; snapshots installed: $installed"
echo "all agree: $state"
if ((ack_ms <= target_ms)); then
	echo "target acking within $target_ms ms: ok"
else
	echo "target acking within $target_ms ms: MISSED"
	exit 1
fi
