/*
 * gostsign-doctor: the helper program `gostsign doctor` runs (cli/helper.c), so that the doctor's
 * libraries (libudev, pcsc-lite) are loaded only for it. Installed in LIBEXECDIR/gostsign; its
 * arguments are those of `gostsign doctor`: "doctor", then the options.
 */
#include "cli.h"

/* The same start as `gostsign`'s, then the walk. */
int main(int argc, char **argv)
{
    cli_helper_init();
    return cmd_doctor(argc, argv);
}
