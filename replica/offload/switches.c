/* switches.c - see switches.h. */
#include "switches.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/wire.h"

static const char *const offload_names[EC_OFFLOAD_MAX] = {
	[EC_OFFLOAD_BROADCAST] = "broadcast",
	[EC_OFFLOAD_FASTACK] = "fastack",
	[EC_OFFLOAD_QUORUM] = "quorum",
	[EC_OFFLOAD_READ] = "read",
};

/* Broadcast covers every message the replica sends to all its peers. */
static const uint32_t offload_types[EC_OFFLOAD_MAX] = {
	[EC_OFFLOAD_BROADCAST] = 1u << EC_MSG_PREPARE | 1u << EC_MSG_COMMIT |
				 1u << EC_MSG_START_VIEW_CHANGE |
				 1u << EC_MSG_START_VIEW | 1u << EC_MSG_RECOVERY,
	[EC_OFFLOAD_FASTACK] = 1u << EC_MSG_PREPARE | 1u << EC_MSG_COMMIT,
	[EC_OFFLOAD_QUORUM] = 1u << EC_MSG_PREPARE_OK,
	[EC_OFFLOAD_READ] = 1u << EC_MSG_READ,
};

/* Message type whose lower-case name is s, or -1. */
static int type_by_name(const char *s, size_t len)
{
	for (unsigned t = 1; t < EC_MSG_TYPE_MAX; t++) {
		const char *name = ec_msg_type_name(t);

		if (strlen(name) == len && strncasecmp(name, s, len) == 0)
			return (int)t;
	}
	return -1;
}

/* Apply one item of a spec; -1 on an unknown item. */
static int apply_item(struct ec_switches *sw, const char *item, size_t len,
		      bool on)
{
	const char *dot = memchr(item, '.', len);
	size_t name_len = dot ? (size_t)(dot - item) : len;

	if (len == 3 && strncmp(item, "all", 3) == 0) {
		for (unsigned k = 0; k < EC_OFFLOAD_MAX; k++)
			sw->on[k] = on ? offload_types[k] : 0;
		return 0;
	}
	if (len == 4 && strncmp(item, "none", 4) == 0) {
		memset(sw->on, 0, sizeof(sw->on));
		return 0;
	}
	for (unsigned k = 0; k < EC_OFFLOAD_MAX; k++) {
		uint32_t mask;
		int type;

		if (strlen(offload_names[k]) != name_len ||
		    strncmp(offload_names[k], item, name_len) != 0)
			continue;
		if (!dot) {
			mask = offload_types[k];
		} else {
			type = type_by_name(dot + 1, len - name_len - 1);
			if (type < 0 || !(offload_types[k] & (1u << type)))
				return -1;
			mask = 1u << type;
		}
		if (on)
			sw->on[k] |= mask;
		else
			sw->on[k] &= ~mask;
		return 0;
	}
	return -1;
}

int ec_switches_apply(struct ec_switches *sw, const char *spec, bool on,
		      char *err, size_t errlen)
{
	struct ec_switches next = *sw;
	const char *s = spec;

	for (;;) {
		size_t len = strcspn(s, ",");

		if (len == 0 || apply_item(&next, s, len, on) < 0) {
			snprintf(err, errlen,
				 "unknown offload switch '%.*s' (use all, none, "
				 "broadcast, fastack, quorum or e.g. "
				 "broadcast.prepare)", (int)len, s);
			return -1;
		}
		if (!s[len])
			break;
		s += len + 1;
	}
	*sw = next;
	return 0;
}

