/* placeholder: `gostsign cert show` */
#include "cli.h"
int cmd_cert(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return GS_ERR_NOT_SUPPORTED;
}
