/* The index file: writing it atomically, and verifying it completely before faiss parses a byte
 * of it, since faiss trusts the list sizes it reads and a truncated memory-mapped list would
 * crash a check with SIGBUS instead of failing it. */
#include "index/search/embedding_index.h"
#include "index/search/faiss_c_gaps.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/IndexIVF_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/index_io_c.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *file_path(const char *dir, const char *name)
{
	const size_t len = strlen(dir) + strlen(name) + 2;
	char *path = malloc(len);
	if (path)
		snprintf(path, len, "%s/%s", dir, name);
	return path;
}

/* Checksums `n` bytes of `f` from `offset`. */
static int checksum_range(uint64_t *out, FILE *f, uint64_t offset, uint64_t n)
{
	enum { CHUNK = 1 << 20 };
	unsigned char *buf = malloc(CHUNK);
	if (!buf || fseeko(f, (off_t)offset, SEEK_SET) != 0) {
		free(buf);
		return -1;
	}
	uint64_t sum = 0;
	while (n) {
		const size_t want = n < CHUNK ? (size_t)n : CHUNK;
		if (fread(buf, 1, want, f) != want) {
			free(buf);
			return -1;
		}
		sum = lk__checksum(buf, want, sum);
		n -= want;
	}
	free(buf);
	*out = sum;
	return 0;
}

static uint64_t header_checksum(const struct lk_ivf_header *h)
{
	return lk__checksum(h, offsetof(struct lk_ivf_header, header_checksum), 0);
}

void lk__ivf_release(struct lk_ivf *ivf)
{
	if (!ivf)
		return;
	const int before = atomic_fetch_sub(&ivf->refcount, 1);
	assert(before > 0 && "an index file released more often than taken");
	if (before != 1)
		return;
	if (ivf->index)
		faiss_Index_free((FaissIndex *)ivf->index);
	free(ivf->covered);
	free(ivf);
}

/* Everything about the header that must hold before the payload is read. */
static int header_problem(char *detail, const struct lk_ivf_header *h, uint64_t file_bytes)
{
	if (memcmp(h->magic, LK_IVF_MAGIC, sizeof h->magic))
		return snprintf(detail, LK_TEXT_MAX, "not a likeness index file"), 1;
	if (h->format != LK_IVF_FORMAT)
		return snprintf(detail, LK_TEXT_MAX, "index format %u; this build reads %d", h->format, LK_IVF_FORMAT), 1;
	if (h->header_checksum != header_checksum(h))
		return snprintf(detail, LK_TEXT_MAX, "damaged header (checksum mismatch)"), 1;
	if (h->header_bytes != LK_IVF_HEADER_BYTES || h->dim != LK_EMBEDDING_DIM || h->references < 0 ||
	    h->vectors < h->references || h->nlist < 1 || h->nprobe < 1 || h->nprobe > h->nlist ||
	    (uint64_t)h->references * sizeof(struct lk_ivf_covered) > h->payload_bytes)
		return snprintf(detail, LK_TEXT_MAX, "inconsistent header"), 1;
	const uint64_t want = (uint64_t)h->header_bytes + h->payload_bytes;
	if (file_bytes != want)
		return snprintf(detail, LK_TEXT_MAX, "%s: %llu bytes where the header says %llu",
				file_bytes < want ? "truncated" : "extra data", (unsigned long long)file_bytes,
				(unsigned long long)want), 1;
	return 0;
}

/* Verifies and loads the file; on failure *out stays NULL and `detail` says why. */
static void load(struct lk_ivf **out, char *detail, const char *path)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) != 0) {
		snprintf(detail, LK_TEXT_MAX, "cannot read it: %s", strerror(errno));
		if (f)
			fclose(f);
		return;
	}
	struct lk_ivf *ivf = calloc(1, sizeof *ivf);
	if (!ivf) {
		snprintf(detail, LK_TEXT_MAX, "out of memory reading it");
		fclose(f);
		return;
	}
	atomic_init(&ivf->refcount, 1);
	struct lk_ivf_header *h = &ivf->header;
	uint64_t sum = 0;
