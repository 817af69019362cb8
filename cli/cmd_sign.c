/*
 * `gostsign sign`: a developer tool that makes a CAdES-BES signature with a software key file.
 * It goes through the same signer-callback path a token uses (gs_cms_sign_with_pkey calls
 * gost_sign_digest); detached content is streamed through gost_digest_fd in constant memory.
 */
#include "cli.h"
#include "gost.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#define SIGN_USAGE                                                                                 \
    "gostsign sign --key-file KEY.pem --cert CERT.pem [--attached] [--chain FILE] "                \
    "[--no-signer-cert] [--pem] FILE -o OUT.p7s"

/* Options after parsing. */
typedef struct {
    const char *key, *cert, *chain, *in, *out;
    int attached, omit_signer_cert, pem;
} sign_args;

/* --help text. */
static void print_sign_help(void)
{
    printf(
        "usage: %s\n\n"
        "Signs FILE with a GOST R 34.10-2012 private key in a PEM file (unencrypted) and writes\n"
        "a CMS SignedData (CAdES-BES: contentType, messageDigest, signingTime,\n"
        "signingCertificateV2). A developer tool: real signatures come from a token through\n"
        "the agent.\n\n"
        "  --key-file KEY.pem  private key (GOST R 34.10-2012, 256 or 512 bit)\n"
        "  --cert CERT.pem     the key's certificate (checked against the key)\n"
        "  --attached          embed FILE in the signature (FILE is read into memory);\n"
        "                      default is detached, FILE streamed in constant memory\n"
        "  --chain FILE        extra certificates (PEM) to include, e.g. intermediates\n"
        "  --no-signer-cert    do not include the signer certificate\n"
        "  --pem               write PEM instead of DER\n"
        "  -o, --out OUT.p7s   output file ('-' for standard output)\n",
        SIGN_USAGE);
}

/* Parses the command line; returns -1 to continue, or an exit status. */
static int parse_sign_args(int argc, char **argv, sign_args *a)
{
    static const struct option opts[] = { { "key-file", required_argument, NULL, 'k' },
                                          { "cert", required_argument, NULL, 'c' },
                                          { "chain", required_argument, NULL, 'C' },
                                          { "attached", no_argument, NULL, 'a' },
                                          { "no-signer-cert", no_argument, NULL, 'n' },
                                          { "pem", no_argument, NULL, 'p' },
                                          { "out", required_argument, NULL, 'o' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    int c;
    memset(a, 0, sizeof(*a));
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            a->key = optarg;
            break;
        case 'c':
            a->cert = optarg;
            break;
        case 'C':
            a->chain = optarg;
            break;
        case 'a':
            a->attached = 1;
            break;
        case 'n':
            a->omit_signer_cert = 1;
            break;
        case 'p':
            a->pem = 1;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'h':
            print_sign_help();
            return 0;
        default:
            return cli_usage_error(SIGN_USAGE, "unknown option");
        }
    }
    if (!a->key || !a->cert || !a->out)
        return cli_usage_error(SIGN_USAGE, "--key-file, --cert and -o are required");
    if (optind != argc - 1)
        return cli_usage_error(SIGN_USAGE, "give exactly one file to sign");
    a->in = argv[optind];
    return -1;
}

