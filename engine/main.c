#include "mf_build_config.h"
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
