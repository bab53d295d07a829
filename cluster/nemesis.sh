#!/bin/bash
# cluster/nemesis.sh [--seed S] COMMAND ARGS...   faults against a running cluster
#
# Every fault is bounded: it starts, lasts SECS (decimals allowed), and
# heals.  Each start and stop is one line on stdout, also appended to
# $EC_RUN/nemesis.log:
#   2025-01-01T12:00:00.123 nemesis start partition 0 | 1,2,3,4,c for 2s
# On exit, also by Ctrl-C or SIGTERM, whatever this run broke is healed.
#
# Nodes are replica ids and c (the client).  A SET is a comma-separated
# list of nodes, or: leader (the replica leading the highest view now),
# rest (every node not in the other set), all.  Targets left out are
# drawn from the seed.
#
#   crash SECS [I|leader...]   SIGKILL replicas I... (default one at
#                              random; at most f), restart them with
#                              --recover and their old arguments after SECS
#   pause SECS [I|leader]      SIGSTOP replica I (default the leader),
#                              SIGCONT after SECS
#   pause-lease [SECS]         SIGSTOP the leader for longer than its
#                              lease (0.9 x its --view-timeout-ms), so
#                              that it wakes with the lease run out and,
#                              past the view timeout, after a new view
#                              formed without it; SECS must be longer than
#                              the lease (default drawn from the seed,
#                              from just past the lease to 4 view
#                              timeouts); SIGCONT after SECS
#   partition SECS [A B]       cut every link between sets A and B, both
#                              ways (default: leader | rest)
#   partition-oneway SECS [A B]  drop what A sends to B only
#   loss SECS PERMILLE [A B]   drop PERMILLE of the frames from A to B
#   dup SECS PERMILLE [A B]    send PERMILLE of them twice
#   delay SECS US JITTER [A B] hold them US plus 0..JITTER microseconds
#                              (jitter reorders); runs the delay line
#                              (default A B: one random link each way)
#   flip SECS [I SWITCH]       turn offload SWITCH (e.g. fastack.prepare,
#                              see `ec-ctl SOCK offload`) of live replica I
#                              to the other state, back after SECS
#   random --duration D [--dry-run]
#                              faults of every kind above, one after the
#                              other with 0.2-1 s of calm between, drawn
#                              from the seed (every kind once in each run
#                              of 9 faults; a single crash is of the
#                              leader half the time), for about D
#                              seconds; prints the schedule first
#                              (--dry-run: only that), then a summary of
#                              faults by kind.  The same seed gives the
#                              same schedule.
#   heal                       clear every link rule, stop the delay
#                              line, resume every replica, restart the
#                              replicas a nemesis crashed
#
#   --seed S   seed of every random choice (default: from the clock; the
#              first log line shows it)
#
# Environment: EC_PREFIX selects the cluster (default ec), EC_NET its subnet.
set -eu
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

NEM_SEED=
NEM_CRASHED=()  # replica ids this run crashed and has not restarted
NEM_PAUSED=()   # replica ids this run paused and has not resumed
NEM_FLIPPED=()  # "id switch state-to-restore"
NEM_LINKS=0     # 1 while this run has link rules set
NEM_DELAY=0     # 1 if this run started the delay line
declare -A NEM_COUNT=()

# One log line: $1 is start or stop, the rest the fault.
nem_log() {
	local line
	line="$(date +%FT%T.%3N) nemesis $*"
	echo "$line"
	echo "$line" >>"$EC_RUN/nemesis.log"
}

# Next pseudo-random number into NEM_R, 0..32767: a 31-bit LCG of our own,
# so that a seed gives the same numbers on every bash version.
nem_rand() {
	NEM_STATE=$(((NEM_STATE * 1103515245 + 12345) % 2147483648))
	NEM_R=$((NEM_STATE >> 16))
}

# A number in 0..$1-1 into NEM_R.
nem_below() {
	nem_rand
	NEM_R=$((NEM_R % $1))
}

# Milliseconds in SECS ($1, decimals allowed) on stdout.
nem_ms() {
	[[ $1 =~ ^[0-9]+(\.[0-9]{1,3})?$ ]] || ec_die "'$1' is not a number of seconds"
	awk -v s="$1" 'BEGIN { printf "%d\n", s * 1000 }'
}

# Sleep $1 milliseconds.
nem_sleep() {
	sleep "$(awk -v ms="$1" 'BEGIN { printf "%.3f\n", ms / 1000 }')"
}

