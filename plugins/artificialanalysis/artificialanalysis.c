/*
 * artificialanalysis: the Artificial Analysis data API
 * (GET https://artificialanalysis.ai/api/v2/data/llms/models, key in the
 * x-api-key header; doc/sources/artificialanalysis.md).
 *
 * The answer is {status, data: [model...]}: one model-level record per
 * entry, keyed by its slug, with the maker from model_creator.slug, every
 * numeric evaluation as a score "aa.<name>" on 0..100, the three prices in
 * USD per 1M tokens, and the measured median output speed and time to the
 * first token. Nulls are everywhere upstream and simply mean "not
 * measured".
 *
 * The key comes from the environment (api_key_env) or a secret api_key
 * option. It goes into the request as an auth header and nowhere else: it
 * is never logged, never put in a record, never part of an error message.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <modelfuse/plugin.h>

#define AA_DEFAULT_URL "https://artificialanalysis.ai/api/v2/data/llms/models"
#define AA_KEY_HEADER "x-api-key"
#define AA_MAX_WARNINGS 20

static const struct mf_option aa_options[] = {
	{.name = "api_key_env",
	 .type = MF_OPT_STRING,
	 .default_value = "ARTIFICIAL_ANALYSIS_API_KEY",
	 .help = "environment variable holding the Artificial Analysis API key"},
	{.name = "api_key",
	 .type = MF_OPT_STRING,
	 .secret = true,
	 .help = "the API key itself (only from a config file of mode 0600); "
		 "prefer api_key_env"},
	{.name = NULL},
};

struct aa_state {
	char *key; /* NULL: no key is sent (file: URLs) */
};

static void aa_state_free(struct aa_state *st)
{
	if (st == NULL)
		return;
	if (st->key != NULL) {
		/* The key should not linger in freed memory. */
		memset(st->key, 0, strlen(st->key));
		free(st->key);
	}
	free(st);
}

static bool aa_is_http(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

static int aa_init(const struct mf_host *host, struct mf_context *ctx, void **state)
{
	const char *url = host->source_url(ctx);
	struct aa_state *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return MF_ENOMEM;

	/* A recorded file needs no key, and is not given one. */
	if (url != NULL && aa_is_http(url)) {
		const char *key = host->option_string(ctx, "api_key");
		const char *env = host->option_string(ctx, "api_key_env");
		const char *from = "api_key";
		if (key == NULL || key[0] == '\0') {
			key = env != NULL && env[0] != '\0' ? getenv(env) : NULL;
			from = env;
		}
		if (key == NULL || key[0] == '\0') {
			if (env != NULL && env[0] != '\0')
				host->log(ctx, MF_LOG_WARNING,
					  "environment variable %s is unset or empty: source "
					  "disabled (the API needs a key)",
					  env);
			else
				host->log(ctx, MF_LOG_WARNING,
					  "no API key (api_key_env is empty): source disabled");
			aa_state_free(st);
			return MF_EDISABLED;
		}
		/* A key pasted with its line end still works; other control
		 * characters could never travel in a header. */
		size_t len = strlen(key);
		while (len > 0 && (key[len - 1] == '\n' || key[len - 1] == '\r' ||
				   key[len - 1] == ' ' || key[len - 1] == '\t'))
			len--;
		bool clean = len > 0;
		for (size_t i = 0; clean && i < len; i++)
			clean = (unsigned char)key[i] >= 0x20 && key[i] != 0x7f;
		if (!clean) {
			host->log(ctx, MF_LOG_ERROR,
				  "the API key (%s) is empty or holds control characters", from);
			aa_state_free(st);
			return MF_EINVAL;
		}
		st->key = strndup(key, len);
		if (st->key == NULL) {
			aa_state_free(st);
			return MF_ENOMEM;
		}
	}
	*state = st;
	return MF_OK;
}

static void aa_fini(const struct mf_host *host, struct mf_context *ctx, void *state)
{
	(void)host;
	(void)ctx;
	aa_state_free(state);
}

static int aa_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
		    const struct mf_page *prev, struct mf_request *req)
{
	const struct aa_state *st = state;
	if (prev != NULL)
		return MF_DONE;
	int rc = host->request_set_url(req, host->source_url(ctx));
	if (rc == MF_OK && st != NULL && st->key != NULL)
		rc = host->request_add_header(req, AA_KEY_HEADER, st->key, true);
	return rc;
}

/* ------------------------------------------------------------ normalizing */

struct aa_walk {
	const struct mf_host *host;
	struct mf_context *ctx;
	const char *model; /* the entry being read, for messages */
	size_t position;
	unsigned warnings;
	int rc; /* first out of memory, else MF_OK */
};

