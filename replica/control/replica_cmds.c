/* replica_cmds.c - see replica_cmds.h. */
#include "replica_cmds.h"

#include <stdint.h>
#include <stdio.h>

#include "common/clock.h"
#include "common/config.h"
#include "server.h"
#include "core/core.h"
#include "io/io.h"
#include "app/kv.h"

/* Fail r if it has arguments (for the built-ins that take none); returns 0
 * or -1. */
static int no_args(struct ec_control_req *r)
{
	if (r->argc > 1)
		return ec_control_fail(r, "'%s' takes no arguments", r->argv[0]);
	return 0;
}

/* Microseconds from now until t, 0 if it is past. */
static uint64_t left_us(uint64_t now, uint64_t t)
{
	return t > now ? t - now : 0;
}

/* status's lease lines (core/lease.h): how GETs are answered, whether
 * this leader holds a lease now and for how much longer, how often it
 * was renewed, and how long this replica's own promise still binds it. */
static void print_lease(FILE *out, const struct ec_core_state *s,
			const struct ec_core_stats *cs)
{
	uint64_t now = ec_boot_us();

	fprintf(out,
		"reads %s\nreads_open %d\nlease_held %d\nlease_remaining_us %llu\n"
		"lease_renewals %llu\npromise_remaining_us %llu\n",
		ec_reads_name(s->reads), s->reads_open, s->lease_until > now,
		(unsigned long long)left_us(now, s->lease_until),
		(unsigned long long)cs->lease_renewals,
		(unsigned long long)left_us(now, s->promise_until));
}

/* status: where this replica stands in the protocol. */
static int cmd_status(struct ec_control_req *r, void *arg)
{
	struct ec_replica_cmds *b = arg;
	const struct ec_kv *kv = ec_core_kv(b->core);
	struct ec_kv_limits lim = ec_kv_limits(kv);
	struct ec_core_state s;

	if (no_args(r) < 0)
		return -1;
	ec_core_get_state(b->core, &s);
	fprintf(r->out,
		"id %u\nstatus %s\nview %u\nleader %u\nop %llu\ncommit %llu\n"
		"executed %llu\nkeys %zu\ndigest %016llx\nlog_base %llu\n"
		"checkpoint %llu\nbytes %llu\nmax_keys %llu\nmax_bytes %llu\n",
		b->self, ec_status_name(s.status), s.view, s.leader,
		(unsigned long long)s.op, (unsigned long long)s.commit,
		(unsigned long long)s.executed, ec_kv_count(kv),
		(unsigned long long)ec_kv_digest(kv),
		(unsigned long long)s.log_base,
		(unsigned long long)s.checkpoint,
		(unsigned long long)ec_kv_bytes(kv),
		(unsigned long long)lim.max_keys,
		(unsigned long long)lim.max_bytes);
	print_lease(r->out, &s, ec_core_stats(b->core));
	return 0;
}

/* One counter line: PREFIXNAME VALUE. */
static void stat_line(FILE *out, const char *prefix, const char *name,
		      uint64_t v)
{
	fprintf(out, "%s%s %llu\n", prefix, name, (unsigned long long)v);
}

