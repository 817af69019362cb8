/* The `gostsign` command: one function per subcommand, plus shared reporting helpers. */
#ifndef GOSTSIGN_CLI_H
#define GOSTSIGN_CLI_H

#include "gost.h"

/* Subcommands; each returns the process exit status (0, or the failing error number). */
int cmd_digest(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_sign_agent(int argc, char **argv);
int cmd_token(int argc, char **argv);
/* `token change-pin` / `token unblock` (cmd_token_pin.c), argv[0] being the subcommand. */
int cmd_token_pin(int argc, char **argv, int unblock);
int cmd_tokens(int argc, char **argv);
int cmd_certs(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_browser(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_errors(int argc, char **argv);
int cmd_paramsets(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_trust(int argc, char **argv);

#include <stdbool.h>

/*
 * Prints a failure with its code, detail and fix in the language of the locale (LC_ALL,
 * LC_MESSAGES, LANG: ru* is Russian, anything else English); returns the exit code.
 */
int cli_report(const gs_status *st);
/* The same for a bare code with an optional detail. */
int cli_report_code(gs_code code, const char *detail);

/* Whether the locale asks for Russian messages. */
bool cli_russian(void);
/* The Russian or the English text, by the locale: one language per line, never both. */
const char *cli_text(const char *ru, const char *en);

/* Prints the help page of a subcommand (cli/help.c) to stdout; returns 0. */
int cli_help(const char *command);
/* Whether the arguments ask for help (--help anywhere, or -h first). */
bool cli_wants_help(int argc, char **argv);

/* Warns on stderr when the accredited-CA list is older than GS_TRUST_MAX_AGE_DAYS at `now`;
 * returns 1 then, else 0. */
int cli_warn_trust_age(const gs_trust_list *l, time_t now);

/*
 * Runs the helper program `name` (cli/helper.c: next to gostsign, else in LIBEXECDIR/gostsign) in
 * place of this process with argv as it is, so that its output and exit status are the
 * command's. Returns only when it cannot: HELPER_MISSING, reported.
 */
int cli_run_helper(const char *name, char **argv);
/* The `gostsign` command, for a helper that runs it: the one that ran the helper, else the one
 * next to the helper, else the one in BINDIR. */
void cli_main_program(char *out, size_t cap);
/* What every helper program does first, as `gostsign` does: OpenSSL without openssl.cnf; and,
 * the helper being elsewhere, gostsign-agent from next to `gostsign` when it starts the agent. */
void cli_helper_init(void);
/* `gostsign trust update` (cli/cmd_trust_update.c, the gostsign-trust-update helper). */
int cmd_trust_update(int argc, char **argv);

/* Shortcut for usage errors: prints the message and the usage line, returns GS_ERR_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * For a state the code before it rules out (a callee that always sets st or its out-pointer
 * when it succeeds): an INTERNAL failure instead of a crash. Inline, so that the static
 * analyzer sees the code it returns.
 */
static inline gs_code cli_cannot_happen(gs_status *st, const char *what)
{
    gs_fail(st, GS_ERR_INTERNAL, "%s", what);
    return GS_ERR_INTERNAL;
}

#endif
