/* config.c - see config.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

/* Parse one "replica ..." line into cfg; returns -1 with err filled. */
static int parse_line(char *line, const char *name, int lineno,
		      struct ec_config *cfg, unsigned *seen, char *err,
		      size_t errlen)
{
	char kw[16], ip[32], mac[32], ifname[64], tail[2];
	unsigned id, port;
	struct ec_peer *p;
	struct in_addr a;

	if (sscanf(line, "%15s %u %31s %u %31s %63s %1s", kw, &id, ip, &port,
		   mac, ifname, tail) != 6 || strcmp(kw, "replica") != 0)
		return fail(err, errlen,
			    "%s:%d: expected 'replica <id> <ip> <port> <mac> <interface>'",
			    name, lineno);
	if (id >= EC_MAX_REPLICAS)
		return fail(err, errlen, "%s:%d: replica id %u out of range 0..%d",
			    name, lineno, id, EC_MAX_REPLICAS - 1);
	if (*seen & (1u << id))
		return fail(err, errlen, "%s:%d: replica %u listed twice", name,
			    lineno, id);
	if (inet_pton(AF_INET, ip, &a) != 1)
		return fail(err, errlen, "%s:%d: bad IPv4 address '%s'", name,
			    lineno, ip);
	if (port == 0 || port > 65535)
		return fail(err, errlen, "%s:%d: bad port %u", name, lineno, port);
	if (strlen(ifname) >= IF_NAMESIZE)
		return fail(err, errlen, "%s:%d: interface name '%s' too long",
			    name, lineno, ifname);
	p = &cfg->peers[id];
	if (parse_mac(mac, p->mac) < 0)
		return fail(err, errlen, "%s:%d: bad MAC address '%s'", name,
			    lineno, mac);
	p->id = id;
	p->ip = a.s_addr;
	p->port = (uint16_t)port;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	*seen |= 1u << id;
	return 0;
}

int ec_config_parse(const char *text, const char *name, struct ec_config *cfg,
		    char *err, size_t errlen)
{
	unsigned seen = 0, count = 0;
	int lineno = 0;
	const char *s = text;

	memset(cfg, 0, sizeof(*cfg));
	while (*s) {
		char line[256];
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *p;

		lineno++;
		if (len >= sizeof(line))
			return fail(err, errlen, "%s:%d: line too long", name,
				    lineno);
		memcpy(line, s, len);
		line[len] = '\0';
		s += len + (nl ? 1 : 0);
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0' || *p == '#' || *p == '\r')
			continue;
		if (parse_line(p, name, lineno, cfg, &seen, err, errlen) < 0)
			return -1;
		count++;
	}
	if (count == 0)
		return fail(err, errlen, "%s: no replicas listed", name);
	if (seen != (1u << count) - 1)
		return fail(err, errlen, "%s: replica ids must be 0..%u with no gap",
			    name, count - 1);
	for (unsigned i = 0; i < count; i++)
		for (unsigned j = i + 1; j < count; j++)
			if (cfg->peers[i].ip == cfg->peers[j].ip &&
			    cfg->peers[i].port == cfg->peers[j].port)
				return fail(err, errlen,
					    "%s: replicas %u and %u share an address",
					    name, i, j);
	cfg->n = count;
	return 0;
}

int ec_config_load(const char *path, struct ec_config *cfg, char *err,
		   size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text;
	long size;
	int rc;

	if (!f)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0 || size > 65536) {
		fclose(f);
		return fail(err, errlen, "%s: unreadable or larger than 64 KiB",
			    path);
	}
	text = calloc(1, (size_t)size + 1);
	if (!text) {
		fclose(f);
		return fail(err, errlen, "%s: out of memory", path);
	}
	if (fread(text, 1, (size_t)size, f) != (size_t)size) {
		free(text);
		fclose(f);
		return fail(err, errlen, "%s: read error", path);
	}
	fclose(f);
	rc = ec_config_parse(text, path, cfg, err, errlen);
	free(text);
	return rc;
}

void ec_peer_sockaddr(const struct ec_peer *p, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = p->ip;
	sa->sin_port = htons(p->port);
}

int ec_parse_uint(const char *s, unsigned long long min,
		  unsigned long long max, unsigned long long *v)
{
	char *end;

	/* strtoull negates a "-N" instead of refusing it, and reports
	 * overflow only through errno. */
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *v < min || *v > max)
		return -1;
	return 0;
}
