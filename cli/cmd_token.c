/*
 * `gostsign token`: direct PKCS#11 access for admins and for signing without the agent.
 *   token list                      tokens with their PIN state
 *   token certs                     certificates with a private key on the token
 *   token sign [--cert-id HEX] [--attached] FILE -o OUT.p7s
 *   token change-pin|unblock [--token ID]   (through the agent's dialogs: cmd_token_pin.c)
 * The PIN is asked through pinentry (never on the command line) and wrong PINs are not retried.
 */
#include "agent.h"
#include "cli.h"
#include "pkcs11_client.h"
#include "gost.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define TOKEN_USAGE                                                                                \
    "gostsign token list|certs [--module PATH]...\n"                                               \
    "       gostsign token sign [--module PATH]... [--cert-id HEX] [--pinentry PROG] [--attached]" \
    " FILE -o OUT.p7s\n"                                                                           \
    "       gostsign token change-pin|unblock [--token ID]"
#define TOKEN_MAX_MODULES 8

typedef struct {
    const char *modules[TOKEN_MAX_MODULES];
    size_t module_count;
    const char *cert_id_hex;
    const char *pinentry;
    const char *output;
    const char *input;
    int attached;
} token_options;

/* Everything one command run holds open on the token side. */
typedef struct {
    p11_client *client;
    p11_token *tokens;
    size_t token_count;
    p11_cert *certs;
    size_t cert_count;
} token_session;

/* Loads modules and lists tokens and certificates once. */
static gs_code token_session_open(token_session *ts, const token_options *o, gs_status *st)
{
    memset(ts, 0, sizeof(*ts));
    ts->client = p11_client_open(o->modules, o->module_count, 1, st);
    if (!ts->client)
        return st->code;
    gs_code rc = p11_client_tokens(ts->client, &ts->tokens, &ts->token_count, st);
    if (rc == GS_ERR_OK)
        rc = p11_client_certificates(ts->client, ts->tokens, ts->token_count, &ts->certs,
                                     &ts->cert_count, st);
    return rc;
}

/* Releases what token_session_open took. */
static void token_session_close(token_session *ts)
{
    p11_certs_free(ts->certs, ts->cert_count);
    free(ts->tokens);
    p11_client_close(ts->client);
}

/* PIN state words for the token list, from the CK_TOKEN_INFO flags. */
static const char *pin_state(CK_FLAGS f)
{
    if (f & CKF_USER_PIN_LOCKED)
        return cli_text("PIN-код заблокирован", "PIN locked");
    if (f & CKF_USER_PIN_FINAL_TRY)
        return cli_text("последняя попытка", "final try");
    if (f & CKF_USER_PIN_COUNT_LOW)
        return cli_text("были неверные попытки", "count low");
    if (!(f & CKF_USER_PIN_INITIALIZED))
        return cli_text("PIN-код не задан", "PIN not set");
    return "ok";
}

/* `token list`. */
static int token_list(const token_session *ts)
{
    const char *load_errors = p11_client_load_errors(ts->client);
    if (load_errors[0])
        fprintf(stderr,
                cli_text("gostsign: модули не загружены:\n  %s\n",
                         "gostsign: modules not loaded: %s\n"),
                load_errors);
    if (ts->token_count == 0)
        printf("%s\n", cli_text("Токены не найдены", "no tokens found"));
    for (size_t i = 0; i < ts->token_count; i++) {
        const p11_token *t = &ts->tokens[i];
        printf(cli_text("%zu: %s (%s %s, серийный номер %s), модуль %s; PIN-код: %s%s\n",
                        "%zu: %s (%s %s, serial %s) via %s; PIN: %s%s\n"),
               i, t->label, t->manufacturer, t->model, t->serial, t->module_name,
               pin_state(t->flags),
               t->protected_auth ? cli_text("; PIN-клавиатура", "; PIN pad") : "");
    }
    return 0;
}

/* Hex of a CKA_ID for display and --cert-id. */
static void id_hex(const p11_cert *c, char *out)
{
    gost_hex(c->id, c->id_len, out);
}

