/* `gostsign digest`: Streebog digest printed byte-for-byte like `openssl dgst -md_gost12_*`. */
#include "cli.h"
#include "gost.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIGEST_USAGE "gostsign digest [--bits 256|512] FILE|-"

/* Hashes one named input (or stdin for "-") and prints "md_gost12_N(NAME)= HEX". */
static int digest_one(int bits, const char *path)
{
    gs_status st;
    gs_status_clear(&st);
    int is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        gs_fail(&st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
        return cli_report(&st);
    }
    uint8_t md[GOST_MAX_DIGEST];
    gs_code rc = gost_digest_fd(bits, fd, md, &st);
    if (!is_stdin)
        close(fd);
    if (rc != GS_ERR_OK)
        return cli_report(&st);
    char hex[2 * GOST_MAX_DIGEST + 1];
    gost_hex(md, (size_t)bits / 8, hex);
    printf("md_gost12_%d(%s)= %s\n", bits, is_stdin ? "stdin" : path, hex);
    return 0;
}

int cmd_digest(int argc, char **argv)
{
    static const struct option opts[] = { { "bits", required_argument, NULL, 'b' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    int bits = 256, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
        if (c == 'h') {
            printf("usage: %s\n", DIGEST_USAGE);
            return 0;
        }
        if (c != 'b')
            return cli_usage_error(DIGEST_USAGE, "unknown option");
        if (strcmp(optarg, "256") != 0 && strcmp(optarg, "512") != 0)
            return cli_usage_error(DIGEST_USAGE, "--bits must be 256 or 512, not '%s'", optarg);
        bits = atoi(optarg);
    }
    if (optind >= argc)
        return cli_usage_error(DIGEST_USAGE, "no input file");
    int status = 0;
    for (int i = optind; i < argc; i++) {
        int rc = digest_one(bits, argv[i]);
        if (rc != 0)
            status = rc;
    }
    return status;
}
