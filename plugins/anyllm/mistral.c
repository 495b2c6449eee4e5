/*
 * anyllm: Mistral's `GET /v1/models`: {object: "list", data: [{id, created,
 * owned_by, capabilities {completion_chat, completion_fim, function_calling,
 * fine_tuning, vision, classification}, name, description,
 * max_context_length, aliases, deprecation, type}]}. One page.
 *
 * Mistral lists every alias of a model as an entry of its own, the entries
 * of one model naming each other in `aliases` (mistral-large-2411 lists
 * mistral-large-latest and the other way round). Those entries are one
 * offering. The folding rule:
 *  - two entries belong together when each lists the other's id in its
 *    aliases (a one-sided mention folds nothing); groups are closed over
 *    that relation;
 *  - the canonical entry of a group is the one whose id equals its `name`
 *    (Mistral's own canonical name), else one with a dated id ("-2411"),
 *    else the first in the listing; ties go to the earlier entry;
 *  - the group's offering is the canonical entry with, as aliases, its own
 *    aliases, every other member's id and every other member's aliases. No
 *    id is lost: each folded id is an alias of the offering that kept it.
 * Folding needs the whole listing, which Mistral sends as one page.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anyllm.h"

#define MISTRAL_NONE ((size_t)-1)

struct mistral_listing {
	const json_t *data;
	size_t n;
	const char **ids;  /* NULL: entry without a usable id */
	size_t *parent;	   /* union-find over entries */
	size_t *canonical; /* per group root: the entry that is kept */
	size_t *next;	   /* members of a group, in listing order */
	size_t *head, *tail;
};

static size_t mistral_find(size_t *parent, size_t i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]];
		i = parent[i];
	}
	return i;
}

static const json_t *mistral_aliases(const json_t *entry)
{
	const json_t *a = json_object_get(entry, "aliases");
	return json_is_array(a) ? a : NULL;
}

static bool mistral_usable(const json_t *s)
{
	return json_is_string(s) && json_string_length(s) > 0 &&
	       strlen(json_string_value(s)) == json_string_length(s);
}

/* "len:id" + alias: a key no two different (id, alias) pairs share. */
static char *mistral_pair_key(const char *id, const char *alias)
{
	size_t a = strlen(id), b = strlen(alias);
	size_t size = a + b + 24;
	char *key = malloc(size);
	if (key != NULL)
		snprintf(key, size, "%zu:%s%s", a, id, alias);
	return key;
}

/* 3: id is Mistral's own name for the model; 2: a dated id; 1: other. */
static int mistral_rank(const json_t *entry, const char *id)
{
	const json_t *name = json_object_get(entry, "name");
	if (json_is_string(name) && strcmp(json_string_value(name), id) == 0)
		return 3;
	size_t len = strlen(id);
	if (len > 5 && id[len - 5] == '-' && isdigit((unsigned char)id[len - 4]) &&
	    isdigit((unsigned char)id[len - 3]) && isdigit((unsigned char)id[len - 2]) &&
	    isdigit((unsigned char)id[len - 1]))
		return 2;
	return 1;
}

