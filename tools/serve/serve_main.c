/* likeness serve: options, start-up, the registry loader, and a graceful stop. */
#include "tools/cli.h"
#include "tools/serve/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vips/vips.h>

const char lk_cli_serve_usage[] =
	"usage: likeness serve [options]\n"
	"\n"
	"Answers checks over HTTP: POST an image to /v1/check and get the verdict `likeness check\n"
	"--json` prints, with a Server-Timing header. GET /openapi.json describes every endpoint;\n"
	"/livez, /readyz and /metrics (Prometheus) are for orchestrators. A change to the registry,\n"
	"through the admin endpoints or by `likeness` in another process, applies to the next check:\n"
	"no restart. Checks run on a bounded pool: when every worker is busy and the queue is full,\n"
	"a request is refused at once with 429, and one that waited past --queue-timeout gets 503.\n"
	"\n"
	"options:\n"
	"  -r, --registry DIR       the registry (default: $LIKENESS_REGISTRY)\n"
	"  --listen ADDR            IPv4 address to listen on (default 127.0.0.1)\n"
	"  --port N                 TCP port (default 8080; 0: any free port)\n"
	"  --port-file FILE         write the port to FILE once listening (for scripts)\n"
	"  --workers N              threads running checks (default: one per core)\n"
	"  --io-threads N           threads reading and writing HTTP (default 2)\n"
	"  --queue N                checks that may wait beyond the running ones (default 16 x workers)\n"
	"  --queue-timeout MS       answer 503 for a check that waited longer (default 2000)\n"
	"  --max-body SIZE          largest request body, k/M/G suffixes (default 32M)\n"
	"  --max-batch N            most images in one request (default 32)\n"
	"  --max-memory SIZE        request bodies held at once, all connections (default 1G);\n"
	"                           beyond it a request is refused with 429\n"
	"  --max-connections N      open connections at most, shared out among the I/O threads;\n"
	"                           more wait to be accepted (default 256)\n"
	"  --timeout S              close connections idle this long (default 30)\n"
	"  --admin-token-file FILE  enable the admin endpoints for this bearer token, the file's first\n"
	"                           line, 16 characters at least (default: $LIKENESS_ADMIN_TOKEN;\n"
	"                           with neither, changes over HTTP are off)\n"
	LK_CLI_HASH_ONLY_HELP
	LK_CLI_REGIONS_HELP
	"\n"
	"SIGINT or SIGTERM stops accepting, lets requests in flight finish (at most 30 s; a second\n"
	"signal stops waiting), answers checks still queued 503, and exits 0.\n";

/* Reads the registry's state into the atomics /readyz and /metrics show; 0 when it could. */
static int refresh(struct lk_serve *s, lk_registry *reg)
{
	lk_registry_info info;
	int rc = lk_registry_info_get(&info, reg);
	if (rc != LK_OK) {
		char why[LK_TEXT_MAX];
		snprintf(why, sizeof why, "the registry cannot be read: %s [%s]", lk_error_detail(), lk_strerror(rc));
		lk_serve_set_load_error(s, why);
		if (atomic_exchange(&s->registry_ok, 0))
			fprintf(stderr, "likeness serve: %s\n", why);
		return -1;
	}
	lk_serve_saw_version(s, info.version);
	atomic_store(&s->characters, info.characters);
	atomic_store(&s->enabled_characters, info.enabled_characters);
	atomic_store(&s->references, info.references);
	atomic_store(&s->embedded_references, info.embedded_references);
	/* Only the loader thread refreshes, so this needs no lock. */
	static int was_readable;
	if (!atomic_exchange(&s->registry_ok, 1) && was_readable)
		fprintf(stderr, "likeness serve: the registry can be read again\n");
	was_readable = 1;
	lk_serve_set_load_error(s, "");
	return 0;
}

/* Sleeps up to `seconds`, waking early when the server stops. */
static void nap(struct lk_serve *s, int seconds)
{
	for (int i = 0; i < seconds * 10 && !atomic_load(&s->stopping); i++)
		usleep(100 * 1000);
}

/* The token: the file's first line, or the environment's. NULL (and a message) when unusable. */
static int read_token(const char *file, char **out)
{
	*out = NULL;
	char buf[4097];
	const char *text = getenv("LIKENESS_ADMIN_TOKEN");
	if (file) {
		FILE *f = fopen(file, "r");
		if (!f) {
			fprintf(stderr, "likeness serve: cannot read the admin token file %s: %s\n", file, strerror(errno));
			return -1;
		}
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		text = buf;
	}
	if (!text)
		return 0;
	if (strlen(text) < 16) {
		fputs("likeness serve: the admin token must have at least 16 characters\n", stderr);
		return -1;
	}
	*out = strdup(text);
	return *out ? 0 : -1;
}

