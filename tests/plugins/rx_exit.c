/* Fixture plugin: leaves the process in the middle of normalize, after
 * emitting one record. Option `how`: "exit3" calls _exit(3), "exit0" calls
 * exit(0) (a clean exit status, but no end frame). */
#include <modelfuse/plugin.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct mf_option rx_exit_options[] = {
	{.name = "how", .type = MF_OPT_STRING, .default_value = "exit3",
	 .help = "exit3 or exit0"},
	{.name = NULL},
};

static int rx_exit_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			 const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	return prev ? MF_DONE : host->request_set_url(req, host->source_url(ctx));
}

static int rx_exit_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			     const struct mf_page *page)
{
	(void)state;
	(void)page;
	struct mf_record *rec = host->record_new(ctx, MF_RECORD_OFFERING, "before-exit");
	if (rec)
		host->emit(ctx, rec);
	const char *how = host->option_string(ctx, "how");
	if (how && strcmp(how, "exit0") == 0)
		exit(0);
	_exit(3);
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "rx_exit",
	.version = "1.0.0",
	.description = "runner fixture: exits in normalize",
	.options = rx_exit_options,
	.fetch = rx_exit_fetch,
	.normalize = rx_exit_normalize,
};
