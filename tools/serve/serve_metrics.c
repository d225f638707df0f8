/* Counters and histograms for /metrics (Prometheus text format 0.0.4), kept in atomics so
 * that recording costs a few nanoseconds on any thread and never takes a lock. */
#include "tools/serve/serve.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds; a check with the CNN takes tens of milliseconds, a hash-only one a few. */
static const double bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BOUNDS (sizeof bounds / sizeof bounds[0])

typedef _Atomic uint64_t counter;

struct histogram {
	counter buckets[N_BOUNDS + 1]; /* not cumulative here; the last is +Inf */
	counter sum_ns;
};

/* The statuses this server answers with; anything else is counted as "other". */
static const unsigned statuses[] = { 200, 201, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503 };
#define N_STATUSES (sizeof statuses / sizeof statuses[0])

static struct {
	counter requests[LK_ROUTE_COUNT][N_STATUSES + 1];
	struct histogram request_seconds[LK_ROUTE_COUNT];
	struct histogram stage_seconds[LK_STAGE_COUNT];
	counter verdicts[3];
	counter rejected[LK_REJECT_COUNT];
} m;

static const char *const route_names[LK_ROUTE_COUNT] = {
	"/livez", "/readyz", "/metrics", "/openapi.json", "/v1/check", "/v1/check/batch", "/v1/registry",
	"/v1/characters", "/v1/characters/{slug}", "/v1/characters/{slug}/references", "/v1/references/{id}", "other",
};
static const char *const stage_names[LK_STAGE_COUNT] = { "queue", "decode", "hash", "embed", "search", "total" };
static const char *const reject_names[LK_REJECT_COUNT] = { "overloaded", "deadline", "not_ready" };

const char *lk_serve_route_template(enum lk_serve_route route)
{
	return route < LK_ROUTE_COUNT ? route_names[route] : "other";
}

static void observe(struct histogram *h, double seconds)
{
	size_t i = 0;
	while (i < N_BOUNDS && seconds > bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)(seconds > 0 ? seconds * 1e9 : 0), memory_order_relaxed);
}

void lk_serve_metrics_request(enum lk_serve_route route, unsigned status, double seconds)
{
	size_t i = 0;
	while (i < N_STATUSES && statuses[i] != status)
		i++;
	atomic_fetch_add_explicit(&m.requests[route][i], 1, memory_order_relaxed);
	observe(&m.request_seconds[route], seconds);
}

void lk_serve_metrics_stage(enum lk_serve_stage stage, double seconds)
{
	observe(&m.stage_seconds[stage], seconds);
}

void lk_serve_metrics_verdict(lk_verdict verdict)
{
	if ((unsigned)verdict < 3)
		atomic_fetch_add_explicit(&m.verdicts[verdict], 1, memory_order_relaxed);
}

void lk_serve_metrics_reject(enum lk_serve_reject why)
{
	atomic_fetch_add_explicit(&m.rejected[why], 1, memory_order_relaxed);
}

/* A growing text buffer; a failed allocation poisons it (len = SIZE_MAX). */
struct text {
	char *s;
	size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	if (t->len == (size_t)-1)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			break;
		if (t->s && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 16384;
		while (cap < t->len + (size_t)n + 1)
			cap *= 2;
		char *grown = realloc(t->s, cap);
		if (!grown)
			break;
		t->s = grown;
		t->cap = cap;
	}
	free(t->s);
	*t = (struct text){ NULL, (size_t)-1, 0 };
}

