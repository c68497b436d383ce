/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * DNS wire decoding. Everything is bounds-checked against the bytes
 * present; compression pointers are followed a bounded number of times so
 * a pointer loop cannot spin.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wl_common.h"
#include "wl_dns_parse.h"

#define NAME_MAX_WIRE 255
#define PTR_HOPS 16
#define TYPE_OPT 41

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Append c to the presentation name, escaping as RFC 1035 5.1 does. */
static void
name_put(char *out, size_t size, size_t *n, uint8_t c, uint8_t *cut)
{
	char esc[5];
	size_t k, i;

	if (*cut)
		return;         /* nothing after a cut: no mangled tail */
	if (c >= 'A' && c <= 'Z')
		c = (uint8_t)(c + ('a' - 'A'));
	if (c == '.' || c == '\\') {
		esc[0] = '\\';
		esc[1] = (char)c;
		k = 2;
	} else if (c > 0x20 && c < 0x7f) {
		esc[0] = (char)c;
		k = 1;
	} else {
		snprintf(esc, sizeof(esc), "\\%03u", c);
		k = 4;
	}
	if (*n + k >= size) {
		*cut = 1;
		return;
	}
	for (i = 0; i < k; i++)
		out[(*n)++] = esc[i];
}

/*
 * Walk the name at *off, leaving *off just past it. out (may be NULL)
 * gets the lower-case presentation form, *hash a case-insensitive hash.
 * @return 0, -ENODATA when it runs past have, -EBADMSG when malformed.
 */
static int
name_walk(const uint8_t *d, uint32_t have, uint32_t *off, char *out,
	size_t size, uint64_t *hash, uint8_t *cut)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint32_t pos = *off, wire = 0, hops = 0, i;
	size_t n = 0;
	int jumped = 0;

	for (;;) {
		uint8_t l;

		if (pos >= have)
			return -ENODATA;
		l = d[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= have)
				return -ENODATA;
			if (++hops > PTR_HOPS)
				return -EBADMSG;
			if (!jumped)
				*off = pos + 2;
			jumped = 1;
			pos = (uint32_t)(l & 0x3f) << 8 | d[pos + 1];
			continue;
		}
		if (l & 0xc0)
			return -EBADMSG;        /* extended label types */
		wire += l + 1u;
		if (wire > NAME_MAX_WIRE)
			return -EBADMSG;
		h = (h ^ l) * 0x100000001b3ULL;
		if (l == 0)
			break;
		if (pos + 1 + l > have)
			return -ENODATA;
		if (out != NULL && n > 0 && !*cut) {
			if (n + 1 < size)
				out[n++] = '.';
			else
				*cut = 1;
		}
		for (i = 0; i < l; i++) {
			uint8_t c = d[pos + 1 + i];

			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c + ('a' - 'A'));
			h = (h ^ c) * 0x100000001b3ULL;
			if (out != NULL)
				name_put(out, size, &n, c, cut);
		}
		pos += 1u + l;
	}
	if (!jumped)
		*off = pos + 1;
	if (hash != NULL)
		*hash = h;
	if (out != NULL) {
		if (n == 0)
			out[n++] = '.';
		out[n] = '\0';
	}
	return 0;
}

/* Skip one resource record; an OPT record fills the EDNS fields of m. */
static int
rr_walk(const uint8_t *d, uint32_t have, uint32_t *off, struct wl_dns_msg *m,
	int additional)
{
	uint32_t pos = *off;
	uint16_t type, rdlen;
	int rc;

	rc = name_walk(d, have, &pos, NULL, 0, NULL, NULL);
	if (rc != 0)
		return rc;
	if (pos + 10 > have)
		return -ENODATA;
	type = be16(d + pos);
	rdlen = be16(d + pos + 8);
	if (additional && type == TYPE_OPT && !m->edns) {
		m->edns = 1;
		m->edns_size = be16(d + pos + 2);
		/* TTL: extended RCODE, version, DO bit, zero. */
		m->rcode = (uint16_t)(d[pos + 4] << 4 | (m->rcode & 0xf));
		m->edns_do = (d[pos + 6] & 0x80) != 0;
	}
	pos += 10;
	if (pos + rdlen > have)
		return -ENODATA;
	*off = pos + rdlen;
	return 0;
}

int
wl_dns_decode(const uint8_t *d, uint32_t have, uint32_t len,
	struct wl_dns_msg *m)
{
	uint32_t off = WL_DNS_HDR, i, nrr;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	if (have > len)
		have = len;
	if (have < WL_DNS_HDR)
		return -EBADMSG;
	m->id = be16(d);
	m->flags = be16(d + 2);
	m->qdcount = be16(d + 4);
	m->ancount = be16(d + 6);
	m->nscount = be16(d + 8);
	m->arcount = be16(d + 10);
	m->rcode = WL_DNS_RCODE(m->flags);
	for (i = 0; i < m->qdcount && rc == 0; i++) {
		if (i == 0)
			rc = name_walk(d, have, &off, m->qname,
				sizeof(m->qname), &m->qhash, &m->name_cut);
		else
			rc = name_walk(d, have, &off, NULL, 0, NULL, NULL);
		if (rc == 0 && off + 4 > have)
			rc = -ENODATA;
		if (rc == 0 && i == 0) {
			m->qtype = be16(d + off);
			m->qclass = be16(d + off + 2);
			m->qhash = (m->qhash ^ m->qtype) * 0x100000001b3ULL;
			m->qhash = (m->qhash ^ m->qclass) * 0x100000001b3ULL;
		}
		off += 4;
	}
	nrr = (uint32_t)m->ancount + m->nscount + m->arcount;
	for (i = 0; i < nrr && rc == 0; i++)
		rc = rr_walk(d, have, &off, m,
			i >= (uint32_t)m->ancount + m->nscount);
	if (rc == -ENODATA && have < len) {
		/* Kept in part: what was decoded stands. */
		m->partial = 1;
		return m->qdcount == 0 || m->qtype != 0 ? 0 : -ENODATA;
	}
	if (rc != 0 && (m->qdcount == 0 || m->qtype != 0)) {
		/* Header and question are enough to pair. */
		m->malformed = 1;
		return 0;
	}
	return rc == 0 ? 0 : -EBADMSG;
}

