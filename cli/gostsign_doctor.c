/*
 * gostsign-doctor: the helper program `gostsign doctor` runs (cli/helper.c), so that the doctor's
 * libraries (libudev, pcsc-lite) are loaded only for it. Installed in LIBEXECDIR/gostsign; its
 * arguments are those of `gostsign doctor`: "doctor", then the options.
 */
#include "cli.h"

#include <openssl/crypto.h>

/* The same start as `gostsign`'s, then the walk. */
int main(int argc, char **argv)
{
    /* As the command: never openssl.cnf, GOST comes from gost_init(). */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    return cmd_doctor(argc, argv);
}
