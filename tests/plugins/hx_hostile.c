/* Hostile fixture plugin: misbehaves in the callback named by option
 * `where` (init, fetch or normalize) in the way named by `what`:
 *   ok        nothing wrong: one page, records hx-1 .. hx-N (option `records`)
 *   segv      a real segmentation fault
 *   abort     abort()
 *   exit      _exit(3)
 *   exit0     _exit(0): a clean status, but the stream never ends
 *   loop      spins forever
 *   alloc     allocates and touches memory without bound (abort when refused)
 *   garbage   writes junk into every pipe it has (the record stream), then
 *             carries on as if nothing happened
 *   silent    closes every descriptor but the standard ones, then carries on
 *   noid      emits records without an id (empty, and NULL), then carries on
 *   flood     writes junk into every pipe it has, forever
 *   fork      leaves a process behind that holds every descriptor and sleeps
 *             (its pid goes into the file named by option `file`)
 *   stdout    prints to stdout, which a plugin must never do
 *   huge      emits one record too large for any stream frame
 *   report    writes its core and address-space limits and whether it is
 *             dumpable into the file named by option `file`
 * Otherwise it behaves like `ok`, so the same plugin primes a cache. */
#include <modelfuse/plugin.h>

#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct mf_option hx_options[] = {
    {.name = "where",
     .type = MF_OPT_STRING,
     .default_value = "normalize",
     .help = "init, fetch or normalize"},
    {.name = "what", .type = MF_OPT_STRING, .default_value = "ok", .help = "the misbehaviour"},
    {.name = "records",
     .type = MF_OPT_INT,
     .default_value = "3",
     .help = "records a good page gives"},
    {.name = "file", .type = MF_OPT_STRING, .help = "where fork and report write"},
    {.name = NULL},
};

static void hx_segv(void)
{
	/* Through a volatile: the compiler must not turn it into a trap. */
	volatile uintptr_t address = 0;
	*(volatile int *)address = 1;
}

static void hx_alloc(void)
{
	const size_t chunk = (size_t)16 << 20;
	for (;;) {
		char *p = malloc(chunk);
		if (!p)
			abort(); /* what xmalloc-style code does when refused */
		memset(p, 0x5a, chunk);
	}
}

static void hx_garbage(void)
{
	static const char junk[] = "\xff\xfe not a record stream \x00\x01\x02 R E";
	for (int fd = 3; fd < 1024; fd++) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
			ssize_t n = write(fd, junk, sizeof junk);
			(void)n;
		}
	}
}

static void hx_flood(void)
{
	for (;;)
		hx_garbage();
}

static void hx_fork(const char *file)
{
	pid_t pid = fork();
	if (pid == 0) {
		/* Holds the record pipe open and would live forever. */
		for (;;)
			pause();
	}
	FILE *f = file ? fopen(file, "w") : NULL;
	if (f) {
		fprintf(f, "%ld\n", (long)pid);
		fclose(f);
	}
}

static void hx_print(void)
{
	/* Flushed: the process leaves with _exit, stdio buffers unwritten. */
	fputs("hx_hostile was here\n", stdout);
	fflush(stdout);
}

static void hx_report(const char *file)
{
	struct rlimit core = {0}, as = {0};
	getrlimit(RLIMIT_CORE, &core);
	getrlimit(RLIMIT_AS, &as);
	FILE *f = file ? fopen(file, "w") : NULL;
	if (!f)
		return;
	fprintf(f, "core=%lld as=%lld dumpable=%d\n",
		core.rlim_cur == RLIM_INFINITY ? -1LL : (long long)core.rlim_cur,
		as.rlim_cur == RLIM_INFINITY ? -1LL : (long long)as.rlim_cur,
		prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	fclose(f);
}

static void hx_noid(const struct mf_host *host, struct mf_context *ctx)
{
	struct mf_record *rec = host->record_new(ctx, MF_RECORD_MODEL, "");
	if (rec)
		host->emit(ctx, rec);
	rec = host->record_new(ctx, MF_RECORD_MODEL, NULL);
	if (rec)
		host->emit(ctx, rec);
}

static void hx_huge(const struct mf_host *host, struct mf_context *ctx)
{
	/* Larger than the stream's 64 MiB frame limit. */
	size_t n = (size_t)65 << 20;
	char *text = malloc(n + 1);
	if (!text)
		return;
	memset(text, 'h', n);
	text[n] = '\0';
	struct mf_record *rec = host->record_new(ctx, MF_RECORD_MODEL, "hx-huge");
	if (rec) {
		host->set_string(rec, MF_FIELD_DESCRIPTION, text);
		host->emit(ctx, rec);
	}
	free(text);
}

/* Misbehave if this is the place; returns normally for what carries on. */
static void hx_maybe(const struct mf_host *host, struct mf_context *ctx, const char *here)
{
	const char *where = host->option_string(ctx, "where");
	const char *what = host->option_string(ctx, "what");
	if (!where || !what || strcmp(where, here) != 0)
		return;
	if (strcmp(what, "segv") == 0)
		hx_segv();
	else if (strcmp(what, "abort") == 0)
		abort();
	else if (strcmp(what, "exit") == 0)
		_exit(3);
	else if (strcmp(what, "exit0") == 0)
		_exit(0);
	else if (strcmp(what, "loop") == 0)
		for (volatile unsigned long spins = 0;; spins++)
			;
	else if (strcmp(what, "alloc") == 0)
		hx_alloc();
	else if (strcmp(what, "garbage") == 0)
		hx_garbage();
	else if (strcmp(what, "silent") == 0)
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	else if (strcmp(what, "noid") == 0)
		hx_noid(host, ctx);
	else if (strcmp(what, "flood") == 0)
		hx_flood();
	else if (strcmp(what, "fork") == 0)
		hx_fork(host->option_string(ctx, "file"));
	else if (strcmp(what, "stdout") == 0)
		hx_print();
	else if (strcmp(what, "huge") == 0)
		hx_huge(host, ctx);
	else if (strcmp(what, "report") == 0)
		hx_report(host->option_string(ctx, "file"));
}

static int hx_init(const struct mf_host *host, struct mf_context *ctx, void **state)
{
	*state = NULL;
	hx_maybe(host, ctx, "init");
	return MF_OK;
}

static int hx_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
		    const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	hx_maybe(host, ctx, "fetch");
	return prev ? MF_DONE : host->request_set_url(req, host->source_url(ctx));
}

static int hx_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			const struct mf_page *page)
{
	(void)state;
	(void)page;
	hx_maybe(host, ctx, "normalize");
	int64_t n = host->option_int(ctx, "records");
	for (int64_t i = 1; i <= n; i++) {
		char id[32];
		snprintf(id, sizeof id, "hx-%lld", (long long)i);
		struct mf_record *rec = host->record_new(ctx, MF_RECORD_MODEL, id);
		if (!rec)
			return MF_ENOMEM;
		host->set_string(rec, MF_FIELD_NAME, id);
		if (host->emit(ctx, rec) != MF_OK)
			return MF_ERROR;
	}
	return MF_OK;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
    .abi_major = MF_ABI_MAJOR,
    .abi_minor = MF_ABI_MINOR,
    .struct_size = sizeof(struct mf_plugin),
    .name = "hx_hostile",
    .version = "1.0.0",
    .description = "hostile fixture: crashes, hangs, floods or lies where told",
    .options = hx_options,
    .init = hx_init,
    .fetch = hx_fetch,
    .normalize = hx_normalize,
};
