/* likeness serve: the HTTP service's shared pieces. The I/O threads (libmicrohttpd's pool)
 * parse requests and never run a check; checks and registry work run on our own bounded worker
 * pool, so that liveness, metrics and overload answers stay fast however busy the workers are. */
#ifndef LK_SERVE_H
#define LK_SERVE_H

#include "likeness.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;

/* ---- configuration (serve_main.c) */
struct lk_serve_config {
	const char *registry_dir;
	const char *listen_addr;   /* IPv4, as given */
	struct in_addr listen_in;  /* the same, parsed with the options */
	unsigned port;             /* 0: any free port */
	const char *port_file;     /* where the bound port is written once listening */
	unsigned workers, io_threads, queue;
	unsigned queue_timeout_ms;
	size_t max_body;
	size_t max_memory;         /* request bodies held at once, all connections together */
	unsigned max_batch, max_connections, timeout_s;
	char *admin_token;         /* NULL: admin endpoints off */
	int hash_only, regions;
};

/* ---- metrics (serve_metrics.c) */
enum lk_serve_route {
	LK_ROUTE_LIVEZ, LK_ROUTE_READYZ, LK_ROUTE_METRICS, LK_ROUTE_OPENAPI,
	LK_ROUTE_CHECK, LK_ROUTE_CHECK_BATCH, LK_ROUTE_REGISTRY, LK_ROUTE_CHARACTERS,
	LK_ROUTE_CHARACTER, LK_ROUTE_CHARACTER_REFERENCES, LK_ROUTE_REFERENCE,
	LK_ROUTE_OTHER, LK_ROUTE_COUNT
};
enum lk_serve_stage { LK_STAGE_QUEUE, LK_STAGE_DECODE, LK_STAGE_HASH, LK_STAGE_EMBED, LK_STAGE_SEARCH,
	LK_STAGE_TOTAL, LK_STAGE_COUNT };
enum lk_serve_reject { LK_REJECT_OVERLOADED, LK_REJECT_DEADLINE, LK_REJECT_NOT_READY, LK_REJECT_COUNT };

const char *lk_serve_route_template(enum lk_serve_route route);
void lk_serve_metrics_request(enum lk_serve_route route, unsigned status, double seconds);
void lk_serve_metrics_stage(enum lk_serve_stage stage, double seconds);
void lk_serve_metrics_verdict(lk_verdict verdict);
void lk_serve_metrics_reject(enum lk_serve_reject why);
struct lk_serve;
/* The Prometheus text of every family, with the pool's gauges as the caller read them; the
 * caller frees it. NULL when memory runs out. */
char *lk_serve_metrics_text(struct lk_serve *s, unsigned in_flight, unsigned capacity, size_t *len);

/* ---- one uploaded part (serve_body.c) */
struct lk_serve_part {
	char *field, *filename;   /* filename NULL for plain fields */
	unsigned char *data;
	size_t len, cap;
	int is_file;
};

/* ---- one request's state, alive from its first callback to MHD's completion notice */
struct lk_serve_request {
	struct lk_serve *server;
	struct MHD_Connection *conn;
	enum lk_serve_route route;
	char *route_arg;                /* the {slug} or {id} of the path */
	const char *method;
	double started;                 /* monotonic seconds */

	/* body */
	enum { LK_BODY_NONE, LK_BODY_RAW, LK_BODY_MULTIPART } body_kind;
	struct MHD_PostProcessor *post;
	unsigned char *raw;
	size_t raw_len, raw_cap;
	struct lk_serve_part *parts;
	size_t n_parts, parts_cap;
	size_t body_seen;               /* bytes received, to enforce max_body on streamed bodies */
	size_t body_held;               /* bytes of buffers counted against max_memory */
	int too_large, malformed, too_many_parts, out_of_memory, over_budget;

	/* what the handler read from the query, for the jobs (which must not touch the connection) */
	lk_check_options check;
	long offset, limit;
	int allow;
	const char *source;             /* points into the connection's memory */
	struct lk_serve_part **images;  /* the parts a check or an upload works on */
	size_t n_images;

	/* work on the pool; jobs_left reaches 0 when every job of this request is done */
	atomic_uint jobs_left;
	atomic_int started_work;        /* a job of this request has started: the rest may wait */
	atomic_int gave_up;             /* a job expired: the others are not run either */
	int suspended;
	int (*finish)(struct lk_serve_request *req); /* builds the reply once the jobs are done */
	struct lk_serve_job *jobs;
	size_t n_jobs;