int
wl_dns_check(const uint8_t *d, uint32_t len, int is_resp, int tcp)
{
	struct wl_dns_msg m;
	uint32_t mlen = len;
	uint16_t flags, op;

	if (tcp) {
		if (len < 2)
			return 1;
		mlen = be16(d);
		if (mlen < WL_DNS_HDR)
			return 0;
		d += 2;
		len -= 2;
	}
	/* Updates aside, queries are short: a huge length is not one. */
	if (tcp && !is_resp && mlen > 16384)
		return 0;
	if (len < 4)
		return tcp ? 1 : 0;
	flags = be16(d + 2);
	op = WL_DNS_OPCODE(flags);
	/* QUERY, IQUERY, STATUS, NOTIFY, UPDATE */
	if (!!(flags & WL_DNS_QR) != !!is_resp || op == 3 || op > 5)
		return 0;
	if (len < WL_DNS_HDR)
		return tcp ? 1 : 0;
	if (!is_resp && (WL_DNS_RCODE(flags) != 0 || be16(d + 4) != 1 ||
			(op == 0 && (be16(d + 6) != 0 || be16(d + 8) != 0)) ||
			be16(d + 10) > 2))
		return 0;
	if (is_resp && be16(d + 4) > 1)
		return 0;
	if (tcp && len < mlen) {
		/* A whole question in a message's first segment is as good
		 * as the whole message; running out before it is no verdict. */
		switch (wl_dns_decode(d, len, mlen, &m)) {
		case 0:
			return m.malformed ? 0 : 2;
		case -ENODATA:
			return 1;
		default:
			return 0;
		}
	}
	/* Over TCP more messages may follow the first. */
	if ((!tcp && len > mlen) || wl_dns_decode(d, mlen, mlen, &m) != 0 ||
			m.malformed)
		return 0;
	if (m.qdcount == 1 && (m.qtype == 0 || (m.qclass != 1 &&
			m.qclass != 3 && m.qclass != 4 && m.qclass < 254)))
		return 0;
	return 2;
}

/* Names of the RR types, by value (IANA "Resource Record (RR) TYPEs"). */
static const char *const types[258] = {
	[1] = "A", [2] = "NS", [5] = "CNAME", [6] = "SOA", [10] = "NULL",
	[12] = "PTR", [13] = "HINFO", [15] = "MX", [16] = "TXT", [17] = "RP",
	[18] = "AFSDB", [24] = "SIG", [25] = "KEY", [28] = "AAAA", [29] = "LOC",
	[33] = "SRV", [35] = "NAPTR", [36] = "KX", [37] = "CERT",
	[39] = "DNAME", [41] = "OPT", [42] = "APL", [43] = "DS", [44] = "SSHFP",
	[45] = "IPSECKEY", [46] = "RRSIG", [47] = "NSEC", [48] = "DNSKEY",
	[49] = "DHCID", [50] = "NSEC3", [51] = "NSEC3PARAM", [52] = "TLSA",
	[53] = "SMIMEA", [55] = "HIP", [59] = "CDS", [60] = "CDNSKEY",
	[61] = "OPENPGPKEY", [62] = "CSYNC", [63] = "ZONEMD", [64] = "SVCB",
	[65] = "HTTPS", [99] = "SPF", [108] = "EUI48", [109] = "EUI64",
	[249] = "TKEY", [250] = "TSIG", [251] = "IXFR", [252] = "AXFR",
	[255] = "ANY", [256] = "URI", [257] = "CAA",
};

const char *
wl_dns_type_name(uint16_t type, char *buf, size_t size)
{
	if (type < WL_ARRAY_SIZE(types) && types[type] != NULL)
		return types[type];
	snprintf(buf, size, "TYPE%u", type);
	return buf;
}

static const char *const rcodes[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
	NULL, NULL, NULL, NULL,
	"BADVERS", "BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG",
	"BADTRUNC", "BADCOOKIE",
};

const char *
wl_dns_rcode_name(uint16_t rcode, char *buf, size_t size)
{
	if (rcode < WL_ARRAY_SIZE(rcodes) && rcodes[rcode] != NULL)
		return rcodes[rcode];
	snprintf(buf, size, "RCODE%u", rcode);
	return buf;
}

const char *
wl_dns_opcode_name(uint16_t opcode, char *buf, size_t size)
{
	static const char *const ops[] = {
		"QUERY", "IQUERY", "STATUS", NULL, "NOTIFY", "UPDATE", "DSO",
	};

	if (opcode < WL_ARRAY_SIZE(ops) && ops[opcode] != NULL)
		return ops[opcode];
	snprintf(buf, size, "OPCODE%u", opcode);
	return buf;
}
