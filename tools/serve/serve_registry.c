/* The registry over HTTP: listings for everyone, changes for holders of the admin token.
 * Every change is one registry transaction; checks running meanwhile keep answering from the
 * version before it and the next check sees it (the registry swaps its snapshot whole). */
#include "tools/serve/serve.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lk_registry *registry_of(struct lk_serve_job *job)
{
	return atomic_load(&job->req->server->registry);
}

/* Records a failed library call for the finish step. */
static void failed(struct lk_serve_job *job, int code)
{
	job->code = code;
	snprintf(job->detail, sizeof job->detail, "%s", lk_error_detail());
}

/* A client mistake found while running (the body's JSON, a field's value). */
static void refuse(struct lk_serve_job *job, unsigned status, const char *code, const char *message)
{
	job->reply_status = status;
	job->reply = json_pack("{s:s, s:s}", "error", code, "message", message);
}

/* The registry's version after a change this job made, for the reply and for /readyz. */
static uint64_t changed(struct lk_serve_job *job)
{
	uint64_t version = 0;
	if (lk_registry_version(&version, registry_of(job)) == LK_OK)
		lk_serve_saw_version(job->req->server, version);
	return version;
}

int lk_serve_finish_json(struct lk_serve_request *req)
{
	struct lk_serve_job *job = &req->jobs[0];
	if (job->expired) {
		lk_serve_reply_deadline(req, job);
	} else if (job->reply) {
		lk_serve_reply_json(req, job->reply_status ? job->reply_status : MHD_HTTP_OK, job->reply);
		job->reply = NULL;
	} else {
		lk_serve_reply_lk_error(req, job->code ? job->code : LK_EINTERNAL, job->detail);
	}
	return 0;
}

/* Inherited thresholds show as null: the value in effect is the registry's. */
static json_t *threshold_int(int v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *threshold_real(float v)
{
	return v <= 0.0f ? json_null() : json_real((double)v);
}

static json_t *character_json(const lk_character *c)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:o, s:o, s:o, s:o}", "slug", c->slug, "name", c->name,
			 "aliases", c->aliases, "rights_holder", c->rights_holder, "licence", c->licence, "labels",
			 c->labels, "enabled", c->enabled, "references", (json_int_t)c->references, "block_threshold",
			 threshold_int(c->block_threshold), "review_threshold", threshold_int(c->review_threshold),
			 "embed_copy", threshold_real(c->embed_copy), "embed_similar", threshold_real(c->embed_similar));
}

static json_t *reference_json(const lk_reference *r)
{
	char hex[LK_PDQ_HEX_LEN + 1];
	lk_pdq_to_hex(hex, &r->hash[0]);
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:b, s:I}", "id", (json_int_t)r->id, "character", r->character,
			 "sha256", r->sha256, "source", r->source, "hash", hex, "quality", r->quality, "allow", r->allow,
			 "added_at", (json_int_t)r->added_at);
}

/* ---- GET /v1/registry */
static void run_registry(struct lk_serve_job *job)
{
	lk_registry_info info;
	int rc = lk_registry_info_get(&info, registry_of(job));
	if (rc != LK_OK) {
		failed(job, rc);
		return;
	}
	job->reply = json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:f, s:f, s:b, s:f, s:f, s:b}", "version",
			       (json_int_t)info.version, "characters", (json_int_t)info.characters, "enabled_characters",
			       (json_int_t)info.enabled_characters, "references", (json_int_t)info.references,
			       "embedded_references", (json_int_t)info.embedded_references, "embedder", info.embedder,
			       "embed_copy", (double)info.embed_copy, "embed_similar", (double)info.embed_similar,
			       "calibrated", info.calibrated, "region_copy", (double)info.region_copy, "region_similar",
			       (double)info.region_similar, "region_calibrated", info.region_calibrated);
}

void lk_serve_handle_registry(struct lk_serve_request *req)
{
	lk_serve_submit_one(req, run_registry, lk_serve_finish_json);
}

/* offset and limit of a listing; -1 when a reply (400) is set. */
static int read_page(struct lk_serve_request *req)
{
	return lk_serve_query_int(req, "offset", 0, 1000000000L, 0, &req->offset) ||
	       lk_serve_query_int(req, "limit", 1, 1000, 100, &req->limit) ? -1 : 0;
}

