#include "mf_build_config.h"
#include "record.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* JSON name and value type of every field; the names are what the writers
 * and provenance use, so they are part of the output format. */
static const struct field_info fields[MF_FIELD_COUNT] = {
	[MF_FIELD_NAME] = {"name", MF_TYPE_STRING},
	[MF_FIELD_MAKER] = {"maker", MF_TYPE_STRING},
	[MF_FIELD_PROVIDER] = {"provider", MF_TYPE_STRING},
	[MF_FIELD_FAMILY] = {"family", MF_TYPE_STRING},
	[MF_FIELD_SOURCE_KEY] = {"source_key", MF_TYPE_STRING},
	[MF_FIELD_RELEASE_DATE] = {"release_date", MF_TYPE_STRING},
	[MF_FIELD_LAST_UPDATED] = {"last_updated", MF_TYPE_STRING},
	[MF_FIELD_KNOWLEDGE] = {"knowledge", MF_TYPE_STRING},
	[MF_FIELD_LICENSE] = {"license", MF_TYPE_STRING},
	[MF_FIELD_STATUS] = {"status", MF_TYPE_STRING},
	[MF_FIELD_HF_ID] = {"hf_id", MF_TYPE_STRING},
	[MF_FIELD_CANONICAL_SLUG] = {"canonical_slug", MF_TYPE_STRING},
	[MF_FIELD_CONTEXT_TOKENS] = {"context_tokens", MF_TYPE_INT},
	[MF_FIELD_MAX_OUTPUT_TOKENS] = {"max_output_tokens", MF_TYPE_INT},
	[MF_FIELD_MAX_INPUT_TOKENS] = {"max_input_tokens", MF_TYPE_INT},
	[MF_FIELD_OPEN_WEIGHTS] = {"open_weights", MF_TYPE_BOOL},
	[MF_FIELD_REASONING] = {"reasoning", MF_TYPE_BOOL},
	[MF_FIELD_TOOL_CALL] = {"tool_call", MF_TYPE_BOOL},
	[MF_FIELD_ATTACHMENT] = {"attachment", MF_TYPE_BOOL},
	[MF_FIELD_TEMPERATURE] = {"temperature", MF_TYPE_BOOL},
	[MF_FIELD_CALLABLE] = {"callable", MF_TYPE_BOOL},
	[MF_FIELD_DOWNLOADS] = {"downloads", MF_TYPE_INT},
	[MF_FIELD_LIKES] = {"likes", MF_TYPE_INT},
	[MF_FIELD_ALIASES] = {"aliases", MF_TYPE_LIST},
	[MF_FIELD_TAGS] = {"tags", MF_TYPE_LIST},
	[MF_FIELD_INPUT_MODALITIES] = {"input_modalities", MF_TYPE_LIST},
	[MF_FIELD_OUTPUT_MODALITIES] = {"output_modalities", MF_TYPE_LIST},
	[MF_FIELD_PRICE] = {"price", MF_TYPE_MAP},
	[MF_FIELD_SCORES] = {"scores", MF_TYPE_MAP},
	[MF_FIELD_DESCRIPTION] = {"description", MF_TYPE_STRING},
	[MF_FIELD_CREATED] = {"created", MF_TYPE_STRING},
	[MF_FIELD_BASE_ID] = {"base_id", MF_TYPE_STRING},
	[MF_FIELD_SERVING_SUFFIX] = {"serving_suffix", MF_TYPE_STRING},
	[MF_FIELD_MOVING_POINTER] = {"moving_pointer", MF_TYPE_BOOL},
	[MF_FIELD_ALIAS_TARGET] = {"alias_target", MF_TYPE_STRING},
	[MF_FIELD_EXPIRATION_DATE] = {"expiration_date", MF_TYPE_STRING},
	[MF_FIELD_DEPRECATION_DATE] = {"deprecation_date", MF_TYPE_STRING},
	[MF_FIELD_CAPABILITIES] = {"capabilities", MF_TYPE_LIST},
	[MF_FIELD_SUPPORTED_PARAMETERS] = {"supported_parameters", MF_TYPE_LIST},
	[MF_FIELD_LIBRARY] = {"library", MF_TYPE_STRING},
	[MF_FIELD_PIPELINE] = {"pipeline", MF_TYPE_STRING},
	[MF_FIELD_GATED] = {"gated", MF_TYPE_BOOL},
	[MF_FIELD_PARAMETERS] = {"parameters", MF_TYPE_INT},
	[MF_FIELD_TRENDING_SCORE] = {"trending_score", MF_TYPE_REAL},
	[MF_FIELD_MODE] = {"mode", MF_TYPE_STRING},
	[MF_FIELD_VERSION] = {"version", MF_TYPE_STRING},
	[MF_FIELD_OUTPUT_SPEED] = {"output_tokens_per_second", MF_TYPE_REAL},
	[MF_FIELD_TTFT] = {"time_to_first_token_seconds", MF_TYPE_REAL},
	[MF_FIELD_RANK] = {"rank", MF_TYPE_INT},
	[MF_FIELD_REVIEWED] = {"reviewed", MF_TYPE_STRING},
	[MF_FIELD_REASON] = {"reason", MF_TYPE_STRING},
	[MF_FIELD_REMOVE] = {"remove", MF_TYPE_LIST},
	[MF_FIELD_REPLACE] = {"replace", MF_TYPE_LIST},
	[MF_FIELD_PINNED] = {"pinned", MF_TYPE_LIST},
};

