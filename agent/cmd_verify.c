/* `gostsign verify`: checks a CMS/CAdES-BES signature and prints who signed and when. */
#include "cli.h"
#include "cms.h"
#include "gost.h"
#include "qcert.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERIFY_USAGE                                                                               \
    "gostsign verify [--content FILE] [--ca-dir DIR] [--ca-file FILE] [--crl FILE] SIG.p7s"

/* Largest signature file read into memory (attached signatures carry their content). */
#define VERIFY_MAX_SIG ((size_t)1 << 30)

/* Options after parsing. */
typedef struct {
    const char *content, *ca_dir, *ca_file, *crl, *sig;
} verify_args;

/* --help text: states plainly what is and is not checked without --ca-dir. */
static void print_verify_help(void)
{
    printf("usage: %s\n\n"
           "Verifies a CMS SignedData (CAdES-BES) signature, PEM or DER (.p7s, .sig):\n"
           "the signature value, the signed digest of the content, the signer certificate\n"
           "(signer identifier and signingCertificateV2), its validity at the signing time\n"
           "(GOST R 34.10-2001 refused), and, with --ca-dir/--ca-file, the chain to a trusted\n"
           "root at the signing time and, with --crl, revocation.\n\n"
           "  --content FILE  the signed file (detached signatures; read in constant memory)\n"
           "  --ca-dir DIR    trust directory with hashed links (`openssl rehash DIR`)\n"
           "  --ca-file FILE  PEM bundle of trusted root/intermediate certificates\n"
           "  --crl FILE      CRL (PEM or DER) of the signer's issuer; needs --ca-dir/--ca-file\n\n"
           "Without --ca-dir or --ca-file the chain is NOT checked: the command still verifies\n"
           "everything else and exits 0 for a valid signature, but prints\n"
           "\"Цепочка / Chain: НЕ ПРОВЕРЕНА / NOT CHECKED\" and a warning, because then anyone\n"
           "could have issued the certificate. Pass --ca-dir to know who signed.\n\n"
           "Exit status: 0 when valid, otherwise the error number (see `gostsign errors`).\n",
           VERIFY_USAGE);
}

