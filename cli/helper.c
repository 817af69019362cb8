/*
 * The helper programs of the `gostsign` command. The rarely used parts that need heavy libraries
 * (the doctor: libudev, pcsc-lite; `trust update`: libxml2 with ICU, libssl) are programs of their
 * own in LIBEXECDIR/gostsign, so that everyday commands do not pay for loading them. The command
 * runs a helper in its own place (execv: same arguments, same terminal, same exit status), and a
 * helper finds the command again for what it asks of it. Both look next to themselves first (the
 * build tree), then in the installed folders.
 */
#include "agent.h"
#include "cli.h"
#include "gostsign_version.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The folder of installed helpers: $GOSTSIGN_LIBEXEC_DIR (tests), else the configured one. */
static const char *helper_dir(void)
{
    const char *env = getenv("GOSTSIGN_LIBEXEC_DIR");
    return env && *env ? env : GOSTSIGN_LIBEXECDIR;
}

/* A program next to this one, else in `dir`; 0 when it is there and executable. */
static int find_program(const char *name, const char *dir, char *out, size_t cap)
{
    if (agent_sibling_program(name, out, cap) == 0)
        return 0;
    int len = snprintf(out, cap, "%s/%s", dir, name);
    return len > 0 && (size_t)len < cap && access(out, X_OK) == 0 ? 0 : -1;
}

int cli_run_helper(const char *name, char **argv)
{
    char path[PATH_MAX];
    gs_status st;
    gs_status_clear(&st);
    if (find_program(name, helper_dir(), path, sizeof(path)) != 0) {
        gs_fail(&st, GS_ERR_HELPER_MISSING, "%s is neither next to gostsign nor in %s", name,
                helper_dir());
        return cli_report(&st);
    }
    fflush(NULL);
    execv(path, argv);
    gs_fail(&st, GS_ERR_HELPER_MISSING, "%s: %s", path, strerror(errno));
    return cli_report(&st);
}

void cli_main_program(char *out, size_t cap)
{
    if (find_program("gostsign", GOSTSIGN_BINDIR, out, cap) != 0)
        snprintf(out, cap, "%s/gostsign", GOSTSIGN_BINDIR);
}
