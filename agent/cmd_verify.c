/* placeholder: `gostsign verify` */
#include "cli.h"
int cmd_verify(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return GS_ERR_NOT_SUPPORTED;
}