static void aa_warn(struct aa_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void aa_warn(struct aa_walk *w, const char *fmt, ...)
{
	w->warnings++;
	if (w->warnings > AA_MAX_WARNINGS)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	const char *more = (size_t)n >= sizeof(msg) ? "..." : "";
	if (w->model != NULL)
		w->host->log(w->ctx, MF_LOG_WARNING, "%.200s: %s%s", w->model, msg, more);
	else
		w->host->log(w->ctx, MF_LOG_WARNING, "data[%zu]: %s%s", w->position, msg, more);
}

static const char *aa_type_name(const json_t *v)
{
	/* An absent member (json_object_get gives NULL) is named, not read. */
	if (v == NULL)
		return "missing";
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "an unknown value";
}

static void aa_check(struct aa_walk *w, int rc, const char *what)
{
	if (rc == MF_OK)
		return;
	if (rc == MF_ENOMEM) {
		if (w->rc == MF_OK)
			w->rc = MF_ENOMEM;
		return;
	}
	aa_warn(w, "%s: value refused by the core (status %d), skipped", what, rc);
}

/* A non-empty string member, or NULL (wrong types warned about). */
static const char *aa_string(struct aa_walk *w, const json_t *obj, const char *key,
			     const char *label)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		aa_warn(w, "%s is %s, expected a string; skipped", label, aa_type_name(v));
		return NULL;
	}
	if (json_string_length(v) == 0 || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

/* An object member, or NULL (wrong types warned about). */
static const json_t *aa_object(struct aa_walk *w, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_object(v)) {
		aa_warn(w, "%s is %s, expected an object; skipped", key, aa_type_name(v));
		return NULL;
	}
	return v;
}

/* A number member >= 0; false when absent, null or unusable. */
static bool aa_number(struct aa_walk *w, const json_t *obj, const char *key, double *out)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return false;
	if (!json_is_number(v)) {
		aa_warn(w, "%s is %s, expected a number; skipped", key, aa_type_name(v));
		return false;
	}
	double d = json_number_value(v);
	if (d < 0) {
		aa_warn(w, "%s is %g, negative; skipped", key, d);
		return false;
	}
	*out = d;
	return true;
}

/* Indices (…_index) are already on 0..100. The other evaluations are
 * fractions (mmlu_pro 0.75); a value above 1 is taken as a percentage. */
static void aa_evaluations(struct aa_walk *w, struct mf_record *rec, const json_t *entry)
{
	const json_t *evals = aa_object(w, entry, "evaluations");
	if (evals == NULL)
		return;
	const char *name;
	json_t *v;
	json_object_foreach((json_t *)evals, name, v) {
		if (json_is_null(v))
			continue;
		if (name[0] == '\0' || !json_is_number(v)) {
			aa_warn(w, "evaluations.%.64s is %s, expected a number; skipped", name,
				aa_type_name(v));
			continue;
		}
		double d = json_number_value(v);
		size_t len = strlen(name);
		bool index = len >= 6 && strcmp(name + len - 6, "_index") == 0;
		if (!index && d >= 0 && d <= 1)
			d = round(d * 100 * 1e9) / 1e9;
		if (d < 0 || d > 100) {
			aa_warn(w, "evaluations.%.64s is %g, outside 0..100; skipped", name,
				json_number_value(v));
			continue;
		}
		char key[160];
		int n = snprintf(key, sizeof(key), "aa.%s", name);
		if (n < 0 || (size_t)n >= sizeof(key)) {
			aa_warn(w, "evaluation name %.40s... too long; skipped", name);
			continue;
		}
		aa_check(w, w->host->map_set(rec, MF_FIELD_SCORES, key, d), key);
	}
}

static void aa_pricing(struct aa_walk *w, struct mf_record *rec, const json_t *entry)
{
	static const struct {
		const char *upstream;
		const char *kind;
	} prices[] = {
		{"price_1m_input_tokens", "input"},
		{"price_1m_output_tokens", "output"},
		{"price_1m_blended_3_to_1", "blended_3_to_1"},
	};
	const json_t *pricing = aa_object(w, entry, "pricing");
	if (pricing == NULL)
		return;
	for (size_t i = 0; i < sizeof(prices) / sizeof(prices[0]); i++) {
		double d;
		if (aa_number(w, pricing, prices[i].upstream, &d))
			aa_check(w, w->host->map_set(rec, MF_FIELD_PRICE, prices[i].kind, d),
				 prices[i].upstream);
	}
}

/* Speed and latency sit on the entry itself; some answers nest them in a
 * "performance" object. A 0 is Artificial Analysis's "not measured". */
static void aa_performance(struct aa_walk *w, struct mf_record *rec, const json_t *entry)
{
	static const struct {
		const char *upstream;
		enum mf_field field;
	} metrics[] = {
		{"median_output_tokens_per_second", MF_FIELD_OUTPUT_SPEED},
		{"median_time_to_first_token_seconds", MF_FIELD_TTFT},
	};
	const json_t *perf = json_object_get(entry, "performance");
	for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
		const json_t *from = entry;
		const json_t *v = json_object_get(entry, metrics[i].upstream);
		if ((v == NULL || json_is_null(v)) && json_is_object(perf))
			from = perf;
		double d;
		if (aa_number(w, from, metrics[i].upstream, &d) && d > 0)
			aa_check(w, w->host->set_real(rec, metrics[i].field, d),
				 metrics[i].upstream);
	}
}