# The leader of the highest view any live replica is normal in.
nem_leader() {
	local id view best=-1 n
	n=$(ec_count)
	for ((id = 0; id < n; id++)); do
		ec_replica_pid "$id" >/dev/null || continue
		view=$(ec_field "$id" view) || view=
		[ -n "$view" ] && ((view > best)) && best=$view
	done
	((best >= 0)) || ec_die "no replica answers; cannot tell the leader"
	echo $((best % n))
}

# Expand SET $1 (with $2 the other set, for rest) into a space-separated
# list of nodes on stdout.
nem_set() {
	local spec=$1 other=${2:-} node out=() skip
	case $spec in
	all) ec_nodes | tr '\n' ' ' ;;
	leader) nem_leader ;;
	rest)
		skip=" $(nem_set "$other" all) "
		for node in $(ec_nodes); do
			[[ $skip == *" $node "* ]] || out+=("$node")
		done
		echo "${out[*]}"
		;;
	*)
		[[ $spec =~ ^([0-9]|c)(,([0-9]|c))*$ ]] || ec_die "bad node set '$spec'"
		echo "${spec//,/ }"
		;;
	esac
}

# The words of "$*" as "a,b,c".
nem_join() {
	local s="$*"
	echo "${s// /,}"
}

# Set rule "$3..." on every link from the nodes in $1 to those in $2.
nem_links() {
	local from=$1 to=$2 a b
	shift 2
	for a in $from; do
		for b in $to; do
			[ "$a" = "$b" ] || ec_link "$a" "$b" "$@"
		done
	done
}

# Count one fault of kind $1 for the summary.
nem_count() {
	NEM_COUNT[$1]=$((${NEM_COUNT[$1]:-0} + 1))
}

# Arguments replica $1 runs with, minus those ec_start adds and --recover,
# into array NEM_ARGS.
nem_replica_args() {
	local pid args=() i
	pid=$(ec_replica_pid "$1") || return 1
	mapfile -d '' -t args <"/proc/$pid/cmdline"
	NEM_ARGS=()
	for ((i = 1; i < ${#args[@]}; i++)); do
		case ${args[i]} in
		--config | --id | --control) i=$((i + 1)) ;;
		--recover) ;;
		*) NEM_ARGS+=("${args[i]}") ;;
		esac
	done
}

