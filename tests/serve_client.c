#include "serve_client.h"
#include "fixtures.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double sc_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void sc_buf_add(struct sc_buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		cr_assert(b->p);
		b->cap = cap;
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void sc_buf_printf(struct sc_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *tmp = malloc((size_t)n + 1);
	cr_assert(tmp);
	va_start(ap, fmt);
	vsnprintf(tmp, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sc_buf_add(b, tmp, (size_t)n);
	free(tmp);
}

void sc_buf_free(struct sc_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

void sc_response_free(struct sc_response *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof *r);
}

const char *sc_header(const struct sc_response *r, const char *name)
{
	for (int i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->names[i], name) == 0)
			return r->values[i];
	return NULL;
}

json_t *sc_json(const struct sc_response *r)
{
	if (!r->body)
		return NULL;
	return json_loadb(r->body, r->body_len, 0, NULL);
}

const char *sc_error_code(const struct sc_response *r)
{
	static _Thread_local char code[64];
	code[0] = '\0';
	json_t *j = sc_json(r);
	const char *s = j ? json_string_value(json_object_get(j, "error")) : NULL;
	if (s)
		snprintf(code, sizeof code, "%s", s);
	json_decref(j);
	return code;
}

int sc_connect(int port, double timeout_s)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = (time_t)timeout_s, .tv_usec = (suseconds_t)((timeout_s - (double)(time_t)timeout_s) * 1e6) };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int sc_send_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		/* MSG_NOSIGNAL: a server that answers early and closes must not kill the test. */
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads more bytes into `in`, waiting at most until `deadline`; returns bytes read, 0 at the
 * end of the stream, -1 on error or timeout. */
static ssize_t read_more(int fd, struct sc_buf *in, double deadline)
{
	for (;;) {
		double left = deadline - sc_now();
		if (left <= 0)
			return -1;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int rc = poll(&p, 1, (int)(left * 1000) + 1);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return -1;
		char tmp[65536];
		ssize_t n = recv(fd, tmp, sizeof tmp, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0)
			sc_buf_add(in, tmp, (size_t)n);
		return n;
	}
}

static int fail(struct sc_response *r, const char *why)
{
	snprintf(r->error, sizeof r->error, "%s", why);
	r->status = 0;
	return -1;
}

/* Decodes a chunked body starting at `p` (in `in`, reading more as needed) into r->body. */
static int read_chunked(int fd, struct sc_buf *in, size_t pos, struct sc_response *r, double deadline)
{
	struct sc_buf body = { 0 };
	for (;;) {
		char *eol;
		while (!(eol = strstr(in->p + pos, "\r\n")))
			if (read_more(fd, in, deadline) <= 0) {
				sc_buf_free(&body);
				return fail(r, "chunked body cut short (size line)");
			}
		char *end;
		unsigned long size = strtoul(in->p + pos, &end, 16);
		if (end == in->p + pos) {
			sc_buf_free(&body);
			return fail(r, "bad chunk size line");
		}
		pos = (size_t)(eol - in->p) + 2;
		if (size == 0) {
			/* Trailers end with an empty line; none are expected, so wait only briefly. */
			while (!strstr(in->p + pos, "\r\n") && read_more(fd, in, deadline) > 0)
				;
			break;
		}
		while (in->len < pos + size + 2)
			if (read_more(fd, in, deadline) <= 0) {
				sc_buf_free(&body);
				return fail(r, "chunked body cut short (data)");
			}
		sc_buf_add(&body, in->p + pos, size);
		pos += size + 2;
	}
	sc_buf_add(&body, "", 0);
	r->body = body.p;
	r->body_len = body.len;
	return 0;
}

/* Transfer-Encoding lists codings in order; chunked is the last when present. */
static int te_is_chunked(const char *te)
{
	size_t n = strlen(te);
	return n >= 7 && strcasecmp(te + n - 7, "chunked") == 0;
}

