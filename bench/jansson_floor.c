/* The floor of a cold run (issue 10): read each file given on the command
 * line into memory and parse it with jansson, as the plugins do with a
 * fetched page, and nothing else. bench/run.sh times this program against
 * `modelfuse run` over the same files.
 *
 * Usage: jansson_floor FILE...
 * Prints one line per file (top-level entries and bytes) so that a reader
 * can see the same files were parsed; exits 1 when a file cannot be read
 * or is not JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* The whole file, NUL-terminated; NULL with errno set when it cannot be
 * read. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (cap - n < 2) {
			char *more = realloc(buf, cap * 2);
			if (!more) {
				free(buf);
				buf = NULL;
				errno = ENOMEM;
				break;
			}
			buf = more;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (buf && ferror(f)) {
		free(buf);
		buf = NULL;
		errno = EIO;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...\n", argv[0]);
		return 2;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		size_t len = 0;
		char *data = read_all(argv[i], &len);
		if (!data) {
			fprintf(stderr, "jansson_floor: cannot read %s: %s\n", argv[i],
				strerror(errno));
			rc = 1;
			continue;
		}
		json_error_t err;
		json_t *root = json_loadb(data, len, 0, &err);
		free(data);
		if (!root) {
			fprintf(stderr, "jansson_floor: %s: line %d: %s\n", argv[i], err.line,
				err.text);
			rc = 1;
			continue;
		}
		size_t entries = json_is_array(root)    ? json_array_size(root)
				 : json_is_object(root) ? json_object_size(root)
							: 1;
		printf("%s\t%zu entries\t%zu bytes\n", argv[i], entries, len);
		json_decref(root);
	}
	return rc;
}