bool field_valid(int field)
{
	return field > 0 && field < MF_FIELD_COUNT && fields[field].name != NULL;
}

const struct field_info *field_info(enum mf_field field)
{
	return field_valid((int)field) ? &fields[field] : NULL;
}

static bool field_is(enum mf_field field, enum mf_field_type type)
{
	return field_valid((int)field) && fields[field].type == type;
}

struct mf_record *record_new(enum mf_record_kind kind, const char *native_id)
{
	struct mf_record *rec = xcalloc(1, sizeof *rec);
	rec->kind = kind;
	rec->native_id = xstrdup(native_id ? native_id : "");
	return rec;
}

static void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static void nummap_clear(struct nummap *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->items[i].key);
	free(m->items);
	m->items = NULL;
	m->count = 0;
}

void record_unset(struct mf_record *rec, enum mf_field field)
{
	if (!field_valid((int)field))
		return;
	struct field_value *v = &rec->fields[field];
	if (!v->set)
		return;
	switch (fields[field].type) {
	case MF_TYPE_STRING:
		free(v->u.s);
		break;
	case MF_TYPE_LIST:
		strlist_clear(&v->u.list);
		break;
	case MF_TYPE_MAP:
		nummap_clear(&v->u.map);
		break;
	default:
		break;
	}
	memset(v, 0, sizeof *v);
}

void record_free(struct mf_record *rec)
{
	if (!rec)
		return;
	for (int f = 1; f < MF_FIELD_COUNT; f++)
		record_unset(rec, (enum mf_field)f);
	free(rec->native_id);
	free(rec);
}

void record_copy_field(struct mf_record *dst, const struct mf_record *src, enum mf_field field)
{
	if (!field_valid((int)field))
		return;
	record_unset(dst, field);
	const struct field_value *v = &src->fields[field];
	if (!v->set)
		return;
	switch (fields[field].type) {
	case MF_TYPE_STRING:
		record_set_string(dst, field, v->u.s);
		break;
	case MF_TYPE_INT:
		record_set_int(dst, field, v->u.i);
		break;
	case MF_TYPE_BOOL:
		record_set_bool(dst, field, v->u.b);
		break;
	case MF_TYPE_REAL:
		record_set_real(dst, field, v->u.r);
		break;
	case MF_TYPE_LIST:
		for (size_t i = 0; i < v->u.list.count; i++)
			record_list_add(dst, field, v->u.list.items[i]);
		/* An empty list that was set explicitly stays set. */
		dst->fields[field].set = true;
		break;
	case MF_TYPE_MAP:
		for (size_t i = 0; i < v->u.map.count; i++)
			record_map_set(dst, field, v->u.map.items[i].key, v->u.map.items[i].value);
		dst->fields[field].set = true;
		break;
	}
}