/* Opens the registry (and the CNN) off the listening thread, retrying while it is missing, so
 * that the server can start before the registry exists and /readyz tells when it is usable;
 * then reads the registry's state every second for /readyz and /metrics, so that they never
 * touch the database themselves. */
static void *load(void *arg)
{
	struct lk_serve *s = arg;
	int last = LK_OK;
	lk_registry *reg = NULL;
	while (!reg && !atomic_load(&s->stopping)) {
		int rc = lk_registry_open(&reg, s->cfg.registry_dir);
		if (rc == LK_OK && !s->cfg.hash_only) {
			if (!s->embedder)
				rc = lk_embedder_open(&s->embedder, NULL);
			if (rc == LK_OK)
				rc = lk_registry_set_embedder(reg, s->embedder);
		}
		if (rc != LK_OK) {
			char why[LK_TEXT_MAX];
			snprintf(why, sizeof why, "the registry cannot be opened: %s [%s]", lk_error_detail(), lk_strerror(rc));
			lk_serve_set_load_error(s, why);
			if (rc != last)
				fprintf(stderr, "likeness serve: %s; retrying every second\n", why);
			last = rc;
			lk_registry_close(reg);
			reg = NULL;
			nap(s, 1);
		}
	}
	if (reg) {
		/* One check on a small picture builds the search snapshot and warms the CNN, so that
		 * the first client's check is not the slow one. */
		static unsigned char pixels[64 * 64];
		for (int i = 0; i < 64 * 64; i++)
			pixels[i] = (unsigned char)(((i % 64) * 4) ^ ((i / 64) * 4));
		lk_pixel_view view = { pixels, 64, 64, 64, LK_PIXEL_GRAY8 };
		lk_check_result r;
		lk_check_options opts = LK_CHECK_OPTIONS_INIT;
		opts.hash_only = s->cfg.hash_only;
		(void)lk_check_pixels(&r, reg, &view, &opts);
		refresh(s, reg);
		atomic_store(&s->registry, reg);
		fprintf(stderr, "likeness serve: registry %s loaded (%s)\n", s->cfg.registry_dir,
			s->cfg.hash_only ? "PDQ only" : "PDQ and embeddings");
	}
	while (reg && !atomic_load(&s->stopping)) {
		nap(s, 1);
		refresh(s, reg);
	}
	vips_thread_shutdown();
	return NULL;
}

static int write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return -1;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	int bad = fprintf(f, "%u\n", port) < 0;
	bad |= fclose(f) != 0;
	return bad || rename(tmp, path) != 0 ? -1 : 0;
}

