#!/bin/bash
# The bounded store on a 5-replica cluster started with --max-keys 5
# --max-bytes 64.  Twice: offloads off, then all on (--offload all).  Each
# time ec-cli writes 5 keys (OK), then the 6th key by put and by
# cas-absent, and a value that would grow the store past 64 bytes: each
# prints STORE_FULL and exits 3, and nothing changed on any replica (all
# agree on the digest they had before, 5 keys each).  Replacing a value
# with a smaller one still works on the full store, and after a delete the
# 6th key fits.
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"
t_begin ec-port ec-replica ec-ctl ec-cli

n=5
max_keys=5
max_bytes=64
mapfile -t all < <(seq 0 $((n - 1)))

# Wait until every replica agrees; print "view V commit C digest D".
agree() {
	ec_wait_converged 15 "${all[@]}" || t_fail "the replicas did not converge"
}

# Fail unless every replica holds $1 keys.
keys_everywhere() {
	local i
	for i in "${all[@]}"; do
		t_eq "$(ec_field "$i" keys)" "$1" "keys on replica $i"
	done
}

# One pass with replica arguments "$@" (besides the bounds).
pass() {
	local i before after digest_before digest_after
	ec_up "$n" --max-keys "$max_keys" --max-bytes "$max_bytes" "$@"
	for i in "${all[@]}"; do
		t_eq "$(ec_field "$i" max_keys)" "$max_keys" "max_keys of replica $i"
		t_eq "$(ec_field "$i" max_bytes)" "$max_bytes" "max_bytes of replica $i"
	done
	for ((i = 1; i <= max_keys; i++)); do
		t_cli_expect 0 OK put "k$i" "v$i"
	done
	before=$(agree)
	keys_everywhere "$max_keys"
	t_info "full: $before, $(ec_field 0 bytes) bytes"

	# 5 keys of 4 bytes (20): a 6th key, or k1 grown to a 60-byte value
	# (78), does not fit
	t_cli_expect 3 STORE_FULL put k6 v6
	t_cli_expect 3 STORE_FULL cas-absent k6 v6
	t_cli_expect 3 STORE_FULL put k1 "$(printf 'x%.0s' $(seq 1 60))"
	t_cli_expect 3 STORE_FULL cas k1 v1 "$(printf 'y%.0s' $(seq 1 60))"
	t_cli_expect 2 NOT_FOUND get k6
	t_cli_expect 0 v1 get k1
	after=$(agree)
	keys_everywhere "$max_keys"
	# the refused writes were executed (commit moved), but changed nothing
	digest_before=${before##* }
	digest_after=${after##* }
	t_eq "$digest_after" "$digest_before" "digest after the refused writes"
	t_info "refused writes changed nothing: $after"

	# a full store still takes replacements no larger, and deletes
	t_cli_expect 0 OK put k2 w2
	t_cli_expect 0 OK put k3 3
	t_cli_expect 0 OK delete k4
	t_cli_expect 0 OK put k6 v6
	t_cli_expect 0 v6 get k6
	agree >/dev/null
	keys_everywhere "$max_keys"
	ec_down
}

t_info "offloads off"
pass
t_info "offloads all on"
pass --offload all
