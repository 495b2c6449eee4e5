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

/* ------------------------------------------------------------ strings */

/*
 * Every string a record holds is interned: one copy per distinct text,
 * with a count of the records (and list or map slots) holding it. Tags,
 * licenses, providers, modalities, dates and map keys repeat across
 * hundreds of thousands of records; here each costs one pointer per use,
 * and copying a record copies no text. Open addressing with linear probing
 * (deletion shifts the following entries back, so no tombstones); the
 * table goes away when the last string does. The parent and each child
 * (after fork) have their own table; the engine is single-threaded.
 */
struct atom {
	uint32_t refs;
	uint32_t hash;
	char s[];
};

/* The table: hashes apart from the pointers, so that a probe reads a
 * dense array and follows a pointer only when the hash matches. */
static struct {
	uint32_t *hashes;
	struct atom **slots; /* NULL: free */
	size_t cap;	     /* power of two, or 0 */
	size_t count;
} atoms;

static struct atom *atom_of(const char *s)
{
	return (struct atom *)(void *)(s - offsetof(struct atom, s));
}

static uint32_t hash_bytes(const char *s, size_t len)
{
	return (uint32_t)hash_mem(s, len);
}

static void atoms_grow(void)
{
	size_t cap = atoms.cap ? atoms.cap * 2 : 1024;
	struct atom **slots = xcalloc(cap, sizeof *slots);
	uint32_t *hashes = xmalloc(cap * sizeof *hashes);
	for (size_t i = 0; i < atoms.cap; i++) {
		struct atom *a = atoms.slots[i];
		if (!a)
			continue;
		size_t k = atoms.hashes[i] & (cap - 1);
		while (slots[k])
			k = (k + 1) & (cap - 1);
		slots[k] = a;
		hashes[k] = atoms.hashes[i];
	}
	free(atoms.slots);
	free(atoms.hashes);
	atoms.slots = slots;
	atoms.hashes = hashes;
	atoms.cap = cap;
}

/* The shared copy of s[0..len), with one more reference. */
static char *str_intern(const char *s, size_t len)
{
	if ((atoms.count + 1) * 2 > atoms.cap)
		atoms_grow();
	uint32_t h = hash_bytes(s, len);
	size_t mask = atoms.cap - 1;
	size_t k = h & mask;
	for (struct atom *a; (a = atoms.slots[k]) != NULL; k = (k + 1) & mask) {
		if (atoms.hashes[k] == h && strncmp(a->s, s, len) == 0 && a->s[len] == '\0') {
			a->refs++;
			return a->s;
		}
	}
	struct atom *a = xmalloc(sizeof *a + len + 1);
	a->refs = 1;
	a->hash = h;
	memcpy(a->s, s, len);
	a->s[len] = '\0';
	atoms.slots[k] = a;
	atoms.hashes[k] = h;
	atoms.count++;
	return a->s;
}

static char *str_retain(char *s)
{
	atom_of(s)->refs++;
	return s;
}

static void str_release(char *s)
{
	if (!s)
		return;
	struct atom *a = atom_of(s);
	if (--a->refs > 0)
		return;
	size_t mask = atoms.cap - 1;
	size_t i = a->hash & mask;
	while (atoms.slots[i] != a)
		i = (i + 1) & mask;
	/* Move back every following entry that may no longer be reachable
	 * from its home slot across the hole. */
	for (size_t j = (i + 1) & mask; atoms.slots[j]; j = (j + 1) & mask) {
		size_t home = atoms.hashes[j] & mask;
		bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (!between) {
			atoms.slots[i] = atoms.slots[j];
			atoms.hashes[i] = atoms.hashes[j];
			i = j;
		}
	}
	atoms.slots[i] = NULL;
	free(a);
	if (--atoms.count == 0) {
		free(atoms.slots);
		free(atoms.hashes);
		atoms.slots = NULL;
		atoms.hashes = NULL;
		atoms.cap = 0;
	}
}

size_t record_string_count(void)
{
	return atoms.count;
}

/* ------------------------------------------------------------ storage */

static uint64_t bit(enum mf_field field)
{
	return (uint64_t)1 << (unsigned)field;
}

static size_t popcount64(uint64_t x)
{
	/* Bit tricks rather than __builtin_popcountll, which is a libgcc
	 * call unless the target has a popcount instruction. */
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (size_t)((x * 0x0101010101010101ULL) >> 56);
}

/* Index in vals of field f (set or not: where it is or would go). */
static size_t slot_of(const struct mf_record *rec, enum mf_field field)
{
	return popcount64(rec->present & (bit(field) - 1));
}

