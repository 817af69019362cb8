/* Entry point of the `gostsign` command: dispatches to subcommands and reports errors uniformly.
 * doctor, token, import and trust update run helper programs (cli/helper.c) in its place. */
#include "cli.h"
#include "gostsign_version.h"
#include "gost.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

/* `gostsign doctor`: the helper gostsign-doctor, so that only the doctor loads libudev and
 * pcsc-lite; argv is the command's ("doctor", options), NULL-terminated as main's. */
static int run_doctor(int argc, char **argv)
{
    (void)argc;
    return cli_run_helper("gostsign-doctor", argv);
}

/* `gostsign token` and `gostsign import`: the helper gostsign-token-admin, so that only direct
 * token access loads p11-kit, libassuan and libsystemd; argv[0] tells it which command. */
static int run_token_admin(int argc, char **argv)
{
    (void)argc;
    return cli_run_helper("gostsign-token-admin", argv);
}

static const subcommand subcommands[] = {
    { "digest", cmd_digest, "GOST R 34.11-2012 digest of a file, as `openssl dgst` prints it" },
    { "cert", cmd_cert, "show a certificate: owner, organisation, INN/OGRN, validity" },
    { "verify", cmd_verify, "verify a CMS/CAdES-BES signature" },
    { "sign", cmd_sign, "sign a file on your token through the agent (CAdES-BES, PIN dialog)" },
    { "tokens", cmd_tokens, "tokens the agent sees (--json for scripts)" },
    { "certs", cmd_certs, "certificates that can sign, through the agent (--json)" },
    { "agent", cmd_agent, "the signing agent: status, stop, restart, unpause TOKEN" },
    { "import", run_token_admin,
      "import a GOST key + certificate from a PKCS#12 file onto a token" },
    { "browser", cmd_browser, "register the browser connector: install|uninstall|status" },
    { "token", run_token_admin,
      "tokens, their certificates, and signing on a token (PIN via pinentry)" },
    { "paramsets", cmd_paramsets, "list GOST R 34.10-2012 parameter sets and their OIDs" },
    { "trust", cmd_trust, "accredited CAs: update|list|show|status (the Ministry's list)" },
    { "errors", cmd_errors, "list error codes (--markdown for docs/errors.md)" },
    { "doctor", run_doctor,
      "check token, drivers, modules, certificates, agent, browsers (--json)" },
};

/* Top-level help. */
static void print_help(FILE *out)
{
    fprintf(out, "Usage: gostsign COMMAND [OPTIONS]\n\n"
                 "Qualified electronic signatures (GOST R 34.10-2012) for Russian tokens.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out,
            "\nRun `gostsign COMMAND --help` for a command's options, `man gostsign` for all.\n");
}

int main(int argc, char **argv)
{
    /* The command never reads openssl.cnf: GOST comes from gost_init(), not from a config. */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_help(argc < 2 ? stderr : stdout);
        return argc < 2 ? GS_ERR_USAGE : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("gostsign %s\n", GOSTSIGN_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        if (strcmp(argv[1], subcommands[i].name) != 0)
            continue;
        if (cli_wants_help(argc - 1, argv + 1))
            return cli_help(subcommands[i].name); /* every command alike: a page, exit 0 */
        return subcommands[i].run(argc - 1, argv + 1);
    }
    return cli_usage_error("gostsign COMMAND [OPTIONS]", "unknown command '%s'", argv[1]);
}