/* Where the key of a certificate without one usually is (PKCS#12 file, CryptoPro container). */
static void key_elsewhere_hint(void)
{
    const gs_error_info *e = gs_error_lookup(GS_ERR_KEY_ELSEWHERE);
    printf("  %s: %s\n", cli_text(e->message_ru, e->message_en), cli_text(e->fix_ru, e->fix));
}

/* `token certs`: one line per certificate with its owner and validity. */
static int token_certs(const token_session *ts)
{
    if (ts->cert_count == 0)
        printf("%s\n", cli_text("Сертификаты не найдены", "no certificates found"));
    for (size_t i = 0; i < ts->cert_count; i++) {
        const p11_cert *c = &ts->certs[i];
        char id[2 * sizeof(c->id) + 1];
        id_hex(c, id);
        gs_status st;
        gs_cert *cert = gs_cert_parse(c->der, c->der_len, &st);
        char *owner = cert ? gs_cert_owner_summary_lang(cert, cli_russian()) : NULL;
        gs_code usable = cert ? gs_cert_check_usable(cert, time(NULL), &st) : st.code;
        /* the ID is the SHA-1 thumbprint, as everywhere; the CKA_ID is the token's own */
        printf(cli_text("%s на \"%s\": %s [%s]%s\n  CKA_ID %s\n",
                        "%s on \"%s\": %s [%s]%s\n  CKA_ID %s\n"),
               cert ? cert->sha1_thumbprint : "-", ts->tokens[c->token_index].label,
               owner ? owner : cli_text("(сертификат не читается)", "(unreadable certificate)"),
               gs_error_lookup(usable)->name,
               c->has_private_key ? "" : cli_text(" (нет закрытого ключа)", " (no private key)"),
               id);
        if (cert && !cert->is_ca && !c->has_private_key)
            key_elsewhere_hint();
        free(owner);
        gs_cert_free(cert);
    }
    return 0;
}

/* Picks the certificate: by --cert-id, or the only one that has a key and is usable now. */
static const p11_cert *choose_certificate(const token_session *ts, const char *id_hex_wanted,
                                          gs_status *st)
{
    const p11_cert *found = NULL;
    size_t candidates = 0;
    for (size_t i = 0; i < ts->cert_count; i++) {
        const p11_cert *c = &ts->certs[i];
        char id[2 * sizeof(c->id) + 1];
        id_hex(c, id);
        gs_status ignored;
        gs_cert *cert = gs_cert_parse(c->der, c->der_len, &ignored);
        /* the thumbprint (or a prefix of 4+ digits) as everywhere; the CKA_ID still works */
        size_t n = id_hex_wanted ? strlen(id_hex_wanted) : 0;
        if (id_hex_wanted &&
            (strcasecmp(id, id_hex_wanted) == 0 ||
             (cert && n >= 4 && strncasecmp(cert->sha1_thumbprint, id_hex_wanted, n) == 0))) {
            gs_cert_free(cert);
            return c;
        }
        if (!id_hex_wanted && c->has_private_key && cert &&
            gs_cert_check_usable(cert, time(NULL), &ignored) == GS_ERR_OK) {
            found = c;
            candidates++;
        }
        gs_cert_free(cert);
    }
    if (id_hex_wanted || candidates == 0) {
        gs_fail(st, GS_ERR_CERT_NOT_FOUND, "%s",
                id_hex_wanted ? id_hex_wanted : "no usable certificate on the tokens");
        return NULL;
    }
    if (candidates > 1) {
        gs_fail(st, GS_ERR_CERT_CHOICE_REQUIRED,
                "%zu usable certificates: choose one with --cert ID", candidates);
        return NULL;
    }
    return found;
}

/* State the signer callback needs: the token, the key id and the PIN for this one call. */
typedef struct {
    token_session *ts;
    const p11_cert *cert;
    int key_bits;
    const secure_pin *pin;
} token_signer;

/* gs_cms_signer_fn over the token: the CMS layer hands the digest and the data, the token signs. */
static gs_code sign_on_token(void *ctx, const gs_cms_tbs *tbs, uint8_t *sig, size_t sig_cap,
                             size_t *sig_len, gs_status *st)
{
    token_signer *s = ctx;
    const p11_token *t = &s->ts->tokens[s->cert->token_index];
    *sig_len = sig_cap;
    return p11_client_sign(s->ts->client, t, s->cert->id, s->cert->id_len, s->key_bits,
                           t->protected_auth ? NULL : s->pin->data,
                           t->protected_auth ? 0 : s->pin->len, tbs->data, tbs->data_len,
                           tbs->digest, tbs->digest_len, sig, sig_len, st);
}