/* stats: every counter of the core and of the socket. */
static int cmd_stats(struct ec_control_req *r, void *arg)
{
	struct ec_replica_cmds *b = arg;
	const struct ec_core_stats *cs = ec_core_stats(b->core);
	const struct ec_io_stats *is = ec_io_stats(b->io);
	FILE *out = r->out;
	struct ec_core_state s;

	if (no_args(r) < 0)
		return -1;
	ec_core_get_state(b->core, &s);
	for (unsigned t = 1; t < EC_MSG_TYPE_MAX; t++)
		stat_line(out, "rx.", ec_msg_type_name(t), cs->rx[t]);
	for (unsigned t = 1; t < EC_MSG_TYPE_MAX; t++)
		stat_line(out, "tx.", ec_msg_type_name(t), cs->tx[t]);
	for (unsigned t = 1; t < EC_MSG_TYPE_MAX; t++)
		stat_line(out, "ignored.", ec_msg_type_name(t), cs->ignored[t]);
	for (unsigned p = 0; p < EC_PARSE_MAX; p++)
		stat_line(out, "parse.", ec_parse_result_name(p),
			  cs->parse.count[p]);
	for (unsigned v = EC_MEMBER_OK + 1; v < EC_MEMBER_MAX; v++)
		stat_line(out, "member.", ec_member_verdict_name(v),
			  cs->member.count[v]);
	stat_line(out, "", "view_changes", cs->view_changes);
	stat_line(out, "", "retransmits", cs->retransmits);
	stat_line(out, "", "gap_requests", cs->gap_requests);
	stat_line(out, "", "duplicate_requests", cs->duplicate_requests);
	stat_line(out, "", "queued_requests", cs->queued_requests);
	stat_line(out, "", "batches", cs->batches);
	stat_line(out, "", "batched_requests", cs->batched_requests);
	stat_line(out, "", "malformed_batches", cs->malformed_batches);
	stat_line(out, "", "invalid_logged", cs->invalid_logged);
	stat_line(out, "", "sessions_expired", cs->sessions_expired);
	stat_line(out, "", "clients_expired", cs->clients_expired);
	stat_line(out, "", "executed", s.executed);
	stat_line(out, "", "absorbed", cs->absorbed);
	stat_line(out, "", "quorum_commits", cs->quorum_commits);
	stat_line(out, "", "absorbed_heartbeats", cs->absorbed_heartbeats);
	stat_line(out, "", "lease_renewals", cs->lease_renewals);
	stat_line(out, "", "reads_lease", cs->reads_lease);
	stat_line(out, "", "reads_log", cs->reads_log);
	stat_line(out, "", "reads_lease_expired", cs->reads_lease_expired);
	stat_line(out, "", "reads_closed", cs->reads_closed);
	stat_line(out, "", "reads_behind", cs->reads_behind);
	stat_line(out, "", "promise_waits", cs->promise_waits);
	stat_line(out, "", "checkpoints", cs->checkpoints);
	stat_line(out, "", "checkpoint_failures", cs->checkpoint_failures);
	stat_line(out, "", "checkpoint_us_total", cs->checkpoint_us_total);
	stat_line(out, "", "checkpoint_us_max", cs->checkpoint_us_max);
	stat_line(out, "", "checkpoint_skipped", cs->checkpoint_skipped);
	stat_line(out, "", "checkpoint_bytes", cs->checkpoint_bytes);
	stat_line(out, "", "log_compacted", cs->log_compacted);
	stat_line(out, "", "log_held", s.op - s.log_base);
	stat_line(out, "snapshot.", "chunks_sent", cs->snapshot_chunks_sent);
	stat_line(out, "snapshot.", "chunks_received",
		  cs->snapshot_chunks_received);
	stat_line(out, "snapshot.", "restarts", cs->snapshot_restarts);
	stat_line(out, "snapshot.", "bad", cs->snapshot_bad);
	stat_line(out, "snapshot.", "timeouts", cs->snapshot_timeouts);
	stat_line(out, "snapshot.", "limits_mismatch",
		  cs->snapshot_limits_mismatch);
	stat_line(out, "snapshot.", "installed", cs->snapshots_installed);
	stat_line(out, "io.", "rx_datagrams", is->rx_datagrams);
	stat_line(out, "io.", "rx_syscalls", is->rx_syscalls);
	stat_line(out, "io.", "rx_errors", is->rx_errors);
	stat_line(out, "io.", "rx_batches_full", is->rx_batches_full);
	stat_line(out, "io.", "tx_datagrams", is->tx_datagrams);
	stat_line(out, "io.", "tx_syscalls", is->tx_syscalls);
	stat_line(out, "io.", "tx_eagain", is->tx_eagain);
	stat_line(out, "io.", "tx_enobufs", is->tx_enobufs);
	stat_line(out, "io.", "tx_errors", is->tx_errors);
	stat_line(out, "io.", "syscalls", is->rx_syscalls + is->tx_syscalls);
	stat_line(out, "io.", "ticks", is->ticks);
	stat_line(out, "io.", "wakeups", is->wakeups);
	return 0;
}

