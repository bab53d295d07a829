# shellcheck shell=bash
#
# cluster/lib.sh - a local electrode-c cluster in network namespaces.
# Source it; every name it defines starts with ec_ or EC_.
#
# Layout (all addresses are derived here and nowhere else):
#   P-br        bridge namespace, bridge br0, ports P-b<i> and P-bc
#   P-r<i>      replica i: eth0 198.18.NET.<10+i>/24, MAC 02:ec:NET:00:00:<10+i>
#   P-c         client: eth0 198.18.NET.100/24, MAC 02:ec:NET:00:00:64
#   /run/electrode-c/P/   cluster.conf, r<i>.sock, r<i>.pid, r<i>.log
# where P is EC_PREFIX (default ec), NET is EC_NET (0..255, default 0) and
# the replica count is EC_N (1..9, default 5).  Replicas listen on UDP 7000.
#
# Every namespace has permanent neighbour entries for every other node and
# the bridge has static FDB entries, so no ARP and no flooding happen.  Each
# bridge-side veth end runs the bridge-port programs (build/bin/ec-port,
# XDP and TC ingress): a replica's XDP_TX on its eth0 needs an XDP program
# on the peer end, and they inject faults on the links (ec_link).

EC_PREFIX=${EC_PREFIX:-ec}
EC_NET=${EC_NET:-0}
EC_N=${EC_N:-5}
EC_UDP_PORT=7000
EC_MAX_REPLICAS=9
EC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EC_BIN=${EC_BIN:-$EC_ROOT/build/bin}
EC_RUN=/run/electrode-c/$EC_PREFIX
EC_CONF=$EC_RUN/cluster.conf
# Seconds to wait for a replica to become ready or to exit.
EC_READY_TIMEOUT=${EC_READY_TIMEOUT:-15}
EC_STOP_TIMEOUT=${EC_STOP_TIMEOUT:-5}

# Print an error and exit 1 (an EXIT trap then tears down).
ec_die() {
	echo "${0##*/}: error: $*" >&2
	exit 1
}

# Print a progress line.
ec_info() {
	echo "[$EC_PREFIX] $*"
}

# Print the calling script's usage: its header comment, from line 2 up to
# the `set -eu` line.
ec_usage() {
	sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0"
}

# Print the usage and exit 0 if the first argument asks for help.
ec_help_if_asked() {
	case ${1:-} in
	-h | --help)
		ec_usage
		exit 0
		;;
	esac
}

# Check the environment variables; die on a bad value.
ec_check_env() {
	[[ $EC_PREFIX =~ ^[a-z][a-z0-9]{0,9}$ ]] ||
		ec_die "EC_PREFIX '$EC_PREFIX' must be 1-10 of [a-z0-9], starting with a letter"
	if ! [[ $EC_NET =~ ^(0|[1-9][0-9]{0,2})$ ]] || ((EC_NET > 255)); then
		ec_die "EC_NET '$EC_NET' must be 0..255"
	fi
	if ! [[ $EC_N =~ ^[0-9]$ ]] || ((EC_N < 1 || EC_N > EC_MAX_REPLICAS)); then
		ec_die "EC_N '$EC_N' must be 1..$EC_MAX_REPLICAS"
	fi
}

# Die if the cluster EC_PREFIX already exists.
ec_require_absent() {
	! ec_exists ||
		ec_die "cluster '$EC_PREFIX' exists; run EC_PREFIX=$EC_PREFIX cluster/down.sh first"
}

# Everything a script that builds a cluster checks before it touches
# anything: the environment, root, build/bin programs "$@", and that no
# cluster of the same name exists (which its teardown would destroy).
ec_preflight() {
	ec_check_env
	ec_require_root
	ec_require_bins "$@"
	ec_require_absent
}

# Die unless running as root.
ec_require_root() {
	[ "$(id -u)" -eq 0 ] ||
		ec_die "needs root (network namespaces, XDP); try: sudo $0"
}

