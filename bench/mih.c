#include "mih.h"

#include <stdlib.h>
#include <string.h>

enum { CHUNKS = 16, BUCKETS = 1 << 16 };

struct mih {
	size_t n;
	const unsigned char *codes;
	uint32_t *start[CHUNKS]; /* BUCKETS + 1 offsets per chunk */
	uint32_t *ids[CHUNKS];
	uint32_t *seen;          /* per code: the query stamp that last verified it */
	uint32_t stamp;
};

static unsigned chunk(const unsigned char *code, int c)
{
	return (unsigned)code[2 * c] << 8 | code[2 * c + 1];
}

struct mih *mih_build(const unsigned char *codes, size_t n)
{
	struct mih *m = calloc(1, sizeof *m);
	m->n = n;
	m->codes = codes;
	m->seen = calloc(n, sizeof *m->seen);
	for (int c = 0; c < CHUNKS; c++) {
		uint32_t *start = calloc(BUCKETS + 1, sizeof *start), *ids = malloc(n * sizeof *ids);
		for (size_t i = 0; i < n; i++)
			start[chunk(codes + i * 32, c) + 1]++;
		for (int b = 0; b < BUCKETS; b++)
			start[b + 1] += start[b];
		uint32_t *fill = malloc(BUCKETS * sizeof *fill);
		memcpy(fill, start, BUCKETS * sizeof *fill);
		for (size_t i = 0; i < n; i++)
			ids[fill[chunk(codes + i * 32, c)]++] = (uint32_t)i;
		free(fill);
		m->start[c] = start;
		m->ids[c] = ids;
	}
	return m;
}

void mih_free(struct mih *m)
{
	for (int c = 0; c < CHUNKS; c++) {
		free(m->start[c]);
		free(m->ids[c]);
	}
	free(m->seen);
	free(m);
}

static int distance(const unsigned char *a, const unsigned char *b)
{
	int d = 0;
	for (int i = 0; i < 32; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		d += __builtin_popcountll(x ^ y);
	}
	return d;
}

struct probe {
	struct mih *m;
	const unsigned char *q;
	int radius, c;
	int64_t *out;
	size_t cap, found;
};

static void scan_bucket(struct probe *p, unsigned key)
{
	struct mih *m = p->m;
	for (uint32_t k = m->start[p->c][key]; k < m->start[p->c][key + 1]; k++) {
		const uint32_t id = m->ids[p->c][k];
		if (m->seen[id] == m->stamp)
			continue;
		m->seen[id] = m->stamp;
		if (distance(p->q, m->codes + (size_t)id * 32) <= p->radius && p->found < p->cap)
			p->out[p->found++] = id;
	}
}

/* Every key within `flips` bits of `key`, flipping bits from position `from` up. */
static void probe_keys(struct probe *p, unsigned key, int flips, int from)
{
	scan_bucket(p, key);
	if (flips == 0)
		return;
	for (int b = from; b < 16; b++)
		probe_keys(p, key ^ (1u << b), flips - 1, b + 1);
}

size_t mih_search(struct mih *m, const unsigned char *q, int radius, int64_t *out, size_t cap)
{
	struct probe p = { m, q, radius, 0, out, cap, 0 };
	if (++m->stamp == 0) { /* wrapped: forget every stamp */
		memset(m->seen, 0, m->n * sizeof *m->seen);
		m->stamp = 1;
	}
	for (p.c = 0; p.c < CHUNKS; p.c++)
		probe_keys(&p, chunk(q, p.c), radius / CHUNKS, 0);
	return p.found;
}
