/*
 * gostsign-trust-update: the helper program `gostsign trust update` runs (cli/helper.c), the one
 * part of the command that reads XML (libxml2, with ICU) and speaks HTTPS (libssl). Installed in
 * LIBEXECDIR/gostsign; its arguments are those of `gostsign trust`: "trust", "update", options.
 */
#include "cli.h"

#include <openssl/crypto.h>

/* The same start as `gostsign`'s, then the update. */
int main(int argc, char **argv)
{
    /* As the command: never openssl.cnf, GOST comes from gost_init(). */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    return cmd_trust_update(argc, argv);
}
