/*
 * `gostsign import FILE.p12|.pfx`: puts a GOST R 34.10-2012 key and its certificate from a PKCS#12
 * file onto a PKCS#11 token (the software token, or any token that accepts C_CreateObject). The
 * PFX password and the token PIN come from pinentry (or the password from --password-file for
 * scripts), never from the command line. The private key, the public key and the certificate share
 * one CKA_ID (SHA-1 of the public key value); if any object cannot be created, the ones already
 * created are destroyed, so nothing is half-written.
 */
#include "cli.h"
#include "pkcs11_client.h"
#include "agent.h"
#include "gost.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <p11-kit/pkcs11x.h>

#define IMPORT_USAGE                                                                               \
    "gostsign import [--module PATH]... [--token LABEL] [--label NAME] [--password-file FILE]"     \
    " [--pinentry PROG] FILE.p12|.pfx"
#define IMPORT_MAX_MODULES  8
#define IMPORT_MAX_PASSWORD 256
#define IMPORT_OBJECTS      3

typedef struct {
    const char *modules[IMPORT_MAX_MODULES];
    size_t module_count;
    const char *token_label, *label, *password_file, *pinentry, *input;
} import_options;

/* Help text. */
static void print_import_help(void)
{
    printf(
        "usage: %s\n\n"
        "Imports the GOST R 34.10-2012 private key and its certificate from a PKCS#12 file\n"
        "onto a PKCS#11 token (e.g. gostsign-softtoken). The file's password is asked through\n"
        "pinentry (or read from the first line of --password-file), then the token's user PIN.\n"
        "Key, public key and certificate get one CKA_ID (SHA-1 of the public key value).\n"
        "Nothing stays on the token when any step fails.\n\n"
        "  --module PATH         PKCS#11 module to use (default: modules registered with p11-kit)\n"
        "  --token LABEL         the token to write to (needed when several are present)\n"
        "  --label NAME          object label (default: the file's friendlyName, else the CN)\n"
        "  --password-file FILE  read the PFX password from FILE instead of asking\n"
        "  --pinentry PROG       pinentry program (default: from the agent configuration)\n",
        IMPORT_USAGE);
}