# Die unless every named program exists in build/bin.
ec_require_bins() {
	local b
	for b in "$@"; do
		[ -x "$EC_BIN/$b" ] || ec_die "$EC_BIN/$b missing; run make first"
	done
}

# Namespace names.
ec_ns_replica() { echo "$EC_PREFIX-r$1"; }
ec_ns_bridge() { echo "$EC_PREFIX-br"; }
ec_ns_client() { echo "$EC_PREFIX-c"; }

# Host number of a node: replica i is 10+i, the client ("c") is 100.
ec_host() {
	if [ "$1" = c ]; then echo 100; else echo $((10 + $1)); fi
}

# Node addresses; $1 is a replica id or "c".
ec_ip() { echo "198.18.$EC_NET.$(ec_host "$1")"; }
ec_mac() { printf '02:ec:%02x:00:00:%02x\n' "$EC_NET" "$(ec_host "$1")"; }
# Namespace of a node, and its port (veth end) in the bridge namespace.
ec_ns_of() {
	if [ "$1" = c ]; then ec_ns_client; else ec_ns_replica "$1"; fi
}
ec_port_of() { echo "$EC_PREFIX-b$1"; }

# Per-replica run files.
ec_sock() { echo "$EC_RUN/r$1.sock"; }
ec_pidfile() { echo "$EC_RUN/r$1.pid"; }
ec_logfile() { echo "$EC_RUN/r$1.log"; }

# Every namespace of this prefix that exists now, one per line.
ec_namespaces() {
	ip netns list | awk -v p="$EC_PREFIX-" \
		'index($1, p) == 1 && substr($1, length(p) + 1) ~ /^(br|c|r[0-9])$/ { print $1 }'
}

# Succeed if any part of a cluster with this prefix exists.
ec_exists() {
	[ -n "$(ec_namespaces)" ] || [ -e "$EC_RUN" ]
}

# Number of replicas in the running cluster's config.
ec_count() {
	[ -r "$EC_CONF" ] || ec_die "no cluster '$EC_PREFIX' ($EC_CONF missing)"
	grep -c '^replica ' "$EC_CONF"
}

# Write cluster.conf for $1 replicas (the format of replica/common/config.h).
ec_write_config() {
	local i
	{
		echo "# electrode-c cluster '$EC_PREFIX', written by cluster/lib.sh"
		echo "# replica <id> <ipv4> <udp-port> <mac> <interface>"
		for ((i = 0; i < $1; i++)); do
			echo "replica $i $(ec_ip "$i") $EC_UDP_PORT $(ec_mac "$i") eth0"
		done
	} >"$EC_CONF"
}

# Keep netfilter off the bridge in namespace $1, as a tuned host does.
# With br_netfilter loaded every frame br0 forwards would also pass the
# iptables, ip6tables and arptables hooks (and conntrack): per-frame CPU
# and latency that a switch between real hosts does not add.  The sysctls
# are per namespace (Linux 5.3+) and start at 1 in a new one; they exist
# only while br_netfilter is loaded, so a missing one is skipped.  Only the
# bridge namespace needs it: no other namespace has a bridge.
ec_bridge_nf_off() {
	local t
	for t in iptables ip6tables arptables; do
		ip netns exec "$1" test -e "/proc/sys/net/bridge/bridge-nf-call-$t" ||
			continue
		ip netns exec "$1" sysctl -qw "net.bridge.bridge-nf-call-$t=0" ||
			ec_die "cannot set net.bridge.bridge-nf-call-$t=0 in namespace $1"
	done
}

# Print the bridge-nf-call sysctls of namespace $1 (empty: the host's
# own), "name=value" on one line, or "br_netfilter not loaded".
ec_bridge_nf_state() {
	local t v line='' in=()
	[ -z "$1" ] || in=(ip netns exec "$1")
	for t in iptables ip6tables arptables; do
		v=$("${in[@]}" cat "/proc/sys/net/bridge/bridge-nf-call-$t" 2>/dev/null) ||
			continue
		line+=" bridge-nf-call-$t=$v"
	done
	if [ -n "$line" ]; then echo "${line# }"; else echo "br_netfilter not loaded"; fi
}

