/* The command line (SPEC §10). */
#ifndef MF_CLI_H
#define MF_CLI_H

/* Exit statuses (SPEC §10, contract). */
enum mf_exit {
	MF_EXIT_OK = 0,          /* every enabled source fresh or cached */
	MF_EXIT_DEGRADED = 1,    /* outputs written, some source stale or failed */
	MF_EXIT_USAGE = 2,       /* usage or configuration error, nothing run */
	MF_EXIT_NO_OUTPUT = 3,   /* no records, or outputs could not be written */
	MF_EXIT_LOCKED = 4,      /* another run holds the lock */
};

int cli_main(int argc, char **argv);

#endif