int sc_read_response(int fd, struct sc_response *r, double timeout_s, double started)
{
	memset(r, 0, sizeof *r);
	double deadline = sc_now() + timeout_s;
	struct sc_buf in = { 0 };
	sc_buf_add(&in, "", 0);
	char *head_end;
	while (!(head_end = strstr(in.p, "\r\n\r\n"))) {
		ssize_t n = read_more(fd, &in, deadline);
		if (n <= 0) {
			sc_buf_free(&in);
			return fail(r, n == 0 ? "connection closed before the headers ended" : "timeout or error reading headers");
		}
	}
	size_t head_len = (size_t)(head_end - in.p);
	r->head = malloc(head_len + 1);
	memcpy(r->head, in.p, head_len);
	r->head[head_len] = '\0';
	/* Status line, then "Name: value" lines; names and values point into r->head. */
	char *line = r->head, *next;
	int major, minor;
	if (sscanf(line, "HTTP/%d.%d %d", &major, &minor, &r->status) != 3) {
		sc_buf_free(&in);
		return fail(r, "no status line");
	}
	next = strstr(line, "\r\n");
	const char *reason = strchr(line, ' ');
	reason = reason ? strchr(reason + 1, ' ') : NULL;
	if (reason)
		snprintf(r->reason, sizeof r->reason, "%.*s", (int)((next ? next : line + strlen(line)) - reason - 1), reason + 1);
	while (next) {
		*next = '\0';
		line = next + 2;
		next = strstr(line, "\r\n");
		if (next)
			*next = '\0';
		char *colon = strchr(line, ':');
		if (colon && r->n_headers < SC_MAX_HEADERS) {
			*colon = '\0';
			char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = strlen(v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				v[--vl] = '\0';
			r->names[r->n_headers] = line;
			r->values[r->n_headers++] = v;
		}
	}
	size_t pos = head_len + 4;
	const char *te = sc_header(r, "Transfer-Encoding");
	const char *cl = sc_header(r, "Content-Length");
	int rc = 0;
	if (te && te_is_chunked(te)) {
		rc = read_chunked(fd, &in, pos, r, deadline);
	} else if (cl) {
		size_t want = (size_t)strtoull(cl, NULL, 10);
		while (in.len < pos + want)
			if (read_more(fd, &in, deadline) <= 0) {
				sc_buf_free(&in);
				return fail(r, "body shorter than Content-Length");
			}
		r->body = malloc(want + 1);
		memcpy(r->body, in.p + pos, want);
		r->body[want] = '\0';
		r->body_len = want;
	} else if (r->status == 204 || r->status == 304 || r->status / 100 == 1) {
		r->body = calloc(1, 1);
	} else {
		/* No length: the body runs to the close. */
		ssize_t n;
		while ((n = read_more(fd, &in, deadline)) > 0)
			;
		if (n < 0) {
			sc_buf_free(&in);
			return fail(r, "timeout reading a body without a length");
		}
		r->body_len = in.len - pos;
		r->body = malloc(r->body_len + 1);
		memcpy(r->body, in.p + pos, r->body_len);
		r->body[r->body_len] = '\0';
	}
	sc_buf_free(&in);
	r->seconds = sc_now() - started;
	return rc;
}

int sc_exchange(int port, const void *req, size_t len, struct sc_response *r, double timeout_s)
{
	double started = sc_now();
	int fd = sc_connect(port, timeout_s);
	if (fd < 0) {
		memset(r, 0, sizeof *r);
		return fail(r, "cannot connect");
	}
	/* A failed send is not the end: a server may answer (413, 400) before reading everything. */
	(void)sc_send_all(fd, req, len);
	int rc = sc_read_response(fd, r, timeout_s, started);
	close(fd);
	return rc;
}

int sc_request(int port, const char *method, const char *target, const char *headers, const void *body,
	       size_t body_len, struct sc_response *r)
{
	struct sc_buf b = { 0 };
	sc_buf_printf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s", method, target, port,
		      headers ? headers : "");
	if (body)
		sc_buf_printf(&b, "Content-Length: %zu\r\n", body_len);
	sc_buf_add(&b, "\r\n", 2);
	if (body)
		sc_buf_add(&b, body, body_len);
	int rc = sc_exchange(port, b.p, b.len, r, SC_TIMEOUT);
	sc_buf_free(&b);
	return rc;
}

int sc_get(int port, const char *target, struct sc_response *r)
{
	return sc_request(port, "GET", target, NULL, NULL, 0, r);
}

void sc_multipart_part(struct sc_buf *b, const char *field, const char *filename, const char *content_type,
		       const void *data, size_t len)
{
	sc_buf_printf(b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"", SC_BOUNDARY, field);
	if (filename)
		sc_buf_printf(b, "; filename=\"%s\"", filename);
	sc_buf_add(b, "\r\n", 2);
	if (content_type)
		sc_buf_printf(b, "Content-Type: %s\r\n", content_type);
	sc_buf_add(b, "\r\n", 2);
	sc_buf_add(b, data, len);
	sc_buf_add(b, "\r\n", 2);
}

void sc_multipart_end(struct sc_buf *b)
{
	sc_buf_printf(b, "--%s--\r\n", SC_BOUNDARY);
}

