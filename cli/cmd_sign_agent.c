/*
 * `gostsign sign --cert ID FILE -o OUT.p7s` and `gostsign sign --batch --cert ID FILE... --out-dir
 * DIR`: signing on a token through the agent. Files are streamed (chunked upload, hashed by the
 * agent as they arrive) or, for a batch, hashed here and sent as digests, so any size works in
 * constant memory. The agent asks the PIN in its own dialog.
 */
#include "agent.h"
#include "cli.h"
#include "gost.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define AGENT_SIGN_USAGE                                                                           \
    "gostsign sign [--cert ID] [--attached] FILE -o OUT.p7s\n"                                     \
    "       gostsign sign --batch [--cert ID] FILE... --out-dir DIR"
#define CLI_ORIGIN  "local:gostsign"
#define CHUNK_BYTES (768 * 1024) /* base64 keeps each frame near 1 MiB */

typedef struct {
    const char *cert, *out, *out_dir;
    char chosen[64]; /* the certificate the user picked at the terminal */
    int attached, batch;
    char **files;
    int file_count;
} agent_sign_args;

/* Progress events become one line on stderr, so scripts keep a clean stdout. */
static void print_event(void *ctx, const char *event, json_object *data)
{
    (void)ctx;
    (void)data;
    if (strcmp(event, "pin-requested") == 0)
        fprintf(stderr, "%s\n",
                cli_text("Введите PIN-код в окне агента", "enter the PIN in the agent's dialog"));
}

/* Decodes the base64 CMS of a result and writes it to path. */
static gs_code write_cms(json_object *result, const char *path, gs_status *st)
{
    json_object *v;
    if (!json_object_object_get_ex(result, "cms", &v))
        return gs_fail(st, GS_ERR_INTERNAL, "agent reply without cms");
    uint8_t *der = NULL;
    size_t len = 0;
    gs_code rc = GS_ERR_OK;
    if (gs_base64_decode(json_object_get_string(v), &der, &len, st) != GS_ERR_OK) {
        rc = gs_fail(st, GS_ERR_INTERNAL, "agent returned invalid base64");
    } else {
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(der, 1, (size_t)len, f) != (size_t)len)
            rc = gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
        if (f && fclose(f) != 0 && rc == GS_ERR_OK)
            rc = gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
    }
    free(der);
    return rc;
}

/* The args of one chunk frame; the first also fixes the certificate and the mode. */
static json_object *chunk_args(const agent_sign_args *a, const uint8_t *buf, size_t n, int more,
                               int first, const char *name)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "chunk", gs_base64_json(buf, n));
    json_object_object_add(args, "more", json_object_new_boolean(more));
    if (first) {
        if (a->cert)
            json_object_object_add(args, "certificate", json_object_new_string(a->cert));
        json_object_object_add(args, "detached", json_object_new_boolean(!a->attached));
    }
    if (!more)
        agent_dialog_args(args); /* the last frame starts the PIN dialog */
    json_object_object_add(args, "document", json_object_new_string(name));
    return args;
}

