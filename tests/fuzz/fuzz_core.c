/*
 * fuzz_core.c - libFuzzer harness of the core's receive path: forged
 * datagrams, from member and client addresses, to a core in each status
 * (scenario.h says which clusters and how the input is read).
 *
 * Whatever arrives, no core may crash, leak, hit undefined behaviour or
 * abort, and each keeps executed <= commit <= its last op.  A datagram a
 * member's address sends under that member's name is trusted by design
 * (replica/core/membership.h): forged from there it may break agreement, as a lying
 * replica would.  So agreement (sim_check_agreement) is checked only when
 * no such datagram reached a core: junk, client requests and forgeries
 * the parser or the membership rule turned away must never break it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "scenario.h"

#define MS 1000ULL

/* Whether replica `to` would take buf as a replica message in its own
 * right: from a member's address, under that member's name. */
static bool trusted_forgery(unsigned from, unsigned to, const uint8_t *buf,
			    size_t len, const struct ec_members *mb)
{
	struct ec_addr a;
	struct ec_msg m;

	if (from >= SIM_CLIENT)
		return false;
	a = sim_addr(from);
	return ec_msg_parse(buf, len, FZ_N, &m, NULL) == EC_PARSE_OK &&
	       m.type != EC_MSG_REQUEST && m.sender != to &&
	       ec_member_check(mb, &m, &a, NULL) == EC_MEMBER_OK;
}

static void check(bool ok, const char *what, unsigned i)
{
	if (!ok) {
		fprintf(stderr, "fuzz_core: replica %u: %s\n", i, what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim *s;
	bool forged = false;
	const char *why;

	if (size < 1)
		return 0;
	s = fz_scenario((enum fz_scenario)(data[0] % FZ_SCENARIOS));
	data++, size--;
	for (unsigned r = 0; r < FZ_MAX_RECORDS && size >= FZ_REC_HDR; r++) {
		unsigned from = fz_source(data[0]), to = data[1] % FZ_N;
		size_t len = (size_t)data[2] << 8 | data[3];

		data += FZ_REC_HDR, size -= FZ_REC_HDR;
		if (len > size)
			len = size;
		forged |= trusted_forgery(from, to, data, len, &s->opts.members);
		sim_send(s, from, to, data, len);
		sim_deliver(s);
		data += len, size -= len;
	}
	/* long enough for view changes, recovery and retransmission */
	sim_run(s, 500 * MS, 2 * MS);
	for (unsigned i = 0; i < FZ_N; i++) {
		struct ec_core_state st = sim_st(s, i);

		check(st.executed <= st.commit, "executed past commit", i);
		check(st.commit <= st.op, "commit past its log", i);
	}
	why = sim_check_agreement(s);
	if (why && !forged) {
		fprintf(stderr, "fuzz_core: %s\n", why);
		abort();
	}
	sim_free(s);
	return 0;
}
