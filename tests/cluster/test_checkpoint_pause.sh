#!/bin/bash
# The checkpoint is taken in a forked child: the event loop stops only
# for the fork.  3 replicas (offloads off, checkpoints every 5000 ops)
# are filled by 32 clients with PUTs of fresh keys until the store holds
# at least 200,000 keys, then the load goes on until a checkpoint of an
# op executed after that has been taken.  The leader's longest pause at a
# checkpoint (stats checkpoint_us_max) must stay below 60 ms.  Measured
# here: 1.4 to 2 ms with the fork; with the checkpoint taken on the loop
# itself (hook removed) 591 ms, and the test failed.
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-bench

n=3
leader=0
want_keys=200000
bound_us=60000

# Stats field $1 of the leader.
stat() {
	ec_ctl $leader stats | awk -v k="$1" '$1 == k { print $2; exit }'
}

ec_up "$n" --checkpoint-ops 5000
# keys k0..k<9999999>: nearly every PUT writes a fresh one
t_bench_start fill 32 60 --mix put=100 --keys 10000000 --value-size 16
deadline=$((SECONDS + 50))
until (($(ec_field $leader keys) >= want_keys)); do
	((SECONDS < deadline)) || t_fail "the store reached only $(ec_field $leader keys) keys in 50 s"
	sleep 0.2
done
# a checkpoint of an op executed after this point is of a store at least
# that large (PUTs only); one that began earlier may still finish later
full_at=$(ec_field $leader executed)
until (($(ec_field $leader checkpoint) > full_at)); do
	((SECONDS < deadline)) || t_fail "no checkpoint past op $full_at, where the store reached $want_keys keys"
	sleep 0.05
done
t_bench_stop
t_bench_wait fill
keys=$(ec_field $leader keys)
size=$(stat checkpoint_bytes)
pause=$(stat checkpoint_us_max)
taken=$(stat checkpoints)
t_info "$taken checkpoints, the latest of $size bytes (over $want_keys keys, $keys now); longest pause $pause us (bound $bound_us)"
((size > want_keys * 16)) || t_fail "the latest checkpoint is only $size bytes"
((pause > 0)) || t_fail "no checkpoint pause measured"
((pause < bound_us)) || t_fail "the event loop stopped $pause us at a checkpoint"