/* Reads as much as fits into buf (short only at end of file). */
static ssize_t read_full(int fd, uint8_t *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Streams one file to the agent as a chunked `sign` and writes the CMS it returns. */
static gs_code sign_streamed(agent_conn *c, const agent_sign_args *a, gs_status *st)
{
    const char *path = a->files[0];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
    uint8_t *buf = malloc(CHUNK_BYTES);
    char name_buf[4096];
    snprintf(name_buf, sizeof(name_buf), "%s", path);
    const char *name = basename(name_buf);
    long id = agent_next_id(c);
    json_object *result = NULL;
    gs_code rc = buf ? GS_ERR_OK : gs_fail(st, GS_ERR_OUT_OF_MEMORY, "buffer");
    for (int first = 1; rc == GS_ERR_OK; first = 0) {
        ssize_t n = read_full(fd, buf, CHUNK_BYTES);
        if (n < 0) {
            rc = gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
            break;
        }
        int more = n == CHUNK_BYTES;
        rc = agent_call_id(c, id, "sign", CLI_ORIGIN,
                           chunk_args(a, buf, (size_t)n, more, first, name), print_event, NULL,
                           more ? NULL : &result, st);
        if (!more)
            break;
    }
    close(fd);
    free(buf);
    if (rc == GS_ERR_OK)
        rc = write_cms(result, a->out, st);
    json_object_put(result);
    return rc;
}

/* Hashes every file here (constant memory) and builds the batch array. */
static gs_code batch_digests(const agent_sign_args *a, int bits, json_object **out, gs_status *st)
{
    *out = json_object_new_array();
    for (int i = 0; i < a->file_count; i++) {
        int fd = open(a->files[i], O_RDONLY | O_CLOEXEC);
        uint8_t md[GOST_MAX_DIGEST];
        char hex[2 * GOST_MAX_DIGEST + 1];
        if (fd < 0)
            return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", a->files[i], strerror(errno));
        gs_code rc = gost_digest_fd(bits, fd, md, st);
        close(fd);
        if (rc != GS_ERR_OK)
            return rc;
        gost_hex(md, (size_t)bits / 8, hex);
        json_object *e = json_object_new_object();
        json_object_object_add(e, "digest", json_object_new_string(hex));
        json_object_object_add(e, "document", json_object_new_string(a->files[i]));
        json_object_array_add(*out, e);
    }
    return GS_ERR_OK;
}

/* Key size of the chosen certificate, asked from the agent (the digest size depends on it). */
static gs_code certificate_bits(agent_conn *c, const char *cert, int *bits, gs_status *st)
{
    json_object *list = NULL;
    gs_code rc = agent_call(c, "certificates", CLI_ORIGIN, NULL, NULL, NULL, &list, st);
    size_t n = rc == GS_ERR_OK ? json_object_array_length(list) : 0, matches = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(list, i), *id, *key, *b;
        json_object_object_get_ex(e, "id", &id);
        if (cert && strncasecmp(json_object_get_string(id), cert, strlen(cert)) != 0)
            continue;
        json_object_object_get_ex(e, "key", &key);
        json_object_object_get_ex(key, "bits", &b);
        *bits = json_object_get_int(b);
        matches++;
    }
    json_object_put(list);
    if (rc == GS_ERR_OK && matches != 1)
        rc = gs_fail(st,
                     !matches ? GS_ERR_CERT_NOT_FOUND
                     : cert   ? GS_ERR_CERT_ID_AMBIGUOUS
                              : GS_ERR_CERT_CHOICE_REQUIRED,
                     "%s", cert ? cert : "no certificate named");
    return rc;
}

/* One PIN for all files; writes DIR/<name>.p7s for each. */
static gs_code sign_batch(agent_conn *c, const agent_sign_args *a, gs_status *st)
{
    int bits = 0;
    json_object *items = NULL, *result = NULL, *sigs;
    gs_code rc = certificate_bits(c, a->cert, &bits, st);
    if (rc == GS_ERR_OK)
        rc = batch_digests(a, bits, &items, st);
    if (rc == GS_ERR_OK) {
        json_object *args = json_object_new_object();
        json_object_object_add(args, "batch", json_object_get(items));
        if (a->cert)
            json_object_object_add(args, "certificate", json_object_new_string(a->cert));
        rc = agent_call(c, "sign", CLI_ORIGIN, agent_dialog_args(args), print_event, NULL, &result,
                        st);
    }
    if (rc == GS_ERR_OK && json_object_object_get_ex(result, "signatures", &sigs)) {
        for (size_t i = 0; rc == GS_ERR_OK && i < json_object_array_length(sigs); i++) {
            char name_buf[4096], out[4200];
            snprintf(name_buf, sizeof(name_buf), "%s", a->files[i]);
            snprintf(out, sizeof(out), "%s/%s.p7s", a->out_dir, basename(name_buf));
            rc = write_cms(json_object_array_get_idx(sigs, i), out, st);
        }
        if (rc == GS_ERR_OK)
            printf(cli_text("Подписано файлов: %zu -> %s\n", "files signed: %zu -> %s\n"),
                   json_object_array_length(sigs), a->out_dir);
    }
    json_object_put(items);
    json_object_put(result);
    return rc;
}