/* Parses the command line; returns -1 to continue, or an exit status. */
static int parse_import_args(int argc, char **argv, import_options *o)
{
    static const struct option opts[] = { { "module", required_argument, NULL, 'm' },
                                          { "token", required_argument, NULL, 't' },
                                          { "label", required_argument, NULL, 'l' },
                                          { "password-file", required_argument, NULL, 'P' },
                                          { "pinentry", required_argument, NULL, 'p' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    memset(o, 0, sizeof(*o));
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:t:l:P:p:h", opts, NULL)) != -1) {
        if (c == 'm' && o->module_count == IMPORT_MAX_MODULES)
            return cli_usage_error(IMPORT_USAGE, "too many --module options");
        if (c == 'm')
            o->modules[o->module_count++] = optarg;
        else if (c == 't')
            o->token_label = optarg;
        else if (c == 'l')
            o->label = optarg;
        else if (c == 'P')
            o->password_file = optarg;
        else if (c == 'p')
            o->pinentry = optarg;
        else if (c == 'h') {
            print_import_help();
            return 0;
        } else
            return cli_usage_error(IMPORT_USAGE, "unknown option");
    }
    if (optind != argc - 1)
        return cli_usage_error(IMPORT_USAGE, "give exactly one PKCS#12 file");
    o->input = argv[optind];
    return -1;
}

/* Reads the PFX file (more than GS_PKCS12_MAX_INPUT bytes is refused as damaged). */
static gs_code read_pfx(const char *path, uint8_t **out, size_t *len, gs_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
    uint8_t *buf = malloc(GS_PKCS12_MAX_INPUT + 1);
    size_t n = buf ? fread(buf, 1, GS_PKCS12_MAX_INPUT + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    gs_code rc = GS_ERR_OK;
    if (!buf)
        rc = gs_fail(st, GS_ERR_OUT_OF_MEMORY, "%s", path);
    else if (err)
        rc = gs_fail(st, GS_ERR_IO_ERROR, "%s: read error", path);
    else if (n > GS_PKCS12_MAX_INPUT)
        rc = gs_fail(st, GS_ERR_PKCS12_DAMAGED, "%s: too large for a PKCS#12 file", path);
    if (rc != GS_ERR_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return GS_ERR_OK;
}

/* The first line of --password-file, into locked memory. */
static gs_code password_from_file(const char *path, secure_pin **out, gs_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
    secure_pin *pw = secure_pin_new(IMPORT_MAX_PASSWORD);
    int ch;
    int ok = pw != NULL;
    while (ok && (ch = fgetc(f)) != EOF && ch != '\n' && ch != '\r') {
        char c = (char)ch;
        ok = secure_pin_append(pw, &c, 1);
        c = 0;
    }
    fclose(f);
    if (!ok) {
        secure_pin_free(pw);
        return gs_fail(st, pw ? GS_ERR_USAGE : GS_ERR_OUT_OF_MEMORY, "%s: password too long", path);
    }
    *out = pw;
    return GS_ERR_OK;
}

/* The PFX password: from the file when given, else a pinentry dialog of its own. */
static gs_code ask_password(const import_options *o, const agent_config *cfg, secure_pin **out,
                            gs_status *st)
{
    if (o->password_file)
        return password_from_file(o->password_file, out, st);
    char desc[PINENTRY_DESC_SIZE];
    const char *base = strrchr(o->input, '/');
    snprintf(desc, sizeof(desc),
             "Импорт ключа электронной подписи.\nВведите пароль файла %s (PKCS#12).",
             base ? base + 1 : o->input);
    pinentry_request req = { .program = o->pinentry ? o->pinentry : cfg->pinentry,
                             .title = "gostsign — импорт ключа",
                             .description = desc,
                             .prompt = "Пароль файла:",
                             .ok_label = "Открыть",
                             .timeout_seconds = (unsigned)cfg->request_timeout_seconds };
    return pinentry_ask(&req, out, st);
}

/* Picks the token by label, or the only one present. */
static const p11_token *choose_token(const p11_token *tokens, size_t count, const char *label,
                                     gs_status *st)
{
    for (size_t i = 0; label && i < count; i++)
        if (strcmp(tokens[i].label, label) == 0)
            return &tokens[i];
    if (label) {
        gs_fail(st, GS_ERR_TOKEN_NOT_FOUND, "no token labelled \"%s\"", label);
        return NULL;
    }
    if (count == 1)
        return &tokens[0];
    if (count == 0)
        gs_fail(st, GS_ERR_TOKEN_NOT_FOUND, "no token present");
    else
        gs_fail(st, GS_ERR_USAGE, "%zu tokens present: choose one with --token LABEL", count);
    return NULL;
}

/* The token PIN through the agent's dialog texts (owner, organisation, token, retries). */
static gs_code ask_pin(const import_options *o, const agent_config *cfg, const gs_cert *cert,
                       const p11_token *t, secure_pin **out, gs_status *st)
{
    if (!t) /* the caller picked the token first; no token, no dialog */
        return gs_fail(st, GS_ERR_INTERNAL, "no token chosen");
    if (t->flags & CKF_USER_PIN_LOCKED)
        return gs_fail(st, GS_ERR_PIN_LOCKED, "token \"%s\"", t->label);
    if (t->protected_auth) {
        *out = secure_pin_new(1);
        return *out ? GS_ERR_OK : gs_fail(st, GS_ERR_OUT_OF_MEMORY, "pin");
    }
    pinentry_signing_info info = {
        .origin = "gostsign (командная строка)",
        .action = "импорт ключа на токен",
        .document = o->input,
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
    };
    char desc[PINENTRY_DESC_SIZE];
    gs_code rc = pinentry_describe_signing(&info, desc, sizeof(desc), st);
    if (rc != GS_ERR_OK)
        return rc;
    pinentry_request req = { .program = o->pinentry ? o->pinentry : cfg->pinentry,
                             .description = desc,
                             .ok_label = "Импортировать",
                             .timeout_seconds = (unsigned)cfg->request_timeout_seconds };
    return pinentry_ask(&req, out, st);
}

/* Byte values of one key pair and certificate, ready for the templates. */
typedef struct {
    CK_KEY_TYPE key_type;
    uint8_t id[SHA_DIGEST_LENGTH];
    uint8_t priv[GOST_MAX_PUBKEY / 2], pub[GOST_MAX_PUBKEY];
    size_t priv_len, pub_len;
    uint8_t curve_oid[32], digest_oid[32];
    size_t curve_oid_len, digest_oid_len;
    uint8_t *cert_der, *subject_der, *issuer_der, *serial_der;
    int cert_len, subject_len, issuer_len, serial_len;
    char label[128];
} import_material;

/* Wipes the private value and frees the DER buffers. */
static void material_clear(import_material *m)
{
    OPENSSL_cleanse(m->priv, sizeof(m->priv));
    OPENSSL_free(m->cert_der);
    OPENSSL_free(m->subject_der);
    OPENSSL_free(m->issuer_der);
    OPENSSL_free(m->serial_der);
    memset(m, 0, sizeof(*m));
}

/* The certificate's DER pieces a PKCS#11 certificate object carries. */
static gs_code material_cert(import_material *m, X509 *x, gs_status *st)
{
    m->cert_len = i2d_X509(x, &m->cert_der);
    m->subject_len = i2d_X509_NAME(X509_get_subject_name(x), &m->subject_der);
    m->issuer_len = i2d_X509_NAME(X509_get_issuer_name(x), &m->issuer_der);
    m->serial_len = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &m->serial_der);
    if (m->cert_len <= 0 || m->subject_len <= 0 || m->issuer_len <= 0 || m->serial_len <= 0)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "certificate encoding");
    return GS_ERR_OK;
}

/* Everything the three objects need: raw key values, parameter OIDs, CKA_ID, label. */
static gs_code material_build(import_material *m, const gs_pkcs12 *p, const gs_cert *cert,
                              const char *label, gs_status *st)
{
    memset(m, 0, sizeof(*m));
    m->key_type = p->key_bits == 512 ? CKK_GOSTR3410_512 : CKK_GOSTR3410;
    m->priv_len = sizeof(m->priv);
    m->pub_len = sizeof(m->pub);
    gs_code rc = gost_privkey_to_raw(p->key, m->priv, &m->priv_len, st);
    if (rc == GS_ERR_OK)
        rc = gost_pubkey_to_raw(p->key, m->pub, &m->pub_len, st);
    if (rc == GS_ERR_OK)
        rc = gost_oid_to_der(p->paramset->oid, m->curve_oid, sizeof(m->curve_oid),
                             &m->curve_oid_len, st);
    if (rc == GS_ERR_OK)
        rc = gost_oid_to_der(p->key_bits == 512 ? GOST_OID_DIGEST_512 : GOST_OID_DIGEST_256,
                             m->digest_oid, sizeof(m->digest_oid), &m->digest_oid_len, st);
    if (rc == GS_ERR_OK)
        rc = material_cert(m, p->cert, st);
    SHA1(m->pub, m->pub_len, m->id);
    snprintf(m->label, sizeof(m->label), "%s",
             label              ? label
             : p->friendly_name ? p->friendly_name
             : cert->subject.cn ? cert->subject.cn
                                : "imported key");
    return rc;
}

/* An attribute entry (PKCS#11 templates take non-const pointers). */
#define ATTR(type, ptr, len)                                                                       \
    {                                                                                              \
        (type), (void *)(ptr), (CK_ULONG)(len)                                                     \
    }

/* A logged-in read-write session and the objects created in it so far. */
typedef struct {
    CK_FUNCTION_LIST *fn;
    CK_SESSION_HANDLE session;
    int logged_in;
    CK_OBJECT_HANDLE created[IMPORT_OBJECTS];
    size_t created_count;
} import_session;

/* Creates one object and remembers it for the rollback. */
static gs_code create_object(import_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG n, const char *what,
                             gs_status *st)
{
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    if (!s->fn) /* session_open succeeded before this is called, which sets fn */
        return gs_fail(st, GS_ERR_INTERNAL, "no open session");
    CK_RV rv = s->fn->C_CreateObject(s->session, tmpl, n, &h);
    if (rv != CKR_OK)
        return gs_fail(st, p11_rv_to_code(rv), "C_CreateObject(%s): 0x%lx", what,
                       (unsigned long)rv);
    s->created[s->created_count++] = h;
    return GS_ERR_OK;
}

/* The private key object: CKA_VALUE = d little-endian, sensitive, never extractable. */
static gs_code create_private_key(import_session *s, const import_material *m, gs_status *st)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE t[] = {
        ATTR(CKA_CLASS, &cls, sizeof(cls)),
        ATTR(CKA_KEY_TYPE, &m->key_type, sizeof(m->key_type)),
        ATTR(CKA_TOKEN, &yes, sizeof(yes)),
        ATTR(CKA_PRIVATE, &yes, sizeof(yes)),
        ATTR(CKA_SENSITIVE, &yes, sizeof(yes)),
        ATTR(CKA_EXTRACTABLE, &no, sizeof(no)),
        ATTR(CKA_SIGN, &yes, sizeof(yes)),
        ATTR(CKA_ID, m->id, sizeof(m->id)),
        ATTR(CKA_LABEL, m->label, strlen(m->label)),
        ATTR(CKA_GOSTR3410_PARAMS, m->curve_oid, m->curve_oid_len),
        ATTR(CKA_GOSTR3411_PARAMS, m->digest_oid, m->digest_oid_len),
        ATTR(CKA_VALUE, m->priv, m->priv_len),
    };
    return create_object(s, t, sizeof(t) / sizeof(t[0]), "private key", st);
}

