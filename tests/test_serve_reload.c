/* Hot reload under load: while 8 clients check images in a loop, another process disables and
 * re-enables the character (`likeness character disable|enable`), and the admin API adds and
 * removes a reference. Every request must succeed, and each verdict must be the one of the
 * registry version committed before the request started (a request that overlaps a change may
 * see either side). */
#include "fixtures.h"
#include "serve_client.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOKEN "reload-token-0123456789"
#define AUTH "Authorization: Bearer " TOKEN "\r\n"

enum { CLIENTS = 8, MAX_RECORDS = 40000, MIN_CHECKS = 20 };

/* A phase lasts until each image has had MIN_CHECKS checks wholly inside it, and at least
 * MIN_PHASE_S, so that a fast machine still puts hundreds of requests through each registry
 * version. How many checks fit into a given time is left open: under the sanitizers on a busy
 * 2-core machine the first 0.8 s once held only 3 checks of an image. DEADLINE_S, for all
 * phases together, only catches a hang (the test's own timeout would too, without saying
 * where). */
#define MIN_PHASE_S 0.8
#define DEADLINE_S 200.0

/* One request: which image (0: a copy of char1's reference, 1: char2's picture, which becomes a
 * reference of char1 for a while), when it ran, and what came back. */
struct record {
	double start, end;
	int image, status;
	char verdict;   /* 'b', 'r', 'a', or '?' */
};

/* Successful checks per image that started after `since`, the end of the last change: the
 * main thread reads them to end a phase. A check counted here ended before the main thread saw
 * the count and began the next change, so it lies wholly inside the phase, as the tally
 * requires. */
struct progress {
	pthread_mutex_t lock;
	double since;
	int checks[2];
};

struct client {
	int port, id;
	atomic_int *stop;
	struct progress *progress;
	struct { unsigned char *data; size_t len; } images[2];
	struct record *records;
	int n;
	char first_error[300];
};

static void *client_loop(void *arg)
{
	struct client *c = arg;
	for (int i = 0; !atomic_load(c->stop) && c->n < MAX_RECORDS; i++) {
		struct record *rec = &c->records[c->n++];
		rec->image = (i + c->id) % 2;
		rec->start = sc_now();
		struct sc_response r;
		sc_post(c->port, "/v1/check", "image/png", NULL, c->images[rec->image].data, c->images[rec->image].len, &r);
		rec->end = sc_now();
		rec->status = r.status;
		const char *v = sc_verdict(&r);
		rec->verdict = *v ? *v : '?';
		if (r.status == 200) {
			pthread_mutex_lock(&c->progress->lock);
			if (rec->start > c->progress->since)
				c->progress->checks[rec->image]++;
			pthread_mutex_unlock(&c->progress->lock);
		}
		if (r.status != 200 && !c->first_error[0])
			snprintf(c->first_error, sizeof c->first_error, "%d %s %.120s", r.status, r.error, r.body ? r.body : "");
		sc_response_free(&r);
	}
	return NULL;
}

/* A change and when it ran: from before it began to after it was committed. */
struct change {
	const char *what;
	double begun, done;
};

static void run_cli(struct change *ch, const char *what, const char *args)
{
	ch->what = what;
	ch->begun = sc_now();
	struct fx_run *run = fx_cli(args);
	ch->done = sc_now();
	cr_assert_eq(run->status, 0, "%s: %s", args, run->err);
}

/* Starts counting checks for the phase that begins at `since`. */
static void begin_phase(struct progress *pr, double since)
{
	pthread_mutex_lock(&pr->lock);
	pr->since = since;
	pr->checks[0] = pr->checks[1] = 0;
	pthread_mutex_unlock(&pr->lock);
}

/* Returns once the phase begun at pr->since has enough checks of each image (see MIN_CHECKS). */
static void finish_phase(struct progress *pr, const char *phase, double deadline)
{
	for (;;) {
		pthread_mutex_lock(&pr->lock);
		const double since = pr->since;
		const int checks0 = pr->checks[0], checks1 = pr->checks[1];
		pthread_mutex_unlock(&pr->lock);
		const double now = sc_now();
		if (checks0 >= MIN_CHECKS && checks1 >= MIN_CHECKS && now - since >= MIN_PHASE_S)
			return;
		cr_assert_lt(now, deadline, "phase %s: after %.0f s only %d and %d successful checks of images 0 and 1 "
			     "(want %d each): hung?", phase, now - since, checks0, checks1, MIN_CHECKS);
		usleep(5000);
	}
}

