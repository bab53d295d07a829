/* membership.c - see membership.h. */
#include "membership.h"

#include <arpa/inet.h>
#include <string.h>

static const char *const verdict_names[EC_MEMBER_MAX] = {
	[EC_MEMBER_OK] = "ok",
	[EC_MEMBER_NOT_MEMBER] = "from_non_member",
	[EC_MEMBER_WRONG_SENDER] = "sender_mismatch",
};

const char *ec_member_verdict_name(enum ec_member_verdict v)
{
	return (unsigned)v < EC_MEMBER_MAX ? verdict_names[v] : "?";
}

static bool same_addr(const struct ec_addr *a, const struct ec_addr *b)
{
	return a->ip == b->ip && a->port == b->port;
}

static enum ec_member_verdict check(const struct ec_members *mb,
				    const struct ec_msg *m,
				    const struct ec_addr *from)
{
	if (ec_msg_from_client(m->type))
		return EC_MEMBER_OK;
	if (!from)
		return EC_MEMBER_NOT_MEMBER;
	if (m->sender < mb->n && same_addr(&mb->addr[m->sender], from))
		return EC_MEMBER_OK;
	for (unsigned i = 0; i < mb->n; i++)
		if (same_addr(&mb->addr[i], from))
			return EC_MEMBER_WRONG_SENDER;
	return EC_MEMBER_NOT_MEMBER;
}

enum ec_member_verdict ec_member_check(const struct ec_members *mb,
				       const struct ec_msg *m,
				       const struct ec_addr *from,
				       struct ec_member_stats *stats)
{
	enum ec_member_verdict v = check(mb, m, from);

	if (stats && v != EC_MEMBER_OK)
		stats->count[v]++;
	return v;
}

void ec_members_from_config(const struct ec_config *cfg, struct ec_members *mb)
{
	memset(mb, 0, sizeof(*mb));
	mb->n = cfg->n;
	for (unsigned i = 0; i < cfg->n; i++) {
		mb->addr[i].ip = cfg->peers[i].ip;
		mb->addr[i].port = htons(cfg->peers[i].port);
	}
}