#define COVERED_BYTES ((size_t)h->references * sizeof *ivf->covered)
	if (fread(h, sizeof *h, 1, f) != 1)
		snprintf(detail, LK_TEXT_MAX, "truncated: %llu bytes, shorter than its header",
			 (unsigned long long)st.st_size);
	else if (header_problem(detail, h, (uint64_t)st.st_size))
		;
	else if (checksum_range(&sum, f, h->header_bytes, h->payload_bytes) != 0)
		snprintf(detail, LK_TEXT_MAX, "cannot read it: %s", ferror(f) ? strerror(errno) : "short read");
	else if (sum != h->payload_checksum)
		snprintf(detail, LK_TEXT_MAX, "damaged data (checksum mismatch)");
	else if (!(ivf->covered = malloc(COVERED_BYTES + 1)))
		snprintf(detail, LK_TEXT_MAX, "out of memory reading it");
	else if (fseeko(f, h->header_bytes, SEEK_SET) != 0 ||
		 fread(ivf->covered, 1, COVERED_BYTES, f) != COVERED_BYTES)
		snprintf(detail, LK_TEXT_MAX, "cannot read its reference table");
	else {
		FaissIndex *index = NULL;
		if (lk__faiss_read_index_mmap(&index, f) != 0) {
			const char *why = faiss_get_last_error();
			snprintf(detail, LK_TEXT_MAX, "faiss cannot read it: %s", why ? why : "unknown error");
		} else {
			ivf->index = (struct FaissIndex_H *)index;
			FaissIndexIVF *ivfi = faiss_IndexIVF_cast(index);
			if (!ivfi || faiss_Index_d(index) != h->dim || faiss_Index_ntotal(index) != h->vectors ||
			    faiss_IndexIVF_nlist(ivfi) != (size_t)h->nlist ||
			    faiss_Index_metric_type(index) != METRIC_INNER_PRODUCT)
				snprintf(detail, LK_TEXT_MAX, "the faiss index does not match its header");
			else {
				faiss_IndexIVF_set_nprobe(ivfi, (size_t)h->nprobe);
				detail[0] = '\0';
				*out = ivf;
			}
		}
	}
#undef COVERED_BYTES
	for (int64_t i = 1; *out && i < h->references; i++)
		if (ivf->covered[i].id <= ivf->covered[i - 1].id) {
			snprintf(detail, LK_TEXT_MAX, "its reference table is out of order");
			*out = NULL;
		}
	fclose(f);
	if (!*out)
		lk__ivf_release(ivf);
}

void lk__ivf_cache_free(lk_registry *reg)
{
	if (!reg->ivf_cache)
		return;
	lk__ivf_release(reg->ivf_cache->ivf);
	free(reg->ivf_cache);
	reg->ivf_cache = NULL;
}

void lk__ivf_current(struct lk_ivf **out, int *state, char *detail, lk_registry *reg, const char *embedder)
{
	*out = NULL;
	*state = LK_INDEX_NONE;
	detail[0] = '\0';
	char *path = file_path(reg->dir, LK_IVF_FILE);
	struct stat st;
	if (!path || (!reg->ivf_cache && !(reg->ivf_cache = calloc(1, sizeof *reg->ivf_cache)))) {
		free(path);
		*state = LK_INDEX_REFUSED;
		snprintf(detail, LK_TEXT_MAX, "out of memory");
		return;
	}
	struct lk_ivf_cache *c = reg->ivf_cache;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT) {
			*state = LK_INDEX_REFUSED;
			snprintf(detail, LK_TEXT_MAX, "cannot read it: %s", strerror(errno));
		}
		lk__ivf_release(c->ivf);
		memset(c, 0, sizeof *c);
		free(path);
		return;
	}
	const int64_t mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if (!c->valid || c->dev != (uint64_t)st.st_dev || c->ino != (uint64_t)st.st_ino ||
	    c->size != (uint64_t)st.st_size || c->mtime_ns != mtime_ns) {
		lk__ivf_release(c->ivf);
		memset(c, 0, sizeof *c);
		load(&c->ivf, c->detail, path);
		c->state = c->ivf ? LK_INDEX_CURRENT : LK_INDEX_REFUSED;
		c->dev = (uint64_t)st.st_dev, c->ino = (uint64_t)st.st_ino, c->size = (uint64_t)st.st_size;
		c->mtime_ns = mtime_ns;
		c->valid = 1;
	}
	free(path);
	*state = c->state;
	snprintf(detail, LK_TEXT_MAX, "%s", c->detail);
	if (!c->ivf)
		return;
	if (strcmp(c->ivf->header.embedder, embedder)) {
		*state = LK_INDEX_STALE;
		snprintf(detail, LK_TEXT_MAX, "built from embedder '%s'; the registry's is '%s'", c->ivf->header.embedder,
			 embedder[0] ? embedder : "none");
		return;
	}
	const int before = atomic_fetch_add(&c->ivf->refcount, 1);
	assert(before > 0 && "the cache holds a reference to the file it keeps");
	(void)before;
	*out = c->ivf;
}

