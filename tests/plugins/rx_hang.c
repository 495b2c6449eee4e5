/* Fixture plugin: spins forever in fetch. */
#include <modelfuse/plugin.h>

static int rx_hang_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			 const struct mf_page *prev, struct mf_request *req)
{
	(void)host;
	(void)ctx;
	(void)state;
	(void)prev;
	(void)req;
	volatile unsigned long spins = 0;
	for (;;)
		spins++;
	return MF_DONE;
}

static int rx_hang_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			     const struct mf_page *page)
{
	(void)host;
	(void)ctx;
	(void)state;
	(void)page;
	return MF_OK;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "rx_hang",
	.version = "1.0.0",
	.description = "runner fixture: never returns from fetch",
	.fetch = rx_hang_fetch,
	.normalize = rx_hang_normalize,
};