	/* the reply */
	unsigned status;
	struct MHD_Response *response;
	int replied;                    /* queued: later calls for this request have nothing to do */
};

/* ---- the worker pool (serve_pool.c) */
struct lk_serve_job {
	struct lk_serve_request *req;
	void (*run)(struct lk_serve_job *job);
	size_t index;                  /* which part, for batches */
	double enqueued, queue_s;      /* monotonic seconds; how long it waited */
	int expired;                   /* waited past the queue timeout: not run */
	int is_check;                  /* counted in the check stage metrics */
	int code;                      /* lk_error of the work */
	lk_check_result result;
	struct json_t *reply;          /* what the work produced, for jobs that make JSON */
	unsigned reply_status;
	char detail[LK_TEXT_MAX];
	struct lk_serve_job *next;
};

struct lk_serve_pool;
/* Starts `workers` threads that take jobs first come first served; at most workers + queue jobs
 * are admitted at once. NULL when threads cannot be started. */
struct lk_serve_pool *lk_serve_pool_start(unsigned workers, unsigned queue, unsigned queue_timeout_ms);
/* Admits all `n` jobs or none: 0 when admitted (each job's completion decrements
 * req->jobs_left and the last one resumes the connection), -1 when the pool is full. */
int lk_serve_pool_submit(struct lk_serve_pool *pool, struct lk_serve_job *jobs, size_t n);
/* Jobs admitted and not yet finished. */
unsigned lk_serve_pool_pending(struct lk_serve_pool *pool);
unsigned lk_serve_pool_capacity(struct lk_serve_pool *pool);
/* Refuses later submissions, answers jobs still queued as expired (503) without running them,
 * lets running ones finish, and joins the threads. */
void lk_serve_pool_stop(struct lk_serve_pool *pool);
/* Frees a stopped pool, once nothing can submit to it any more. */
void lk_serve_pool_free(struct lk_serve_pool *pool);

/* ---- the server */
struct lk_serve {
	struct lk_serve_config cfg;
	struct MHD_Daemon *daemon;
	struct lk_serve_pool *pool;
	_Atomic(lk_registry *) registry;   /* NULL until the loader thread has opened it */
	lk_embedder *embedder;
	pthread_mutex_t state_lock;         /* guards load_error */
	char load_error[LK_TEXT_MAX];       /* why the registry is not usable, when it is not */
	atomic_int registry_ok;             /* opened, and its last read succeeded */
	atomic_int stopping;                /* SIGTERM seen: new work is refused */
	atomic_uint open_requests;          /* for a graceful stop */
	atomic_size_t body_bytes;           /* request bodies held now, against cfg.max_memory */
	/* The registry's state as last read by the loader thread (every second) and by workers
	 * after each check and change, so that /readyz and /metrics never wait on its database. */
	_Atomic uint64_t registry_version;
	_Atomic int64_t characters, enabled_characters, references, embedded_references;
	double started_at;                  /* Unix time, for process_start_time_seconds */
};

/* ---- serve_state.c */
/* Why the registry is not usable, copied out under the lock (the loader rewrites it). */
void lk_serve_load_error(struct lk_serve *s, char *out, size_t cap);
void lk_serve_set_load_error(struct lk_serve *s, const char *text);
/* Notes a registry version a worker has seen, so that /readyz follows changes at once. */
void lk_serve_saw_version(struct lk_serve *s, uint64_t version);

/* Seconds on the monotonic clock. */
double lk_serve_now(void);

/* ---- routing and replies (serve_router.c, serve_reply.c) */
enum MHD_Result lk_serve_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				const char *version, const char *upload_data, size_t *upload_data_size,
				void **con_cls);
void lk_serve_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe);

/* Sets req's reply: `body` (taken, may be NULL) as JSON; with Retry-After for 429 and 503 and
 * WWW-Authenticate for 401. */