int lk__ivf_covers(const struct lk_ivf *ivf, int64_t id, uint64_t fingerprint)
{
	size_t lo = 0, hi = (size_t)ivf->header.references;
	while (lo < hi) {
		const size_t mid = lo + (hi - lo) / 2;
		if (ivf->covered[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < (size_t)ivf->header.references && ivf->covered[lo].id == id &&
	       ivf->covered[lo].fingerprint == fingerprint;
}

/* fsync of the folder, so the rename itself survives a crash. */
static int sync_dir(const char *dir)
{
	const int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	const int rc = fsync(fd);
	close(fd);
	return rc;
}

int lk__ivf_write(const char *dir, struct lk_ivf_header *h, const struct lk_ivf_covered *covered,
		  const struct FaissIndex_H *index)
{
	static atomic_uint serial;
	char name[96];
	snprintf(name, sizeof name, "%s.tmp.%ld.%u", LK_IVF_FILE, (long)getpid(), atomic_fetch_add(&serial, 1));
	char *tmp = file_path(dir, name), *path = file_path(dir, LK_IVF_FILE);
	if (!tmp || !path) {
		free(tmp);
		free(path);
		return lk__fail(LK_ENOMEM, "writing the index file");
	}
	const int fd = open(tmp, O_CREAT | O_EXCL | O_RDWR, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w+b") : NULL;
	int rc = LK_OK;
	const char *what = "creating";
	static const unsigned char zeros[LK_IVF_HEADER_BYTES];
	const size_t covered_bytes = (size_t)h->references * sizeof *covered;
	if (!f) {
		rc = LK_EIO;
	} else if (fwrite(zeros, 1, sizeof zeros, f) != sizeof zeros ||
		   (covered_bytes && fwrite(covered, 1, covered_bytes, f) != covered_bytes)) {
		rc = LK_EIO, what = "writing";
	} else if (faiss_write_index((const FaissIndex *)index, f) != 0) {
		const char *why = faiss_get_last_error();
		rc = lk__fail(LK_EIO, "%s: faiss cannot write the index: %s", tmp, why ? why : "unknown error");
	} else if (fflush(f) != 0) {
		rc = LK_EIO, what = "writing";
	}
	if (rc == LK_OK) {
		const off_t end = ftello(f);
		memcpy(h->magic, LK_IVF_MAGIC, sizeof h->magic);
		h->header_bytes = LK_IVF_HEADER_BYTES;
		h->format = LK_IVF_FORMAT;
		h->payload_bytes = (uint64_t)end - LK_IVF_HEADER_BYTES;
		if (end < LK_IVF_HEADER_BYTES || checksum_range(&h->payload_checksum, f, LK_IVF_HEADER_BYTES, h->payload_bytes))
			rc = LK_EIO, what = "reading back";
		h->header_checksum = header_checksum(h);
		if (rc == LK_OK && (fseeko(f, 0, SEEK_SET) != 0 || fwrite(h, sizeof *h, 1, f) != 1 || fflush(f) != 0))
			rc = LK_EIO, what = "writing";
		if (rc == LK_OK && fsync(fileno(f)) != 0)
			rc = LK_EIO, what = "syncing";
	}
	if (rc == LK_EIO && lk_error_detail()[0] == '\0')
		lk__fail(LK_EIO, "%s %s: %s", what, tmp, strerror(errno));
	if (f && fclose(f) != 0 && rc == LK_OK)
		rc = lk__fail(LK_EIO, "writing %s: %s", tmp, strerror(errno));
	else if (!f && fd >= 0)
		close(fd);
	if (rc == LK_OK && rename(tmp, path) != 0)
		rc = lk__fail(LK_EIO, "renaming %s to %s: %s", tmp, path, strerror(errno));
	if (rc == LK_OK && sync_dir(dir) != 0)
		rc = lk__fail(LK_EIO, "syncing %s: %s", dir, strerror(errno));
	if (rc != LK_OK)
		unlink(tmp);
	free(tmp);
	free(path);
	return rc;
}
