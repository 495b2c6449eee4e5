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

struct field_value {
	bool set;
	union {
		char *s;
		int64_t i;
		bool b;
		double r;
		struct strlist list;
		struct nummap map;
	} u;
};

struct mf_record {
	enum mf_record_kind kind;
	char *native_id;
	struct field_value fields[MF_FIELD_COUNT];
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