# crash MS [I|leader...]
fault_crash() {
	local ms=$1 id pid n f a ids=()
	shift
	for id in "$@"; do
		[ "$id" != leader ] || id=$(nem_leader)
		ids+=("$id")
	done
	set -- "${ids[@]}"
	n=$(ec_count)
	f=$(((n - 1) / 2))
	(($# <= f)) || ec_die "crash: at most f=$f replicas at once, not $#"
	for id in "$@"; do
		nem_replica_args "$id" || { nem_log skip crash "$id (not running)"; return 0; }
		# one NUL-terminated argument each; none: an empty file (printf
		# would write its format once even with no argument)
		for a in "${NEM_ARGS[@]}"; do
			printf '%s\0' "$a"
		done >"$EC_RUN/nemesis-r$id.args"
	done
	nem_log start crash "$(nem_join "$@")" for "$((ms))ms"
	for id in "$@"; do
		pid=$(ec_replica_pid "$id")
		NEM_CRASHED+=("$id")
		ec_kill "$id" "$pid"
	done
	nem_sleep "$ms"
	nem_restart_crashed
	nem_log stop crash "$(nem_join "$@")"
	nem_count crash
}

# Restart every replica this run crashed, with --recover; wait until ready.
nem_restart_crashed() {
	local id args=()
	for id in "${NEM_CRASHED[@]}"; do
		args=()
		[ -r "$EC_RUN/nemesis-r$id.args" ] &&
			mapfile -d '' -t args <"$EC_RUN/nemesis-r$id.args"
		ec_start "$id" "${args[@]}" --recover
	done
	# not our jobs: a later crash of them is no news for bash to print
	disown -a 2>/dev/null || :
	for id in "${NEM_CRASHED[@]}"; do
		ec_wait_ready "$id"
		rm -f "$EC_RUN/nemesis-r$id.args"
	done
	NEM_CRASHED=()
}

# pause MS I|leader
fault_pause() {
	local ms=$1 id=${2:-leader}
	[ "$id" = leader ] && id=$(nem_leader)
	ec_pause "$id" || { nem_log skip pause "$id (not running)"; return 0; }
	NEM_PAUSED+=("$id")
	nem_log start pause "$id" for "${ms}ms"
	nem_sleep "$ms"
	ec_resume "$id" || :
	NEM_PAUSED=()
	nem_log stop pause "$id"
	nem_count pause
}

# The view timeout in ms replica $1 runs with: its --view-timeout-ms, or
# ec-replica's default (from --help, which the option table writes).
nem_view_timeout_ms() {
	local i
	nem_replica_args "$1" || return 1
	for ((i = 0; i < ${#NEM_ARGS[@]}; i++)); do
		case ${NEM_ARGS[i]} in
		--view-timeout-ms) echo "${NEM_ARGS[i + 1]}"; return ;;
		--view-timeout-ms=*) echo "${NEM_ARGS[i]#*=}"; return ;;
		esac
	done
	"$EC_BIN/ec-replica" --help | awk '
		/^  --/ { on = $1 == "--view-timeout-ms" }
		on && match($0, /\(default [0-9]+\)/) { print substr($0, RSTART + 9, RLENGTH - 10); exit }'
}

# The lease of a replica with view timeout $1 ms, in whole ms rounded
# down, so that a whole number of ms above it is longer than the lease:
# replica/core/lease.h's T_l = 0.9 T_p, T_p the view timeout.
nem_lease_ms() {
	echo $(($1 * 9 / 10))
}

# pause-lease MS: pause the leader for MS, longer than its lease.
fault_pause_lease() {
	local ms=$1 id vt
	id=$(nem_leader)
	vt=$(nem_view_timeout_ms "$id") ||
		{ nem_log skip pause-lease "$id (not running)"; return 0; }
	ec_pause "$id" || { nem_log skip pause-lease "$id (not running)"; return 0; }
	NEM_PAUSED+=("$id")
	nem_log start pause-lease "$id" for "${ms}ms" "(lease $(nem_lease_ms "$vt")ms, view timeout ${vt}ms)"
	nem_sleep "$ms"
	ec_resume "$id" || :
	NEM_PAUSED=()
	nem_log stop pause-lease "$id"
	nem_count pause-lease
}

# partition MS KIND A B, KIND two-way or oneway.
fault_partition() {
	local ms=$1 kind=$2 a b sep='|'
	# resolve A once (the leader may change), B against what A became
	a=$(nem_set "$3" all)
	b=$(nem_set "$4" "$(nem_join "$a")")
	if [ -z "$a" ] || [ -z "$b" ]; then
		ec_die "partition: an empty side ($3 -> '$a', $4 -> '$b')"
	fi
	[ "$kind" = oneway ] && sep='->'
	NEM_LINKS=1
	nem_links "$a" "$b" loss 1000
	[ "$kind" = oneway ] || nem_links "$b" "$a" loss 1000
	local name=partition
	[ "$kind" = oneway ] && name=partition-oneway
	nem_log start $name "$(nem_join "$a") $sep $(nem_join "$b")" for "${ms}ms"
	nem_sleep "$ms"
	ec_links_clear
	NEM_LINKS=0
	nem_log stop $name "$(nem_join "$a") $sep $(nem_join "$b")"
	nem_count $name
}

# link fault: MS KIND "SETTINGS" A B; KIND loss, dup or delay.
fault_link() {
	local ms=$1 kind=$2 settings=$3 a b
	a=$(nem_set "$4" all)
	b=$(nem_set "$5" "$(nem_join "$a")")
	if [ "$kind" = delay ] && ! ec_delay_line_pid >/dev/null; then
		ec_delay_line_start ||
			ec_die "the delay line did not start in 15 s: $(tail -n 3 "$EC_RUN/delay-line.log" 2>/dev/null | tr '\n' ' ')"
		NEM_DELAY=1
	fi
	NEM_LINKS=1
	# shellcheck disable=SC2086 # settings are words
	nem_links "$a" "$b" $settings
	nem_log start "$kind" "$(nem_join "$a") -> $(nem_join "$b") $settings" for "${ms}ms"
	nem_sleep "$ms"
	ec_links_clear
	NEM_LINKS=0
	if ((NEM_DELAY)); then
		ec_delay_line_stop
		NEM_DELAY=0
	fi
	nem_log stop "$kind" "$(nem_join "$a") -> $(nem_join "$b")"
	nem_count "$kind"
}

# State (on/off) of switch $2 of replica $1.
nem_switch() {
	ec_ctl "$1" offload 2>/dev/null | awk -v k="switch.$2" '$1 == k { print $2 }'
}

# flip MS I SWITCH
fault_flip() {
	local ms=$1 id=$2 sw=$3 was to
	was=$(nem_switch "$id" "$sw")
	[ -n "$was" ] || { nem_log skip flip "$id $sw (no such switch or replica down)"; return 0; }
	to=on
	[ "$was" = on ] && to=off
	ec_ctl "$id" offload "$sw" "$to" >/dev/null ||
		{ nem_log skip flip "$id $sw (refused)"; return 0; }
	NEM_FLIPPED+=("$id $sw $was")
	nem_log start flip "$id $sw $was->$to" for "${ms}ms"
	nem_sleep "$ms"
	ec_ctl "$id" offload "$sw" "$was" >/dev/null || :
	NEM_FLIPPED=()
	nem_log stop flip "$id $sw $to->$was"
	nem_count flip
}

# Undo what this run broke; safe to call twice, never exits.
nem_heal() {
	local f id sw was
	if ((NEM_LINKS)); then
		ec_links_clear || :
		NEM_LINKS=0
	fi
	if ((NEM_DELAY)); then
		ec_delay_line_stop || :
		NEM_DELAY=0
	fi
	for id in "${NEM_PAUSED[@]}"; do
		ec_resume "$id" || :
	done
	NEM_PAUSED=()
	for f in "${NEM_FLIPPED[@]}"; do
		read -r id sw was <<<"$f"
		ec_ctl "$id" offload "$sw" "$was" >/dev/null 2>&1 || :
	done
	NEM_FLIPPED=()
	((${#NEM_CRASHED[@]} == 0)) || (nem_restart_crashed) || :
	NEM_CRASHED=()
}

# EXIT trap: heal, log it if there was anything to heal.
nem_on_exit() {
	local rc=$?
	trap - EXIT
	if ((NEM_LINKS || NEM_DELAY || ${#NEM_PAUSED[@]} || ${#NEM_FLIPPED[@]} || ${#NEM_CRASHED[@]})); then
		nem_heal
		nem_log heal "on exit (status $rc)"
	fi
	exit "$rc"
}

# Two random disjoint non-empty node sets for a partition: "A B" as
# comma lists, from the seed.  Variant 0: leader | rest, 1: random halves,
# 2: the client with some replicas | the other replicas.
nem_random_sides() {
	local n=$1 nodes=() a=() b=() i node
	nem_below 3
	case $NEM_R in
	0) echo "leader rest"; return ;;
	1) for ((i = 0; i < n; i++)); do nodes+=("$i"); done; nodes+=(c) ;;
	2) for ((i = 0; i < n; i++)); do nodes+=("$i"); done ;;
	esac
	for node in "${nodes[@]}"; do
		nem_below 2
		if ((NEM_R)); then a+=("$node"); else b+=("$node"); fi
	done
	# neither side empty
	((${#a[@]})) || { a=("${b[0]}"); b=("${b[@]:1}"); }
	((${#b[@]})) || { b=("${a[0]}"); a=("${a[@]:1}"); }
	[ "${nodes[-1]}" = c ] || a+=(c)
	echo "$(nem_join "${a[@]}") $(nem_join "${b[@]}")"
}

# One random link "A B" (distinct nodes, client included).
nem_random_link() {
	local n=$1 a b
	nem_below $((n + 1))
	a=$NEM_R
	nem_below "$n"
	b=$NEM_R
	[ "$a" = "$b" ] && b=$(((b + 1) % n))
	((a == n)) && a=c
	echo "$a $b"
}

# The schedule of random --duration $1 for n=$2 replicas whose view
# timeout is $3 ms, one fault per line "KIND MS ARGS...", then calm "calm
# MS"; a function of the seed and those three only.
nem_schedule() {
	local dur_ms=$1 n=$2 f=$(((${2} - 1) / 2)) vt=$3 t=0 ms kind k ids i id
	local lease
	local kinds=(crash pause pause-lease partition partition-oneway loss dup delay flip)
	local switches=(broadcast.prepare broadcast.commit fastack.prepare quorum.prepare_ok)
	local deck=()
	lease=$(nem_lease_ms "$vt")
	while ((t < dur_ms)); do
		# kinds drawn without replacement: every kind once in each run
		# of ${#kinds[@]} faults, in an order of the seed's
		((${#deck[@]})) || deck=("${kinds[@]}")
		nem_below ${#deck[@]}
		kind=${deck[NEM_R]}
		deck=("${deck[@]:0:NEM_R}" "${deck[@]:NEM_R+1}")
		if [ "$kind" = pause-lease ]; then
			# past the lease, up to 4 view timeouts: waking before the
			# view timeout, or after a new view formed
			nem_below $((4 * vt - lease))
			ms=$((lease + 1 + NEM_R))
		else
			nem_below 2500
			ms=$((500 + NEM_R))
		fi
		((t + ms <= dur_ms)) || ms=$((dur_ms - t))
		((ms >= 200)) || break
		[ "$kind" != pause-lease ] || ((ms > lease)) || break
		case $kind in
		crash)
			# k of the f replicas a cluster survives losing, in a row
			# from a random one (one replica: f = 0, no crash); a
			# single crash takes the leader half the time
			nem_below "$((f > 0 ? f : 1))"
			k=$((f > 0 ? NEM_R + 1 : 0))
			ids=()
			nem_below "$n"
			for ((i = 0; i < k; i++)); do
				ids+=($(((NEM_R + i) % n)))
			done
			if ((k == 1)); then
				nem_below 2
				((NEM_R)) && ids=(leader)
			fi
			if ((k)); then echo "crash $ms ${ids[*]}"; else echo "calm $ms"; fi
			;;
		pause)
			nem_below 2
			if ((NEM_R)); then id=leader; else nem_below "$n"; id=$NEM_R; fi
			echo "pause $ms $id"
			;;
		pause-lease) echo "pause-lease $ms" ;;
		partition) echo "partition $ms two-way $(nem_random_sides "$n")" ;;
		partition-oneway) echo "partition $ms oneway $(nem_random_sides "$n")" ;;
		loss)
			nem_below 450
			echo "link $ms loss loss_$((50 + NEM_R)) $(nem_random_link "$n")"
			;;
		dup)
			nem_below 400
			echo "link $ms dup dup_$((100 + NEM_R)) $(nem_random_link "$n")"
			;;
		delay)
			nem_below 19
			k=$(((1 + NEM_R) * 1000))
			nem_below 5
			echo "link $ms delay delay_${k}_jitter_$((NEM_R * 1000)) $(nem_random_link "$n")"
			;;
		flip)
			nem_below "$n"
			id=$NEM_R
			nem_below ${#switches[@]}
			echo "flip $ms $id ${switches[NEM_R]}"
			;;
		esac
		t=$((t + ms))
		nem_below 800
		echo "calm $((200 + NEM_R))"
		t=$((t + 200 + NEM_R))
	done
}

# Run one schedule line.
nem_run_line() {
	local kind=$1 ms=$2
	shift 2
	case $kind in
	calm) nem_sleep "$ms" ;;
	crash) fault_crash "$ms" "$@" ;;
	pause) fault_pause "$ms" "$@" ;;
	pause-lease) fault_pause_lease "$ms" ;;
	partition) fault_partition "$ms" "$@" ;;
	link) fault_link "$ms" "$1" "$(tr _ ' ' <<<"$2")" "$3" "$4" ;;
	flip) fault_flip "$ms" "$@" ;;
	esac
}

# random --duration D [--dry-run]
cmd_random() {
	local dur='' dry=0 sched line k total=0 start=$SECONDS summary='' vt
	while [ $# -gt 0 ]; do
		case $1 in
		--duration) dur=${2:?--duration wants seconds}; shift 2 ;;
		--dry-run) dry=1; shift ;;
		*) ec_die "random: unknown argument '$1'" ;;
		esac
	done
	[ -n "$dur" ] || ec_die "random needs --duration D"
	vt=$(nem_view_timeout_ms "$(nem_leader)") || ec_die "the leader is not running"
	sched=$(nem_schedule "$(nem_ms "$dur")" "$(ec_count)" "$vt")
	echo "# schedule for seed $NEM_SEED, ${dur}s, $(ec_count) replicas, view timeout ${vt}ms:"
	sed 's/^/#   /' <<<"$sched"
	((dry)) && return 0
	nem_log start random "seed $NEM_SEED duration ${dur}s"
	# fd 3: no command a fault runs can eat the schedule from stdin
	while read -r -u 3 line; do
		# shellcheck disable=SC2086 # a schedule line is words
		nem_run_line $line
	done 3<<<"$sched"
	for k in crash pause pause-lease partition partition-oneway loss dup delay flip; do
		total=$((total + ${NEM_COUNT[$k]:-0}))
		summary+=" $k ${NEM_COUNT[$k]:-0}"
	done
	nem_log stop random "seed $NEM_SEED after $((SECONDS - start))s"
	echo "nemesis summary: seed $NEM_SEED, $total faults:$summary"
}