/* batch [N]: requests per op, shown or set (1: no batching). */
static int cmd_batch(struct ec_control_req *r, void *arg)
{
	struct ec_replica_cmds *b = arg;
	unsigned long long n;

	if (r->argc > 2)
		return ec_control_fail(r, "usage: batch [N]");
	if (r->argc == 2 &&
	    (ec_parse_uint(r->argv[1], b->batch_min, b->batch_max, &n) < 0 ||
	     ec_core_set_batch(b->core, (unsigned)n) < 0))
		return ec_control_fail(r, "batch: '%s' is not a number in "
				       "%llu..%llu", r->argv[1], b->batch_min,
				       b->batch_max);
	fprintf(r->out, "batch %u\n", ec_core_batch(b->core));
	return 0;
}

/* reads [log|lease]: how the leader answers GETs, shown or set. */
static int cmd_reads(struct ec_control_req *r, void *arg)
{
	struct ec_replica_cmds *b = arg;
	enum ec_reads mode;
	struct ec_core_state s;

	if (r->argc > 2)
		return ec_control_fail(r, "usage: reads [log|lease]");
	if (r->argc == 2) {
		if (ec_reads_parse(r->argv[1], &mode) < 0)
			return ec_control_fail(r, "reads: '%s' is neither log "
					       "nor lease", r->argv[1]);
		ec_core_set_reads(b->core, mode);
	}
	ec_core_get_state(b->core, &s);
	fprintf(r->out, "reads %s\n", ec_reads_name(s.reads));
	return 0;
}

/* Write len bytes, those outside 0x21..0x7e and '\' as \xHH. */
static void put_escaped(FILE *out, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == '\\')
			fprintf(out, "\\x%02x", p[i]);
		else
			fputc(p[i], out);
	}
}

/* ec_kv_foreach_sorted callback: one line "KEY VALUE" to the FILE arg. */
static void dump_line(const uint8_t *key, size_t key_len,
		      const uint8_t *value, size_t value_len, void *arg)
{
	FILE *out = arg;

	put_escaped(out, key, key_len);
	fputc(' ', out);
	put_escaped(out, value, value_len);
	fputc('\n', out);
}

/* dump: the whole store, sorted by key so that the dumps of two replicas
 * can be compared with diff. */
static int cmd_dump(struct ec_control_req *r, void *arg)
{
	struct ec_replica_cmds *b = arg;

	if (no_args(r) < 0)
		return -1;
	if (ec_kv_foreach_sorted(ec_core_kv(b->core), dump_line, r->out) < 0)
		return ec_control_fail(r, "out of memory");
	return 0;
}

/* Register the commands, in help's order; returns 0 or -1 (see
 * replica_cmds.h). */
int ec_replica_cmds_add(struct ec_control *ctl, struct ec_replica_cmds *b)
{
	if (ec_control_add(ctl, "status", NULL,
			   "id, status, view, leader, op, commit, executed, "
			   "keys, digest, log_base, checkpoint, bytes, "
			   "max_keys, max_bytes, reads, reads_open, "
			   "lease_held, lease_remaining_us, lease_renewals, "
			   "promise_remaining_us", cmd_status, b) < 0 ||
	    ec_control_add(ctl, "stats", NULL,
			   "message, parse, protocol and socket counters",
			   cmd_stats, b) < 0 ||
	    ec_control_add(ctl, "dump", NULL,
			   "every key and value, sorted, non-printable bytes "
			   "as \\xHH", cmd_dump, b) < 0 ||
	    ec_control_add(ctl, "batch", "[N]",
			   "most requests per op, shown or set (1: none)",
			   cmd_batch, b) < 0 ||
	    ec_control_add(ctl, "reads", "[log|lease]",
			   "how the leader answers GETs, shown or set",
			   cmd_reads, b) < 0)
		return -1;
	return 0;
}