/* Checks that OUT can be written (its folder exists and takes files, it is no folder itself). */
static gs_code check_output_file(const char *path, gs_status *st)
{
    if (!path) /* no -o: the name is derived later, in a folder already checked */
        return GS_ERR_OK;
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    const char *dir = dirname(buf);
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: is a directory", path);
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: no such directory for the signature", dir);
    if (access(dir, W_OK) != 0 || (access(path, F_OK) == 0 && access(path, W_OK) != 0))
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
    return GS_ERR_OK;
}

/* Creates --out-dir and its parents when missing (as mkdir -p), then checks it takes files. */
static gs_code prepare_out_dir(const char *dir, gs_status *st)
{
    char buf[4096];
    int n = snprintf(buf, sizeof(buf), "%s", dir);
    if (n <= 0 || (size_t)n >= sizeof(buf))
        return gs_fail(st, GS_ERR_IO_ERROR, "--out-dir is too long");
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", buf, strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: not a directory", dir);
    if (access(dir, W_OK) != 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", dir, strerror(errno));
    return GS_ERR_OK;
}

/* Every input readable and every output writable, before the agent asks for the PIN. */
static gs_code check_paths(const agent_sign_args *a, gs_status *st)
{
    for (int i = 0; i < a->file_count; i++)
        if (access(a->files[i], R_OK) != 0)
            return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", a->files[i], strerror(errno));
    if (!a->batch)
        return check_output_file(a->out, st);
    gs_code rc = prepare_out_dir(a->out_dir, st);
    for (int i = 0; rc == GS_ERR_OK && i < a->file_count; i++) {
        char name_buf[4096], out[8200];
        snprintf(name_buf, sizeof(name_buf), "%s", a->files[i]);
        snprintf(out, sizeof(out), "%s/%s.p7s", a->out_dir, basename(name_buf));
        rc = check_output_file(out, st);
    }
    return rc;
}

/* A string member of a JSON object, "" when absent. */
static const char *member(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "";
}

/* Whether a listed certificate can sign now (its status is OK). */
static bool usable(json_object *cert)
{
    json_object *status = NULL;
    json_object_object_get_ex(cert, "status", &status);
    return strcmp(member(status, "code"), "OK") == 0;
}

/* One line of the chooser: number, owner, organisation, validity, token, thumbprint. */
static void print_choice(size_t n, json_object *cert)
{
    json_object *subj = NULL, *val = NULL;
    json_object_object_get_ex(cert, "subject", &subj);
    json_object_object_get_ex(cert, "validity", &val);
    fprintf(stderr,
            cli_text("  %zu) %s, %s, действует до %s, токен %s\n     ID %s\n",
                     "  %zu) %s, %s, valid until %s, token %s\n     ID %s\n"),
            n, member(subj, "cn"), member(subj, "o"), member(val, "not_after"),
            member(cert, "token"), member(cert, "id"));
}

/* Reads the user's pick (1..count) from the terminal; 0 when none was given. */
static size_t read_choice(size_t count)
{
    fprintf(stderr, cli_text("Номер сертификата (1-%zu): ", "certificate number (1-%zu): "), count);
    char line[32];
    if (!fgets(line, sizeof(line), stdin))
        return 0;
    char *end = NULL;
    unsigned long n = strtoul(line, &end, 10);
    return end != line && n >= 1 && n <= count ? (size_t)n : 0;
}

/*
 * Without --cert and with several usable certificates the user chooses at the terminal (never
 * guessed); without a terminal it is CERT_CHOICE_REQUIRED. One certificate: the agent takes it.
 */