/* Fills the dialog description from the certificate and the token state. */
static gs_code describe(const gs_cert *cert, const p11_token *t, const char *file, char *out,
                        size_t cap, gs_status *st)
{
    pinentry_signing_info info = {
        .origin = "gostsign (командная строка)",
        .action = "подпись файла",
        .document = file,
        .owner = cert->subject.cn,
        .organisation = cert->subject.o,
        .inn = cert->subject.inn,
        .innle = cert->subject.innle,
        .ogrn = cert->subject.ogrn,
        .ogrnip = cert->subject.ogrnip,
        .token_label = t->label,
        .token_serial = t->serial,
        .retries_left = (t->flags & CKF_USER_PIN_FINAL_TRY) ? 1 : -1,
        .final_try = (t->flags & CKF_USER_PIN_FINAL_TRY) != 0,
        .count_low = (t->flags & CKF_USER_PIN_COUNT_LOW) != 0,
        .pinpad = t->protected_auth != 0,
    };
    if (t->flags & CKF_USER_PIN_LOCKED)
        return gs_fail(st, GS_ERR_PIN_LOCKED, "token \"%s\"", t->label);
    return pinentry_describe_signing(&info, out, cap, st);
}

/* Asks the PIN (or nothing for a PIN pad, where the token asks itself). */
static gs_code obtain_pin(const token_options *o, const agent_config *cfg, const char *desc,
                          const p11_token *t, secure_pin **pin, gs_status *st)
{
    if (t->protected_auth) {
        *pin = secure_pin_new(1);
        return *pin ? GS_ERR_OK : gs_fail(st, GS_ERR_OUT_OF_MEMORY, "pin");
    }
    pinentry_request req = { .program = o->pinentry ? o->pinentry : cfg->pinentry,
                             .description = desc,
                             .timeout_seconds = (unsigned)cfg->request_timeout_seconds };
    return pinentry_ask(&req, pin, st);
}

