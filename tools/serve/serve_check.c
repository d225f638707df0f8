/* POST /v1/check and /v1/check/batch: each image is one job on the worker pool, so a batch
 * spreads over every worker; the reply is the object `likeness check --json` prints. */
#include "tools/cli.h"
#include "tools/result_json.h"
#include "tools/serve/serve.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void run_check(struct lk_serve_job *job)
{
	struct lk_serve_request *req = job->req;
	const struct lk_serve_part *part = req->images[job->index];
	lk_registry *reg = atomic_load(&req->server->registry);
	job->code = lk_check_bytes(&job->result, reg, part->data, part->len, &req->check);
	if (job->code != LK_OK) {
		snprintf(job->detail, sizeof job->detail, "%s", lk_error_detail());
		return;
	}
	const lk_check_result *r = &job->result;
	lk_serve_saw_version(req->server, r->registry_version);
	lk_serve_metrics_verdict(r->verdict);
	lk_serve_metrics_stage(LK_STAGE_DECODE, r->decode_ms / 1000.0);
	lk_serve_metrics_stage(LK_STAGE_HASH, r->hash_ms / 1000.0);
	if (r->signals & LK_SIGNAL_EMBEDDING)
		lk_serve_metrics_stage(LK_STAGE_EMBED, r->embed_ms / 1000.0);
	lk_serve_metrics_stage(LK_STAGE_SEARCH, r->search_ms / 1000.0);
	lk_serve_metrics_stage(LK_STAGE_TOTAL, r->total_ms / 1000.0);
}

/* The check's JSON, named by its multipart filename when it had one. */
static json_t *result_json(const struct lk_serve_part *part, const struct lk_serve_job *job)
{
	json_t *out;
	if (job->code == LK_OK) {
		out = lk_json_result(NULL, &job->result);
	} else {
		out = json_pack("{s:s, s:s}", "error", lk_error_name(job->code), "message",
				job->detail[0] ? job->detail : lk_strerror(job->code));
	}
	if (out && part->filename)
		json_object_set_new(out, "name", json_string(part->filename));
	return out;
}

/* Server-Timing: where the milliseconds went (summed over a batch's images). */
static void add_timing(struct lk_serve_request *req)
{
	double queue = 0, decode = 0, hash = 0, embed = 0, search = 0, total = 0;
	for (size_t i = 0; i < req->n_jobs; i++) {
		const struct lk_serve_job *j = &req->jobs[i];
		queue += j->queue_s * 1000.0;
		if (j->code != LK_OK)
			continue;
		decode += j->result.decode_ms;
		hash += j->result.hash_ms;
		embed += j->result.embed_ms;
		search += j->result.search_ms;
		total += j->result.total_ms;
	}
	char header[256];
	snprintf(header, sizeof header,
		 "queue;dur=%.3f, decode;dur=%.3f, hash;dur=%.3f, embed;dur=%.3f, search;dur=%.3f, total;dur=%.3f", queue,
		 decode, hash, embed, search, total);
	MHD_add_response_header(req->response, MHD_HTTP_HEADER_SERVER_TIMING, header);
}

/* 1 (and a 503 reply) when a job waited past the queue timeout and was never run. */
static int expired(struct lk_serve_request *req)
{
	for (size_t i = 0; i < req->n_jobs; i++)
		if (req->jobs[i].expired) {
			lk_serve_reply_deadline(req, &req->jobs[i]);
			return 1;
		}
	return 0;
}

static int finish_one(struct lk_serve_request *req)
{
	if (expired(req))
		return 0;
	const struct lk_serve_job *job = &req->jobs[0];
	if (job->code != LK_OK) {
		lk_serve_reply_lk_error(req, job->code, job->detail);
		return 0;
	}
	lk_serve_reply_json(req, MHD_HTTP_OK, result_json(req->images[0], job));
	if (req->response) {
		add_timing(req);
		MHD_add_response_header(req->response, "Likeness-Verdict", lk_verdict_name(job->result.verdict));
	}
	return 0;
}

static int finish_batch(struct lk_serve_request *req)
{
	if (expired(req))
		return 0;
	json_t *results = json_array();
	for (size_t i = 0; i < req->n_jobs; i++)
		json_array_append_new(results, result_json(req->images[i], &req->jobs[i]));
	lk_serve_reply_json(req, MHD_HTTP_OK, json_pack("{s:o, s:I}", "results", results, "count", (json_int_t)req->n_jobs));
	if (req->response)
		add_timing(req);
	return 0;
}

/* Query flags shared by both routes; -1 when a reply (400) is set. */
static int read_options(struct lk_serve_request *req)
{
	const struct lk_serve_config *cfg = &req->server->cfg;
	lk_check_options opts = LK_CHECK_OPTIONS_INIT;
	opts.ingest.max_bytes = cfg->max_body;
	long hash_only, regions;
	if (lk_serve_query_int(req, "hash_only", 0, 1, cfg->hash_only, &hash_only) != 0 ||
	    lk_serve_query_int(req, "regions", 0, LK_MAX_REGIONS, cfg->regions, &regions) != 0)
		return -1;
	opts.hash_only = (int)hash_only;
	opts.regions = (int)regions;
	req->check = opts;
	return 0;
}

void lk_serve_handle_check(struct lk_serve_request *req, int batch)
{
	if (read_options(req) != 0)
		return;
	if (lk_serve_take_images(req, batch ? req->server->cfg.max_batch : 0,
				 batch ? "no image: send the images as multipart/form-data file parts"
				       : "no image: send it as the body, or as a multipart/form-data file part") != 0)
		return;
	req->jobs = calloc(req->n_images, sizeof *req->jobs);
	if (!req->jobs) {
		lk_serve_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready", "the server ran out of memory");
		return;
	}
	req->n_jobs = req->n_images;
	for (size_t i = 0; i < req->n_jobs; i++) {
		req->jobs[i].req = req;
		req->jobs[i].run = run_check;
		req->jobs[i].index = i;
		req->jobs[i].is_check = 1;
	}
	req->finish = batch ? finish_batch : finish_one;
	lk_serve_submit(req);
}
