#!/bin/bash
# Basic cluster behaviour: a 5-replica cluster answers ec-cli put, get,
# cas, cas-absent and delete with the documented output and exit status and
# every replica ends with the same state; a 1-replica cluster (unreplicated
# baseline) and a 9-replica cluster (the largest) each serve a short
# ec-bench run.
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench ec-cli

# A short ec-bench run with $1 clients; fail unless it completes ops.
short_bench() {
	local out
	out=$(ec_client "$EC_BIN/ec-bench" --config "$EC_CONF" --clients "$1" \
		--duration 1 --warmup 0.2 2>&1) || t_fail "ec-bench failed: $out"
	echo "$out"
	grep -q '^summary: .* ops/s, p50 [0-9]* us' <<<"$out" ||
		t_fail "no summary line from ec-bench"
}

# Fail unless replicas 0..$1-1 converge; prints their common state.
converged() {
	local state
	state=$(ec_wait_converged 15 $(seq 0 $(($1 - 1)))) ||
		t_fail "the $1 replicas did not converge"
	t_info "all $1 replicas agree: $state"
}

ec_up 5
t_cli_expect 2 NOT_FOUND get k1
t_cli_expect 0 OK put k1 hello
t_cli_expect 0 hello get k1
t_cli_expect 2 "CAS_FAILED current=hello" cas k1 wrong new
t_cli_expect 0 OK cas k1 hello world
t_cli_expect 0 world get k1
t_cli_expect 2 "CAS_FAILED current=world" cas-absent k1 x
t_cli_expect 0 OK cas-absent k2 fresh
t_cli_expect 0 fresh get k2
t_cli_expect 0 OK delete k1
t_cli_expect 2 NOT_FOUND get k1
t_cli_expect 2 "CAS_FAILED absent" cas k1 a b
t_cli_expect 0 OK put k3 "two words"
t_cli_expect 0 "two words" get k3
t_cli_expect 1 "" frobnicate k1
t_info "ec-cli round trip: outputs and exit statuses right"
converged 5
t_eq "$(ec_field 3 keys)" 2 "keys on replica 3"
dump=$(ec_ctl 4 dump) || t_fail "dump of replica 4 failed"
dump=$(sort <<<"$dump")
t_eq "$dump" $'k2 fresh\nk3 two\\x20words' "dump of replica 4"
ec_down

ec_up 1
short_bench 4
converged 1
ec_down

ec_up 9
short_bench 8
converged 9