/* Group the entries; MF_ENOMEM when the indexes could not be built. */
static int mistral_group(struct anyllm_walk *w, struct mistral_listing *l)
{
	int rc = MF_ENOMEM;
	json_t *index = json_object(); /* id -> first entry with that id */
	json_t *pairs = json_object(); /* pair keys (id, alias) present */
	if (index == NULL || pairs == NULL)
		goto out;

	for (size_t i = 0; i < l->n; i++) {
		l->parent[i] = i;
		l->head[i] = l->tail[i] = l->next[i] = l->canonical[i] = MISTRAL_NONE;
		const char *id = l->ids[i];
		if (id == NULL || json_object_get(index, id) != NULL)
			continue;
		if (json_object_set_new(index, id, json_integer((json_int_t)i)) != 0)
			goto out;
		const json_t *aliases = mistral_aliases(json_array_get(l->data, i));
		size_t k;
		const json_t *a;
		json_array_foreach(aliases, k, a)
		{
			if (!mistral_usable(a))
				continue;
			char *key = mistral_pair_key(id, json_string_value(a));
			int set = key ? json_object_set_new(pairs, key, json_true()) : -1;
			free(key);
			if (set != 0)
				goto out;
		}
	}
	/* Join each entry with the entries it names that name it back. Only
	 * the first entry of a repeated id takes part. */
	for (size_t i = 0; i < l->n; i++) {
		const char *id = l->ids[i];
		const json_t *self = id ? json_object_get(index, id) : NULL;
		if (self == NULL || (size_t)json_integer_value(self) != i)
			continue;
		const json_t *aliases = mistral_aliases(json_array_get(l->data, i));
		size_t k;
		const json_t *a;
		json_array_foreach(aliases, k, a)
		{
			if (!mistral_usable(a))
				continue;
			const json_t *other = json_object_get(index, json_string_value(a));
			if (other == NULL || (size_t)json_integer_value(other) == i)
				continue;
			size_t j = (size_t)json_integer_value(other);
			char *key = mistral_pair_key(l->ids[j], id);
			if (key == NULL)
				goto out;
			bool mutual = json_object_get(pairs, key) != NULL;
			free(key);
			if (mutual)
				l->parent[mistral_find(l->parent, i)] = mistral_find(l->parent, j);
		}
	}
	/* Members in listing order, and the canonical entry of each group. */
	for (size_t i = 0; i < l->n; i++) {
		if (l->ids[i] == NULL)
			continue;
		size_t r = mistral_find(l->parent, i);
		if (l->head[r] == MISTRAL_NONE)
			l->head[r] = i;
		else
			l->next[l->tail[r]] = i;
		l->tail[r] = i;
		size_t c = l->canonical[r];
		const json_t *entry = json_array_get(l->data, i);
		if (c == MISTRAL_NONE || mistral_rank(entry, l->ids[i]) >
					     mistral_rank(json_array_get(l->data, c), l->ids[c]))
			l->canonical[r] = i;
	}
	rc = MF_OK;
out:
	json_decref(index);
	json_decref(pairs);
	if (rc != MF_OK)
		w->rc = rc;
	return rc;
}

static void mistral_alias(struct anyllm_walk *w, struct mf_record *rec, const char *self,
			  const char *alias)
{
	if (strcmp(alias, self) != 0)
		anyllm_check(w, w->host->list_add(rec, MF_FIELD_ALIASES, alias), "aliases");
}

static void mistral_fields(struct anyllm_walk *w, struct mf_record *rec, const json_t *entry)
{
	const struct mf_host *host = w->host;
	anyllm_created_unix(w, rec, entry, "created");
	anyllm_owned_by(w, rec, entry);
	anyllm_string(w, rec, entry, "description", MF_FIELD_DESCRIPTION);
	anyllm_tokens(w, rec, entry, "max_context_length", MF_FIELD_CONTEXT_TOKENS);

	const json_t *caps = json_object_get(entry, "capabilities");
	if (json_is_object(caps)) {
		bool chat = json_is_true(json_object_get(caps, "completion_chat"));
		bool fim = json_is_true(json_object_get(caps, "completion_fim"));
		if (chat || fim) {
			anyllm_check(w, host->list_add(rec, MF_FIELD_INPUT_MODALITIES, "text"),
				     "modalities");
			anyllm_check(w, host->list_add(rec, MF_FIELD_OUTPUT_MODALITIES, "text"),
				     "modalities");
			anyllm_check(
			    w, host->set_string(rec, MF_FIELD_MODE, chat ? "chat" : "completion"),
			    "mode");
		}
		anyllm_capability_flags(w, rec, caps);
	} else if (caps != NULL && !json_is_null(caps)) {
		anyllm_warn(w, "capabilities is %s, expected an object; field skipped",
			    anyllm_type_name(caps));
	}

	/* A deprecation date means Mistral announced the model's retirement. */
	if (anyllm_date(w, rec, entry, "deprecation", MF_FIELD_DEPRECATION_DATE))
		anyllm_check(w, host->set_string(rec, MF_FIELD_STATUS, "deprecated"),
			     "deprecation");
	const json_t *type = json_object_get(entry, "type");
	if (json_is_string(type) && strcmp(json_string_value(type), "fine-tuned") == 0)
		anyllm_check(w, host->list_add(rec, MF_FIELD_TAGS, "fine-tuned"), "type");
}

