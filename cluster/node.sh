#!/bin/bash
# cluster/node.sh COMMAND ARGS...   faults and checks on a running cluster
#
#   kill I               crash replica I (SIGKILL)
#   stop I               stop replica I (SIGTERM, SIGKILL after a deadline)
#   start I [ARGS...]    start replica I with extra replica arguments
#                        (e.g. --recover after a crash), wait until ready
#   pause I              freeze replica I (SIGSTOP): alive but deaf; its
#                        XDP program still runs (and may fast-ack)
#   resume I             let paused replica I run again (SIGCONT)
#   loss NODE PERMILLE   drop PERMILLE of every 1000 frames NODE sends
#                        (NODE is a replica id or c for the client; 1000
#                        cuts it off, 0 heals)
#   status [I...]        print the status of replicas I... (default all)
#
# Environment: EC_PREFIX selects the cluster (default ec).
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

# Die unless $1 is a replica id of the running cluster.
check_id() {
	if ! [[ $1 =~ ^[0-9]$ ]] || (($1 >= $(ec_count))); then
		ec_die "no replica '$1' in cluster '$EC_PREFIX'"
	fi
}

cmd=${1:-}
[ -n "$cmd" ] || { ec_usage >&2; exit 2; }
ec_help_if_asked "$cmd"
shift
ec_check_env
ec_require_root
[ -r "$EC_CONF" ] || ec_die "no cluster '$EC_PREFIX' is up (cluster/up.sh)"

case $cmd in
kill | stop)
	[ $# -eq 1 ] || ec_die "usage: $0 $cmd I"
	check_id "$1"
	if [ "$cmd" = kill ]; then ec_kill "$1"; else ec_stop "$1"; fi
	;;
start)
	[ $# -ge 1 ] || ec_die "usage: $0 start I [ARGS...]"
	id=$1
	shift
	check_id "$id"
	ec_start "$id" "$@"
	ec_wait_ready "$id"
	;;
pause | resume)
	[ $# -eq 1 ] || ec_die "usage: $0 $cmd I"
	check_id "$1"
	if [ "$cmd" = pause ]; then
		ec_pause "$1" || ec_die "replica $1 is not running"
	else
		ec_resume "$1" || ec_die "replica $1 is not running"
	fi
	;;
loss)
	[ $# -eq 2 ] || ec_die "usage: $0 loss NODE PERMILLE"
	[ "$1" = c ] || check_id "$1"
	ec_loss "$1" "$2"
	;;
status)
	if [ $# -eq 0 ]; then
		set -- $(seq 0 $(($(ec_count) - 1)))
	fi
	for id in "$@"; do
		check_id "$id"
		echo "== replica $id"
		ec_ctl "$id" status || echo "(no answer)"
	done
	;;
*)
	ec_usage >&2
	exit 2
	;;
esac
