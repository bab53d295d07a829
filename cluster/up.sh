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

ec_help_if_asked "$@"
if [ $# -gt 0 ] && [ "$1" != -- ]; then
	EC_N=$1
	shift
fi
[ "${1:-}" = -- ] && shift

ec_preflight ec-replica ec-ctl ec-port

ec_trap_down ec_down
ec_up "$EC_N" "$@"
trap - EXIT INT TERM

cat <<MSG
cluster '$EC_PREFIX' is up:
  config   $EC_CONF
  logs     $EC_RUN/r<i>.log, control sockets $EC_RUN/r<i>.sock
  status   $EC_BIN/ec-ctl $EC_RUN/r0.sock status
  client   ip netns exec $(ec_ns_client) $EC_BIN/ec-cli --config $EC_CONF ...
  faults   EC_PREFIX=$EC_PREFIX cluster/node.sh kill|stop|start|pause|resume|loss ...
  stop     EC_PREFIX=$EC_PREFIX cluster/down.sh
MSG
