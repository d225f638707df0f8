/* Whole files into per-thread memory, refusing oversized ones before reading them. */
#include "core/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lk__read_file(const void **data, size_t *len, const char *path, size_t max_bytes)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lk__fail(LK_EIO, "cannot open: %s", strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return lk__fail(LK_EIO, "cannot stat: %s", strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return lk__fail(LK_EIO, "is a directory");
	}
	/* Regular files are sized up front; pipes and devices are read until EOF. */
	const int sized = S_ISREG(st.st_mode);
	if (sized && (uint64_t)st.st_size > max_bytes) {
		close(fd);
		return lk__fail(LK_ETOOBIG, "%jd bytes, the limit is %zu", (intmax_t)st.st_size, max_bytes);
	}
	size_t cap = sized ? (size_t)st.st_size + 1 : 1 << 16, used = 0;
	unsigned char *buf = lk__scratch(LK_SCRATCH_FILE, cap);
	for (;;) {
		if (!buf) {
			close(fd);
			return LK_ENOMEM;
		}
		if (used == cap) {
			if (cap > max_bytes) {
				close(fd);
				return lk__fail(LK_ETOOBIG, "more than the limit of %zu bytes", max_bytes);
			}
			cap *= 2;
			buf = lk__scratch_keep(LK_SCRATCH_FILE, cap, used);
			continue;
		}
		ssize_t n = read(fd, buf + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return lk__fail(LK_EIO, "read failed: %s", strerror(e));
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	if (used > max_bytes)
		return lk__fail(LK_ETOOBIG, "%zu bytes, the limit is %zu", used, max_bytes);
	*data = buf;
	*len = used;
	return LK_OK;
}

int lk__with_file(const char *path, const lk_ingest_options *opts,
		  int (*use)(const void *data, size_t len, const char *name, const lk_ingest_options *opts, void *ctx),
		  void *ctx)
{
	int rc = lk__ensure_init();
	if (rc != LK_OK)
		return rc;
	lk_ingest_options o;
	rc = lk__ingest_options_read(&o, opts);
	if (rc != LK_OK)
		return rc;
	const void *data = NULL;
	size_t len = 0;
	rc = lk__read_file(&data, &len, path, o.max_bytes);
	if (rc == LK_OK)
		rc = use(data, len, path, &o, ctx);
	if (rc != LK_OK)
		lk__prefix_error(path);
	return rc;
}