static gs_code choose_certificate(agent_conn *c, agent_sign_args *a, gs_status *st)
{
    json_object *list = NULL;
    gs_code rc = agent_call(c, "certificates", CLI_ORIGIN, NULL, NULL, NULL, &list, st);
    json_object *good[64];
    size_t n = 0;
    for (size_t i = 0; rc == GS_ERR_OK && i < json_object_array_length(list) && n < 64; i++)
        if (usable(json_object_array_get_idx(list, i)))
            good[n++] = json_object_array_get_idx(list, i);
    if (rc == GS_ERR_OK && n > 1 && !isatty(STDIN_FILENO))
        rc = gs_fail(st, GS_ERR_CERT_CHOICE_REQUIRED,
                     "%zu usable certificates and no terminal to choose: give --cert ID", n);
    if (rc == GS_ERR_OK && n > 1) {
        fprintf(
            stderr, "%s\n",
            cli_text("Выберите сертификат для подписи:", "choose the certificate to sign with:"));
        for (size_t i = 0; i < n; i++)
            print_choice(i + 1, good[i]);
        size_t pick = read_choice(n);
        if (pick == 0)
            rc = gs_fail(st, GS_ERR_USER_CANCELLED, "no certificate chosen");
        else
            snprintf(a->chosen, sizeof(a->chosen), "%s", member(good[pick - 1], "id"));
        a->cert = pick ? a->chosen : NULL;
    }
    json_object_put(list);
    return rc;
}

/* Parses the agent-path options; returns -1 to continue or an exit status. */
static int parse_agent_sign_args(int argc, char **argv, agent_sign_args *a)
{
    static const struct option opts[] = { { "cert", required_argument, NULL, 'c' },
                                          { "attached", no_argument, NULL, 'a' },
                                          { "batch", no_argument, NULL, 'b' },
                                          { "out", required_argument, NULL, 'o' },
                                          { "out-dir", required_argument, NULL, 'd' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    memset(a, 0, sizeof(*a));
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->cert = optarg;
            break;
        case 'a':
            a->attached = 1;
            break;
        case 'b':
            a->batch = 1;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'd':
            a->out_dir = optarg;
            break;
        case 'h':
            printf("usage: %s\n", AGENT_SIGN_USAGE);
            return 0;
        default:
            return cli_usage_error(AGENT_SIGN_USAGE, "unknown option");
        }
    }
    a->files = argv + optind;
    a->file_count = argc - optind;
    if (a->batch && (!a->out_dir || a->file_count < 1 || a->attached))
        return cli_usage_error(AGENT_SIGN_USAGE, "--batch needs --out-dir and files (detached)");
    if (!a->batch && (!a->out || a->file_count != 1))
        return cli_usage_error(AGENT_SIGN_USAGE, "give exactly one FILE and -o OUT.p7s");
    return -1;
}

int cmd_sign_agent(int argc, char **argv)
{
    agent_sign_args a;
    int early = parse_agent_sign_args(argc, argv, &a);
    if (early >= 0)
        return early;
    if (!a.files || a.file_count < 1) /* parse_agent_sign_args continues (-1) only with files */
        return cli_usage_error(AGENT_SIGN_USAGE, "give a file to sign");
    gs_status st;
    gs_status_clear(&st);
    if (check_paths(&a, &st) != GS_ERR_OK)
        return cli_report(&st);
    agent_conn *c = agent_connect(1, &st);
    gs_code rc = !c ? st.code : a.cert ? GS_ERR_OK : choose_certificate(c, &a, &st);
    if (rc == GS_ERR_OK)
        rc = a.batch ? sign_batch(c, &a, &st) : sign_streamed(c, &a, &st);
    agent_disconnect(c);
    if (rc == GS_ERR_OK && !a.batch)
        printf(cli_text("Подпись создана: %s\n", "signature written: %s\n"), a.out);
    return rc == GS_ERR_OK ? 0 : cli_report(&st);
}