/* Expected verdict of `image` for a request wholly inside phase p (0..4): phase 0 before the
 * disable, 1 disabled, 2 re-enabled, 3 with the extra reference, 4 after its removal. */
static char expected(int image, int phase)
{
	if (image == 0)
		return phase == 1 ? 'a' : 'b';
	return phase == 3 ? 'b' : 'a';
}

Test(serve_reload, changes_apply_under_load_without_failing_requests, .timeout = 300)
{
	const char *reg = sc_registry_hash("char1", "char1_orig.png");
	char args[600];
	snprintf(args, sizeof args, "--hash-only --admin-token-file %s", sc_token_file(TOKEN));
	struct sc_server s;
	sc_server_start(&s, reg, args);

	atomic_int stop = 0;
	struct progress progress = { .lock = PTHREAD_MUTEX_INITIALIZER };
	const double deadline = sc_now() + DEADLINE_S;
	begin_phase(&progress, sc_now());
	struct client clients[CLIENTS];
	pthread_t threads[CLIENTS];
	size_t len0, len1;
	unsigned char *img0 = fx_read(fx_pdq_image("char1_orig.png"), &len0);
	unsigned char *img1 = fx_read(fx_pdq_image("char2_orig.png"), &len1);
	for (int i = 0; i < CLIENTS; i++) {
		clients[i] = (struct client){ .port = s.port, .id = i, .stop = &stop, .progress = &progress };
		clients[i].images[0].data = img0;
		clients[i].images[0].len = len0;
		clients[i].images[1].data = img1;
		clients[i].images[1].len = len1;
		clients[i].records = calloc(MAX_RECORDS, sizeof(struct record));
		cr_assert(clients[i].records);
		cr_assert_eq(pthread_create(&threads[i], NULL, client_loop, &clients[i]), 0);
	}

	static const char *const phases[] = { "start", "disabled", "enabled", "extra reference", "reference removed" };
	struct change ch[4];
	finish_phase(&progress, phases[0], deadline);
	char cli[800];
	snprintf(cli, sizeof cli, "character disable char1 -r '%s'", reg);
	run_cli(&ch[0], "disable (CLI)", cli);
	begin_phase(&progress, ch[0].done);
	finish_phase(&progress, phases[1], deadline);
	snprintf(cli, sizeof cli, "character enable char1 -r '%s'", reg);
	run_cli(&ch[1], "enable (CLI)", cli);
	begin_phase(&progress, ch[1].done);
	finish_phase(&progress, phases[2], deadline);

	struct sc_response r;
	ch[2].what = "add reference (API)";
	ch[2].begun = sc_now();
	sc_request(s.port, "POST", "/v1/characters/char1/references", "Content-Type: image/png\r\n" AUTH, img1, len1, &r);
	ch[2].done = sc_now();
	cr_assert_eq(r.status, 201, "%d %.300s", r.status, r.body);
	json_t *j = sc_json(&r);
	long long id = json_integer_value(json_object_get(json_array_get(json_object_get(j, "added"), 0), "id"));
	json_decref(j);
	sc_response_free(&r);
	cr_assert_gt(id, 0);
	begin_phase(&progress, ch[2].done);
	finish_phase(&progress, phases[3], deadline);

	char target[64];
	snprintf(target, sizeof target, "/v1/references/%lld", id);
	ch[3].what = "remove reference (API)";
	ch[3].begun = sc_now();
	sc_request(s.port, "DELETE", target, AUTH, NULL, 0, &r);
	ch[3].done = sc_now();
	cr_assert_eq(r.status, 200, "%d %.300s", r.status, r.body);
	sc_response_free(&r);
	begin_phase(&progress, ch[3].done);
	finish_phase(&progress, phases[4], deadline);

	atomic_store(&stop, 1);
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(threads[i], NULL);

	/* Tally: per phase and image, verdicts of requests wholly inside the phase; requests that
	 * overlap a change are counted apart and may see either version. */
	int total = 0, failed = 0, overlapping = 0, wrong = 0;
	int inside[5][2] = { { 0 } }, blocks[5][2] = { { 0 } };
	char first_wrong[200] = "";
	for (int i = 0; i < CLIENTS; i++) {
		if (clients[i].first_error[0] && !failed)
			cr_log_error("client %d: first failure %s", i, clients[i].first_error);
		for (int k = 0; k < clients[i].n; k++) {
			const struct record *rec = &clients[i].records[k];
			total++;
			if (rec->status != 200) {
				failed++;
				continue;
			}
			int phase = 0, overlaps = 0;
			for (int c = 0; c < 4; c++) {
				if (rec->start > ch[c].done)
					phase = c + 1;
				else if (rec->end >= ch[c].begun)
					overlaps = 1;
			}
			if (overlaps) {
				overlapping++;
				continue;
			}
			inside[phase][rec->image]++;
			blocks[phase][rec->image] += rec->verdict == 'b';
			if (rec->verdict != expected(rec->image, phase)) {
				if (!wrong)
					snprintf(first_wrong, sizeof first_wrong,
						 "image %d in phase %d (after %s) answered '%c', want '%c'", rec->image, phase,
						 phase ? ch[phase - 1].what : "nothing", rec->verdict, expected(rec->image, phase));
				wrong++;
			}
		}
	}
	cr_log_info("reload under load: %d requests from %d clients, %d failed, %d overlapping a change, %d wrong",
		    total, CLIENTS, failed, overlapping, wrong);
	for (int p = 0; p < 5; p++)
		cr_log_info("  %-18s copy of char1: %4d checks, %4d blocked | char2 picture: %4d checks, %4d blocked",
			    phases[p], inside[p][0], blocks[p][0], inside[p][1], blocks[p][1]);
	for (int c = 0; c < 4; c++)
		cr_log_info("  %-24s took %.0f ms", ch[c].what, (ch[c].done - ch[c].begun) * 1e3);

	cr_assert_eq(failed, 0, "%d of %d requests failed during reloads", failed, total);
	cr_assert_eq(wrong, 0, "%d verdicts from a stale registry version; first: %s", wrong, first_wrong);
	for (int p = 0; p < 5; p++)
		for (int im = 0; im < 2; im++)
			cr_assert_geq(inside[p][im], MIN_CHECKS, "phase %s, image %d: only %d checks, too few to show anything",
				      phases[p], im, inside[p][im]);
	for (int i = 0; i < CLIENTS; i++)
		free(clients[i].records);
	free(img0);
	free(img1);
	sc_server_stop(&s);
}