/* Parses the command line; returns -1 to continue, or an exit status. */
static int parse_verify_args(int argc, char **argv, verify_args *a)
{
    static const struct option opts[] = {
        { "content", required_argument, NULL, 'c' }, { "ca-dir", required_argument, NULL, 'd' },
        { "ca-file", required_argument, NULL, 'f' }, { "crl", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 }
    };
    int c;
    memset(a, 0, sizeof(*a));
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->content = optarg;
            break;
        case 'd':
            a->ca_dir = optarg;
            break;
        case 'f':
            a->ca_file = optarg;
            break;
        case 'r':
            a->crl = optarg;
            break;
        case 'h':
            print_verify_help();
            return 0;
        default:
            return cli_usage_error(VERIFY_USAGE, "unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(VERIFY_USAGE, "give exactly one signature file");
    if (a->crl && !a->ca_dir && !a->ca_file)
        return cli_usage_error(VERIFY_USAGE, "--crl needs --ca-dir or --ca-file to check it");
    a->sig = argv[optind];
    return -1;
}

/* Reads the signature file into memory. */
static gs_code read_sig_file(const char *path, uint8_t **out, size_t *len, gs_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
    size_t cap = 0, n = 0;
    uint8_t *buf = NULL;
    gs_code rc = GS_ERR_OK;
    for (;;) {
        if (n == cap) {
            uint8_t *nb = cap >= VERIFY_MAX_SIG ? NULL : realloc(buf, cap ? cap * 2 : 65536);
            if (!nb) {
                rc = gs_fail(st, GS_ERR_CMS_PARSE, "%s: too large for a signature file", path);
                break;
            }
            buf = nb;
            cap = cap ? cap * 2 : 65536;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (rc == GS_ERR_OK && ferror(f))
        rc = gs_fail(st, GS_ERR_IO_ERROR, "%s: read error", path);
    fclose(f);
    if (rc != GS_ERR_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return GS_ERR_OK;
}

/* UTC time as "2026-01-31 12:00:00 UTC". */
static void format_utc(time_t t, char *out, size_t cap)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(out, cap, "%lld", (long long)t);
}

/* Characters (not bytes) in a UTF-8 string, so Cyrillic labels line up. */
static int utf8_width(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* One "label: value" line, skipped when the value is absent. */
static void print_field(const char *label, const char *value)
{
    if (value && *value)
        printf("  %s%*s %s\n", label, 34 - utf8_width(label), "", value);
}

/* The signer as a person and organisation, with the Russian registration numbers. */
static void print_signer(const gs_cert *c)
{
    char *summary = gs_cert_owner_summary(c);
    print_field("Подписант / Signer:", summary);
    free(summary);
    print_field("Владелец / Owner:", c->subject.cn);
    print_field("Должность / Title:", c->subject.t);
    print_field("Организация / Organisation:", c->subject.o);
    print_field("ИНН / INN:", c->subject.inn);
    print_field("ИНН ЮЛ / INNLE:", c->subject.innle);
    print_field("ОГРН / OGRN:", c->subject.ogrn);
    print_field("ОГРНИП / OGRNIP:", c->subject.ogrnip);
    print_field("СНИЛС / SNILS:", c->subject.snils);
    print_field("Издатель / Issuer:", c->issuer.cn);
    print_field("Серийный номер / Serial:", c->serial_hex);
    char from[40], to[40], line[100];
    format_utc(c->not_before, from, sizeof(from));
    format_utc(c->not_after, to, sizeof(to));
    snprintf(line, sizeof(line), "%s .. %s", from, to);
    print_field("Действителен / Valid:", line);
}

/* The verdict lines: signing time, content, chain and revocation status. */
static void print_checks(const gs_cms_verify_result *r, const verify_args *a)
{
    char when[40], line[600];
    format_utc(r->signing_time, when, sizeof(when));
    snprintf(line, sizeof(line), "%s%s", when,
             r->has_signing_time ? ""
                                 : " (не указано в подписи, взято текущее / not stated, "
                                   "current time used)");
    print_field("Время подписи / Signing time:", line);
    snprintf(line, sizeof(line), "%s, Streebog-%d%s",
             r->attached ? "прикреплённая / attached" : "отсоединённая / detached", r->digest_bits,
             r->has_signing_cert_v2 ? ", signingCertificateV2 OK"
                                    : ", без / no signingCertificateV2");
    print_field("Подпись / Signature:", line);
    if (r->chain_checked)
        snprintf(line, sizeof(line), "проверена / verified (%s)",
                 a->ca_dir ? a->ca_dir : a->ca_file);
    else
        snprintf(line, sizeof(line), "НЕ ПРОВЕРЕНА / NOT CHECKED (no --ca-dir given)");
    print_field("Цепочка / Chain:", line);
    if (r->crl_checked)
        snprintf(line, sizeof(line), "не отозван / not revoked (%s)", a->crl);
    else
        snprintf(line, sizeof(line), "не проверялся / not checked (no --crl given)");
    print_field("Отзыв / Revocation:", line);
}

/* Runs the verification with the content file opened for streaming. */
static gs_code run_verify(const verify_args *a, const uint8_t *sig, size_t sig_len,
                          gs_cms_verify_result *res, gs_status *st)
{
    gs_cms_verify_opts o;
    gs_cms_verify_opts_init(&o);
    o.ca_dir = a->ca_dir;
    o.ca_file = a->ca_file;
    o.crl_file = a->crl;
    if (a->content) {
        o.content_fd = open(a->content, O_RDONLY | O_CLOEXEC);
        if (o.content_fd < 0)
            return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", a->content, strerror(errno));
    }
    gs_code rc = gs_cms_verify(sig, sig_len, &o, res, st);
    if (o.content_fd >= 0)
        close(o.content_fd);
    return rc;
}

/* `gostsign verify`: exit 0 only for a valid signature, printing the signer and the checks. */
int cmd_verify(int argc, char **argv)
{
    verify_args a;
    int early = parse_verify_args(argc, argv, &a);
    if (early >= 0)
        return early;
    gs_status st;
    gs_status_clear(&st);
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    if (read_sig_file(a.sig, &sig, &sig_len, &st) != GS_ERR_OK)
        return cli_report(&st);
    gs_cms_verify_result res;
    memset(&res, 0, sizeof(res));
    gs_code rc = run_verify(&a, sig, sig_len, &res, &st);
    free(sig);
    if (rc != GS_ERR_OK) {
        int status = cli_report(&st);
        char *who = res.signer ? gs_cert_owner_summary(res.signer) : NULL;
        if (who)
            fprintf(stderr, "  signer: %s\n", who);
        free(who);
        gs_cms_verify_result_clear(&res);
        return status;
    }
    printf("Подпись действительна / Signature is valid\n");
    print_signer(res.signer);
    print_checks(&res, &a);
    if (!res.chain_checked)
        fprintf(stderr, "gostsign: ВНИМАНИЕ: цепочка сертификатов не проверена (нет --ca-dir)\n"
                        "gostsign: WARNING: certificate chain NOT checked (no --ca-dir): the "
                        "signer's identity is not confirmed\n");
    gs_cms_verify_result_clear(&res);
    return 0;
}
