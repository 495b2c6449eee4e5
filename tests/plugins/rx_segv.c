/* Fixture plugin: a real segmentation fault in normalize. */
#include <modelfuse/plugin.h>

#include <stdint.h>

static int rx_segv_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			 const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	return prev ? MF_DONE : host->request_set_url(req, host->source_url(ctx));
}

static int rx_segv_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			     const struct mf_page *page)
{
	(void)host;
	(void)ctx;
	(void)state;
	(void)page;
	/* Read through a volatile so the compiler cannot turn the store into a
	 * trap instruction (SIGILL): the fault must be a genuine SIGSEGV. */
	volatile uintptr_t address = 0;
	*(volatile int *)address = 1;
	return MF_OK;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "rx_segv",
	.version = "1.0.0",
	.description = "runner fixture: segfaults in normalize",
	.fetch = rx_segv_fetch,
	.normalize = rx_segv_normalize,
};
