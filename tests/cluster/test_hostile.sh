#!/bin/bash
# Forged replica messages from a client.  A 5-replica cluster serves 8
# ec-bench clients in verify mode while forge.py, in the client namespace,
# sends every replica forged datagrams: every message type from every
# sender id (and out-of-range ones), views and op numbers at and around the
# replicas' current ones (PREPAREs mostly from the view's leader for
# exactly the next op) and huge ones, valid protobuf bodies, and garbage.
# Once with the offloads off, once with all on (the XDP program drops the
# forged frames), and once with the replicas started --no-bpf (user space
# drops them).  After each run:
#   - no view change: every replica's view as before, view_changes grew by 0;
#   - no request timed out or failed;
#   - the replicas converge (same view, commit, digest; executed = commit)
#     and every acknowledged write is in the store (check_writes.py);
#   - the forged replica messages were dropped and counted: per replica,
#     the growth of its member.* counters (plus any XDP verdict
#     xdp.drop_* for non-peer frames) is at least 90% of the
#     well-formed replica-type datagrams forge.py sent it from an address
#     that is not the sender's, minus what the UDP socket itself dropped
#     (RcvbufErrors), and at most what forge.py sent it;
#   - with BPF, its XDP program saw them as not from a peer:
#     xdp.pass_not_ec plus xdp.drop_* grew by at least 95% of the
#     replica-type frames sent to it (none was fast-acked or counted for a
#     quorum).
# Environment: EC_HOSTILE_DURATION (measured ec-bench seconds per run,
# default 5), EC_HOSTILE_RATE (forged datagrams per second, default 2500),
# EC_HOSTILE_SEED (forge.py's seed in the first run, +1 in the second,
# default 1; +2 in the third), EC_HOSTILE_TYPES (forge.py --types, only these well-formed
# types, default all), EC_HOSTILE_XDP_DROP_RE (awk regex of the XDP
# verdicts that drop non-peer frames, default ^xdp[.]drop_).
set -eu
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"

n=5
clients=8
secs=${EC_HOSTILE_DURATION:-5}
rate=${EC_HOSTILE_RATE:-2500}
seed=${EC_HOSTILE_SEED:-1}
types=${EC_HOSTILE_TYPES:-}
xdp_drop_re=${EC_HOSTILE_XDP_DROP_RE:-'^xdp[.]drop_'}
mapfile -t all < <(seq 0 $((n - 1)))
if ! [[ $secs =~ ^[0-9]{1,2}$ ]] || ((secs < 2 || secs > 30)); then
	t_fail "EC_HOSTILE_DURATION '$secs' must be 2..30 seconds"
fi
if ! [[ $rate =~ ^[0-9]{1,5}$ ]] || ((rate < 100 || rate > 10000)); then
	t_fail "EC_HOSTILE_RATE '$rate' must be 100..10000 per second"
fi
if ! [[ $seed =~ ^[0-9]{1,9}$ ]]; then
	t_fail "EC_HOSTILE_SEED '$seed' must be a number"
fi

t_begin ec-port ec-replica ec-ctl ec-bench

# Failed checks of the current run; every check runs, then the run fails
# listing them all.
bad=()
check() {
	if ! eval "$1"; then
		bad+=("$2")
		echo "# CHECK FAILED: $2" >&2
	fi
}

# Print the growth of replica $1's counters matching awk regex $4 from
# snapshot $2 to $3 and how many counters matched: "SUM COUNT".
delta0() {
	awk -v re="$4" '
		$1 !~ re || $2 !~ /^[0-9]+$/ { next }
		FNR == NR { before[$1] = $2; next }
		{ n++; sum += $2 - before[$1] }
		END { print sum + 0, n + 0 }' \
		"$T_OUT/snap/$2.r$1" "$T_OUT/snap/$3.r$1"
}

# Print UDP RcvbufErrors of replica $1's namespace.
rcvbuf_errors() {
	ip netns exec "$(ec_ns_replica "$1")" cat /proc/net/snmp | awk '
		$1 == "Udp:" && !seen { for (i = 2; i <= NF; i++) col[$i] = i; seen = 1; next }
		$1 == "Udp:" { print $col["RcvbufErrors"]; exit }'
}

# Print value $2 of forge.py's output $1 ("key value" lines); 0 if absent.
forge_val() {
	awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$1"
}

