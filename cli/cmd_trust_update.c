/*
 * `gostsign trust update [--tsl FILE | --online ...] [--system]`: reads the Ministry's list (XML,
 * libxml2; online over HTTPS, libssl) and writes the store. Built into the helper program
 * gostsign-trust-update, which `gostsign trust update` runs, so that no other command loads
 * libxml2, ICU and libssl. An update that fails in any way keeps the old store.
 */
#include "cli.h"
#include "cmd_trust.h"
#include "gost.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads a whole file for --tsl. */
static gs_code read_tsl_file(const char *path, uint8_t **out, size_t *len, gs_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf && (n += fread(buf + n, 1, cap - n, f)) == cap && cap < GS_TSL_MAX_SIZE + 1) {
        uint8_t *grown = realloc(buf, cap * 2);
        if (!grown)
            free(buf);
        buf = grown;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return gs_fail(st, bad ? GS_ERR_IO_ERROR : GS_ERR_OUT_OF_MEMORY, "%s: cannot read", path);
    }
    *out = buf;
    *len = n;
    return GS_ERR_OK;
}

/* The bytes of the list from the file or the network. */
static gs_code obtain_tsl(const trust_args *a, const char **source, uint8_t **data, size_t *len,
                          gs_status *st)
{
    if (a->tsl) {
        *source = a->tsl;
        return read_tsl_file(a->tsl, data, len, st);
    }
    const char *env_url = getenv("GOSTSIGN_TSL_URL"), *env_ca = getenv("GOSTSIGN_TSL_CA_FILE");
    *source = a->url ? a->url : env_url && *env_url ? env_url : GS_TSL_URL;
    const char *ca = a->tls_ca ? a->tls_ca : env_ca && *env_ca ? env_ca : NULL;
    return gs_tsl_fetch(*source, ca, a->timeout, data, len, st);
}

/* Reports a failed update; the store was not touched. */
static int update_failed(const gs_status *st, const char *root)
{
    int rc = cli_report(st);
    fprintf(stderr,
            cli_text("gostsign: хранилище %s не изменено\n",
                     "gostsign: the store %s was left as it was\n"),
            root);
    return rc;
}

/* `trust update`. */
static int trust_update(const trust_args *a)
{
    if (!a->tsl == !a->online)
        return cli_usage_error(TRUST_USAGE, "give --tsl FILE or --online");
    if (a->system && geteuid() != 0 && !getenv("GOSTSIGN_TRUST_SYSTEM_DIR"))
        return cli_usage_error(TRUST_USAGE, "--system needs root (sudo), or use the user store");
    char root[PATH_MAX];
    if (gs_trust_root(a->system, root, sizeof(root)) != 0)
        return cli_usage_error(TRUST_USAGE, "no HOME or XDG_DATA_HOME for the user store");
    gs_status st;
    gs_status_clear(&st);
    const char *source = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    if (obtain_tsl(a, &source, &data, &len, &st) != GS_ERR_OK)
        return update_failed(&st, root);
    gs_trust_list *l = gs_tsl_parse(data, len, &st);
    free(data);
    time_t now = time(NULL);
    if (!l || gs_trust_store_write(l, root, source, now, &st) != GS_ERR_OK) {
        gs_trust_list_free(l);
        return update_failed(&st, root);
    }
    char date[16];
    trust_day(l->date, date, sizeof(date));
    printf(cli_text("Список аккредитованных УЦ обновлён: %s\n"
                    "  версия %s от %s; УЦ %zu, аккредитованы %zu",
                    "List of accredited CAs updated: %s\n"
                    "  version %s dated %s; authorities %zu, accredited %zu"),
           root, l->version, date, l->ca_count, gs_trust_active_count(l));
    printf(l->skipped_certs ? cli_text("; пропущено нечитаемых сертификатов: %zu\n",
                                       "; unreadable certificates skipped: %zu\n")
                            : "\n",
           l->skipped_certs);
    cli_warn_trust_age(l, now);
    gs_trust_list_free(l);
    return 0;
}

/* argv as `gostsign trust` gets it: "trust", "update", the options. */
int cmd_trust_update(int argc, char **argv)
{
    trust_args a;
    if (argc < 2 || strcmp(argv[1], "update") != 0)
        return cli_usage_error(TRUST_USAGE, "the helper only updates the store");
    int early = trust_parse_args(argc - 1, argv + 1, &a);
    return early >= 0 ? early : trust_update(&a);
}
