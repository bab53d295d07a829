/*
 * link_check.c - the pure layers link alone.  make check-layers links this
 * with every object of libec.a (common, app, core: --whole-archive) and
 * protobuf-c only: a reference to libevent, libbpf or anything of the
 * daemon from those layers fails the link.  Run, it drives one core
 * through a turn, so the link is of code that works.
 */
#include <stdio.h>

#include "core/core.h"

int main(void)
{
	struct ec_core_opts o;
	struct ec_core *c;

	ec_core_opts_default(&o, 1, 0);
	o.members.n = 1;
	o.members.addr[0] = (struct ec_addr){ .ip = 0x0100007f, .port = 0x581b };
	c = ec_core_new(&o, 1);
	if (!c) {
		fprintf(stderr, "link_check: ec_core_new failed\n");
		return 1;
	}
	ec_core_tick(c, 2);
	ec_core_free(c);
	puts("link_check: common, app and core link with protobuf-c alone");
	return 0;
}
