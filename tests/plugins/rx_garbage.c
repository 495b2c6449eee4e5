/* Fixture plugin: writes garbage into every pipe it can find (the record
 * stream among them), then returns normally without fetching anything. */
#include <modelfuse/plugin.h>

#include <sys/stat.h>
#include <unistd.h>

static int rx_garbage_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			    const struct mf_page *prev, struct mf_request *req)
{
	(void)host;
	(void)ctx;
	(void)state;
	(void)prev;
	(void)req;
	static const char junk[] = "\xff\xfe garbage \x00\x01\x02 not a frame";
	for (int fd = 3; fd < 1024; fd++) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
			ssize_t n = write(fd, junk, sizeof junk);
			(void)n;
		}
	}
	return MF_DONE;
}

static int rx_garbage_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
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
	.name = "rx_garbage",
	.version = "1.0.0",
	.description = "runner fixture: writes garbage into its pipes",
	.fetch = rx_garbage_fetch,
	.normalize = rx_garbage_normalize,
};