static int parse_count(const char *opt, const char *text, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long long v;
	if (lk_cli_parse_size(text, 0, &v) != 0 || v < lo || v > hi) {
		fprintf(stderr, "likeness serve: %s takes a number from %u to %u, not '%s'\n", opt, lo, hi, text);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

enum { OPT_LISTEN = 3000, OPT_PORT, OPT_PORT_FILE, OPT_WORKERS, OPT_IO, OPT_QUEUE, OPT_QUEUE_TIMEOUT, OPT_MAX_BODY,
       OPT_MAX_BATCH, OPT_MAX_MEMORY, OPT_MAX_CONN, OPT_TIMEOUT, OPT_TOKEN };

static int parse_options(int argc, char **argv, struct lk_serve_config *cfg, const char **token_file)
{
	static const struct option options[] = {
		{ "registry", required_argument, NULL, 'r' }, { "listen", required_argument, NULL, OPT_LISTEN },
		{ "port", required_argument, NULL, OPT_PORT }, { "port-file", required_argument, NULL, OPT_PORT_FILE },
		{ "workers", required_argument, NULL, OPT_WORKERS }, { "io-threads", required_argument, NULL, OPT_IO },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "queue-timeout", required_argument, NULL, OPT_QUEUE_TIMEOUT },
		{ "max-body", required_argument, NULL, OPT_MAX_BODY }, { "max-batch", required_argument, NULL, OPT_MAX_BATCH },
		{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
		{ "max-connections", required_argument, NULL, OPT_MAX_CONN },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "admin-token-file", required_argument, NULL, OPT_TOKEN },
		{ "hash-only", no_argument, NULL, LK_CLI_OPT_HASH_ONLY }, { "regions", required_argument, NULL, LK_CLI_OPT_REGIONS },
		{ NULL, 0, NULL, 0 },
	};
	int queue_set = 0;
	unsigned long long size;
	int c;
	while ((c = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'r': cfg->registry_dir = optarg; break;
		case OPT_LISTEN: cfg->listen_addr = optarg; break;
		case OPT_PORT: bad = parse_count("--port", optarg, 0, 65535, &cfg->port); break;
		case OPT_PORT_FILE: cfg->port_file = optarg; break;
		case OPT_WORKERS: bad = parse_count("--workers", optarg, 1, 1024, &cfg->workers); break;
		case OPT_IO: bad = parse_count("--io-threads", optarg, 1, 256, &cfg->io_threads); break;
		case OPT_QUEUE:
			bad = parse_count("--queue", optarg, 0, 1000000, &cfg->queue);
			queue_set = 1;
			break;
		case OPT_QUEUE_TIMEOUT: bad = parse_count("--queue-timeout", optarg, 1, 3600000, &cfg->queue_timeout_ms); break;
		case OPT_MAX_BODY:
			if (lk_cli_parse_size(optarg, 1, &size) != 0 || size < 1024 || size > (1ULL << 31)) {
				fprintf(stderr, "likeness serve: --max-body takes a size from 1k to 2G, not '%s'\n", optarg);
				bad = 1;
			}
			cfg->max_body = (size_t)size;
			break;
		case OPT_MAX_BATCH: bad = parse_count("--max-batch", optarg, 1, 10000, &cfg->max_batch); break;
		case OPT_MAX_MEMORY:
			if (lk_cli_parse_size(optarg, 1, &size) != 0 || size < (1ULL << 20) || size > SIZE_MAX / 2) {
				fprintf(stderr, "likeness serve: --max-memory takes a size of at least 1M, not '%s'\n", optarg);
				bad = 1;
			}
			cfg->max_memory = (size_t)size;
			break;
		case OPT_MAX_CONN: bad = parse_count("--max-connections", optarg, 1, 100000, &cfg->max_connections); break;
		case OPT_TIMEOUT: bad = parse_count("--timeout", optarg, 1, 86400, &cfg->timeout_s); break;
		case OPT_TOKEN: *token_file = optarg; break;
		case LK_CLI_OPT_HASH_ONLY: cfg->hash_only = 1; break;
		case LK_CLI_OPT_REGIONS: bad = lk_cli_parse_regions("serve", optarg, &cfg->regions); break;
		default: bad = 1;
		}
		if (bad) {
			fputs(lk_cli_serve_usage, stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "likeness serve: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (inet_pton(AF_INET, cfg->listen_addr, &cfg->listen_in) != 1) {
		fprintf(stderr, "likeness serve: --listen needs an IPv4 address, not '%s'\n", cfg->listen_addr);
		return -1;
	}
	cfg->registry_dir = lk_cli_registry_dir(cfg->registry_dir);
	if (!cfg->registry_dir) {
		fputs("likeness serve: no registry: pass --registry DIR or set LIKENESS_REGISTRY\n", stderr);
		return -1;
	}
	/* The queue timeout, not the queue's length, bounds how long a request waits; the queue
	 * only has to absorb bursts without refusing them. */
	if (!queue_set)
		cfg->queue = 16 * cfg->workers;
	if (cfg->max_memory < cfg->max_body) {
		fprintf(stderr, "likeness serve: --max-memory (%zu) must hold at least one --max-body (%zu)\n",
			cfg->max_memory, cfg->max_body);
		return -1;
	}
	/* A batch is admitted whole or not at all: one larger than the pool could never run. */
	if (cfg->workers + cfg->queue < cfg->max_batch) {
		if (queue_set)
			fprintf(stderr, "likeness serve: --queue raised to %u so that a batch of --max-batch %u fits\n",
				cfg->max_batch - cfg->workers, cfg->max_batch);
		cfg->queue = cfg->max_batch - cfg->workers;
	}
	return 0;
}

static struct MHD_Daemon *start_daemon(struct lk_serve *s)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->cfg.port),
				    .sin_addr = s->cfg.listen_in };
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
		lk_serve_access, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
		s->cfg.io_threads, MHD_OPTION_CONNECTION_LIMIT, s->cfg.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
		s->cfg.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_LISTEN_BACKLOG_SIZE, 256,
		MHD_OPTION_NOTIFY_COMPLETED, lk_serve_completed, s, MHD_OPTION_END);
	if (!d)
		fprintf(stderr, "likeness serve: cannot listen on %s:%u: %s\n", s->cfg.listen_addr, s->cfg.port,
			strerror(errno));
	return d;
}