/* The public key object: CKA_VALUE = X || Y little-endian. */
static gs_code create_public_key(import_session *s, const import_material *m, gs_status *st)
{
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE t[] = {
        ATTR(CKA_CLASS, &cls, sizeof(cls)),
        ATTR(CKA_KEY_TYPE, &m->key_type, sizeof(m->key_type)),
        ATTR(CKA_TOKEN, &yes, sizeof(yes)),
        ATTR(CKA_PRIVATE, &no, sizeof(no)),
        ATTR(CKA_VERIFY, &yes, sizeof(yes)),
        ATTR(CKA_ID, m->id, sizeof(m->id)),
        ATTR(CKA_LABEL, m->label, strlen(m->label)),
        ATTR(CKA_GOSTR3410_PARAMS, m->curve_oid, m->curve_oid_len),
        ATTR(CKA_GOSTR3411_PARAMS, m->digest_oid, m->digest_oid_len),
        ATTR(CKA_VALUE, m->pub, m->pub_len),
    };
    return create_object(s, t, sizeof(t) / sizeof(t[0]), "public key", st);
}

/* The X.509 certificate object with subject, issuer and serial. */
static gs_code create_certificate(import_session *s, const import_material *m, gs_status *st)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE type = CKC_X_509;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE t[] = {
        ATTR(CKA_CLASS, &cls, sizeof(cls)),
        ATTR(CKA_CERTIFICATE_TYPE, &type, sizeof(type)),
        ATTR(CKA_TOKEN, &yes, sizeof(yes)),
        ATTR(CKA_PRIVATE, &no, sizeof(no)),
        ATTR(CKA_ID, m->id, sizeof(m->id)),
        ATTR(CKA_LABEL, m->label, strlen(m->label)),
        ATTR(CKA_SUBJECT, m->subject_der, m->subject_len),
        ATTR(CKA_ISSUER, m->issuer_der, m->issuer_len),
        ATTR(CKA_SERIAL_NUMBER, m->serial_der, m->serial_len),
        ATTR(CKA_VALUE, m->cert_der, m->cert_len),
    };
    return create_object(s, t, sizeof(t) / sizeof(t[0]), "certificate", st);
}