/* 1 when every k="v" pair of `want` occurs in the label set `have` (the text between braces). */
static int labels_include(const char *have, size_t have_len, const char *want)
{
	const char *w = want;
	while (*w) {
		const char *comma = w;
		/* a pair ends at the comma after its closing quote */
		const char *q1 = strchr(w, '"');
		const char *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
		if (!q2)
			return 0;
		comma = q2 + 1;
		size_t n = (size_t)(comma - w);
		int found = 0;
		for (const char *h = have; h + n <= have + have_len; h++)
			if ((h == have || h[-1] == ',' || h[-1] == '{') && strncmp(h, w, n) == 0 &&
			    (h + n == have + have_len || h[n] == ',' || h[n] == '}')) {
				found = 1;
				break;
			}
		if (!found)
			return 0;
		w = *comma == ',' ? comma + 1 : comma;
	}
	return 1;
}

const char *sc_labels_end(const char *open)
{
	/* Label values may hold braces (route="/v1/characters/{slug}"): skip quoted text. */
	int quoted = 0;
	for (const char *p = open + 1; *p && *p != '\n'; p++) {
		if (quoted && *p == '\\' && p[1])
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '}')
			return p;
	}
	return NULL;
}

double sc_metric(const char *text, const char *name, const char *labels)
{
	size_t nl = strlen(name);
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (*line == '#' || strncmp(line, name, nl) != 0 || (line[nl] != '{' && line[nl] != ' '))
			continue;
		const char *p = line + nl;
		const char *lab = "";
		size_t lab_len = 0;
		if (*p == '{') {
			const char *close = sc_labels_end(p);
			if (!close)
				continue;
			lab = p + 1;
			lab_len = (size_t)(close - lab);
			p = close + 1;
		}
		if (labels && *labels && !labels_include(lab, lab_len, labels))
			continue;
		while (*p == ' ')
			p++;
		return strtod(p, NULL);
	}
	return NAN;
}

/* ---- the server process */

static pid_t started[16];
static int n_started;

/* A test that fails half-way must not leave a server behind. */
static void kill_started(void)
{
	for (int i = 0; i < n_started; i++)
		if (started[i] > 0 && kill(started[i], 0) == 0) {
			kill(started[i], SIGKILL);
			waitpid(started[i], NULL, 0);
		}
	n_started = 0;
}

static void forget_started(pid_t pid)
{
	for (int i = 0; i < n_started; i++)
		if (started[i] == pid)
			started[i] = -1;
}

static void make_dir(char *out, size_t size)
{
	snprintf(out, size, "%s/lk-serve-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert(mkdtemp(out), "mkdtemp");
}

static void remove_dir(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "serve_client: could not remove %s\n", dir);
}

const char *sc_token_file(const char *token)
{
	static char path[320];
	char dir[256];
	make_dir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/token", dir);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fprintf(f, "%s\n", token);
	fclose(f);
	return path;
}

const char *sc_server_log(const struct sc_server *s)
{
	static char text[4096];
	text[0] = '\0';
	FILE *f = fopen(s->log, "r");
	if (!f)
		return text;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, size > (long)sizeof text - 1 ? size - (long)sizeof text + 1 : 0, SEEK_SET);
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

