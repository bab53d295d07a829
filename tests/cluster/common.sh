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

# Fail unless "$@" fails.
t_run_fails() {
	if "$@"; then
		t_fail "command succeeded but should have failed: $*"
	fi
}

# Fail unless $1 == $2; $3 names the value.
t_eq() {
	[ "$1" = "$2" ] || t_fail "$3: got '$1', want '$2'"
}

# EXIT trap: keep the replica logs of a failed test, then tear down.
t_on_exit() {
	local rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne "$T_SKIP" ] && [ -d "$EC_RUN" ]; then
		cp "$EC_RUN"/*.log "$EC_RUN"/cluster.conf "$T_OUT"/ 2>/dev/null || :
		echo "# replica logs kept in $T_OUT" >&2
	fi
	ec_down
	exit "$rc"
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
	trap t_on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	t_probe
}
