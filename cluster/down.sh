#!/bin/bash
# cluster/down.sh
#
# Stop every replica and client process of the cluster EC_PREFIX (default
# ec), delete its namespaces and run directory.  Safe to run twice.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

case ${1:-} in
-h | --help)
	sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
	;;
esac
ec_check_env
ec_require_root
ec_down
left=$(ec_leftovers)
[ -z "$left" ] || ec_die "teardown left behind: $left"