# One run: offload spec $1 (none or all; - when the replicas run without
# BPF), named $2, forge.py seed $3.
# shellcheck disable=SC2016 # check evaluates its condition later
run() {
	local spec=$1 name=$2 seed=$3 i view0=() rcv0=() rcv1 fout st op commit view
	local member found xdrop xfound pass want sent ecf rt rcv vc live
	local sum_member=0 sum_rt=0 sum_sent=0 sum_xdrop=0 sum_pass=0 sum_ecf=0 sum_rcv=0
	bad=()
	[ "$spec" = - ] || ec_offloads_all "$spec"
	for i in "${all[@]}"; do
		t_snap "$i" "$name-0"
		view0[i]=$(ec_field "$i" view)
		rcv0[i]=$(rcvbuf_errors "$i")
	done
	st=$(ec_ctl 1 status) || t_fail "replica 1 does not answer"
	view=$(awk '$1 == "view" { print $2 }' <<<"$st")
	op=$(awk '$1 == "op" { print $2 }' <<<"$st")
	commit=$(awk '$1 == "commit" { print $2 }' <<<"$st")
	t_info "$name: offloads $spec; view $view op $op commit $commit; forging at $rate/s"

	t_bench_start "$name" "$clients" "$secs"
	sleep 0.5
	fout=$T_OUT/forge-$name.out
	ec_client timeout 60 python3 "$T_DIR/forge.py" --config "$EC_CONF" \
		--duration "$((secs - 1))" --rate "$rate" --count $((rate * secs)) \
		--seed "$seed" --view "$view" --op "$op" --commit "$commit" \
		--ctl "$EC_RUN/r{id}.sock" ${types:+--types "$types"} >"$fout" 2>"$T_OUT/forge-$name.err" ||
		t_fail "forge.py failed: $(tail -n 5 "$T_OUT/forge-$name.err")"
	t_bench_wait "$name"
	cat "$T_OUT/$name.out"
	t_info "forge.py: $(grep -E '^(forge|sent\.total|total)' "$fout" | tr '\n' ' ')"
	live=()
	for i in "${all[@]}"; do
		if ec_replica_pid "$i" >/dev/null; then
			t_snap "$i" "$name-1"
			live+=("$i")
		else
			ec_log_tail "$i" 5
			check false "$name: replica $i died"
		fi
	done

	# no view change, no lost request
	for i in "${live[@]}"; do
		read -r vc _ <<<"$(delta0 "$i" "$name-0" "$name-1" '^view_changes$')"
		check '[ "$vc" -eq 0 ]' "$name: replica $i made $vc view changes"
		view=$(ec_field "$i" view)
		check '[ "$view" = "${view0[i]}" ]' "$name: replica $i is in view $view, was ${view0[i]}"
	done
	check '[ "$B_TIMEOUTS" -eq 0 ]' "$name: $B_TIMEOUTS requests timed out"
	check '[ "$B_ERRORS" -eq 0 ]' "$name: $B_ERRORS requests failed"

	# same state everywhere, no acknowledged write lost
	if [ "${#live[@]}" -lt "$n" ]; then
		check false "$name: convergence and writes not checked: replicas died"
	elif T_STATE=$(ec_wait_converged 30 "${all[@]}"); then
		t_info "$name: all replicas agree: $T_STATE"
		if ec_ctl 0 dump >"$T_OUT/$name.dump"; then
			check 'python3 "$T_DIR/check_writes.py" "$T_OUT/$name.vlog" "$T_OUT/$name.dump"' \
				"$name: acknowledged writes lost or invented (check_writes.py above)"
		else
			check false "$name: dump of replica 0 failed"
		fi
	else
		check false "$name: the replicas did not converge (status above)"
	fi

	# the forged datagrams: dropped, counted, seen by XDP as not from a peer
	for i in "${live[@]}"; do
		sent=$(forge_val "$fout" "target.$i.sent")
		ecf=$(forge_val "$fout" "target.$i.ec_frames")
		rt=$(forge_val "$fout" "target.$i.replica_types")
		rcv1=$(rcvbuf_errors "$i")
		rcv=$((rcv1 - rcv0[i]))
		read -r member found <<<"$(delta0 "$i" "$name-0" "$name-1" '^member[.]')"
		read -r xdrop xfound <<<"$(delta0 "$i" "$name-0" "$name-1" "$xdp_drop_re")"
		read -r pass _ <<<"$(delta0 "$i" "$name-0" "$name-1" '^xdp[.]pass_not_ec$')"
		t_info "$name: replica $i: forged sent $sent, ec frames $ecf, replica types $rt;" \
			"member.* +$member ($found counters), xdp drop +$xdrop ($xfound counters)," \
			"xdp.pass_not_ec +$pass, udp rcvbuf errors +$rcv"
		check '[ "$found" -gt 0 ]' "$name: replica $i has no member.* counter in stats"
		# else the checks below hold with nothing forged
		check '[ "$rt" -gt 0 ]' "$name: forge.py sent replica $i no well-formed replica message"
		want=$(((rt * 9 + 9) / 10 - rcv))
		check '[ $((member + xdrop)) -ge "$want" ]' \
			"$name: replica $i dropped $((member + xdrop)) forged replica messages (member.* $member, xdp $xdrop), want >= $want (90% of $rt minus $rcv rcvbuf drops)"
		check '[ $((member + xdrop)) -le "$sent" ]' \
			"$name: replica $i counted $((member + xdrop)) forged drops, more than the $sent forge.py sent it"
		[ "$spec" = - ] ||
			check '[ $((pass + xdrop)) -ge $(((ecf * 95 + 99) / 100)) ]' \
				"$name: replica $i's XDP program let only $((pass + xdrop)) of $ecf forged frames through as not from a peer"
		sum_member=$((sum_member + member)) sum_xdrop=$((sum_xdrop + xdrop))
		sum_rt=$((sum_rt + rt)) sum_sent=$((sum_sent + sent)) sum_pass=$((sum_pass + pass))
		sum_ecf=$((sum_ecf + ecf)) sum_rcv=$((sum_rcv + rcv))
	done
	t_info "$name: SUM forged sent $sum_sent (ec frames $sum_ecf, replica types $sum_rt);" \
		"member.* +$sum_member, xdp drop +$sum_xdrop, xdp.pass_not_ec +$sum_pass, rcvbuf errors +$sum_rcv"
	[ "${#bad[@]}" -eq 0 ] ||
		t_fail "$name: ${#bad[@]} checks failed (CHECK FAILED lines above)"
}

ec_up "$n"
run none off "$seed"
run all on $((seed + 1))
ec_down
T_NO_BPF=1
ec_up "$n" --no-bpf
run - nobpf $((seed + 2))
t_info "forged datagrams dropped and counted with the offloads off, on, and without BPF; no view change, no divergence"
