/* The core's representation of records (struct mf_record of the SDK) and the
 * implementation of the typed setters the host table exposes. The merge
 * engine reuses the same struct for merged models and offerings, so the
 * writers serialize every record the same way. */
#ifndef MF_RECORD_H
#define MF_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <modelfuse/plugin.h>

/* One past the highest enum mf_field value. */
#define MF_FIELD_COUNT 55
_Static_assert(MF_FIELD_COUNT <= 64, "a record's field mask is 64 bits");

struct strlist {
	char **items;
	size_t count;
};

struct nummap_entry {
	char *key;
	double value;
};
/* Kept sorted by key so that output is deterministic and lookups cheap. */
struct nummap {
	struct nummap_entry *items;
	size_t count;
};

/* A set field's value (record_field() returns NULL for an unset one). */
struct field_value {
	union {
		char *s;
		int64_t i;
		bool b;
		double r;
		struct strlist list;
		struct nummap map;
	} u;
};

/* Only the fields that are set are stored: bit f of `present` says field f
 * has a value, and vals[] holds those values in field order. present, vals
 * and packed_size are private to record.c: read fields through
 * record_field() and the getters. A pointer from a getter stays valid until
 * the next setter or record_unset on the same record. Strings inside a
 * record (string fields, list items, map keys; not native_id) are shared
 * between records through one reference-counted table, so they must never
 * be freed or written to. A packed record (record_pack) holds its native
 * id, values and arrays in its own allocation: never replace its
 * native_id. */
struct mf_record {
	enum mf_record_kind kind;
	uint32_t packed_size; /* bytes of the one allocation; 0: not packed */
	char *native_id;
	uint64_t present;
	struct field_value *vals;
};

/* Static description of each field: its JSON name and value type. */
struct field_info {
	const char *name; /* NULL for unused numbers */
	enum mf_field_type type;
};
const struct field_info *field_info(enum mf_field field); /* NULL if unknown */
bool field_valid(int field);

struct mf_record *record_new(enum mf_record_kind kind, const char *native_id);
void record_free(struct mf_record *rec);
struct mf_record *record_clone(const struct mf_record *rec);

/* Setters with the SDK's semantics (they copy; MF_EINVAL on a field of
 * another type). They back the host table's setters. */
int record_set_string(struct mf_record *rec, enum mf_field field, const char *value);
int record_set_string_n(struct mf_record *rec, enum mf_field field, const char *value, size_t len);
int record_set_int(struct mf_record *rec, enum mf_field field, int64_t value);
int record_set_bool(struct mf_record *rec, enum mf_field field, bool value);
int record_set_real(struct mf_record *rec, enum mf_field field, double value);
int record_list_add(struct mf_record *rec, enum mf_field field, const char *value);
int record_map_set(struct mf_record *rec, enum mf_field field, const char *key, double value);
int record_map_set_decimal(struct mf_record *rec, enum mf_field field, const char *key,
			   const char *decimal, int shift);
/* Remove a field's value (used by checks that null a failing field). */
void record_unset(struct mf_record *rec, enum mf_field field);

/* Getters: NULL / false when unset. */
const char *record_get_string(const struct mf_record *rec, enum mf_field field);
bool record_get_int(const struct mf_record *rec, enum mf_field field, int64_t *out);
bool record_get_bool(const struct mf_record *rec, enum mf_field field, bool *out);
bool record_get_real(const struct mf_record *rec, enum mf_field field, double *out);
const struct strlist *record_get_list(const struct mf_record *rec, enum mf_field field);
const struct nummap *record_get_map(const struct mf_record *rec, enum mf_field field);
bool nummap_get(const struct nummap *m, const char *key, double *out);

/* The value of field f, or NULL when unset. The only way code outside
 * record.c reads a field's storage, so the record layout stays private. */
const struct field_value *record_field(const struct mf_record *rec, enum mf_field field);
bool record_has(const struct mf_record *rec, enum mf_field field);
/* Mark a list or map field as known even while empty (an explicitly empty
 * list is information: "no tags", not "tags unknown"). */
void record_mark_known(struct mf_record *rec, enum mf_field field);
/* Remove every item equal to value (exact bytes) from list field f. */
void record_list_remove(struct mf_record *rec, enum mf_field field, const char *value);

/* Copy one field's value from src into dst (replacing it). */
void record_copy_field(struct mf_record *dst, const struct mf_record *src, enum mf_field field);

/* The set fields as a mask: bit f for field f (MF_FIELD_COUNT <= 64). Lets
 * a caller visit only what is set. */
uint64_t record_field_mask(const struct mf_record *rec);
/* Make room for n fields at once (a decoder that knows the count). */
void record_reserve(struct mf_record *rec, size_t n);
/* A copy of rec in a single allocation sized exactly, for a record that
 * will mostly be read (the parent's decoded records): no slack, one
 * allocation header instead of one per array. It can still be changed. */
struct mf_record *record_pack(const struct mf_record *rec);
/* Building a packed record in one go, for a decoder that knows every size
 * up front: room for n_fields fields, n_items list items and n_entries map
 * entries. Fields come in increasing order, each once; a list's items and
 * a map's entries follow it. The calls apply the setters' rules (lists
 * drop duplicates, maps keep keys sorted and unique) and return false when
 * a value breaks them or comes out of order: the record is then only fit
 * for record_free. record_build_end returns the record. */
struct record_build {
	struct mf_record *rec;
	char *room; /* next free byte for list and map arrays */
	char *end;
	size_t n_fields; /* slots of vals */
	size_t left;	 /* items or entries still to come for the last field */
	int last;	 /* the last field added; 0: none */
};
void record_build_begin(struct record_build *b, enum mf_record_kind kind, const char *id,
			size_t id_len, size_t n_fields, size_t n_items, size_t n_entries);
bool record_build_string(struct record_build *b, enum mf_field field, const char *s, size_t len);
bool record_build_int(struct record_build *b, enum mf_field field, int64_t value);
bool record_build_bool(struct record_build *b, enum mf_field field, bool value);
bool record_build_real(struct record_build *b, enum mf_field field, double value);
bool record_build_list(struct record_build *b, enum mf_field field, size_t n);
bool record_build_item(struct record_build *b, const char *s, size_t len);
bool record_build_map(struct record_build *b, enum mf_field field, size_t n);
bool record_build_entry(struct record_build *b, const char *key, size_t len, double value);
struct mf_record *record_build_end(struct record_build *b);

/* Distinct strings currently held by all records of the process (tests). */
size_t record_string_count(void);

/* Shift a plain decimal string by 10^shift on its digits and parse the
 * result exactly: ("0.000003", 6) -> 3.0. Returns false for anything that
 * is not [-]digits[.digits]. */
bool decimal_shift(const char *decimal, int shift, double *out);

/* Round a price to 1e-9, as written in outputs. */
double price_round(double v);

/* A growable array of records with the source they came from. */
struct record_array {
	struct mf_record **items;
	size_t count;
	size_t cap;
};
void record_array_push(struct record_array *a, struct mf_record *rec);
void record_array_free(struct record_array *a); /* frees the records too */

#endif