/* Waits for the requests in flight to finish, for at most `seconds`; a second stop signal
 * ends the wait at once. */
static void drain(struct lk_serve *s, const sigset_t *stop_signals, int seconds)
{
	double until = lk_serve_now() + seconds;
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	while (atomic_load(&s->open_requests) > 0 && lk_serve_now() < until)
		if (sigtimedwait(stop_signals, NULL, &tick) > 0) {
			fputs("likeness serve: second stop signal: not waiting any longer\n", stderr);
			return;
		}
}

int lk_cli_serve(int argc, char **argv)
{
	/* First, so that every thread started from here on (libraries' included) inherits the mask
	 * and the signals reach sigwait below instead of killing the process mid-request. */
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct lk_serve *s = calloc(1, sizeof *s);
	if (!s)
		return LK_EXIT_FAILURE;
	pthread_mutex_init(&s->state_lock, NULL);
	s->cfg = (struct lk_serve_config){ .listen_addr = "127.0.0.1", .port = 8080, .workers = cores > 0 ? (unsigned)cores : 1,
					   .io_threads = 2, .queue_timeout_ms = 2000, .max_body = (size_t)32 << 20,
					   .max_memory = (size_t)1 << 30, .max_batch = 32, .max_connections = 256,
					   .timeout_s = 30 };
	const char *token_file = NULL;
	int exit_code = LK_EXIT_USAGE;
	MHD_socket listener = MHD_INVALID_SOCKET;
	pthread_t loader;
	int loader_started = 0;
	if (parse_options(argc, argv, &s->cfg, &token_file) != 0 || read_token(token_file, &s->cfg.admin_token) != 0)
		goto out;
	exit_code = LK_EXIT_FAILURE;
	int rc = lk_init();
	if (rc != LK_OK) {
		lk_cli_report(rc);
		goto out;
	}
	s->started_at = (double)time(NULL);
	s->pool = lk_serve_pool_start(s->cfg.workers, s->cfg.queue, s->cfg.queue_timeout_ms);
	if (!s->pool) {
		fprintf(stderr, "likeness serve: cannot start %u worker threads: %s\n", s->cfg.workers, strerror(errno));
		goto out;
	}
	s->daemon = start_daemon(s);
	if (!s->daemon)
		goto out;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = info ? info->port : s->cfg.port;
	if (s->cfg.port_file && write_port_file(s->cfg.port_file, port) != 0) {
		fprintf(stderr, "likeness serve: cannot write the port file %s: %s\n", s->cfg.port_file, strerror(errno));
		goto out;
	}
	fprintf(stderr, "likeness serve: listening on http://%s:%u/ (%u workers, queue %u, admin %s)\n",
		s->cfg.listen_addr, port, s->cfg.workers, s->cfg.queue, s->cfg.admin_token ? "on" : "off");
	loader_started = pthread_create(&loader, NULL, load, s) == 0;
	if (!loader_started) {
		fputs("likeness serve: cannot start the registry loader thread\n", stderr);
		goto out;
	}

	int sig = 0;
	sigwait(&stop_signals, &sig);
	fprintf(stderr, "likeness serve: %s: finishing the requests in flight\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	atomic_store(&s->stopping, 1);
	listener = MHD_quiesce_daemon(s->daemon);
	drain(s, &stop_signals, 30);
	exit_code = LK_EXIT_OK;
out:
	atomic_store(&s->stopping, 1);
	if (loader_started)
		pthread_join(loader, NULL);
	/* Jobs still queued are answered 503 and running ones finish, resuming their connections:
	 * stopping the daemon with a connection suspended is not allowed. */
	lk_serve_pool_stop(s->pool);
	if (s->daemon) {
		MHD_stop_daemon(s->daemon);
		if (listener != MHD_INVALID_SOCKET)
			close(listener);
	}
	lk_serve_pool_free(s->pool);
	lk_registry_close(atomic_load(&s->registry));
	lk_embedder_close(s->embedder);
	pthread_mutex_destroy(&s->state_lock);
	free(s->cfg.admin_token);
	free(s);
	return exit_code;
}
