/* Shared bits of the loader's fixture plugins: each fixture is a real .so
 * built like a third-party plugin and broken in exactly one way, so these
 * stubs stand in for the callbacks that are not the point of the fixture. */
#ifndef FX_COMMON_H
#define FX_COMMON_H

#include <stddef.h>
#include <modelfuse/plugin.h>

/* Fetch one page from the source URL, then stop. */
static inline int fx_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			   const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	if (prev)
		return MF_DONE;
	return host->request_set_url(req, host->source_url(ctx));
}

static inline int fx_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			       const struct mf_page *page)
{
	(void)host;
	(void)ctx;
	(void)state;
	(void)page;
	return MF_OK;
}

#endif