# Die unless $1 is a replica id of the running cluster.
nem_check_id() {
	if ! [[ $1 =~ ^[0-9]$ ]] || (($1 >= $(ec_count))); then
		ec_die "no replica '$1' in cluster '$EC_PREFIX'"
	fi
}

if [ "${1:-}" = --seed ]; then
	NEM_SEED=${2:?--seed wants a number}
	shift 2
fi
cmd=${1:-}
[ -n "$cmd" ] || { ec_usage >&2; exit 2; }
ec_help_if_asked "$cmd"
shift
ec_check_env
ec_require_root
[ -r "$EC_CONF" ] || ec_die "no cluster '$EC_PREFIX' is up (cluster/up.sh)"
[ -n "$NEM_SEED" ] || NEM_SEED=$((${EPOCHREALTIME/./} % 1000000))
[[ $NEM_SEED =~ ^[0-9]+$ ]] || ec_die "--seed wants a number, not '$NEM_SEED'"
NEM_STATE=$((NEM_SEED % 2147483648))
trap nem_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
n=$(ec_count)

case $cmd in
crash)
	ms=$(nem_ms "${1:?crash SECS [I|leader...]}")
	shift
	if [ $# -eq 0 ]; then
		nem_below "$n"
		set -- "$NEM_R"
	fi
	for id in "$@"; do [ "$id" = leader ] || nem_check_id "$id"; done
	fault_crash "$ms" "$@"
	;;
pause)
	ms=$(nem_ms "${1:?pause SECS [I|leader]}")
	[ "${2:-leader}" = leader ] || nem_check_id "$2"
	fault_pause "$ms" "${2:-leader}"
	;;