/* Without load: changes committed by other processes (`likeness ref add`, `ref remove`,
 * `character remove`) apply to the server's very next check. */
Test(serve_reload, cli_changes_apply_to_the_next_check, .timeout = 120)
{
	const char *reg = sc_registry_hash("char1", "char1_orig.png");
	char path[400];
	snprintf(path, sizeof path, "%s", reg);
	struct sc_server s;
	sc_server_start(&s, path, "--hash-only");
	struct sc_response r;
	sc_post_vector(s.port, "/v1/check", "image/png", "char3_orig.png", &r);
	cr_assert_str_eq(sc_verdict(&r), "allow");
	json_t *j = sc_json(&r);
	long long v0 = json_integer_value(json_object_get(j, "registry_version"));
	json_decref(j);
	sc_response_free(&r);

	char args[1000];
	snprintf(args, sizeof args, "ref add char1 '%s' --hash-only -r '%s'", fx_pdq_image("char3_orig.png"), path);
	struct fx_run *run = fx_cli(args);
	cr_assert_eq(run->status, 0, "%s", run->err);
	sc_post_vector(s.port, "/v1/check", "image/png", "char3_orig.png", &r);
	j = sc_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "verdict")), "block", "after ref add: %.300s", r.body);
	cr_assert_gt(json_integer_value(json_object_get(j, "registry_version")), v0);
	long long id = json_integer_value(json_object_get(json_array_get(json_object_get(j, "matches"), 0), "reference"));
	json_decref(j);
	sc_response_free(&r);

	snprintf(args, sizeof args, "ref remove %lld -r '%s'", id, path);
	run = fx_cli(args);
	cr_assert_eq(run->status, 0, "%s", run->err);
	sc_post_vector(s.port, "/v1/check", "image/png", "char3_orig.png", &r);
	cr_assert_str_eq(sc_verdict(&r), "allow", "after ref remove: %.300s", r.body);
	sc_response_free(&r);

	sc_post_vector(s.port, "/v1/check", "image/png", "char1_orig.png", &r);
	cr_assert_str_eq(sc_verdict(&r), "block");
	sc_response_free(&r);
	snprintf(args, sizeof args, "character remove char1 -r '%s'", path);
	run = fx_cli(args);
	cr_assert_eq(run->status, 0, "%s", run->err);
	sc_post_vector(s.port, "/v1/check", "image/png", "char1_orig.png", &r);
	cr_assert_str_eq(sc_verdict(&r), "allow", "after character remove: %.300s", r.body);
	sc_response_free(&r);
	sc_get(s.port, "/v1/characters/char1", &r);
	sc_expect_error(&r, 404, "not_found");
	sc_response_free(&r);
	sc_server_stop(&s);
}