/* PEM password callback that refuses: encrypted keys are not supported by this tool. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Loads an unencrypted PEM private key (GOST keys need the engine, hence gost_init first). */
static EVP_PKEY *load_key(const char *path, gs_status *st)
{
    if (gost_init(st) != GS_ERR_OK)
        return NULL;
    BIO *b = BIO_new_file(path, "rb");
    EVP_PKEY *key = b ? PEM_read_bio_PrivateKey(b, NULL, no_password, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error();
    if (!key)
        gs_fail(st, b ? GS_ERR_BAD_KEY : GS_ERR_IO_ERROR,
                "%s: not a readable unencrypted PEM private key", path);
    return key;
}

/* Reads every certificate of a PEM file. */
static STACK_OF(X509) * load_chain(const char *path, gs_status *st)
{
    BIO *b = BIO_new_file(path, "rb");
    STACK_OF(X509) *certs = b ? sk_X509_new_null() : NULL;
    X509 *x;
    while (certs && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(certs, x))
            X509_free(x);
    BIO_free(b);
    ERR_clear_error();
    if (!certs || sk_X509_num(certs) == 0) {
        gs_fail(st, GS_ERR_CERT_PARSE, "%s: no PEM certificates", path);
        sk_X509_pop_free(certs, X509_free);
        return NULL;
    }
    return certs;
}

/* Warns (does not refuse) when the certificate is not usable now: tests need such signatures. */
static void warn_if_unusable(const gs_cert *cert)
{
    gs_status st;
    if (gs_cert_check_usable(cert, time(NULL), &st) != GS_ERR_OK)
        fprintf(
            stderr,
            cli_text("gostsign: внимание: %s: %s; проверяющие отвергнут эту подпись\n%.0s",
                     "gostsign: warning: %s: %s (%s); verifiers will reject this signature\n"),
            gs_error_lookup(st.code)->name,
            cli_text(gs_error_lookup(st.code)->message_ru, gs_error_lookup(st.code)->message_en),
            st.detail);
}

/* Writes DER or PEM to a file or standard output. */
static gs_code write_output(const sign_args *a, const uint8_t *der, size_t len, gs_status *st)
{
    int to_stdout = strcmp(a->out, "-") == 0;
    BIO *b = to_stdout ? BIO_new_fp(stdout, BIO_NOCLOSE) : BIO_new_file(a->out, "wb");
    int ok = b && (a->pem ? PEM_write_bio(b, "CMS", "", der, (long)len) > 0
                          : BIO_write(b, der, (int)len) == (int)len);
    ok = ok && BIO_flush(b) == 1;
    BIO_free(b);
    ERR_clear_error();
    if (!ok) {
        if (!to_stdout)
            unlink(a->out);
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: cannot write the signature", a->out);
    }
    return GS_ERR_OK;
}

/* Signs with the loaded key, cert and optional chain. */
static gs_code sign_file(const sign_args *a, EVP_PKEY *key, const gs_cert *cert,
                         STACK_OF(X509) * chain, gs_status *st)
{
    gs_cms_sign_params p;
    gs_cms_sign_params_init(&p);
    p.cert = cert->x509;
    p.chain = chain;
    p.omit_signer_cert = a->omit_signer_cert;
    p.sign = gs_cms_sign_with_pkey;
    p.sign_ctx = key;
    p.attached = a->attached;
    p.content_fd = open(a->in, O_RDONLY | O_CLOEXEC);
    if (p.content_fd < 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", a->in, strerror(errno));
    uint8_t *der = NULL;
    size_t len = 0;
    gs_code rc = gs_cms_sign(&p, &der, &len, st);
    close(p.content_fd);
    if (rc == GS_ERR_OK)
        rc = write_output(a, der, len, st);
    OPENSSL_free(der);
    return rc;
}

/* `gostsign sign`: load key, certificate and chain, sign, write; exit status = error number. */
int cmd_sign(int argc, char **argv)
{
    /* Without --key-file the token signs, through the agent. */
    int key_file = 0;
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--key-file", 10) == 0)
            key_file = 1;
    if (!key_file)
        return cmd_sign_agent(argc, argv);
    sign_args a;
    int early = parse_sign_args(argc, argv, &a);
    if (early >= 0)
        return early;
    if (!a.in) /* parse_sign_args continues (-1) only with a file to sign */
        return cli_usage_error(SIGN_USAGE, "give exactly one file to sign");
    gs_status st;
    gs_status_clear(&st);
    EVP_PKEY *key = load_key(a.key, &st);
    gs_cert *cert = key ? gs_cert_load_file(a.cert, &st) : NULL;
    STACK_OF(X509) *chain = cert && a.chain ? load_chain(a.chain, &st) : NULL;
    gs_code rc = st.code;
    if (rc == GS_ERR_OK && (!key || !cert || (a.chain && !chain))) /* each loader sets st on NULL */
        rc = cli_cannot_happen(&st, "a key, certificate or chain did not load");
    if (rc == GS_ERR_OK) {
        warn_if_unusable(cert);
        rc = sign_file(&a, key, cert, chain, &st);
    }
    sk_X509_pop_free(chain, X509_free);
    gs_cert_free(cert);
    EVP_PKEY_free(key);
    return rc == GS_ERR_OK ? 0 : cli_report(&st);
}
