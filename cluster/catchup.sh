#!/bin/bash
# cluster/catchup.sh [OPS] [-- REPLICA-ARGS...]
#
# Measure how fast a follower that fell behind in its view catches up.
# Brings up a 5-replica cluster, runs 8 ec-bench clients, freezes follower
# 2 (SIGSTOP) and keeps the load on until the leader is OPS ops (default
# 100000) past it, stops the load, resumes the follower (SIGCONT) and
# prints the seconds until its op and digest equal the leader's; exits 1
# if that takes more than EC_CATCHUP_TIMEOUT seconds (default 60).
# The replicas run with a view timeout of 10 min, so that the frozen
# follower does not start a view change when it resumes; REPLICA-ARGS
# (e.g. --offload all) come after and may override it.  With fast ack on,
# the follower's XDP program still acknowledges the first few thousand
# ops (until its ring is full); they count as missed here.
# The cluster is torn down whatever happens.  Environment: EC_PREFIX
# (default ecc), EC_NET, EC_CATCHUP_TIMEOUT.
set -eu
EC_PREFIX=${EC_PREFIX:-ecc}
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

ec_help_if_asked "$@"
EC_N=5
lag=100000
if [ $# -gt 0 ] && [ "$1" != -- ]; then
	lag=$1
	shift
fi
[ "${1:-}" = -- ] && shift
[[ $lag =~ ^[1-9][0-9]{0,8}$ ]] || ec_die "OPS '$lag' must be a positive number"
timeout=${EC_CATCHUP_TIMEOUT:-60}
[[ $timeout =~ ^[1-9][0-9]{0,4}$ ]] ||
	ec_die "EC_CATCHUP_TIMEOUT '$timeout' must be a positive number of seconds"
follower=2
max_load=300 # seconds of load to get OPS ahead; well below the view timeout

ec_preflight ec-replica ec-ctl ec-bench ec-port

# EXIT: thaw the follower, then tear down.
on_exit() {
	ec_resume "$follower" 2>/dev/null || :
	ec_down
}
ec_trap_down on_exit

# Print field $2 of the status text $1 (nothing if absent).
field_of() {
	local nl=$'\n'
	[[ $1 =~ (^|$nl)$2\ ([^$nl]*) ]] && echo "${BASH_REMATCH[2]}"
}

ec_up "$EC_N" --view-timeout-ms 600000 "$@"
ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients 8 \
	--duration "$((max_load + 30))" --warmup 0 >"$EC_RUN/bench.out" 2>&1 &
bench=$!
end=$((SECONDS + 15))
while c=$(ec_field 0 commit) && [ "${c:-0}" -lt 100 ]; do
	((SECONDS < end)) || ec_die "the leader committed less than 100 ops in 15 s of load"
	sleep 0.05
done

op0=$(ec_field "$follower" op)
ec_pause "$follower" || ec_die "replica $follower is not running"
ec_info "follower $follower paused at op $op0; load until the leader is $lag ops ahead"
end=$((SECONDS + max_load))
while :; do
	op=$(ec_field 0 op)
	[ "${op:-0}" -lt $((op0 + lag)) ] || break
	((SECONDS < end)) || ec_die "the leader reached op ${op:-?} only in $max_load s"
	kill -0 "$bench" 2>/dev/null || ec_die "ec-bench ended: $(cat "$EC_RUN/bench.out")"
	sleep 0.1
done
ec_client_signal INT || ec_die "no ec-bench to stop"
wait "$bench" || ec_die "ec-bench failed: $(cat "$EC_RUN/bench.out")"
grep '^summary: ' "$EC_RUN/bench.out" || :

# Print "op O digest D" from status text $1 if it is normal with
# op = commit = executed, else nothing.
settled() {
	local op
	op=$(field_of "$1" op)
	[ "$(field_of "$1" status)" = normal ] && [ -n "$op" ] &&
		[ "$(field_of "$1" commit)" = "$op" ] &&
		[ "$(field_of "$1" executed)" = "$op" ] &&
		echo "op $op digest $(field_of "$1" digest)"
}

op=$(ec_field 0 op)
[ -n "$op" ] || ec_die "no status from the leader"
ec_info "load stopped; leader at op $op, follower $follower missed $((op - op0)) ops; resuming it"
t0=$EPOCHREALTIME
ec_resume "$follower" || ec_die "replica $follower is not running"
end=$((SECONDS + timeout))
while :; do
	st=$(ec_ctl "$follower" status 2>/dev/null) || st=
	t1=$EPOCHREALTIME
	mine=$(settled "$st") || mine=
	if [ -n "$mine" ]; then
		theirs=$(settled "$(ec_ctl 0 status)") || theirs=
		[ "$mine" != "$theirs" ] || break
	fi
	if ((SECONDS >= end)); then
		ec_die "follower $follower not caught up after $timeout s: $(tr '\n' ' ' <<<"$st"); leader: $(ec_ctl 0 status | tr '\n' ' ')"
	fi
	sleep 0.01
done
op=${mine#op }
op=${op%% *}
awk -v a="$t0" -v b="$t1" -v n="$((op - op0))" 'BEGIN {
	s = b - a
	printf "caught up %d ops in %.3f s (%.0f ops/s)\n", n, s, (s > 0 ? n / s : 0)
}'