pause-lease)
	id=$(nem_leader)
	vt=$(nem_view_timeout_ms "$id") || ec_die "the leader, replica $id, is not running"
	lease=$(nem_lease_ms "$vt")
	if [ $# -ge 1 ]; then
		ms=$(nem_ms "$1")
	else
		nem_below $((4 * vt - lease))
		ms=$((lease + 1 + NEM_R))
	fi
	((ms > lease)) ||
		ec_die "pause-lease: ${ms} ms is not longer than the lease of replica $id, ${lease} ms (0.9 x its view timeout, ${vt} ms); use pause"
	fault_pause_lease "$ms"
	;;
partition | partition-oneway)
	ms=$(nem_ms "${1:?$cmd SECS [A B]}")
	kind=two-way
	[ "$cmd" = partition-oneway ] && kind=oneway
	fault_partition "$ms" "$kind" "${2:-leader}" "${3:-rest}"
	;;
loss | dup)
	ms=$(nem_ms "${1:?$cmd SECS PERMILLE [A B]}")
	p=${2:?$cmd SECS PERMILLE [A B]}
	if [ $# -ge 4 ]; then link="$3 $4"; else link=$(nem_random_link "$n"); fi
	# shellcheck disable=SC2086 # two words
	fault_link "$ms" "$cmd" "$cmd $p" $link
	;;
delay)
	ms=$(nem_ms "${1:?delay SECS US JITTER [A B]}")
	us=${2:?delay SECS US JITTER [A B]}
	jit=${3:?delay SECS US JITTER [A B]}
	if [ $# -ge 5 ]; then link="$4 $5"; else link=$(nem_random_link "$n"); fi
	# shellcheck disable=SC2086 # two words
	fault_link "$ms" delay "delay $us jitter $jit" $link
	;;
flip)
	ms=$(nem_ms "${1:?flip SECS [I SWITCH]}")
	if [ $# -ge 3 ]; then
		nem_check_id "$2"
		fault_flip "$ms" "$2" "$3"
	else
		nem_below "$n"
		id=$NEM_R
		sws=(broadcast.prepare broadcast.commit fastack.prepare quorum.prepare_ok)
		nem_below ${#sws[@]}
		fault_flip "$ms" "$id" "${sws[NEM_R]}"
	fi
	;;
random) cmd_random "$@" ;;
heal)
	ec_links_clear
	ec_delay_line_stop
	for ((id = 0; id < n; id++)); do
		ec_resume "$id" 2>/dev/null || :
		if ! ec_replica_pid "$id" >/dev/null && [ -r "$EC_RUN/nemesis-r$id.args" ]; then
			NEM_CRASHED+=("$id")
		fi
	done
	nem_restart_crashed
	nem_log heal "everything"
	;;
*)
	ec_usage >&2
	exit 2
	;;
esac