static int mistral_emit(struct anyllm_walk *w, const struct mistral_listing *l, size_t i)
{
	const char *id = l->ids[i];
	const json_t *entry = json_array_get(l->data, i);
	w->id = id;
	struct mf_record *rec = anyllm_record_new(w, id);
	if (rec == NULL)
		return w->rc;
	mistral_fields(w, rec, entry);

	/* Own aliases first (with warnings for bad ones), then the folded
	 * members' ids and their aliases, in listing order. */
	const json_t *aliases = json_object_get(entry, "aliases");
	if (aliases != NULL && !json_is_null(aliases) && !json_is_array(aliases))
		anyllm_warn(w, "aliases is %s, expected an array; field skipped",
			    anyllm_type_name(aliases));
	size_t k;
	const json_t *a;
	json_array_foreach(mistral_aliases(entry), k, a)
	{
		if (mistral_usable(a))
			mistral_alias(w, rec, id, json_string_value(a));
		else
			anyllm_warn(w, "aliases[%zu] is %s, expected an id; skipped", k,
				    anyllm_type_name(a));
	}
	size_t root = mistral_find(l->parent, i);
	for (size_t m = l->head[root]; m != MISTRAL_NONE; m = l->next[m]) {
		if (m == i)
			continue;
		mistral_alias(w, rec, id, l->ids[m]);
		json_array_foreach(mistral_aliases(json_array_get(l->data, m)), k, a)
		{
			if (mistral_usable(a))
				mistral_alias(w, rec, id, json_string_value(a));
		}
	}
	int rc = anyllm_emit(w, rec);
	w->id = NULL;
	return rc;
}

int anyllm_mistral_page(struct anyllm_walk *w, const json_t *root)
{
	const json_t *data = json_is_object(root) ? json_object_get(root, "data") : root;
	if (data == NULL || !json_is_array(data)) {
		w->host->log(w->ctx, MF_LOG_ERROR,
			     "the page is %s, expected an object with a \"data\" array of models",
			     json_is_object(root) ? "an object without a \"data\" array"
						  : anyllm_type_name(root));
		return MF_EPARSE;
	}
	struct mistral_listing l = {.data = data, .n = json_array_size(data)};
	int rc = MF_ENOMEM;
	size_t n = l.n ? l.n : 1;
	l.ids = calloc(n, sizeof(*l.ids));
	l.parent = calloc(n, sizeof(*l.parent));
	l.canonical = calloc(n, sizeof(*l.canonical));
	l.next = calloc(n, sizeof(*l.next));
	l.head = calloc(n, sizeof(*l.head));
	l.tail = calloc(n, sizeof(*l.tail));
	if (!l.ids || !l.parent || !l.canonical || !l.next || !l.head || !l.tail)
		goto out;

	for (size_t i = 0; i < l.n; i++) {
		const json_t *entry = json_array_get(data, i);
		const json_t *id = json_is_object(entry) ? json_object_get(entry, "id") : NULL;
		l.ids[i] = mistral_usable(id) ? json_string_value(id) : NULL;
	}
	rc = mistral_group(w, &l);
	if (rc != MF_OK)
		goto out;

	size_t folded = 0;
	for (size_t i = 0; i < l.n && rc == MF_OK; i++) {
		if (l.ids[i] == NULL) {
			/* Says why, and hands the core the record to count. */
			anyllm_entry_id(w, json_array_get(data, i), "id", i + 1, &rc);
			continue;
		}
		if (l.canonical[mistral_find(l.parent, i)] != i) {
			folded++;
			continue;
		}
		rc = mistral_emit(w, &l, i);
	}
	if (rc == MF_OK && folded > 0)
		w->host->log(w->ctx, MF_LOG_DEBUG, "%zu alias entries folded into their models",
			     folded);
out:
	free(l.ids);
	free(l.parent);
	free(l.canonical);
	free(l.next);
	free(l.head);
	free(l.tail);
	return rc;
}
