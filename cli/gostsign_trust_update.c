/*
 * gostsign-trust-update: the helper program `gostsign trust update` runs (cli/helper.c), the one
 * part of the command that reads XML (libxml2, with ICU) and speaks HTTPS (libssl). Installed in
 * LIBEXECDIR/gostsign; its arguments are those of `gostsign trust`: "trust", "update", options.
 */
#include "cli.h"

/* The same start as `gostsign`'s, then the update. */
int main(int argc, char **argv)
{
    cli_helper_init();
    return cmd_trust_update(argc, argv);
}