static size_t field_count(const struct mf_record *rec)
{
	return popcount64(rec->present);
}

static struct field_value *value_of(const struct mf_record *rec, enum mf_field field)
{
	if (!(rec->present & bit(field)))
		return NULL;
	return &rec->vals[slot_of(rec, field)];
}

/* Is p inside rec's own allocation (a packed record's arrays)? Such memory
 * is never freed or grown on its own: a change moves it out first. */
static bool inside(const struct mf_record *rec, const void *p)
{
	const char *base = (const char *)rec;
	return rec->packed_size && (const char *)p >= base &&
	       (const char *)p < base + rec->packed_size;
}

/* Slots of vals outside a packed block: the count rounded up to 4, so
 * the capacity follows from the count and needs no field of its own. */
static size_t vals_cap(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

void record_reserve(struct mf_record *rec, size_t n)
{
	size_t count = field_count(rec);
	if (n > MF_FIELD_COUNT)
		n = MF_FIELD_COUNT;
	if (n <= vals_cap(count) && !inside(rec, rec->vals))
		return;
	if (n < count)
		n = count;
	if (inside(rec, rec->vals) || !rec->vals) {
		struct field_value *vals = xmalloc(vals_cap(n) * sizeof *vals);
		if (count)
			memcpy(vals, rec->vals, count * sizeof *vals);
		rec->vals = vals;
	} else {
		rec->vals = xrealloc(rec->vals, vals_cap(n) * sizeof *rec->vals);
	}
}

/* The value slot of field f, inserted empty when missing. */
static struct field_value *value_add(struct mf_record *rec, enum mf_field field)
{
	struct field_value *v = value_of(rec, field);
	if (v)
		return v;
	size_t n = field_count(rec);
	if (n == vals_cap(n) || inside(rec, rec->vals))
		record_reserve(rec, n + 1);
	size_t at = slot_of(rec, field);
	memmove(&rec->vals[at + 1], &rec->vals[at], (n - at) * sizeof *rec->vals);
	rec->present |= bit(field);
	v = &rec->vals[at];
	memset(v, 0, sizeof *v);
	return v;
}

/* Room for one more item in an array of n items of size bytes: realloc,
 * or a first copy out of a packed block. */
static void *grow_items(struct mf_record *rec, void *items, size_t n, size_t size)
{
	if (!inside(rec, items))
		return xrealloc(items, (n + 1) * size);
	void *copy = xmalloc((n + 1) * size);
	memcpy(copy, items, n * size);
	return copy;
}

uint64_t record_field_mask(const struct mf_record *rec)
{
	return rec->present;
}

struct mf_record *record_new(enum mf_record_kind kind, const char *native_id)
{
	struct mf_record *rec = xcalloc(1, sizeof *rec);
	rec->kind = kind;
	rec->native_id = xstrdup(native_id ? native_id : "");
	return rec;
}

static void value_clear(const struct mf_record *rec, struct field_value *v, enum mf_field_type type)
{
	switch (type) {
	case MF_TYPE_STRING:
		str_release(v->u.s);
		break;
	case MF_TYPE_LIST:
		for (size_t i = 0; i < v->u.list.count; i++)
			str_release(v->u.list.items[i]);
		if (!inside(rec, v->u.list.items))
			free(v->u.list.items);
		break;
	case MF_TYPE_MAP:
		for (size_t i = 0; i < v->u.map.count; i++)
			str_release(v->u.map.items[i].key);
		if (!inside(rec, v->u.map.items))
			free(v->u.map.items);
		break;
	default:
		break;
	}
}

/* dst gets v with the strings shared; list and map arrays go to *room
 * when given (a packed block being filled), else to new allocations. */
static void value_copy(struct field_value *dst, const struct field_value *v,
		       enum mf_field_type type, char **room)
{
	*dst = *v;
	switch (type) {
	case MF_TYPE_STRING:
		str_retain(v->u.s);
		break;
	case MF_TYPE_LIST: {
		size_t n = v->u.list.count, size = n * sizeof *v->u.list.items;
		dst->u.list.items = NULL;
		if (n)
			dst->u.list.items = room ? (void *)*room : xmalloc(size);
		if (room)
			*room += size;
		for (size_t i = 0; i < n; i++)
			dst->u.list.items[i] = str_retain(v->u.list.items[i]);
		break;
	}
	case MF_TYPE_MAP: {
		size_t n = v->u.map.count, size = n * sizeof *v->u.map.items;
		dst->u.map.items = NULL;
		if (n)
			dst->u.map.items = room ? (void *)*room : xmalloc(size);
		if (room)
			*room += size;
		for (size_t i = 0; i < n; i++) {
			dst->u.map.items[i] = v->u.map.items[i];
			str_retain(v->u.map.items[i].key);
		}
		break;
	}
	default:
		break;
	}
}

void record_unset(struct mf_record *rec, enum mf_field field)
{
	if (!field_valid((int)field))
		return;
	struct field_value *v = value_of(rec, field);
	if (!v)
		return;
	value_clear(rec, v, fields[field].type);
	size_t at = (size_t)(v - rec->vals), n = field_count(rec);
	memmove(&rec->vals[at], &rec->vals[at + 1], (n - at - 1) * sizeof *rec->vals);
	rec->present &= ~bit(field);
}

void record_free(struct mf_record *rec)
{
	if (!rec)
		return;
	size_t k = 0;
	for (uint64_t m = rec->present; m; m &= m - 1, k++)
		value_clear(rec, &rec->vals[k], fields[__builtin_ctzll(m)].type);
	if (!inside(rec, rec->vals))
		free(rec->vals);
	if (!inside(rec, rec->native_id))
		free(rec->native_id);
	free(rec);
}

void record_copy_field(struct mf_record *dst, const struct mf_record *src, enum mf_field field)
{
	if (!field_valid((int)field) || dst == src)
		return;
	record_unset(dst, field);
	const struct field_value *v = value_of(src, field);
	if (!v)
		return;
	/* value_add may move src's storage only when dst == src, excluded
	 * above. */
	value_copy(value_add(dst, field), v, fields[field].type, NULL);
}

struct mf_record *record_clone(const struct mf_record *rec)
{
	struct mf_record *c = record_new(rec->kind, rec->native_id);
	record_reserve(c, field_count(rec));
	c->present = rec->present;
	size_t k = 0;
	for (uint64_t m = rec->present; m; m &= m - 1, k++)
		value_copy(&c->vals[k], &rec->vals[k], fields[__builtin_ctzll(m)].type, NULL);
	return c;
}

struct mf_record *record_pack(const struct mf_record *rec)
{
	/* Layout: the struct, vals, the list and map arrays (all 8-byte
	 * aligned items), then the native id's bytes. */
	size_t n = field_count(rec), arrays = 0, k = 0;
	for (uint64_t m = rec->present; m; m &= m - 1, k++) {
		enum mf_field_type type = fields[__builtin_ctzll(m)].type;
		if (type == MF_TYPE_LIST)
			arrays += rec->vals[k].u.list.count * sizeof(char *);
		else if (type == MF_TYPE_MAP)
			arrays += rec->vals[k].u.map.count * sizeof(struct nummap_entry);
	}
	size_t id_len = strlen(rec->native_id);
	size_t size = sizeof *rec + n * sizeof *rec->vals + arrays + id_len + 1;
	if (size > UINT32_MAX)
		return record_clone(rec);
	struct mf_record *p = xmalloc(size);
	char *room = (char *)(p + 1);
	*p = (struct mf_record){
	    .kind = rec->kind,
	    .packed_size = (uint32_t)size,
	    .present = rec->present,
	    .vals = n ? (struct field_value *)(void *)room : NULL,
	};
	room += n * sizeof *rec->vals;
	k = 0;
	for (uint64_t m = rec->present; m; m &= m - 1, k++)
		value_copy(&p->vals[k], &rec->vals[k], fields[__builtin_ctzll(m)].type, &room);
	p->native_id = room;
	memcpy(room, rec->native_id, id_len + 1);
	return p;
}

/* ------------------------------------------------------------ building */

void record_build_begin(struct record_build *b, enum mf_record_kind kind, const char *id,
			size_t id_len, size_t n_fields, size_t n_items, size_t n_entries)
{
	if (n_fields > MF_FIELD_COUNT)
		n_fields = MF_FIELD_COUNT;
	size_t arrays = n_items * sizeof(char *) + n_entries * sizeof(struct nummap_entry);
	size_t size = sizeof *b->rec + n_fields * sizeof(struct field_value) + arrays + id_len + 1;
	struct mf_record *rec = xmalloc(size);
	char *room = (char *)(rec + 1);
	*rec = (struct mf_record){
	    .kind = kind,
	    /* A frame is at most MF_STREAM_MAX_FRAME: far below 4 GiB. */
	    .packed_size = (uint32_t)size,
	    .vals = n_fields ? (struct field_value *)(void *)room : NULL,
	};
	room += n_fields * sizeof(struct field_value);
	rec->native_id = room + arrays;
	memcpy(rec->native_id, id, id_len);
	rec->native_id[id_len] = '\0';
	*b = (struct record_build){
	    .rec = rec,
	    .room = room,
	    .end = room + arrays,
	    .n_fields = n_fields,
	};
}

/* The next value slot, for field f of the given type; NULL when f breaks
 * the order, the type or the room. */
static struct field_value *build_slot(struct record_build *b, enum mf_field field,
				      enum mf_field_type type)
{
	size_t n = field_count(b->rec);
	if (!field_is(field, type) || (int)field <= b->last || n >= b->n_fields || b->left)
		return NULL;
	struct field_value *v = &b->rec->vals[n];
	memset(v, 0, sizeof *v);
	b->rec->present |= bit(field);
	b->last = (int)field;
	return v;
}

bool record_build_string(struct record_build *b, enum mf_field field, const char *s, size_t len)
{
	struct field_value *v = build_slot(b, field, MF_TYPE_STRING);
	if (v)
		v->u.s = str_intern(s, strnlen(s, len));
	return v != NULL;
}

bool record_build_int(struct record_build *b, enum mf_field field, int64_t value)
{
	struct field_value *v = build_slot(b, field, MF_TYPE_INT);
	if (v)
		v->u.i = value;
	return v != NULL;
}

bool record_build_bool(struct record_build *b, enum mf_field field, bool value)
{
	struct field_value *v = build_slot(b, field, MF_TYPE_BOOL);
	if (v)
		v->u.b = value;
	return v != NULL;
}

bool record_build_real(struct record_build *b, enum mf_field field, double value)
{
	if (!isfinite(value))
		return false;
	struct field_value *v = build_slot(b, field, MF_TYPE_REAL);
	if (v)
		v->u.r = value;
	return v != NULL;
}

/* n items of size bytes from the room; NULL when it is too small. */
static void *build_room(struct record_build *b, size_t n, size_t size)
{
	if (n > (size_t)(b->end - b->room) / size)
		return NULL;
	void *p = n ? b->room : NULL;
	b->room += n * size;
	return p;
}

bool record_build_list(struct record_build *b, enum mf_field field, size_t n)
{
	struct field_value *v = build_slot(b, field, MF_TYPE_LIST);
	if (!v)
		return false;
	v->u.list.items = build_room(b, n, sizeof(char *));
	b->left = n;
	return n == 0 || v->u.list.items;
}

bool record_build_item(struct record_build *b, const char *s, size_t len)
{
	if (!b->left || fields[b->last].type != MF_TYPE_LIST)
		return false;
	b->left--;
	struct strlist *l = &b->rec->vals[field_count(b->rec) - 1].u.list;
	/* As record_list_add: equal strings are one pointer. */
	char *item = str_intern(s, strnlen(s, len));
	for (size_t i = 0; i < l->count; i++) {
		if (l->items[i] == item) {
			str_release(item);
			return true;
		}
	}
	l->items[l->count++] = item;
	return true;
}

bool record_build_map(struct record_build *b, enum mf_field field, size_t n)
{
	struct field_value *v = build_slot(b, field, MF_TYPE_MAP);
	if (!v)
		return false;
	v->u.map.items = build_room(b, n, sizeof(struct nummap_entry));
	b->left = n;
	return n == 0 || v->u.map.items;
}

bool record_build_entry(struct record_build *b, const char *key, size_t len, double value)
{
	len = strnlen(key, len);
	if (!b->left || fields[b->last].type != MF_TYPE_MAP || len == 0 || !isfinite(value))
		return false;
	b->left--;
	struct nummap *m = &b->rec->vals[field_count(b->rec) - 1].u.map;
	/* As record_map_set: sorted by key, a repeated key replaces. */
	size_t lo = 0, hi = m->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(m->items[mid].key, key, len);
		if (c == 0 && m->items[mid].key[len] != '\0')
			c = 1;
		if (c == 0) {
			m->items[mid].value = value;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&m->items[lo + 1], &m->items[lo], (m->count - lo) * sizeof *m->items);
	m->items[lo].key = str_intern(key, len);
	m->items[lo].value = value;
	m->count++;
	return true;
}

struct mf_record *record_build_end(struct record_build *b)
{
	struct mf_record *rec = b->rec;
	*b = (struct record_build){0};
	return rec;
}

int record_set_string_n(struct mf_record *rec, enum mf_field field, const char *value, size_t len)
{
	if (!rec || !value || !field_is(field, MF_TYPE_STRING))
		return MF_EINVAL;
	/* Intern first: value may be the string being replaced. */
	char *s = str_intern(value, strnlen(value, len));
	struct field_value *v = value_add(rec, field);
	str_release(v->u.s);
	v->u.s = s;
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
	value_add(rec, field)->u.i = value;
	return MF_OK;
}

int record_set_bool(struct mf_record *rec, enum mf_field field, bool value)
{
	if (!rec || !field_is(field, MF_TYPE_BOOL))
		return MF_EINVAL;
	value_add(rec, field)->u.b = value;
	return MF_OK;
}

int record_set_real(struct mf_record *rec, enum mf_field field, double value)
{
	if (!rec || !field_is(field, MF_TYPE_REAL) || !isfinite(value))
		return MF_EINVAL;
	value_add(rec, field)->u.r = value;
	return MF_OK;
}

int record_list_add(struct mf_record *rec, enum mf_field field, const char *value)
{
	if (!rec || !value || !field_is(field, MF_TYPE_LIST))
		return MF_EINVAL;
	/* Equal strings are one shared copy, so a pointer comparison finds a
	 * duplicate. Lists are short (a handful of aliases or tags): a scan
	 * is cheaper than a hash here and keeps the insertion order. */
	char *s = str_intern(value, strlen(value));
	struct strlist *l = &value_add(rec, field)->u.list;
	for (size_t i = 0; i < l->count; i++) {
		if (l->items[i] == s) {
			str_release(s);
			return MF_OK;
		}
	}
	l->items = grow_items(rec, l->items, l->count, sizeof *l->items);
	l->items[l->count++] = s;
	return MF_OK;
}

int record_map_set(struct mf_record *rec, enum mf_field field, const char *key, double value)
{
	if (!rec || !key || !*key || !field_is(field, MF_TYPE_MAP) || !isfinite(value))
		return MF_EINVAL;
	struct nummap *m = &value_add(rec, field)->u.map;
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
	m->items = grow_items(rec, m->items, m->count, sizeof *m->items);
	memmove(&m->items[lo + 1], &m->items[lo], (m->count - lo) * sizeof *m->items);
	m->items[lo].key = str_intern(key, strlen(key));
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
	const struct field_value *v = field_is(field, MF_TYPE_STRING) ? value_of(rec, field) : NULL;
	return v ? v->u.s : NULL;
}

bool record_get_int(const struct mf_record *rec, enum mf_field field, int64_t *out)
{
	const struct field_value *v = field_is(field, MF_TYPE_INT) ? value_of(rec, field) : NULL;
	if (v)
		*out = v->u.i;
	return v != NULL;
}

bool record_get_bool(const struct mf_record *rec, enum mf_field field, bool *out)
{
	const struct field_value *v = field_is(field, MF_TYPE_BOOL) ? value_of(rec, field) : NULL;
	if (v)
		*out = v->u.b;
	return v != NULL;
}

bool record_get_real(const struct mf_record *rec, enum mf_field field, double *out)
{
	const struct field_value *v = field_is(field, MF_TYPE_REAL) ? value_of(rec, field) : NULL;
	if (v)
		*out = v->u.r;
	return v != NULL;
}

const struct strlist *record_get_list(const struct mf_record *rec, enum mf_field field)
{
	const struct field_value *v = field_is(field, MF_TYPE_LIST) ? value_of(rec, field) : NULL;
	return v ? &v->u.list : NULL;
}

const struct nummap *record_get_map(const struct mf_record *rec, enum mf_field field)
{
	const struct field_value *v = field_is(field, MF_TYPE_MAP) ? value_of(rec, field) : NULL;
	return v ? &v->u.map : NULL;
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
	return field_valid((int)field) ? value_of(rec, field) : NULL;
}

bool record_has(const struct mf_record *rec, enum mf_field field)
{
	return record_field(rec, field) != NULL;
}

void record_mark_known(struct mf_record *rec, enum mf_field field)
{
	if (field_is(field, MF_TYPE_LIST) || field_is(field, MF_TYPE_MAP))
		value_add(rec, field);
}

void record_list_remove(struct mf_record *rec, enum mf_field field, const char *value)
{
	struct field_value *v = field_is(field, MF_TYPE_LIST) ? value_of(rec, field) : NULL;
	if (!v)
		return;
	/* Held while the list changes: value may be one of its own items. */
	char *needle = str_intern(value, strlen(value));
	struct strlist *l = &v->u.list;
	size_t kept = 0;
	for (size_t i = 0; i < l->count; i++) {
		if (l->items[i] == needle)
			str_release(l->items[i]);
		else
			l->items[kept++] = l->items[i];
	}
	l->count = kept;
	str_release(needle);
}
