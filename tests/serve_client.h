/* Helpers for the `likeness serve` tests: a small HTTP/1.1 client over raw sockets (so that a
 * test can send any bytes, malformed ones included), multipart bodies, Prometheus text, and a
 * server run as a child process. */
#ifndef LK_TEST_SERVE_CLIENT_H
#define LK_TEST_SERVE_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

/* A growable byte buffer. */
struct sc_buf {
	char *p;
	size_t len, cap;
};
void sc_buf_add(struct sc_buf *b, const void *data, size_t len);
void sc_buf_printf(struct sc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sc_buf_free(struct sc_buf *b);

enum { SC_MAX_HEADERS = 64 };
struct sc_response {
	int status;                   /* 0 when no complete response came back */
	char reason[64];
	int n_headers;
	char *names[SC_MAX_HEADERS], *values[SC_MAX_HEADERS];
	char *head;                   /* the header block, names and values point into it */
	char *body;                   /* NUL-terminated for convenience; body_len excludes it */
	size_t body_len;
	double seconds;               /* from the first byte sent to the last byte read */
	char error[128];              /* why status is 0 */
};
void sc_response_free(struct sc_response *r);
/* The value of a header (case-insensitive name), or NULL. */
const char *sc_header(const struct sc_response *r, const char *name);
/* The body as JSON, or NULL when it is not JSON; the caller decrefs. */
json_t *sc_json(const struct sc_response *r);
/* The "error" member of a JSON error body ("" when there is none), static. */
const char *sc_error_code(const struct sc_response *r);

/* Sends `len` bytes as they are on a new connection to 127.0.0.1:port and reads one response
 * (Content-Length, chunked, or up to the close). 0 on a complete response, -1 otherwise (with
 * r->error set). Each wait for the server is bounded by timeout_s. */
int sc_exchange(int port, const void *req, size_t len, struct sc_response *r, double timeout_s);

/* A request with Connection: close and Content-Length (when body is not NULL); `headers` holds
 * extra header lines, each ending in \r\n (may be NULL). */
int sc_request(int port, const char *method, const char *target, const char *headers, const void *body,
	       size_t body_len, struct sc_response *r);
/* GET target. */
int sc_get(int port, const char *target, struct sc_response *r);

/* Opens a connection (blocking, with send/receive timeouts); -1 on failure. */
int sc_connect(int port, double timeout_s);
/* Reads one response from an open connection (as sc_exchange does); `started` is the monotonic
 * time the request began, for r->seconds. */
int sc_read_response(int fd, struct sc_response *r, double timeout_s, double started);
/* Sends everything; -1 when the connection failed. */
int sc_send_all(int fd, const void *data, size_t len);
double sc_now(void);

/* Multipart/form-data, boundary SC_BOUNDARY. A part with filename NULL is a plain field. */
#define SC_BOUNDARY "lkTestBoundary7MA4YWxk"
void sc_multipart_part(struct sc_buf *b, const char *field, const char *filename, const char *content_type,
		       const void *data, size_t len);
void sc_multipart_end(struct sc_buf *b);
/* The header line for such a body. */
#define SC_MULTIPART_HEADER "Content-Type: multipart/form-data; boundary=" SC_BOUNDARY "\r\n"

/* Prometheus text: the value of the first sample of metric `name` whose labels include every
 * `k="v"` pair of `labels` (a string like `route="/livez",code="200"`, or "" for any); NAN
 * when there is none. */
double sc_metric(const char *text, const char *name, const char *labels);
/* The closing brace of the label set that opens at `open`, quotes respected; NULL if none. */
const char *sc_labels_end(const char *open);

/* A `likeness serve` run as a child process. */
struct sc_server {
	pid_t pid;
	int port;
	char dir[256];        /* its temporary folder: port file, log, token */
	char log[320];        /* its standard output and error */
	char registry[256];
};
/* Starts `LK_CLI_PATH serve --registry REGISTRY --port 0 --port-file F ARGS` (ARGS split on
 * spaces; `env` is NULL or "NAME=VALUE" to set, LIKENESS_ADMIN_TOKEN being unset otherwise),
 * waits for the port file and, when wait_ready, for /readyz to answer 200. Asserts on timeout. */
void sc_server_start_env(struct sc_server *s, const char *registry, const char *args, const char *env,
			 int wait_ready);
void sc_server_start(struct sc_server *s, const char *registry, const char *args);
/* SIGTERM, waits (bounded), asserts a clean exit with status 0. */
void sc_server_stop(struct sc_server *s);
/* The exit status after SIGTERM (-1: killed by a signal or did not stop in time). */
int sc_server_term(struct sc_server *s, double timeout_s);
/* Writes `token` to a file in a fresh temporary folder; returns its path (static). */
const char *sc_token_file(const char *token);
/* The server's log, for failure messages (static, tail only). */
const char *sc_server_log(const struct sc_server *s);

/* A new registry holding `slug` with the test vector `image` as its one reference: hashes only
 * (fast), or made by the CLI with its CNN embedding. Static paths. */
const char *sc_registry_hash(const char *slug, const char *image);
const char *sc_registry_embedded(const char *slug, const char *image);
/* POSTs a test vector (../shared/vectors/pdq/img) as a raw body of the given type. */
int sc_post_vector(int port, const char *target, const char *content_type, const char *image,
		   struct sc_response *r);
/* POSTs bytes with one Content-Type (and optional extra header lines). */
int sc_post(int port, const char *target, const char *content_type, const char *extra_headers, const void *body,
	    size_t len, struct sc_response *r);
/* Asserts an error reply: the status, JSON {"error": code, "message": ...}, application/json. */
void sc_expect_error(const struct sc_response *r, int status, const char *code);
/* The "verdict" of a JSON body ("" when none), static. */
const char *sc_verdict(const struct sc_response *r);

/* Timeouts: generous, because the sanitizer build is several times slower. */
#define SC_TIMEOUT 60.0

#endif
