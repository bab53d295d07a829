/* offload_switch.c - see offload_switch.h. */
#include "offload_switch.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "wire.h"

static const char *const offload_names[EC_OFFLOAD_MAX] = {
	[EC_OFFLOAD_BROADCAST] = "broadcast",
	[EC_OFFLOAD_FASTACK] = "fastack",
	[EC_OFFLOAD_QUORUM] = "quorum",
};

/* Broadcast covers every message the replica sends to all its peers. */
static const uint32_t offload_types[EC_OFFLOAD_MAX] = {
	[EC_OFFLOAD_BROADCAST] = 1u << EC_MSG_PREPARE | 1u << EC_MSG_COMMIT |
				 1u << EC_MSG_START_VIEW_CHANGE |
				 1u << EC_MSG_START_VIEW | 1u << EC_MSG_RECOVERY,
	[EC_OFFLOAD_FASTACK] = 1u << EC_MSG_PREPARE,
	[EC_OFFLOAD_QUORUM] = 1u << EC_MSG_PREPARE_OK,
};

const char *ec_offload_name(unsigned kind)
{
	return kind < EC_OFFLOAD_MAX ? offload_names[kind] : NULL;
}

uint32_t ec_offload_types(unsigned kind)
{
	return kind < EC_OFFLOAD_MAX ? offload_types[kind] : 0;
}

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

	if (!*spec) {
		snprintf(err, errlen, "empty offload switch list");
		return -1;
	}
	while (*s) {
		size_t len = strcspn(s, ",");

		if (len == 0 || apply_item(&next, s, len, on) < 0) {
			snprintf(err, errlen,
				 "unknown offload switch '%.*s' (use all, none, "
				 "broadcast, fastack, quorum or e.g. "
				 "broadcast.prepare)", (int)len, s);
			return -1;
		}
		s += len + (s[len] == ',');
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