/* Builds the CMS with the token as signer and writes it to the output file. */
static gs_code sign_file(token_session *ts, const p11_cert *pc, const gs_cert *cert,
                         const token_options *o, const secure_pin *pin, gs_status *st)
{
    int fd = open(o->input, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", o->input, strerror(errno));
    token_signer signer = { ts, pc, cert->key_bits, pin };
    gs_cms_sign_params p;
    gs_cms_sign_params_init(&p);
    p.cert = cert->x509;
    p.sign = sign_on_token;
    p.sign_ctx = &signer;
    p.attached = o->attached;
    p.content_fd = fd;
    uint8_t *der = NULL;
    size_t der_len = 0;
    gs_code rc = gs_cms_sign(&p, &der, &der_len, st);
    close(fd);
    if (rc != GS_ERR_OK)
        return rc;
    FILE *f = fopen(o->output, "wb");
    if (!f || fwrite(der, 1, der_len, f) != der_len)
        rc = gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", o->output, strerror(errno));
    if (f && fclose(f) != 0 && rc == GS_ERR_OK)
        rc = gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", o->output, strerror(errno));
    OPENSSL_free(der);
    return rc;
}

/* Records the outcome in the audit trail. */
static void audit_token_sign(const gs_cert *cert, const p11_token *t, const char *file, gs_code rc)
{
    char *owner = gs_cert_owner_summary_lang(cert, cli_russian());
    char token[80];
    snprintf(token, sizeof(token), "%s #%s", t->label, t->serial);
    audit_event ev = { .origin = "cli",
                       .operation = "sign",
                       .cert_owner = owner,
                       .cert_thumbprint = cert->sha1_thumbprint,
                       .token = token,
                       .what = file,
                       .result = rc };
    audit_record(&ev);
    free(owner);
}

/* `token sign`: choose the certificate, ask the PIN once, sign, write, audit. */
static gs_code token_sign(token_session *ts, const token_options *o, gs_status *st)
{
    const p11_cert *pc = choose_certificate(ts, o->cert_id_hex, st);
    if (!pc)
        return st->code;
    gs_cert *cert = gs_cert_parse(pc->der, pc->der_len, st);
    if (!cert)
        return st->code;
    const p11_token *t = &ts->tokens[pc->token_index];
    agent_config cfg;
    char user_cfg[512], desc[PINENTRY_DESC_SIZE];
    gs_code rc = agent_config_load(
        &cfg, AGENT_CONFIG_SYSTEM_PATH,
        agent_config_user_path(user_cfg, sizeof(user_cfg)) == 0 ? user_cfg : NULL, st);
    if (rc == GS_ERR_OK)
        rc = gs_cert_check_usable(cert, time(NULL), st);
    if (rc == GS_ERR_OK)
        rc = describe(cert, t, o->input, desc, sizeof(desc), st);
    secure_pin *pin = NULL;
    if (rc == GS_ERR_OK)
        rc = obtain_pin(o, &cfg, desc, t, &pin, st);
    if (rc == GS_ERR_OK)
        rc = sign_file(ts, pc, cert, o, pin, st);
    secure_pin_free(pin);
    if (rc != GS_ERR_USAGE)
        audit_token_sign(cert, t, o->input, rc);
    if (rc == GS_ERR_OK)
        printf(cli_text("Подпись создана: %s\n", "signature written: %s\n"), o->output);
    agent_config_free(&cfg);
    gs_cert_free(cert);
    return rc;
}

/* Parses the options shared by the token subcommands. */
static int parse_token_options(int argc, char **argv, token_options *o)
{
    static const struct option opts[] = {
        { "module", required_argument, NULL, 'm' }, { "cert-id", required_argument, NULL, 'i' },
        { "cert", required_argument, NULL, 'i' },   { "pinentry", required_argument, NULL, 'p' },
        { "attached", no_argument, NULL, 'a' },     { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 }
    };
    memset(o, 0, sizeof(*o));
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:i:p:ao:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (o->module_count == TOKEN_MAX_MODULES)
                return cli_usage_error(TOKEN_USAGE, "too many --module options");
            o->modules[o->module_count++] = optarg;
            break;
        case 'i':
            o->cert_id_hex = optarg;
            break;
        case 'p':
            o->pinentry = optarg;
            break;
        case 'a':
            o->attached = 1;
            break;
        case 'o':
            o->output = optarg;
            break;
        case 'h':
            printf("usage: %s\n", TOKEN_USAGE);
            return -1;
        default:
            return cli_usage_error(TOKEN_USAGE, "unknown option");
        }
    }
    return 0;
}

int cmd_token(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(TOKEN_USAGE, "missing subcommand");
    const char *sub = argv[1];
    if (strcmp(sub, "change-pin") == 0 || strcmp(sub, "unblock") == 0)
        return cmd_token_pin(argc - 1, argv + 1, strcmp(sub, "unblock") == 0);
    token_options o;
    int prc = parse_token_options(argc - 1, argv + 1, &o);
    if (prc != 0)
        return prc < 0 ? 0 : prc;
    int is_sign = strcmp(sub, "sign") == 0;
    if (!is_sign && strcmp(sub, "list") != 0 && strcmp(sub, "certs") != 0)
        return cli_usage_error(TOKEN_USAGE, "unknown subcommand '%s'", sub);
    if (is_sign && (optind + 1 != argc - 1 || !o.output))
        return cli_usage_error(TOKEN_USAGE, "token sign needs one FILE and -o OUT.p7s");
    if (is_sign)
        o.input = argv[optind + 1];
    gs_status st;
    gs_status_clear(&st);
    token_session ts;
    gs_code rc = token_session_open(&ts, &o, &st);
    int status = 0;
    if (rc != GS_ERR_OK)
        status = cli_report(&st);
    else if (is_sign)
        status = token_sign(&ts, &o, &st) == GS_ERR_OK ? 0 : cli_report(&st);
    else
        status = strcmp(sub, "list") == 0 ? token_list(&ts) : token_certs(&ts);
    token_session_close(&ts);
    return status;
}
