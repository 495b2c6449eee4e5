#include "mf_build_config.h"
#include "host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "log.h"
#include "record.h"
#include "util.h"

void context_init(struct mf_context *ctx, const struct config *cfg, const struct source_config *src,
		  const struct mf_plugin *plugin, record_sink_fn sink, void *sink_arg)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->cfg = cfg;
	ctx->source = src;
	ctx->plugin = plugin;
	ctx->url = src && src->url ? src->url : plugin->default_url;
	ctx->sink = sink;
	ctx->sink_arg = sink_arg;
}

int record_array_sink(void *arg, struct mf_record *rec)
{
	record_array_push(arg, rec);
	return MF_OK;
}

static const char *host_instance_name(struct mf_context *ctx)
{
	return ctx->source ? ctx->source->name : ctx->plugin->name;
}

/* The attribute lets the compiler check the forwarding (clang's
 * -Wformat-nonliteral), as plugin.h does for the callers. */
static void host_log(struct mf_context *ctx, enum mf_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void host_log(struct mf_context *ctx, enum mf_log_level level, const char *fmt, ...)
{
	va_list ap;
	if (level <= MF_LOG_INFO) {
		va_start(ap, fmt);
		vsnprintf(ctx->last_log, sizeof ctx->last_log, fmt, ap);
		va_end(ap);
	}
	va_start(ap, fmt);
	log_vmsg(level, host_instance_name(ctx), fmt, ap);
	va_end(ap);
}

/* The value as configured or declared; options were validated against the
 * declaration before the plugin ran, so parse failures cannot happen for
 * declared options and yield zero for undeclared ones. */
static const char *host_option_string(struct mf_context *ctx, const char *name)
{
	if (ctx->source)
		return config_option(ctx->source, ctx->plugin, name);
	for (const struct mf_option *o = ctx->plugin->options; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o->default_value;
	return NULL;
}

static int64_t host_option_int(struct mf_context *ctx, const char *name)
{
	int64_t v = 0;
	parse_int64(host_option_string(ctx, name), &v);
	return v;
}

static bool host_option_bool(struct mf_context *ctx, const char *name)
{
	bool v = false;
	parse_bool(host_option_string(ctx, name), &v);
	return v;
}

static double host_option_real(struct mf_context *ctx, const char *name)
{
	double v = 0;
	parse_double(host_option_string(ctx, name), &v);
	return v;
}

static const char *host_source_url(struct mf_context *ctx)
{
	return ctx->url;
}

static struct mf_record *host_record_new(struct mf_context *ctx, enum mf_record_kind kind,
					 const char *native_id)
{
	(void)ctx;
	if (kind != MF_RECORD_MODEL && kind != MF_RECORD_OFFERING)
		return NULL;
	return record_new(kind, native_id);
}

static int host_emit(struct mf_context *ctx, struct mf_record *rec)
{
	if (!rec)
		return MF_EINVAL;
	/* Records come from normalize only: they are kept with the payload
	 * they were made from. Emitted from init or fetch, there is nowhere
	 * to put them. */
	if (!ctx->sink) {
		ctx->rejected++;
		log_msg(MF_LOG_WARNING, host_instance_name(ctx),
			"record '%.80s' emitted outside normalize: dropped", rec->native_id);
		record_free(rec);
		return MF_EINVAL;
	}
	/* A record without an id cannot be placed anywhere: drop and count it
	 * (SPEC §7), naming the source and its position. */
	if (!rec->native_id[0]) {
		ctx->rejected++;
		log_msg(MF_LOG_WARNING, host_instance_name(ctx),
			"record %lu has no id: dropped", ctx->emitted + ctx->rejected);
		record_free(rec);
		return MF_EINVAL;
	}
	unsigned long position = ctx->emitted + ctx->rejected + 1;
	int rc = ctx->sink(ctx->sink_arg, rec);
	if (rc == MF_OK) {
		ctx->emitted++;
	} else if (rc == MF_EINVAL) {
		ctx->rejected++;
		log_msg(MF_LOG_WARNING, host_instance_name(ctx),
			"record %lu is too large to pass on: dropped", position);
	}
	return rc;
}

const struct mf_host host_table = {
	.struct_size = sizeof(struct mf_host),
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.log = host_log,
	.option_string = host_option_string,
	.option_int = host_option_int,
	.option_bool = host_option_bool,
	.option_real = host_option_real,
	.source_url = host_source_url,
	.instance_name = host_instance_name,
	.request_set_url = request_set_url,
	.request_add_header = request_add_header,
	.record_new = host_record_new,
	.record_free = record_free,
	.set_string = record_set_string,
	.set_string_n = record_set_string_n,
	.set_int = record_set_int,
	.set_bool = record_set_bool,
	.set_real = record_set_real,
	.list_add = record_list_add,
	.map_set = record_map_set,
	.map_set_decimal = record_map_set_decimal,
	.emit = host_emit,
};