static json_t *page_json(const char *key, json_t *items, size_t total, const struct lk_serve_request *req)
{
	return json_pack("{s:o, s:I, s:I, s:I}", key, items, "total", (json_int_t)total, "offset", (json_int_t)req->offset,
			 "limit", (json_int_t)req->limit);
}

/* ---- listings: one page of the library's list */
/* A library list call: copies up to `cap` items into `out` (NULL when cap is 0), sets *total. */
typedef int (*list_fn)(void *out, size_t cap, size_t *total, struct lk_serve_job *job);

/* The library lists from the start only, so a page is the first offset + limit items with the
 * first offset dropped; an offset past the end costs one count. */
static void run_page(struct lk_serve_job *job, const char *key, list_fn list, size_t item_size,
		     json_t *(*item_json)(const void *item))
{
	struct lk_serve_request *req = job->req;
	size_t total = 0;
	int rc = list(NULL, 0, &total, job);
	if (rc != LK_OK) {
		failed(job, rc);
		return;
	}
	if ((size_t)req->offset >= total) {
		job->reply = page_json(key, json_array(), total, req);
		return;
	}
	size_t want = (size_t)req->offset + (size_t)req->limit;
	if (want > total)
		want = total;
	unsigned char *all = calloc(want, item_size);
	if (!all) {
		failed(job, LK_ENOMEM);
		return;
	}
	size_t now_total = 0;
	rc = list(all, want, &now_total, job);
	if (rc != LK_OK) {
		free(all);
		failed(job, rc);
		return;
	}
	/* A change between the two calls can shrink the list; show what the second call saw. */
	size_t got = want < now_total ? want : now_total;
	json_t *items = json_array();
	for (size_t i = (size_t)req->offset; i < got; i++)
		json_array_append_new(items, item_json(all + i * item_size));
	free(all);
	job->reply = page_json(key, items, now_total, req);
}

/* ---- GET /v1/characters */
static int list_characters(void *out, size_t cap, size_t *total, struct lk_serve_job *job)
{
	return lk_character_list(out, cap, total, registry_of(job));
}

static json_t *character_item(const void *item)
{
	return character_json(item);
}

static void run_list_characters(struct lk_serve_job *job)
{
	run_page(job, "characters", list_characters, sizeof(lk_character), character_item);
}