struct mf_record *record_clone(const struct mf_record *rec)
{
	struct mf_record *c = record_new(rec->kind, rec->native_id);
	for (int f = 1; f < MF_FIELD_COUNT; f++)
		record_copy_field(c, rec, (enum mf_field)f);
	return c;
}

int record_set_string_n(struct mf_record *rec, enum mf_field field, const char *value, size_t len)
{
	if (!rec || !value || !field_is(field, MF_TYPE_STRING))
		return MF_EINVAL;
	record_unset(rec, field);
	rec->fields[field].set = true;
	rec->fields[field].u.s = xstrndup(value, strnlen(value, len));
	return MF_OK;
}

int record_set_string(struct mf_record *rec, enum mf_field field, const char *value)
{
	if (!value)
		return MF_EINVAL;
	return record_set_string_n(rec, field, value, strlen(value));
}

int record_set_int(struct mf_record *rec, enum mf_field field, int64_t value)
{
	if (!rec || !field_is(field, MF_TYPE_INT))
		return MF_EINVAL;
	rec->fields[field].set = true;
	rec->fields[field].u.i = value;
	return MF_OK;
}

int record_set_bool(struct mf_record *rec, enum mf_field field, bool value)
{
	if (!rec || !field_is(field, MF_TYPE_BOOL))
		return MF_EINVAL;
	rec->fields[field].set = true;
	rec->fields[field].u.b = value;
	return MF_OK;
}

int record_set_real(struct mf_record *rec, enum mf_field field, double value)
{
	if (!rec || !field_is(field, MF_TYPE_REAL) || !isfinite(value))
		return MF_EINVAL;
	rec->fields[field].set = true;
	rec->fields[field].u.r = value;
	return MF_OK;
}

int record_list_add(struct mf_record *rec, enum mf_field field, const char *value)
{
	if (!rec || !value || !field_is(field, MF_TYPE_LIST))
		return MF_EINVAL;
	struct field_value *v = &rec->fields[field];
	v->set = true;
	struct strlist *l = &v->u.list;
	/* Lists are short (a handful of aliases or tags): a scan is cheaper
	 * than a hash here and keeps the insertion order. */
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i], value) == 0)
			return MF_OK;
	l->items = xrealloc(l->items, (l->count + 1) * sizeof *l->items);
	l->items[l->count++] = xstrdup(value);
	return MF_OK;
}

int record_map_set(struct mf_record *rec, enum mf_field field, const char *key, double value)
{
	if (!rec || !key || !*key || !field_is(field, MF_TYPE_MAP) || !isfinite(value))
		return MF_EINVAL;
	struct field_value *v = &rec->fields[field];
	v->set = true;
	struct nummap *m = &v->u.map;
	size_t lo = 0, hi = m->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(m->items[mid].key, key);
		if (c == 0) {
			m->items[mid].value = value;
			return MF_OK;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	m->items = xrealloc(m->items, (m->count + 1) * sizeof *m->items);
	memmove(&m->items[lo + 1], &m->items[lo], (m->count - lo) * sizeof *m->items);
	m->items[lo].key = xstrdup(key);
	m->items[lo].value = value;
	m->count++;
	return MF_OK;
}

bool decimal_shift(const char *decimal, int shift, double *out)
{
	if (!decimal || shift < -30 || shift > 30)
		return false;
	const char *p = decimal;
	bool negative = false;
	if (*p == '-' || *p == '+')
		negative = *p++ == '-';
	/* Collect the digits and where the point sits, then move the point. */
	char digits[128];
	size_t n = 0;
	long point = -1;
	for (; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			if (n + 1 >= sizeof digits)
				return false;
			digits[n++] = *p;
		} else if (*p == '.' && point < 0) {
			point = (long)n;
		} else {
			return false;
		}
	}
	if (n == 0)
		return false;
	if (point < 0)
		point = (long)n;
	point += shift;
	/* Rebuild "[-]int.frac" with the point moved, padding with zeros. */
	char buf[256];
	size_t len = 0;
	if (negative)
		buf[len++] = '-';
	if (point <= 0) {
		buf[len++] = '0';
		buf[len++] = '.';
		for (long i = point; i < 0; i++)
			buf[len++] = '0';
		memcpy(buf + len, digits, n);
		len += n;
	} else if ((size_t)point >= n) {
		memcpy(buf + len, digits, n);
		len += n;
		for (size_t i = n; i < (size_t)point; i++)
			buf[len++] = '0';
	} else {
		memcpy(buf + len, digits, (size_t)point);
		len += (size_t)point;
		buf[len++] = '.';
		memcpy(buf + len, digits + point, n - (size_t)point);
		len += n - (size_t)point;
	}
	buf[len] = '\0';
	char *end = NULL;
	double v = strtod(buf, &end);
	if (!end || *end != '\0' || !isfinite(v))
		return false;
	*out = v;
	return true;
}