# Build namespace, veth and bridge port for node $1 (replica id or "c").
ec_add_node() {
	local ns br port
	ns=$(ec_ns_of "$1")
	br=$(ec_ns_bridge)
	port=$(ec_port_of "$1")
	ip netns add "$ns"
	# No IPv6: its router solicitations and DAD only add noise.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || :
	ip -n "$ns" link set lo up
	ip -n "$ns" link add eth0 address "$(ec_mac "$1")" type veth \
		peer name "$port" netns "$br"
	ip -n "$ns" addr add "$(ec_ip "$1")/24" dev eth0
	ip -n "$br" link set "$port" master br0
	ip -n "$ns" link set eth0 up
	ip -n "$br" link set "$port" up
	bridge -n "$br" fdb replace "$(ec_mac "$1")" dev "$port" master static
}

# Give node $1 permanent neighbour entries for every other node in $2...
ec_add_neighbours() {
	local ns self=$1 peer
	ns=$(ec_ns_of "$1")
	shift
	for peer in "$@"; do
		[ "$peer" = "$self" ] && continue
		ip -n "$ns" neigh replace "$(ec_ip "$peer")" \
			lladdr "$(ec_mac "$peer")" dev eth0 nud permanent
	done
}

# Build the topology for $1 replicas (no processes) and write cluster.conf.
# On failure the caller's EXIT trap (ec_down) removes the partial build.
ec_topology_up() {
	local n=$1 br i nodes=() ports=()
	br=$(ec_ns_bridge)
	ec_require_absent
	mkdir -p "$EC_RUN"
	ip netns add "$br"
	ip -n "$br" link set lo up
	ec_bridge_nf_off "$br"
	ip -n "$br" link add br0 type bridge
	ip -n "$br" link set br0 up
	for ((i = 0; i < n; i++)); do
		nodes+=("$i")
	done
	nodes+=(c)
	for i in "${nodes[@]}"; do
		ec_add_node "$i"
		ports+=("$(ec_port_of "$i")")
	done
	for i in "${nodes[@]}"; do
		ec_add_neighbours "$i" "${nodes[@]}"
	done
	ip netns exec "$br" "$EC_BIN/ec-port" attach "${ports[@]}" ||
		ec_die "attaching the bridge-port XDP program failed"
	ec_write_config "$n"
}

# Succeed if pid $1 is a live (not zombie) process whose command line
# contains $2; guards against pid reuse.  Uses no external command: it runs
# in polling loops on a machine the benchmark keeps busy.
ec_pid_alive() {
	local state args=() IFS=' '
	[ -n "$1" ] || return 1
	read -r _ _ state _ 2>/dev/null <"/proc/$1/stat" || return 1
	[ "$state" != Z ] || return 1
	mapfile -d '' -t args 2>/dev/null <"/proc/$1/cmdline" || return 1
	[[ "${args[*]}" == *"$2"* ]]
}

# Pid of replica $1 if it is running, else nothing (and status 1).
ec_replica_pid() {
	local pid
	read -r pid 2>/dev/null <"$EC_RUN/r$1.pid" || return 1
	ec_pid_alive "$pid" "--control $(ec_sock "$1")" || return 1
	echo "$pid"
}

# Wait until pid $1 (command line containing $2) is gone, at most $3
# seconds.  Reaps it if it is our child.  Fails on timeout.
ec_wait_gone() {
	local deadline=$((SECONDS + $3))
	while ec_pid_alive "$1" "$2"; do
		((SECONDS < deadline)) || return 1
		sleep 0.02
	done
	wait "$1" 2>/dev/null || :
}