/* ---- POST /v1/characters and PATCH /v1/characters/{slug}: fields from a JSON body */
static int text_field(struct lk_serve_job *job, json_t *body, const char *key, char *dst, size_t cap)
{
	json_t *v = json_object_get(body, key);
	if (!v)
		return 0;
	char message[160];
	if (!json_is_string(v) || json_string_length(v) >= cap) {
		snprintf(message, sizeof message, "'%s' must be a string of fewer than %zu bytes", key, cap);
		refuse(job, MHD_HTTP_BAD_REQUEST, "bad_request", message);
		return -1;
	}
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int int_field(struct lk_serve_job *job, json_t *body, const char *key, int lo, int hi, int *dst)
{
	json_t *v = json_object_get(body, key);
	if (!v)
		return 0;
	if (json_is_null(v)) {
		*dst = -1;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		char message[160];
		snprintf(message, sizeof message, "'%s' must be an integer from %d to %d, or null for the default", key,
			 lo, hi);
		refuse(job, MHD_HTTP_BAD_REQUEST, "bad_request", message);
		return -1;
	}
	*dst = (int)json_integer_value(v);
	return 0;
}

static int real_field(struct lk_serve_job *job, json_t *body, const char *key, float *dst)
{
	json_t *v = json_object_get(body, key);
	if (!v)
		return 0;
	if (json_is_null(v)) {
		*dst = LK_EMBED_INHERIT;
		return 0;
	}
	if (!json_is_number(v) || json_number_value(v) <= 0.0 || json_number_value(v) > 1.0) {
		char message[160];
		snprintf(message, sizeof message, "'%s' must be a number in (0, 1], or null for the registry's", key);
		refuse(job, MHD_HTTP_BAD_REQUEST, "bad_request", message);
		return -1;
	}
	*dst = (float)json_number_value(v);
	return 0;
}

/* Applies the body's fields to *c; -1 (reply set) on a bad body. */
static int apply_fields(struct lk_serve_job *job, json_t *body, lk_character *c, int creating)
{
	static const char *const known[] = { "slug", "name", "aliases", "rights_holder", "licence", "labels", "enabled",
					     "block_threshold", "review_threshold", "embed_copy", "embed_similar" };
	const char *key;
	json_t *value;
	json_object_foreach(body, key, value) {
		size_t i = 0;
		while (i < sizeof known / sizeof known[0] && strcmp(known[i], key) != 0)
			i++;
		char message[200];
		if (i == sizeof known / sizeof known[0] || (!creating && i == 0)) {
			snprintf(message, sizeof message, "unknown or unchangeable field '%.64s'", key);
			refuse(job, MHD_HTTP_BAD_REQUEST, "bad_request", message);
			return -1;
		}
	}
	json_t *enabled = json_object_get(body, "enabled");
	if (enabled && !json_is_boolean(enabled)) {
		refuse(job, MHD_HTTP_BAD_REQUEST, "bad_request", "'enabled' must be true or false");
		return -1;
	}
	if (enabled)
		c->enabled = json_is_true(enabled);
	if ((creating && text_field(job, body, "slug", c->slug, sizeof c->slug)) ||
	    text_field(job, body, "name", c->name, sizeof c->name) ||
	    text_field(job, body, "aliases", c->aliases, sizeof c->aliases) ||
	    text_field(job, body, "rights_holder", c->rights_holder, sizeof c->rights_holder) ||
	    text_field(job, body, "licence", c->licence, sizeof c->licence) ||
	    text_field(job, body, "labels", c->labels, sizeof c->labels) ||
	    int_field(job, body, "block_threshold", 0, LK_PDQ_BITS, &c->block_threshold) ||
	    int_field(job, body, "review_threshold", 0, LK_PDQ_BITS, &c->review_threshold) ||
	    real_field(job, body, "embed_copy", &c->embed_copy) || real_field(job, body, "embed_similar", &c->embed_similar))
		return -1;
	return 0;
}

static json_t *parse_body(struct lk_serve_job *job)
{
	struct lk_serve_request *req = job->req;
	json_error_t err;
	json_t *body = json_loadb((const char *)req->raw, req->raw_len, 0, &err);
	if (!body || !json_is_object(body)) {
		char message[300];
		snprintf(message, sizeof message, "the body must be a JSON object: %s", body ? "it is not an object" : err.text);
		refuse(job, MHD_HTTP_BAD_REQUEST, "bad_request", message);
		json_decref(body);
		return NULL;
	}
	return body;
}

static void run_add_character(struct lk_serve_job *job)
{
	json_t *body = parse_body(job);
	if (!body)
		return;
	lk_character c = LK_CHARACTER_INIT;
	if (apply_fields(job, body, &c, 1) != 0) {
		json_decref(body);
		return;
	}
	json_decref(body);
	if (!c.slug[0] || !c.name[0]) {
		refuse(job, MHD_HTTP_BAD_REQUEST, "bad_request", "'slug' and 'name' are required");
		return;
	}
	int rc = lk_character_add(registry_of(job), &c);
	if (rc == LK_OK) {
		changed(job);
		rc = lk_character_get(&c, registry_of(job), c.slug);
	}
	if (rc != LK_OK) {
		failed(job, rc);
		return;
	}
	job->reply_status = MHD_HTTP_CREATED;
	job->reply = character_json(&c);
}

void lk_serve_handle_characters(struct lk_serve_request *req)
{
	if (!strcmp(req->method, "POST")) {
		lk_serve_submit_one(req, run_add_character, lk_serve_finish_json);
		return;
	}
	if (read_page(req) == 0)
		lk_serve_submit_one(req, run_list_characters, lk_serve_finish_json);
}

/* ---- /v1/characters/{slug} */
static void run_get_character(struct lk_serve_job *job)
{
	lk_character c;
	int rc = lk_character_get(&c, registry_of(job), job->req->route_arg);
	if (rc != LK_OK) {
		failed(job, rc);
		return;
	}
	job->reply = character_json(&c);
}

static void run_patch_character(struct lk_serve_job *job)
{
	json_t *body = parse_body(job);
	if (!body)
		return;
	lk_registry *reg = registry_of(job);
	lk_character c;
	int rc = lk_character_get(&c, reg, job->req->route_arg);
	if (rc != LK_OK) {
		json_decref(body);
		failed(job, rc);
		return;
	}
	int bad = apply_fields(job, body, &c, 0);
	json_decref(body);
	if (bad)
		return;
	rc = lk_character_update(reg, &c);
	if (rc == LK_OK) {
		changed(job);
		rc = lk_character_get(&c, reg, c.slug);
	}
	if (rc != LK_OK) {
		failed(job, rc);
		return;
	}
	job->reply = character_json(&c);
}

static void run_remove_character(struct lk_serve_job *job)
{
	lk_registry *reg = registry_of(job);
	int rc = lk_character_remove(reg, job->req->route_arg);
	if (rc != LK_OK) {
		failed(job, rc);
		return;
	}
	job->reply = json_pack("{s:s, s:I}", "removed", job->req->route_arg, "registry_version", (json_int_t)changed(job));
}

void lk_serve_handle_character(struct lk_serve_request *req)
{
	if (!strcmp(req->method, "PATCH"))
		lk_serve_submit_one(req, run_patch_character, lk_serve_finish_json);
	else if (!strcmp(req->method, "DELETE"))
		lk_serve_submit_one(req, run_remove_character, lk_serve_finish_json);
	else
		lk_serve_submit_one(req, run_get_character, lk_serve_finish_json);
}

/* ---- /v1/characters/{slug}/references */
static int list_references(void *out, size_t cap, size_t *total, struct lk_serve_job *job)
{
	return lk_reference_list(out, cap, total, registry_of(job), job->req->route_arg);
}

static json_t *reference_item(const void *item)
{
	return reference_json(item);
}

static void run_list_references(struct lk_serve_job *job)
{
	/* An unknown character is a 404, not an empty list. */
	lk_character c;
	int rc = lk_character_get(&c, registry_of(job), job->req->route_arg);
	if (rc != LK_OK) {
		failed(job, rc);
		return;
	}
	run_page(job, "references", list_references, sizeof(lk_reference), reference_item);
}

static void run_add_references(struct lk_serve_job *job)
{
	struct lk_serve_request *req = job->req;
	lk_registry *reg = registry_of(job);
	json_t *added = json_array();
	for (size_t i = 0; i < req->n_images; i++) {
		const struct lk_serve_part *part = req->images[i];
		lk_reference_options opts = LK_REFERENCE_OPTIONS_INIT;
		opts.allow = req->allow;
		opts.source = req->source ? req->source : part->filename ? part->filename : "http upload";
		opts.ingest.max_bytes = req->server->cfg.max_body;
		int64_t id = 0;
		int rc = lk_reference_add_bytes(&id, reg, req->route_arg, part->data, part->len, &opts);
		if (rc != LK_OK) {
			/* The ones before stay added (each is its own transaction): say which. */
			failed(job, rc);
			job->reply_status = lk_serve_status_of(rc);
			job->reply = json_pack("{s:s, s:s, s:o, s:s?}", "error", lk_serve_error_code(rc), "message", job->detail,
					       "added", added, "name", part->filename);
			if (json_array_size(added))
				changed(job);
			return;
		}
		json_array_append_new(added, json_pack("{s:I, s:s?}", "id", (json_int_t)id, "name", part->filename));
	}
	job->reply_status = MHD_HTTP_CREATED;
	job->reply = json_pack("{s:o, s:I}", "added", added, "registry_version", (json_int_t)changed(job));
}

void lk_serve_handle_references(struct lk_serve_request *req)
{
	if (strcmp(req->method, "POST") != 0) {
		if (read_page(req) == 0)
			lk_serve_submit_one(req, run_list_references, lk_serve_finish_json);
		return;
	}
	long allow;
	if (lk_serve_query_int(req, "allow", 0, 1, 0, &allow) != 0)
		return;
	req->allow = (int)allow;
	req->source = lk_serve_query(req, "source");
	if (lk_serve_take_images(req, req->server->cfg.max_batch,
				 "no image: send it as the body, or as multipart/form-data file parts") == 0)
		lk_serve_submit_one(req, run_add_references, lk_serve_finish_json);
}

/* ---- DELETE /v1/references/{id} */
static void run_remove_reference(struct lk_serve_job *job)
{
	char *end;
	long long id = strtoll(job->req->route_arg, &end, 10);
	if (*end || id <= 0) {
		refuse(job, MHD_HTTP_NOT_FOUND, "not_found", "reference ids are positive integers");
		return;
	}
	lk_registry *reg = registry_of(job);
	int rc = lk_reference_remove(reg, (int64_t)id);
	if (rc != LK_OK) {
		failed(job, rc);
		return;
	}
	job->reply = json_pack("{s:I, s:I}", "removed", (json_int_t)id, "registry_version", (json_int_t)changed(job));
}

void lk_serve_handle_reference(struct lk_serve_request *req)
{
	lk_serve_submit_one(req, run_remove_reference, lk_serve_finish_json);
}