/* Refuses when an object with the same CKA_ID is already on the token. */
static gs_code check_not_present(import_session *s, const import_material *m, gs_status *st)
{
    CK_ATTRIBUTE t[] = { ATTR(CKA_ID, m->id, sizeof(m->id)) };
    CK_OBJECT_HANDLE h;
    CK_ULONG found = 0;
    if (!s->fn) /* session_open succeeded before this is called, which sets fn */
        return gs_fail(st, GS_ERR_INTERNAL, "no open session");
    CK_RV rv = s->fn->C_FindObjectsInit(s->session, t, 1);
    if (rv == CKR_OK) {
        rv = s->fn->C_FindObjects(s->session, &h, 1, &found);
        s->fn->C_FindObjectsFinal(s->session);
    }
    if (rv != CKR_OK)
        return gs_fail(st, p11_rv_to_code(rv), "C_FindObjects: 0x%lx", (unsigned long)rv);
    if (found)
        return gs_fail(st, GS_ERR_IMPORT_DUPLICATE, "CKA_ID %02x%02x%02x%02x... exists", m->id[0],
                       m->id[1], m->id[2], m->id[3]);
    return GS_ERR_OK;
}

/* Opens a read-write session and logs in as the user (pin NULL: PIN pad). */
static gs_code session_open(import_session *s, p11_client *c, const p11_token *t,
                            const secure_pin *pin, gs_status *st)
{
    memset(s, 0, sizeof(*s));
    if (!t) /* the caller picked the token first */
        return gs_fail(st, GS_ERR_INTERNAL, "no token chosen");
    s->fn = p11_client_module(c, t->module_index);
    if (!s->fn)
        return gs_fail(st, GS_ERR_PKCS11_MODULE, "module of token \"%s\"", t->label);
    CK_RV rv =
        s->fn->C_OpenSession(t->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s->session);
    if (rv != CKR_OK)
        return gs_fail(st, p11_rv_to_code(rv), "C_OpenSession (read-write): 0x%lx",
                       (unsigned long)rv);
    rv = s->fn->C_Login(s->session, CKU_USER, t->protected_auth ? NULL : (CK_UTF8CHAR_PTR)pin->data,
                        t->protected_auth ? 0 : (CK_ULONG)pin->len);
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
        return gs_fail(st, p11_rv_to_code(rv), "C_Login: 0x%lx", (unsigned long)rv);
    s->logged_in = rv == CKR_OK;
    return GS_ERR_OK;
}