int record_map_set_decimal(struct mf_record *rec, enum mf_field field, const char *key,
			   const char *decimal, int shift)
{
	double v;
	if (!decimal_shift(decimal, shift, &v))
		return MF_EINVAL;
	return record_map_set(rec, field, key, v);
}

double price_round(double v)
{
	return round(v * 1e9) / 1e9;
}

const char *record_get_string(const struct mf_record *rec, enum mf_field field)
{
	if (!field_is(field, MF_TYPE_STRING) || !rec->fields[field].set)
		return NULL;
	return rec->fields[field].u.s;
}

bool record_get_int(const struct mf_record *rec, enum mf_field field, int64_t *out)
{
	if (!field_is(field, MF_TYPE_INT) || !rec->fields[field].set)
		return false;
	*out = rec->fields[field].u.i;
	return true;
}

bool record_get_bool(const struct mf_record *rec, enum mf_field field, bool *out)
{
	if (!field_is(field, MF_TYPE_BOOL) || !rec->fields[field].set)
		return false;
	*out = rec->fields[field].u.b;
	return true;
}

bool record_get_real(const struct mf_record *rec, enum mf_field field, double *out)
{
	if (!field_is(field, MF_TYPE_REAL) || !rec->fields[field].set)
		return false;
	*out = rec->fields[field].u.r;
	return true;
}

const struct strlist *record_get_list(const struct mf_record *rec, enum mf_field field)
{
	if (!field_is(field, MF_TYPE_LIST) || !rec->fields[field].set)
		return NULL;
	return &rec->fields[field].u.list;
}

const struct nummap *record_get_map(const struct mf_record *rec, enum mf_field field)
{
	if (!field_is(field, MF_TYPE_MAP) || !rec->fields[field].set)
		return NULL;
	return &rec->fields[field].u.map;
}

bool nummap_get(const struct nummap *m, const char *key, double *out)
{
	if (!m)
		return false;
	size_t lo = 0, hi = m->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(m->items[mid].key, key);
		if (c == 0) {
			*out = m->items[mid].value;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void record_array_push(struct record_array *a, struct mf_record *rec)
{
	if (a->count == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->items = xrealloc(a->items, a->cap * sizeof *a->items);
	}
	a->items[a->count++] = rec;
}

void record_array_free(struct record_array *a)
{
	for (size_t i = 0; i < a->count; i++)
		record_free(a->items[i]);
	free(a->items);
	a->items = NULL;
	a->count = a->cap = 0;
}

const struct field_value *record_field(const struct mf_record *rec, enum mf_field field)
{
	if (!field_valid((int)field) || !rec->fields[field].set)
		return NULL;
	return &rec->fields[field];
}

bool record_has(const struct mf_record *rec, enum mf_field field)
{
	return record_field(rec, field) != NULL;
}

void record_mark_known(struct mf_record *rec, enum mf_field field)
{
	if (field_is(field, MF_TYPE_LIST) || field_is(field, MF_TYPE_MAP))
		rec->fields[field].set = true;
}

void record_list_remove(struct mf_record *rec, enum mf_field field, const char *value)
{
	if (!field_is(field, MF_TYPE_LIST) || !rec->fields[field].set)
		return;
	struct strlist *l = &rec->fields[field].u.list;
	size_t kept = 0;
	for (size_t i = 0; i < l->count; i++) {
		if (strcmp(l->items[i], value) == 0)
			free(l->items[i]);
		else
			l->items[kept++] = l->items[i];
	}
	l->count = kept;
}