void lk_serve_reply_json(struct lk_serve_request *req, unsigned status, struct json_t *body);
/* An error reply {"error": code, "message": message}. */
void lk_serve_reply_error(struct lk_serve_request *req, unsigned status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The error code a reply names for a library error: the library's name for what is wrong with
 * the client's image (422), else the HTTP-level code ("not_found", "conflict", ...). */
const char *lk_serve_error_code(int code);
/* A 503 for a request whose job waited past the queue timeout. */
void lk_serve_reply_deadline(struct lk_serve_request *req, const struct lk_serve_job *job);
/* A reply for a failed library call: the HTTP status its error code means, its name, the
 * detail message. */
void lk_serve_reply_lk_error(struct lk_serve_request *req, int code, const char *detail);
void lk_serve_reply_text(struct lk_serve_request *req, unsigned status, const char *content_type, char *text,
			 size_t len);
/* The same for text that lives as long as the process (no copy). */
void lk_serve_reply_static(struct lk_serve_request *req, unsigned status, const char *content_type,
			   const char *text, size_t len);
/* The HTTP status that a library error code means for a client. */
unsigned lk_serve_status_of(int code);

/* ---- bodies (serve_body.c) */
/* Decides from the headers how the body will be read; replies and returns -1 when the request
 * cannot be accepted (415 for a type `accept` does not allow, 413 for a declared length over the
 * limit, 400 for a multipart type without a boundary). `accept` is a bit set of LK_ACCEPT_*. */
enum { LK_ACCEPT_IMAGE = 1, LK_ACCEPT_MULTIPART = 2, LK_ACCEPT_JSON = 4 };
int lk_serve_body_begin(struct lk_serve_request *req, unsigned accept);
/* Takes a chunk of the body; never fails the connection (problems are flagged for the reply). */
void lk_serve_body_chunk(struct lk_serve_request *req, const char *data, size_t size);
/* Ends the body: replies 400/413 and returns -1 when it was malformed or too large. */
int lk_serve_body_end(struct lk_serve_request *req);
void lk_serve_body_free(struct lk_serve_request *req);
/* Sets req->images to the uploaded images: for a raw body one part (filename NULL); for
 * multipart, the file parts and plain fields named "image", in order. With `most` 0, one image:
 * the field named "image", else the first file part. Replies (400 none, 413 more than `most`,
 * 503 out of memory) and returns -1 when they cannot be worked on. */
int lk_serve_take_images(struct lk_serve_request *req, size_t most, const char *none_message);

/* ---- handlers; each either sets a reply or submits jobs with req->finish set */
void lk_serve_handle_check(struct lk_serve_request *req, int batch);
void lk_serve_handle_registry(struct lk_serve_request *req);
void lk_serve_handle_characters(struct lk_serve_request *req);
void lk_serve_handle_character(struct lk_serve_request *req);
void lk_serve_handle_references(struct lk_serve_request *req);
void lk_serve_handle_reference(struct lk_serve_request *req);
void lk_serve_handle_readyz(struct lk_serve_request *req);
void lk_serve_handle_metrics(struct lk_serve_request *req);
void lk_serve_handle_openapi(struct lk_serve_request *req);

/* ---- serve_jobs.c */
/* Submits req->jobs[0..n_jobs) (job->req and job->run set) and suspends the connection until
 * they are done, when req->finish makes the reply; replies 429 when the pool is full. */
void lk_serve_submit(struct lk_serve_request *req);
/* Runs `run` on the pool as this request's only job; replies 429 when the pool is full. */
void lk_serve_submit_one(struct lk_serve_request *req, void (*run)(struct lk_serve_job *job),
			 int (*finish)(struct lk_serve_request *req));

/* A finish for one-job requests whose run set job->reply (+ reply_status), or job->code and
 * job->detail on failure. */
int lk_serve_finish_json(struct lk_serve_request *req);
/* 1 when the request carries the admin token; else replies 401/403 and returns 0. */
int lk_serve_admin_allowed(struct lk_serve_request *req);

/* A query argument, or NULL. */
const char *lk_serve_query(struct lk_serve_request *req, const char *key);
/* Parses a query integer in [lo, hi] (default `dflt` when absent); replies 400 and returns -1
 * when it is not one. */
int lk_serve_query_int(struct lk_serve_request *req, const char *key, long lo, long hi, long dflt, long *out);

/* The OpenAPI document, embedded at build time (serve_openapi.c, generated). */
extern const char lk_serve_openapi[];
extern const size_t lk_serve_openapi_len;

#endif