# Start replica $1 with extra replica arguments $2...; does not wait.
ec_start() {
	local id=$1 sock log
	shift
	sock=$(ec_sock "$id")
	log=$(ec_logfile "$id")
	[ -r "$EC_CONF" ] || ec_die "no cluster '$EC_PREFIX' to start replica $id in"
	if ec_replica_pid "$id" >/dev/null; then
		ec_die "replica $id is already running"
	fi
	rm -f "$sock"
	echo "=== $(date '+%F %T') start: ec-replica --id $id $*" >>"$log"
	# ip netns exec execs the replica, so $! is the replica's own pid.
	ip netns exec "$(ec_ns_replica "$id")" "$EC_BIN/ec-replica" \
		--config "$EC_CONF" --id "$id" --control "$sock" "$@" \
		</dev/null >>"$log" 2>&1 &
	echo $! >"$(ec_pidfile "$id")"
}

# Pause replica $1 (SIGSTOP): it stays alive, its sockets keep receiving
# (and its XDP program keeps running) but it handles nothing until
# ec_resume.  Returns 1 (no exit, so an EXIT trap may use it) if the
# replica is not running.
ec_pause() {
	local pid
	pid=$(ec_replica_pid "$1") || return 1
	kill -STOP "$pid"
}

# Resume replica $1 after ec_pause (SIGCONT; harmless if it runs).
# Returns 1 (no exit) if the replica is not running.
ec_resume() {
	local pid
	pid=$(ec_replica_pid "$1") || return 1
	kill -CONT "$pid"
}

# Run an ec-ctl command against replica $1; prints the answer.  (ec-ctl
# has its own receive timeout.)
ec_ctl() {
	local id=$1
	shift
	"$EC_BIN/ec-ctl" "$(ec_sock "$id")" "$@"
}

# Set replica $1's offload switches to exactly $2: a comma-separated list
# of all, broadcast, fastack, quorum or OFFLOAD.TYPE, or "none" (also the
# default).  Everything goes off first, so a switch in $2 that was on
# flips briefly; do it between runs.  Fails if the replica refuses.
ec_offloads() {
	ec_ctl "$1" offload all off >/dev/null || return 1
	[ "${2:-none}" = none ] || ec_ctl "$1" offload "$2" on >/dev/null
}

# ec_offloads $1 on every replica 0..EC_N-1; die if one refuses.
ec_offloads_all() {
	local i
	for ((i = 0; i < EC_N; i++)); do
		ec_offloads "$i" "$1" || ec_die "setting offloads '$1' on replica $i failed"
	done
}

# Print field $2 of replica $1's status (e.g. view, commit, digest).
ec_field() {
	ec_ctl "$1" status 2>/dev/null | awk -v k="$2" '$1 == k { print $2; exit }'
}

# Show the last lines of replica $1's log on stderr.
ec_log_tail() {
	echo "--- last lines of $(ec_logfile "$1"):" >&2
	tail -n "${2:-20}" "$(ec_logfile "$1")" >&2 2>/dev/null || :
}

# Wait until replica $1 answers "status normal"; die if it exits or the
# deadline passes.
ec_wait_ready() {
	local id=$1 deadline=$((SECONDS + EC_READY_TIMEOUT)) st
	while :; do
		st=$(ec_ctl "$id" status 2>/dev/null) || st=
		grep -qx 'status normal' <<<"$st" && return 0
		if ! ec_replica_pid "$id" >/dev/null; then
			ec_log_tail "$id"
			ec_die "replica $id exited before becoming ready"
		fi
		if ((SECONDS >= deadline)); then
			ec_log_tail "$id"
			ec_die "replica $id not ready after ${EC_READY_TIMEOUT}s (status: ${st:-no answer})"
		fi
		sleep 0.02
	done
}

# Build the topology for $1 replicas, start them all with extra replica
# arguments $2... and wait until every one is ready.
ec_up() {
	local n=$1 i
	shift
	ec_topology_up "$n"
	for ((i = 0; i < n; i++)); do
		ec_start "$i" "$@"
	done
	for ((i = 0; i < n; i++)); do
		ec_wait_ready "$i"
	done
	ec_info "$n replicas ready; config $EC_CONF"
}

