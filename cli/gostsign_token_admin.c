/*
 * gostsign-token-admin: the helper program `gostsign token` and `gostsign import` run
 * (cli/helper.c), the parts of the command that open PKCS#11 modules themselves (p11-kit), ask
 * for a PIN or a password through pinentry (libassuan) and write the audit log to the journal
 * (libsystemd); everyday commands go through the agent and load none of these. Installed in
 * LIBEXECDIR/gostsign; its arguments are the command's: "token" or "import", then the options.
 */
#include "cli.h"

#include <string.h>

/* The same start as `gostsign`'s, then the command argv[0] names. */
int main(int argc, char **argv)
{
    cli_helper_init();
    if (argc > 0 && strcmp(argv[0], "import") == 0)
        return cmd_import(argc, argv);
    if (argc > 0 && strcmp(argv[0], "token") == 0)
        return cmd_token(argc, argv);
    return cli_usage_error("gostsign token|import ...", "the helper runs `token` or `import`");
}