/* Destroys what this run created (newest first), then logs out and closes the session. */
static void session_close(import_session *s, int rollback)
{
    if (!s->fn || !s->session)
        return;
    while (rollback && s->created_count > 0)
        s->fn->C_DestroyObject(s->session, s->created[--s->created_count]);
    if (s->logged_in)
        s->fn->C_Logout(s->session);
    s->fn->C_CloseSession(s->session);
}

/* Writes the three objects; on any failure removes the ones already written. */
static gs_code write_objects(p11_client *c, const p11_token *t, const secure_pin *pin,
                             const import_material *m, gs_status *st)
{
    import_session s;
    gs_code rc = session_open(&s, c, t, pin, st);
    if (rc == GS_ERR_OK)
        rc = check_not_present(&s, m, st);
    if (rc == GS_ERR_OK)
        rc = create_private_key(&s, m, st);
    if (rc == GS_ERR_OK)
        rc = create_public_key(&s, m, st);
    if (rc == GS_ERR_OK)
        rc = create_certificate(&s, m, st);
    session_close(&s, rc != GS_ERR_OK);
    return rc;
}

/* Decodes the file with the password; the password is wiped right after. */
static gs_pkcs12 *open_pfx(const import_options *o, const agent_config *cfg, gs_status *st)
{
    uint8_t *der = NULL;
    size_t len = 0;
    if (read_pfx(o->input, &der, &len, st) != GS_ERR_OK)
        return NULL;
    secure_pin *pw = NULL;
    gs_pkcs12 *p = NULL;
    gs_code rc = ask_password(o, cfg, &pw, st);
    if (rc == GS_ERR_OK && !pw) /* ask_password gives OK only with a password */
        rc = cli_cannot_happen(st, "no password after the dialog");
    if (rc == GS_ERR_OK)
        p = gs_pkcs12_parse(der, len, pw->data, st);
    secure_pin_free(pw);
    OPENSSL_cleanse(der, len);
    free(der);
    return p;
}

/* The token to import to: chosen and checked before any password or PIN is asked. */
typedef struct {
    p11_client *client;
    p11_token *tokens;
    size_t count;
    const p11_token *token;
} import_target;