# Stop replica $1: SIGTERM, then SIGKILL after EC_STOP_TIMEOUT seconds.
ec_stop() {
	local id=$1 pid tag
	tag="--control $(ec_sock "$id")"
	pid=$(ec_replica_pid "$id") || { rm -f "$(ec_pidfile "$id")"; return 0; }
	kill -TERM "$pid" 2>/dev/null || :
	kill -CONT "$pid" 2>/dev/null || : # a paused replica must see the TERM
	if ! ec_wait_gone "$pid" "$tag" "$EC_STOP_TIMEOUT"; then
		echo "replica $id ignored SIGTERM for ${EC_STOP_TIMEOUT}s; SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null || :
		ec_wait_gone "$pid" "$tag" 5 || :
	fi
	rm -f "$(ec_pidfile "$id")"
}

# Crash replica $1 (SIGKILL) and wait until it is gone.  $2, if given, is
# its pid from ec_replica_pid, so that the signal goes out at once.
ec_kill() {
	local id=$1 pid=${2:-}
	if [ -z "$pid" ]; then
		pid=$(ec_replica_pid "$id") || ec_die "replica $id is not running"
	fi
	kill -KILL "$pid"
	ec_wait_gone "$pid" "--control $(ec_sock "$id")" 5 ||
		ec_die "replica $id (pid $pid) survived SIGKILL"
	rm -f "$(ec_pidfile "$id")" "$(ec_sock "$id")"
}

# Run a command in the client namespace.
ec_client() {
	ip netns exec "$(ec_ns_client)" "$@"
}

# Send signal $1 (e.g. INT: an ec-bench run ends early and still reports)
# to every process in the client namespace.  Fails if there is none.
ec_client_signal() {
	local pids
	pids=$(ip netns pids "$(ec_ns_client)" 2>/dev/null) || return 1
	[ -n "$pids" ] || return 1
	# shellcheck disable=SC2086 # a list of pids
	kill -"$1" $pids
}

# Run ec-port "$@" in the bridge namespace.
ec_port() {
	ip netns exec "$(ec_ns_bridge)" "$EC_BIN/ec-port" "$@"
}

# Set the drop rate (per mille) of frames sent by node $1 (id or "c").
ec_loss() {
	ec_port set "$(ec_port_of "$1")" --drop-permille "$2"
}

# Every node of the running cluster, one per line: 0..n-1, then c.
ec_nodes() {
	local i n
	n=$(ec_count)
	for ((i = 0; i < n; i++)); do
		echo "$i"
	done
	echo c
}

# Set the rule for the link from node $1 to node $2 (ids or "c"): the
# rest are ec-port rule settings (loss P dup P delay US jitter US); none,
# or all 0, removes it.  Delays need ec_delay_line_start.
ec_link() {
	local from=$1 to=$2
	shift 2
	ec_port rule "$(ec_port_of "$from")" dst "$(ec_ip "$to")" "$@"
}

# Remove every link rule and port drop rate on every bridge port.
ec_links_clear() {
	local node ports=()
	for node in $(ec_nodes); do
		ports+=("$(ec_port_of "$node")")
	done
	ec_port clear "${ports[@]}"
}

# Start the delay line (ec-port delay-line) for every bridge port unless
# it runs; wait until the ports know it runs.  Fails if it does not start.
ec_delay_line_start() {
	local node ports=() pid deadline=$((SECONDS + 15))
	ec_delay_line_pid >/dev/null && return 0
	for node in $(ec_nodes); do
		ports+=("$(ec_port_of "$node")")
	done
	# Not through ec_port: $! must be the process (ip netns exec execs
	# ec-port; both command lines name delay-line).
	ip netns exec "$(ec_ns_bridge)" "$EC_BIN/ec-port" delay-line br0 \
		"${ports[@]}" </dev/null >/dev/null 2>>"$EC_RUN/delay-line.log" &
	pid=$!
	echo "$pid" >"$EC_RUN/delay-line.pid"
	until ec_port stats "${ports[0]}" | grep -q ' delay_line on$'; do
		if ! ec_pid_alive "$pid" delay-line || ((SECONDS >= deadline)); then
			ec_delay_line_stop
			return 1
		fi
		sleep 0.02
	done
}

