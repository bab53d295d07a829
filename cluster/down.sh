#!/bin/bash
# cluster/down.sh
#
# Stop every replica and client process of the cluster EC_PREFIX (default
# ec), delete its namespaces and run directory.  Safe to run twice.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

ec_help_if_asked "$@"
ec_check_env
ec_require_root
ec_down
left=$(ec_leftovers)
[ -z "$left" ] || ec_die "teardown left behind: $left"