static void put_histogram(struct text *t, const char *name, const char *label, const char *value,
			  struct histogram *h)
{
	unsigned long long cumulative = 0;
	for (size_t i = 0; i <= N_BOUNDS; i++) {
		cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
		if (i < N_BOUNDS)
			put(t, "%s_bucket{%s=\"%s\",le=\"%g\"} %llu\n", name, label, value, bounds[i], cumulative);
		else
			put(t, "%s_bucket{%s=\"%s\",le=\"+Inf\"} %llu\n", name, label, value, cumulative);
	}
	/* The count is the +Inf bucket itself, so a scrape racing an observation stays consistent. */
	put(t, "%s_sum{%s=\"%s\"} %.9f\n", name, label, value,
	    (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9);
	put(t, "%s_count{%s=\"%s\"} %llu\n", name, label, value, cumulative);
}

char *lk_serve_metrics_text(struct lk_serve *s, unsigned in_flight, unsigned capacity, size_t *len)
{
	struct text t = { 0 };
	put(&t, "# HELP likeness_http_requests_total HTTP requests answered, by route template and status.\n"
		"# TYPE likeness_http_requests_total counter\n");
	for (int r = 0; r < LK_ROUTE_COUNT; r++)
		for (size_t i = 0; i <= N_STATUSES; i++) {
			unsigned long long n = atomic_load_explicit(&m.requests[r][i], memory_order_relaxed);
			if (!n)
				continue;
			if (i < N_STATUSES)
				put(&t, "likeness_http_requests_total{route=\"%s\",code=\"%u\"} %llu\n", route_names[r],
				    statuses[i], n);
			else
				put(&t, "likeness_http_requests_total{route=\"%s\",code=\"other\"} %llu\n", route_names[r], n);
		}
	put(&t, "# HELP likeness_http_request_duration_seconds Time from a request's headers to its reply.\n"
		"# TYPE likeness_http_request_duration_seconds histogram\n");
	for (int r = 0; r < LK_ROUTE_COUNT; r++)
		put_histogram(&t, "likeness_http_request_duration_seconds", "route", route_names[r], &m.request_seconds[r]);
	put(&t, "# HELP likeness_check_stage_seconds Time per image in each stage of a check (queue: waiting for a worker).\n"
		"# TYPE likeness_check_stage_seconds histogram\n");
	for (int st = 0; st < LK_STAGE_COUNT; st++)
		put_histogram(&t, "likeness_check_stage_seconds", "stage", stage_names[st], &m.stage_seconds[st]);
	put(&t, "# HELP likeness_check_verdicts_total Images checked, by verdict.\n"
		"# TYPE likeness_check_verdicts_total counter\n");
	for (int v = 0; v < 3; v++)
		put(&t, "likeness_check_verdicts_total{verdict=\"%s\"} %llu\n", lk_verdict_name((lk_verdict)v),
		    (unsigned long long)atomic_load_explicit(&m.verdicts[v], memory_order_relaxed));
	put(&t, "# HELP likeness_rejected_total Requests refused without being worked on, by reason.\n"
		"# TYPE likeness_rejected_total counter\n");
	for (int r = 0; r < LK_REJECT_COUNT; r++)
		put(&t, "likeness_rejected_total{reason=\"%s\"} %llu\n", reject_names[r],
		    (unsigned long long)atomic_load_explicit(&m.rejected[r], memory_order_relaxed));

	put(&t, "# HELP likeness_checks_in_flight Jobs admitted to the worker pool and not finished (running or queued).\n"
		"# TYPE likeness_checks_in_flight gauge\nlikeness_checks_in_flight %u\n",
	    in_flight);
	put(&t, "# HELP likeness_queue_capacity Most jobs admitted at once (workers plus queue); beyond it, 429.\n"
		"# TYPE likeness_queue_capacity gauge\nlikeness_queue_capacity %u\n",
	    capacity);
	put(&t, "# HELP likeness_workers Threads running checks.\n# TYPE likeness_workers gauge\nlikeness_workers %u\n",
	    s->cfg.workers);
	put(&t, "# HELP likeness_ready 1 once the registry is loaded.\n# TYPE likeness_ready gauge\nlikeness_ready %d\n",
	    atomic_load(&s->registry_ok) && !atomic_load(&s->stopping));
	if (atomic_load(&s->registry)) {
		/* As last read (at most a second old): a scrape never waits on the database. */
		put(&t, "# HELP likeness_registry_version The registry version checks answer from.\n"
			"# TYPE likeness_registry_version gauge\nlikeness_registry_version %llu\n",
		    (unsigned long long)atomic_load(&s->registry_version));
		put(&t, "# HELP likeness_registry_characters Protected characters in the registry.\n"
			"# TYPE likeness_registry_characters gauge\n"
			"likeness_registry_characters{state=\"all\"} %lld\nlikeness_registry_characters{state=\"enabled\"} %lld\n",
		    (long long)atomic_load(&s->characters), (long long)atomic_load(&s->enabled_characters));
		put(&t, "# HELP likeness_registry_references Reference images in the registry.\n"
			"# TYPE likeness_registry_references gauge\n"
			"likeness_registry_references{kind=\"all\"} %lld\nlikeness_registry_references{kind=\"embedded\"} %lld\n",
		    (long long)atomic_load(&s->references), (long long)atomic_load(&s->embedded_references));
	}
	put(&t, "# HELP likeness_build_info The running version.\n# TYPE likeness_build_info gauge\n"
		"likeness_build_info{version=\"%s\"} 1\n",
	    lk_version());
	put(&t, "# HELP process_start_time_seconds Start time of the process since the Unix epoch.\n"
		"# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.3f\n",
	    s->started_at);
	if (t.len == (size_t)-1)
		return NULL;
	*len = t.len;
	return t.s;
}