/* Loads the modules and picks the token, so a missing token fails before the dialogs. */
static gs_code target_open(const import_options *o, import_target *tg, gs_status *st)
{
    memset(tg, 0, sizeof(*tg));
    tg->client = p11_client_open(o->modules, o->module_count, o->module_count == 0, st);
    if (!tg->client)
        return st->code;
    gs_code rc = p11_client_tokens(tg->client, &tg->tokens, &tg->count, st);
    if (rc == GS_ERR_OK && !(tg->token = choose_token(tg->tokens, tg->count, o->token_label, st)))
        rc = st->code != GS_ERR_OK ? st->code : cli_cannot_happen(st, "no token chosen");
    if (rc == GS_ERR_OK && (tg->token->flags & CKF_USER_PIN_LOCKED))
        rc = gs_fail(st, GS_ERR_PIN_LOCKED, "token \"%s\"", tg->token->label);
    return rc;
}

/* Releases the modules and the token list. */
static void target_close(import_target *tg)
{
    free(tg->tokens);
    if (tg->client)
        p11_client_close(tg->client);
    memset(tg, 0, sizeof(*tg));
}

/* Token side: objects, PIN, writing them. */
static gs_code import_to_token(const import_options *o, const agent_config *cfg,
                               const import_target *tg, const gs_pkcs12 *p, const gs_cert *cert,
                               gs_status *st)
{
    import_material m;
    memset(&m, 0, sizeof(m));
    secure_pin *pin = NULL;
    const p11_token *t = tg->token;
    gs_code rc = material_build(&m, p, cert, o->label, st);
    if (rc == GS_ERR_OK)
        rc = ask_pin(o, cfg, cert, t, &pin, st);
    if (rc == GS_ERR_OK && !pin) /* ask_pin gives OK only with a PIN (empty for a PIN pad) */
        rc = cli_cannot_happen(st, "no PIN after the dialog");
    if (rc == GS_ERR_OK)
        rc = write_objects(tg->client, t, pin, &m, st);
    if (rc == GS_ERR_OK) {
        char id[2 * SHA_DIGEST_LENGTH + 1];
        gost_hex(m.id, sizeof(m.id), id);
        char *owner = gs_cert_owner_summary_lang(cert, cli_russian());
        printf(cli_text("Импортировано: %s\n  токен \"%s\", CKA_ID %s, метка \"%s\"\n",
                        "imported: %s\n  token \"%s\", CKA_ID %s, label \"%s\"\n"),
               owner ? owner : "", t->label, id, m.label);
        free(owner);
    }
    secure_pin_free(pin);
    material_clear(&m);
    return rc;
}

/* `gostsign import`: decode (password), check, then write to the token (PIN). */
int cmd_import(int argc, char **argv)
{
    import_options o;
    int early = parse_import_args(argc, argv, &o);
    if (early >= 0)
        return early;
    if (!o.input) /* parse_import_args continues (-1) only with the PKCS#12 file */
        return cli_usage_error(IMPORT_USAGE, "give exactly one PKCS#12 file");
    gs_status st;
    gs_status_clear(&st);
    agent_config cfg;
    char user_cfg[512];
    gs_code rc = agent_config_load(
        &cfg, AGENT_CONFIG_SYSTEM_PATH,
        agent_config_user_path(user_cfg, sizeof(user_cfg)) == 0 ? user_cfg : NULL, &st);
    if (rc != GS_ERR_OK) {
        agent_config_free(&cfg);
        return cli_report(&st);
    }
    import_target tg;
    rc = target_open(&o, &tg, &st);
    gs_pkcs12 *p = rc == GS_ERR_OK ? open_pfx(&o, &cfg, &st) : NULL;
    gs_cert *cert = p ? gs_cert_from_x509(p->cert, &st) : NULL;
    if (cert)
        rc = import_to_token(&o, &cfg, &tg, p, cert, &st);
    else
        rc = st.code;
    gs_cert_free(cert);
    gs_pkcs12_free(p);
    target_close(&tg);
    agent_config_free(&cfg);
    return rc == GS_ERR_OK ? 0 : cli_report(&st);
}