void sc_server_start_env(struct sc_server *s, const char *registry, const char *args, const char *env,
			 int wait_ready)
{
	memset(s, 0, sizeof *s);
	make_dir(s->dir, sizeof s->dir);
	snprintf(s->log, sizeof s->log, "%s/log", s->dir);
	snprintf(s->registry, sizeof s->registry, "%s", registry);
	char port_file[320];
	snprintf(port_file, sizeof port_file, "%s/port", s->dir);

	char *argv[64];
	int argc = 0;
	argv[argc++] = (char *)LK_CLI_PATH;
	argv[argc++] = "serve";
	argv[argc++] = "--registry";
	argv[argc++] = (char *)registry;
	argv[argc++] = "--port";
	argv[argc++] = "0";
	argv[argc++] = "--port-file";
	argv[argc++] = port_file;
	char *copy = strdup(args ? args : "");
	for (char *save, *tok = strtok_r(copy, " ", &save); tok && argc < 62; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;

	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork");
	if (pid == 0) {
		/* Dies with the test process, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		unsetenv("LIKENESS_ADMIN_TOKEN");
		if (env)
			putenv((char *)env);
		execv(LK_CLI_PATH, argv);
		_exit(127);
	}
	free(copy);
	if (n_started == 0)
		atexit(kill_started);
	if (n_started < 16)
		started[n_started++] = pid;
	s->pid = pid;

	double deadline = sc_now() + SC_TIMEOUT;
	while (!s->port) {
		FILE *f = fopen(port_file, "r");
		if (f) {
			int port = 0;
			if (fscanf(f, "%d", &port) == 1 && port > 0)
				s->port = port;
			fclose(f);
		}
		if (s->port)
			break;
		int st;
		cr_assert_eq(waitpid(pid, &st, WNOHANG), 0, "likeness serve exited before listening: %s", sc_server_log(s));
		cr_assert(sc_now() < deadline, "no port file after %.0f s: %s", SC_TIMEOUT, sc_server_log(s));
		usleep(10000);
	}
	while (wait_ready) {
		struct sc_response r;
		int ok = sc_get(s->port, "/readyz", &r) == 0 && r.status == 200;
		sc_response_free(&r);
		if (ok)
			break;
		int st;
		cr_assert_eq(waitpid(pid, &st, WNOHANG), 0, "likeness serve exited before ready: %s", sc_server_log(s));
		cr_assert(sc_now() < deadline, "/readyz not 200 after %.0f s: %s", SC_TIMEOUT, sc_server_log(s));
		usleep(20000);
	}
}

void sc_server_start(struct sc_server *s, const char *registry, const char *args)
{
	sc_server_start_env(s, registry, args, NULL, 1);
}

int sc_server_term(struct sc_server *s, double timeout_s)
{
	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	double deadline = sc_now() + timeout_s;
	int st = 0;
	pid_t got;
	while ((got = waitpid(s->pid, &st, WNOHANG)) == 0 && sc_now() < deadline)
		usleep(10000);
	if (got == 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &st, 0);
		forget_started(s->pid);
		s->pid = 0;
		return -1;
	}
	forget_started(s->pid);
	s->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void sc_server_stop(struct sc_server *s)
{
	int status = sc_server_term(s, SC_TIMEOUT);
	cr_assert_eq(status, 0, "likeness serve did not exit 0 after SIGTERM (%d): %s", status, sc_server_log(s));
	remove_dir(s->dir);
}

const char *sc_registry_hash(const char *slug, const char *image)
{
	static char path[320];
	snprintf(path, sizeof path, "%s/registry", fx_temp_dir());
	fx_make_registry(path, slug, image);
	return path;
}

const char *sc_registry_embedded(const char *slug, const char *image)
{
	static char path[320];
	snprintf(path, sizeof path, "%s/registry", fx_temp_dir());
	char args[1200];
	snprintf(args, sizeof args, "init '%s'", path);
	cr_assert_eq(fx_cli(args)->status, 0);
	snprintf(args, sizeof args, "character add %s --name %s -r '%s'", slug, slug, path);
	cr_assert_eq(fx_cli(args)->status, 0);
	snprintf(args, sizeof args, "ref add %s '%s' -r '%s'", slug, fx_pdq_image(image), path);
	struct fx_run *run = fx_cli(args);
	cr_assert_eq(run->status, 0, "%s", run->err);
	return path;
}

int sc_post(int port, const char *target, const char *content_type, const char *extra_headers, const void *body,
	    size_t len, struct sc_response *r)
{
	char headers[1024];
	snprintf(headers, sizeof headers, "%s%s%s%s", content_type ? "Content-Type: " : "",
		 content_type ? content_type : "", content_type ? "\r\n" : "", extra_headers ? extra_headers : "");
	return sc_request(port, "POST", target, headers, body ? body : "", len, r);
}

int sc_post_vector(int port, const char *target, const char *content_type, const char *image,
		   struct sc_response *r)
{
	size_t len;
	unsigned char *data = fx_read(fx_pdq_image(image), &len);
	int rc = sc_post(port, target, content_type, NULL, data, len, r);
	free(data);
	return rc;
}

void sc_expect_error(const struct sc_response *r, int status, const char *code)
{
	cr_assert_eq(r->status, status, "status %d, want %d (%s): %.300s", r->status, status, r->error,
		     r->body ? r->body : "");
	const char *type = sc_header(r, "Content-Type");
	cr_assert(type && strncmp(type, "application/json", 16) == 0, "error Content-Type %s", type ? type : "(none)");
	json_t *j = sc_json(r);
	cr_assert(j, "error body is not JSON: %.300s", r->body);
	const char *got = json_string_value(json_object_get(j, "error"));
	const char *message = json_string_value(json_object_get(j, "message"));
	cr_assert(got && strcmp(got, code) == 0, "error code %s, want %s", got ? got : "(none)", code);
	cr_assert(message && *message, "error without a message: %.300s", r->body);
	json_decref(j);
}

const char *sc_verdict(const struct sc_response *r)
{
	static _Thread_local char verdict[16];
	verdict[0] = '\0';
	json_t *j = sc_json(r);
	const char *v = j ? json_string_value(json_object_get(j, "verdict")) : NULL;
	if (v)
		snprintf(verdict, sizeof verdict, "%s", v);
	json_decref(j);
	return verdict;
}
