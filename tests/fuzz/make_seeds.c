/*
 * make_seeds.c - write the seed inputs of the fuzz harnesses: the
 * datagrams the scenarios' clusters (scenario.h) exchange when they go on
 * from where fuzz_core starts, so every seed is well formed and carries
 * numbers the cores are ready for.
 *
 * Usage: make_seeds DIR; writes DIR/fuzz_wire/ (one datagram per file)
 * and DIR/fuzz_core/ (one record per file, in its scenario).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scenario.h"

/* Seeds kept per scenario and message type. */
#define PER_TYPE 3

struct recorder {
	const char *dir;
	enum fz_scenario scenario;
	unsigned kept[EC_MSG_TYPE_MAX];
};

static void die(const char *what, const char *path)
{
	fprintf(stderr, "make_seeds: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void write_file(const char *path, const uint8_t *head, size_t head_len,
		       const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(head, 1, head_len, f) != head_len ||
	    fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		die("cannot write", path);
}

/* sim filter: keep the first datagrams of each type, drop nothing. */
static bool record(struct sim *s, const struct sim_pkt *p, void *arg)
{
	struct recorder *r = arg;
	uint8_t head[1 + FZ_REC_HDR];
	char path[512];

	(void)s;
	if (p->type >= EC_MSG_TYPE_MAX || r->kept[p->type] == PER_TYPE ||
	    p->len > 0xffff)
		return false;
	snprintf(path, sizeof(path), "%s/fuzz_wire/s%u-%s-%u", r->dir,
		 r->scenario, ec_msg_type_name(p->type), r->kept[p->type]);
	write_file(path, NULL, 0, p->buf, p->len);
	head[0] = (uint8_t)r->scenario;
	head[1] = (uint8_t)(p->from < FZ_N ? p->from : FZ_N);
	head[2] = (uint8_t)p->to;
	head[3] = (uint8_t)(p->len >> 8);
	head[4] = (uint8_t)p->len;
	snprintf(path, sizeof(path), "%s/fuzz_core/s%u-%s-%u", r->dir,
		 r->scenario, ec_msg_type_name(p->type), r->kept[p->type]);
	write_file(path, head, sizeof(head), p->buf, p->len);
	r->kept[p->type]++;
	return false;
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die("cannot create", path);
}

int main(int argc, char **argv)
{
	char path[512];

	if (argc != 2) {
		fprintf(stderr, "usage: make_seeds DIR\n");
		return 2;
	}
	make_dir(argv[1]);
	snprintf(path, sizeof(path), "%s/fuzz_wire", argv[1]);
	make_dir(path);
	snprintf(path, sizeof(path), "%s/fuzz_core", argv[1]);
	make_dir(path);
	for (unsigned w = 0; w < FZ_SCENARIOS; w++) {
		struct recorder r = { .dir = argv[1], .scenario = w };
		struct sim *s = fz_scenario(w);

		s->filter = record;
		s->filter_arg = &r;
		/* more requests, then the leader fails: every type shows */
		sim_put(s, FZ_CLIENT, 0, 1, "seed", "value");
		sim_run(s, 100 * 1000, 1000);
		sim_crash(s, 0);
		sim_put(s, FZ_CLIENT, 1, 2, "seed", "again");
		sim_run(s, 1000 * 1000, 1000);
		sim_restart(s, 0);
		sim_run(s, 500 * 1000, 1000);
		sim_free(s);
	}
	return 0;
}