# Pid of the running delay line, else nothing (and status 1).
ec_delay_line_pid() {
	local pid
	read -r pid 2>/dev/null <"$EC_RUN/delay-line.pid" || return 1
	ec_pid_alive "$pid" delay-line || return 1
	echo "$pid"
}

# Stop the delay line if it runs (it sends what it holds first); its
# summary line is in $EC_RUN/delay-line.log.
ec_delay_line_stop() {
	local pid
	pid=$(ec_delay_line_pid) || { rm -f "$EC_RUN/delay-line.pid"; return 0; }
	kill -TERM "$pid" 2>/dev/null || :
	ec_wait_gone "$pid" delay-line "$EC_STOP_TIMEOUT" || kill -KILL "$pid" 2>/dev/null || :
	rm -f "$EC_RUN/delay-line.pid"
}

# Wait until the replicas $2... are all normal with the same view and
# commit, executed == commit and the same digest, at most $1 seconds.
# Prints "view V commit C digest D"; fails (status 1) on timeout after
# printing their last status lines to stderr.
ec_wait_converged() {
	local deadline=$((SECONDS + $1)) id st line want ok
	shift
	[ $# -gt 0 ] || { echo "ec_wait_converged: no replica ids" >&2; return 1; }
	while :; do
		ok=1 want=
		for id in "$@"; do
			st=$(ec_ctl "$id" status 2>/dev/null) || { ok=0; break; }
			line=$(awk '
				{ f[$1] = $2 }
				END {
					if (f["status"] == "normal" && f["executed"] == f["commit"])
						print "view", f["view"], "commit", f["commit"], "digest", f["digest"]
				}' <<<"$st")
			if [ -z "$line" ] || { [ -n "$want" ] && [ "$line" != "$want" ]; }; then
				ok=0
				break
			fi
			want=$line
		done
		if ((ok)); then
			echo "$want"
			return 0
		fi
		if ((SECONDS >= deadline)); then
			for id in "$@"; do
				echo "replica $id: $(ec_ctl "$id" status 2>&1 | tr '\n' ' ')" >&2
			done
			return 1
		fi
		sleep 0.05
	done
}

# Kill every process this cluster started (pid files first, then anything
# still inside its namespaces), delete its namespaces and run directory.
# Idempotent, never fails, safe in an EXIT trap.
ec_down() {
	local f id pid ns pids
	for f in "$EC_RUN"/r*.pid; do
		[ -e "$f" ] || continue
		id=${f##*/r}
		id=${id%.pid}
		ec_stop "$id" || :
	done
	for ns in $(ec_namespaces); do
		pids=$(ip netns pids "$ns" 2>/dev/null) || pids=
		[ -n "$pids" ] || continue
		# shellcheck disable=SC2086 # a list of pids
		kill -TERM $pids 2>/dev/null || :
		for pid in $pids; do
			ec_wait_gone "$pid" "" "$EC_STOP_TIMEOUT" ||
				kill -KILL "$pid" 2>/dev/null || :
		done
	done
	for ns in $(ec_namespaces); do
		ip netns del "$ns" 2>/dev/null || :
	done
	rm -rf "$EC_RUN"
	rmdir /run/electrode-c 2>/dev/null || :
}

# Print what of this cluster is left: namespaces, run dir.  Prints
# nothing when teardown was complete.
ec_leftovers() {
	ec_namespaces | sed 's/^/namespace /'
	[ -e "$EC_RUN" ] && echo "directory $EC_RUN"
	return 0
}

# EXIT handler of scripts that keep the replica logs: copy them into the
# directory $EC_KEEP_LOGS, then tear down (ec_trap_down ec_exit_keep_logs).
ec_exit_keep_logs() {
	local rc=$?
	cp "$EC_RUN"/r*.log "$EC_KEEP_LOGS"/ 2>/dev/null || :
	ec_down
	exit "$rc"
}

# For a script that owns a cluster for its whole run: run handler $1
# (ec_down, or a function that ends with it) on any exit, including Ctrl-C
# and SIGTERM.
ec_trap_down() {
	# shellcheck disable=SC2064 # the handler's name is fixed now
	trap "$1" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
