/*
 * The helper programs of the `gostsign` command. The rarely used parts that need heavy libraries
 * (the doctor: libudev, pcsc-lite; `trust update`: libxml2 with ICU, libssl) are programs of their
 * own in LIBEXECDIR/gostsign, so that everyday commands do not pay for loading them. The command
 * runs a helper in its own place (execv: same arguments, same terminal, same exit status), found
 * next to the command first (the build tree), then in LIBEXECDIR/gostsign; it tells the helper
 * where it is ($GOSTSIGN_CLI), so that a helper runs the same command again when it needs it.
 */
#include "agent.h"
#include "cli.h"
#include "gostsign_version.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

/*
 * Whether a folder named in the environment may give the programs this command becomes: only
 * one of this very user that nobody else may write to. `sudo -E gostsign trust update
 * --system` then never runs a helper a user put there as root.
 */
static int own_private_dir(const char *dir)
{
    struct stat sb;
    return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && sb.st_uid == geteuid() &&
           !(sb.st_mode & (S_IWGRP | S_IWOTH));
}

/* The folder of installed helpers: $GOSTSIGN_LIBEXEC_DIR (tests), else the configured one. */
static const char *helper_dir(void)
{
    const char *env = getenv("GOSTSIGN_LIBEXEC_DIR");
    return env && *env && own_private_dir(env) ? env : GOSTSIGN_LIBEXECDIR;
}

int cli_run_helper(const char *name, char **argv)
{
    char path[PATH_MAX];
    gs_status st;
    gs_status_clear(&st);
    if (agent_helper_program(name, helper_dir(), path, sizeof(path)) != 0) {
        gs_fail(&st, GS_ERR_HELPER_MISSING, "%s is neither next to gostsign nor in %s", name,
                helper_dir());
        return cli_report(&st);
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) { /* the helper runs this very command when it needs it (cli_main_program) */
        self[n] = '\0';
        setenv("GOSTSIGN_CLI", self, 1);
    }
    fflush(NULL);
    execv(path, argv);
    gs_fail(&st, GS_ERR_HELPER_MISSING, "%s: %s", path, strerror(errno));
    return cli_report(&st);
}

/* The command that ran this helper ($GOSTSIGN_CLI, cli_run_helper sets it), kept by
 * cli_helper_init; empty when the helper was started some other way. */
static char running_cli[PATH_MAX];

void cli_main_program(char *out, size_t cap)
{
    if (running_cli[0])
        snprintf(out, cap, "%s", running_cli);
    else if (agent_helper_program("gostsign", GOSTSIGN_BINDIR, out, cap) != 0)
        snprintf(out, cap, "%s/gostsign", GOSTSIGN_BINDIR);
}

/* Keeps the command that ran this helper ($GOSTSIGN_CLI) for this helper only, not for the
 * programs it starts. */
static void remember_running_cli(void)
{
    const char *by = getenv("GOSTSIGN_CLI");
    if (by && *by && strlen(by) < sizeof(running_cli) && access(by, X_OK) == 0)
        snprintf(running_cli, sizeof(running_cli), "%s", by);
    unsetenv("GOSTSIGN_CLI");
}

/* The agent client starts gostsign-agent from next to the running program, which a helper is
 * not: names the one next to the command in $GOSTSIGN_AGENT_BIN, unless the user named one. */
static void name_agent_next_to_cli(void)
{
    const char *env = getenv("GOSTSIGN_AGENT_BIN");
    char cli[PATH_MAX], agent[PATH_MAX];
    cli_main_program(cli, sizeof(cli));
    char *slash = strrchr(cli, '/');
    if ((env && *env) || !slash)
        return;
    *slash = '\0';
    int len = snprintf(agent, sizeof(agent), "%s/gostsign-agent", cli);
    if (len > 0 && (size_t)len < sizeof(agent) && access(agent, X_OK) == 0)
        setenv("GOSTSIGN_AGENT_BIN", agent, 1);
}

void cli_helper_init(void)
{
    /* As the command: never openssl.cnf, GOST comes from gost_init(). */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    remember_running_cli();
    name_agent_next_to_cli();
}