void ec_switches_foreach(const struct ec_switches *sw, ec_switch_visit_fn *fn,
			 void *arg)
{
	for (unsigned k = 0; k < EC_OFFLOAD_MAX; k++) {
		for (unsigned t = 1; t < EC_MSG_TYPE_MAX; t++) {
			char name[64], *p;

			if (!(offload_types[k] & (1u << t)))
				continue;
			snprintf(name, sizeof(name), "%s.%s", offload_names[k],
				 ec_msg_type_name(t));
			for (p = name; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
			fn(name, ec_switch_on(sw, k, t), arg);
		}
	}
}

static const char *const tc_names[EC_TC_MAX] = {
	[EC_TC_CLONED] = "cloned",
	[EC_TC_BROADCAST] = "broadcast",
	[EC_TC_PASS_NOT_EC] = "pass_not_ec",
	[EC_TC_PASS_NOT_TO_ALL] = "pass_not_to_all",
	[EC_TC_PASS_CLONE] = "pass_clone",
	[EC_TC_CLONE_FAILED] = "clone_failed",
};

static const char *const xdp_names[EC_XDP_MAX] = {
	[EC_XDP_PASS_NOT_EC] = "pass_not_ec",
	[EC_XDP_PASS_OTHER] = "pass_other",
	[EC_XDP_FA_ACKED] = "fastack_acked",
	[EC_XDP_FA_OFF] = "fastack_pass_off",
	[EC_XDP_FA_CLOSED] = "fastack_pass_closed",
	[EC_XDP_FA_VIEW] = "fastack_pass_view",
	[EC_XDP_FA_NOT_LEADER] = "fastack_pass_not_leader",
	[EC_XDP_FA_GAP] = "fastack_pass_gap",
	[EC_XDP_FA_OLD] = "fastack_pass_old",
	[EC_XDP_FA_OVERSIZED] = "fastack_pass_oversized",
	[EC_XDP_FA_FULL] = "fastack_pass_full",
	[EC_XDP_FA_RACE] = "fastack_pass_race",
	[EC_XDP_FA_MALFORMED] = "fastack_pass_malformed",
	[EC_XDP_FA_NO_CPU] = "fastack_pass_no_cpu",
	[EC_XDP_HB_ACKED] = "heartbeat_acked",
	[EC_XDP_HB_OFF] = "heartbeat_pass_off",
	[EC_XDP_HB_CLOSED] = "heartbeat_pass_closed",
	[EC_XDP_HB_VIEW] = "heartbeat_pass_view",
	[EC_XDP_HB_NOT_LEADER] = "heartbeat_pass_not_leader",
	[EC_XDP_HB_MALFORMED] = "heartbeat_pass_malformed",
	[EC_XDP_HB_FULL] = "heartbeat_pass_full",
	[EC_XDP_HB_RACE] = "heartbeat_pass_race",
	[EC_XDP_HB_NO_CPU] = "heartbeat_pass_no_cpu",
	[EC_XDP_Q_QUORUM] = "quorum_pass_quorum",
	[EC_XDP_Q_LATE] = "quorum_pass_late",
	[EC_XDP_Q_PENDING] = "quorum_drop_pending",
	[EC_XDP_Q_DUP] = "quorum_drop_dup",
	[EC_XDP_Q_COMMITTED] = "quorum_drop_committed",
	[EC_XDP_Q_OFF] = "quorum_pass_off",
	[EC_XDP_Q_NOT_LEADER] = "quorum_pass_not_leader",
	[EC_XDP_Q_VIEW] = "quorum_pass_view",
	[EC_XDP_Q_UNKNOWN] = "quorum_pass_unknown",
	[EC_XDP_Q_EXTRA] = "quorum_drop_extra",
	[EC_XDP_RD_ANSWERED] = "read_answered",
	[EC_XDP_RD_OFF] = "read_pass_off",
	[EC_XDP_RD_CLOSED] = "read_pass_closed",
	[EC_XDP_RD_LEASE] = "read_pass_lease",
	[EC_XDP_RD_BUSY] = "read_pass_busy",
	[EC_XDP_RD_MISS] = "read_pass_miss",
	[EC_XDP_RD_BEHIND] = "read_pass_behind",
	[EC_XDP_RD_TOO_LARGE] = "read_pass_too_large",
	[EC_XDP_RD_RACE] = "read_pass_race",
	[EC_XDP_RD_NO_ROOM] = "read_pass_no_room",
	[EC_XDP_RD_MALFORMED] = "read_pass_malformed",
	[EC_XDP_NOT_MEMBER] = "drop_not_member",
};

const char *ec_tc_verdict_name(unsigned v)
{
	return v < EC_TC_MAX && tc_names[v] ? tc_names[v] : "?";
}

const char *ec_xdp_verdict_name(unsigned v)
{
	return v < EC_XDP_MAX && xdp_names[v] ? xdp_names[v] : "?";
}