static int aa_entry(struct aa_walk *w, const json_t *entry)
{
	const struct mf_host *host = w->host;
	w->model = NULL;
	if (!json_is_object(entry)) {
		aa_warn(w, "entry is %s, expected an object; dropped", aa_type_name(entry));
		entry = NULL;
	}
	/* The slug is the readable id the mapper can align; the opaque id
	 * only stands in when there is no slug. */
	const char *id = entry != NULL ? aa_string(w, entry, "slug", "slug") : NULL;
	if (id == NULL && entry != NULL)
		id = aa_string(w, entry, "id", "id");
	if (id == NULL && entry != NULL)
		aa_warn(w, "no slug and no id; dropped");

	/* Without an id the core drops the record and counts it. */
	struct mf_record *rec = host->record_new(w->ctx, MF_RECORD_MODEL, id != NULL ? id : "");
	if (rec == NULL)
		return MF_ENOMEM;
	if (id != NULL) {
		w->model = id;
		const json_t *creator = aa_object(w, entry, "model_creator");
		const char *maker = NULL;
		if (creator != NULL) {
			maker = aa_string(w, creator, "slug", "model_creator.slug");
			if (maker == NULL)
				maker = aa_string(w, creator, "name", "model_creator.name");
		}
		if (maker != NULL)
			aa_check(w, host->set_string(rec, MF_FIELD_MAKER, maker), "maker");
		const char *name = aa_string(w, entry, "name", "name");
		if (name != NULL)
			aa_check(w, host->set_string(rec, MF_FIELD_NAME, name), "name");
		const char *date = aa_string(w, entry, "release_date", "release_date");
		if (date != NULL)
			aa_check(w, host->set_string(rec, MF_FIELD_RELEASE_DATE, date),
				 "release_date");
		aa_evaluations(w, rec, entry);
		aa_pricing(w, rec, entry);
		aa_performance(w, rec, entry);
	}
	if (w->rc != MF_OK) {
		host->record_free(rec);
		return w->rc;
	}
	int rc = host->emit(w->ctx, rec);
	return rc == MF_OK || rc == MF_EINVAL ? MF_OK : rc;
}

/* Duplicate keys in a machine-written answer are an upstream slip, not a
 * reason to lose the whole source: said, and the last value used. */
static json_t *aa_parse(const struct mf_host *host, struct mf_context *ctx,
			const struct mf_page *page, const char *where)
{
	json_error_t err;
	json_t *root = json_loadb(page->data, page->size, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL && json_error_code(&err) == json_error_duplicate_key) {
		host->log(ctx, MF_LOG_WARNING, "%s: line %d, column %d: %s; the last value is used",
			  where, err.line, err.column, err.text);
		root = json_loadb(page->data, page->size, 0, &err);
	}
	if (root == NULL) {
		host->log(ctx, MF_LOG_ERROR, "%s: not valid JSON: line %d, column %d: %s", where,
			  err.line, err.column, err.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		host->log(ctx, MF_LOG_ERROR,
			  "%s: top level is %s, expected an object {status, data}", where,
			  aa_type_name(root));
		json_decref(root);
		return NULL;
	}
	const json_t *status = json_object_get(root, "status");
	if (json_is_integer(status) && json_integer_value(status) != 200) {
		host->log(ctx, MF_LOG_ERROR, "%s: the answer says status %" JSON_INTEGER_FORMAT,
			  where, json_integer_value(status));
		json_decref(root);
		return NULL;
	}
	const json_t *data = json_object_get(root, "data");
	if (!json_is_array(data)) {
		host->log(ctx, MF_LOG_ERROR, "%s: \"data\" is %s, expected an array of models",
			  where, data != NULL ? aa_type_name(data) : "missing");
		json_decref(root);
		return NULL;
	}
	return root;
}

static int aa_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			const struct mf_page *page)
{
	(void)state;
	const char *where = page->url != NULL ? page->url : "page";
	json_t *root = aa_parse(host, ctx, page, where);
	if (root == NULL)
		return MF_EPARSE;
	struct aa_walk w = {.host = host, .ctx = ctx, .rc = MF_OK};
	int rc = MF_OK;
	size_t i;
	json_t *entry;
	json_array_foreach(json_object_get(root, "data"), i, entry) {
		w.position = i;
		rc = aa_entry(&w, entry);
		if (rc != MF_OK)
			break;
	}
	if (w.warnings > AA_MAX_WARNINGS)
		host->log(ctx, MF_LOG_WARNING, "%u more warnings on %s not shown",
			  w.warnings - AA_MAX_WARNINGS, where);
	json_decref(root);
	return rc;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "artificialanalysis",
	.version = "1.0.0",
	.description = "Artificial Analysis: intelligence, coding and math indices, evaluations, "
		       "prices, output speed and time to first token",
	.default_url = AA_DEFAULT_URL,
	.options = aa_options,
	.init = aa_init,
	.fetch = aa_fetch,
	.normalize = aa_normalize,
	.fini = aa_fini,
};
