#!/bin/bash
# cluster/up.sh [N] [-- REPLICA-ARGS...]
#
# Build a local cluster of N replicas (default EC_N, 5) in network
# namespaces, start them and wait until every one is ready.  The cluster
# keeps running; stop it with cluster/down.sh.  Environment: EC_PREFIX,
# EC_NET (see cluster/lib.sh).  A failed start leaves nothing behind.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

case ${1:-} in
-h | --help)
	sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
	;;
esac
if [ $# -gt 0 ] && [ "$1" != -- ]; then
	EC_N=$1
	shift
fi
[ "${1:-}" = -- ] && shift

ec_check_env
ec_require_root
ec_require_bins ec-replica ec-ctl ec-port
ec_exists && ec_die "cluster '$EC_PREFIX' exists; run EC_PREFIX=$EC_PREFIX cluster/down.sh first"

ec_trap_down
ec_up "$EC_N" "$@"
trap - EXIT INT TERM

cat <<MSG
cluster '$EC_PREFIX' is up:
  config   $EC_CONF
  logs     $EC_RUN/r<i>.log, control sockets $EC_RUN/r<i>.sock
  status   $EC_BIN/ec-ctl $EC_RUN/r0.sock status
  client   ip netns exec $(ec_ns_client) $EC_BIN/ec-cli --config $EC_CONF ...
  faults   EC_PREFIX=$EC_PREFIX cluster/node.sh kill|stop|start|loss ...
  stop     EC_PREFIX=$EC_PREFIX cluster/down.sh
MSG
