/* Reading TensorFlow.js models: model.json, the weights manifest and its binary shards. */
#include "core/cnn/tfjs_weights.h"
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

static int fail_model(const char *dir, int code, const char *what)
{
	return lk__fail(code, "%s: %s", dir, what);
}

/* All shards of all groups, concatenated, as TF.js reads them. */
static int read_shards(unsigned char **out, size_t *len, const char *dir, json_t *manifest)
{
	size_t total = 0, cap = 0;
	unsigned char *buf = NULL;
	size_t gi;
	json_t *group;
	json_array_foreach(manifest, gi, group) {
		size_t pi;
		json_t *path;
		json_array_foreach(json_object_get(group, "paths"), pi, path) {
			const char *rel = json_string_value(path);
			if (!rel || strstr(rel, "..") || rel[0] == '/') {
				free(buf);
				return fail_model(dir, LK_ECORRUPT, "a weight shard path is missing or leaves the model folder");
			}
			char full[4096];
			snprintf(full, sizeof full, "%s/%s", dir, rel);
			FILE *f = fopen(full, "rb");
			if (!f) {
				free(buf);
				return lk__fail(LK_EIO, "%s: cannot open weight shard", full);
			}
			for (;;) {
				if (total == cap) {
					cap = cap ? cap * 2 : (size_t)4 << 20;
					unsigned char *grown = realloc(buf, cap);
					if (!grown) {
						fclose(f);
						free(buf);
						return lk__fail(LK_ENOMEM, "reading weights");
					}
					buf = grown;
				}
				size_t n = fread(buf + total, 1, cap - total, f);
				total += n;
				if (n == 0)
					break;
			}
			fclose(f);
		}
	}
	*out = buf;
	*len = total;
	return LK_OK;
}

static size_t element_bytes(const char *dtype)
{
	if (!strcmp(dtype, "uint8"))
		return 1;
	if (!strcmp(dtype, "uint16"))
		return 2;
	if (!strcmp(dtype, "float32") || !strcmp(dtype, "int32"))
		return 4;
	return 0;
}

/* Decodes one manifest entry from `bytes` (at least what it needs, checked by the caller). */
static void decode(lk_tensor *t, const unsigned char *bytes, const char *dtype, json_t *quant)
{
	if (quant) {
		const double min = json_number_value(json_object_get(quant, "min"));
		const double scale = json_number_value(json_object_get(quant, "scale"));
		const int wide = !strcmp(json_string_value(json_object_get(quant, "dtype")), "uint16");
		for (size_t i = 0; i < t->count; i++) {
			const unsigned q = wide ? (unsigned)(bytes[2 * i] | bytes[2 * i + 1] << 8) : bytes[i];
			t->data[i] = (float)(q * scale + min); /* in double, then stored as float32, as TF.js */
		}
	} else if (!strcmp(dtype, "int32")) {
		for (size_t i = 0; i < t->count; i++) {
			int32_t v;
			memcpy(&v, bytes + 4 * i, 4);
			t->data[i] = (float)v;
		}
	} else {
		memcpy(t->data, bytes, t->count * sizeof(float));
	}
}

int lk__tfjs_load(lk_tfjs_model *out, const char *dir)
{
	memset(out, 0, sizeof *out);
	char path[4096];
	snprintf(path, sizeof path, "%s/model.json", dir);
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err);
	if (!root)
		return lk__fail(strstr(err.text, "unable to open") ? LK_ENOTFOUND : LK_ECORRUPT, "%s: %s (line %d)",
				path, err.text, err.line);
	json_t *topology = json_object_get(root, "modelTopology"), *manifest = json_object_get(root, "weightsManifest");
	if (!json_is_object(topology) || !json_is_array(manifest)) {
		json_decref(root);
		return fail_model(dir, LK_ECORRUPT, "model.json has no modelTopology or weightsManifest");
	}
	unsigned char *bytes = NULL;
	size_t len = 0;
	int rc = read_shards(&bytes, &len, dir, manifest);
	if (rc != LK_OK) {
		json_decref(root);
		return rc;
	}
	size_t n = 0, gi, wi;
	json_t *group, *w;
	json_array_foreach(manifest, gi, group) n += json_array_size(json_object_get(group, "weights"));
	out->root = root;
	out->topology = topology;
	out->tensors = calloc(n ? n : 1, sizeof *out->tensors);
	if (!out->tensors)
		rc = lk__fail(LK_ENOMEM, "reading weights");
	size_t offset = 0;
	json_array_foreach(manifest, gi, group) {
		json_array_foreach(json_object_get(group, "weights"), wi, w) {
			if (rc != LK_OK)
				break;
			lk_tensor *t = &out->tensors[out->n_tensors];
			const char *name = json_string_value(json_object_get(w, "name"));
			const char *dtype = json_string_value(json_object_get(w, "dtype"));
			json_t *shape = json_object_get(w, "shape"), *quant = json_object_get(w, "quantization");
			const char *stored = quant ? json_string_value(json_object_get(quant, "dtype")) : dtype;
			size_t rank = json_array_size(shape), bytes_each = stored ? element_bytes(stored) : 0;
			if (!name || !dtype || !json_is_array(shape) || rank > LK_TENSOR_MAX_RANK || !bytes_each ||
			    (quant && strcmp(dtype, "float32"))) {
				rc = lk__fail(LK_ECORRUPT, "%s: weight %zu (%s) has an unsupported description", dir,
					      out->n_tensors, name ? name : "?");
				break;
			}
			t->rank = (int)rank;
			t->count = 1;
			for (size_t k = 0; k < rank; k++) {
				json_int_t d = json_integer_value(json_array_get(shape, k));
				if (d <= 0 || d > (1 << 24)) {
					rc = lk__fail(LK_ECORRUPT, "%s: weight %s has a bad shape", dir, name);
					break;
				}
				t->shape[k] = (int)d;
				t->count *= (size_t)d;
			}
			if (rc != LK_OK)
				break;
			if (offset > len || t->count > (len - offset) / bytes_each) {
				rc = lk__fail(LK_ECORRUPT, "%s: the weight shards end inside %s", dir, name);
				break;
			}
			t->name = strdup(name);
			t->data = malloc(t->count * sizeof(float));
			if (!t->name || !t->data) {
				free(t->name);
				free(t->data);
				t->name = NULL, t->data = NULL;
				rc = lk__fail(LK_ENOMEM, "reading weights");
				break;
			}
			decode(t, bytes + offset, dtype, quant);
			offset += t->count * bytes_each;
			out->n_tensors++;
		}
	}
	free(bytes);
	if (rc == LK_OK && offset != len)
		rc = lk__fail(LK_ECORRUPT, "%s: %zu bytes of weight shards are not described by the manifest", dir,
			      len - offset);
	if (rc != LK_OK)
		lk__tfjs_free(out);
	return rc;
}

void lk__tfjs_free(lk_tfjs_model *m)
{
	for (size_t i = 0; i < m->n_tensors; i++) {
		free(m->tensors[i].name);
		free(m->tensors[i].data);
	}
	free(m->tensors);
	json_decref(m->root);
	memset(m, 0, sizeof *m);
}

const lk_tensor *lk__tfjs_tensor(const lk_tfjs_model *m, const char *name)
{
	for (size_t i = 0; i < m->n_tensors; i++)
		if (!strcmp(m->tensors[i].name, name))
			return &m->tensors[i];
	return NULL;
}
