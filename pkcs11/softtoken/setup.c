/*
 * gostsign-softtoken-setup: creates the DEMO token for the main job and for tests.
 *
 * Through PKCS#11 (dlopen of the module) it initialises a new token "gostsign demo" with the
 * documented demo PINs (SO 87654321, user 12345678; or --pin-file / --so-pin-file), generates a
 * GOST-2012-256 key pair ON the token, makes a file-based test CA in the output directory and
 * issues a legal-entity employee certificate (INN, INNLE, OGRN, SNILS, title, ...) for the
 * token's key, stores it on the token with the key's CKA_ID and writes ca.pem and cert.pem.
 * Demo only: the CA key lies unprotected in the output directory.
 *
 * --repair restores damaged token files from their previous good copies through the module's
 * vendor interface ("gostsign softtoken"), for an administrator or a later `gostsign` command.
 */
#define OPENSSL_API_COMPAT 10101
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/pkcs11x.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gost.h"
#include "softtoken.h"

#define DEMO_LABEL "gostsign demo"

static CK_FUNCTION_LIST_PTR F;
static void *module_handle;

/* Prints a failure and exits: this is a one-shot set-up command. */
static void die(const char *what, CK_RV rv)
{
    fprintf(stderr, "gostsign-softtoken-setup: %s failed (CKR 0x%lx)\n", what, (unsigned long)rv);
    exit(1);
}

/* Checks a PKCS#11 call. */
static void ck(const char *what, CK_RV rv)
{
    if (rv != CKR_OK)
        die(what, rv);
}

/* Reads a PIN from the first line of a file (demo convenience), or uses the demo default. */
static void read_pin(const char *file, const char *dflt, char *out, size_t cap)
{
    snprintf(out, cap, "%s", dflt);
    if (!file)
        return;
    FILE *f = fopen(file, "re");
    if (!f || !fgets(out, (int)cap, f)) {
        fprintf(stderr, "gostsign-softtoken-setup: cannot read %s\n", file);
        exit(2);
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = 0;
}

/* Loads the module: --module, $SOFTTOKEN_MODULE, else the installed path. */
static void load_module(const char *path)
{
    const char *def = SOFTTOKEN_INSTALLED_MODULE;
    if (!path)
        path = getenv("SOFTTOKEN_MODULE") ? getenv("SOFTTOKEN_MODULE") : def;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    module_handle = h;
    CK_C_GetFunctionList gfl = h ? (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList") : NULL;
    if (!gfl || gfl(&F) != CKR_OK) {
        fprintf(stderr, "gostsign-softtoken-setup: cannot load %s\n", path);
        exit(1);
    }
}

/* Initialises the spare slot as the demo token and sets the user PIN; returns its slot. */
static CK_SLOT_ID init_demo_token(const char *so_pin, const char *pin)
{
    CK_SLOT_ID ids[64];
    CK_ULONG n = 64;
    ck("C_GetSlotList", F->C_GetSlotList(CK_FALSE, ids, &n));
    CK_SLOT_ID slot = ids[n - 1]; /* the spare slot is listed last */
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof label);
    memcpy(label, DEMO_LABEL, strlen(DEMO_LABEL));
    ck("C_InitToken", F->C_InitToken(slot, (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin), label));
    CK_SESSION_HANDLE s;
    ck("C_OpenSession",
       F->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
    ck("C_Login(SO)", F->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin)));
    ck("C_InitPIN", F->C_InitPIN(s, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    ck("C_CloseSession", F->C_CloseSession(s));
    return slot;
}

/* Generates the token key pair (TC26 256 set A); returns the public key and its CKA_ID. */
static EVP_PKEY *generate_on_token(CK_SESSION_HANDLE s, uint8_t *id, CK_ULONG *id_len)
{
    const gost_paramset *ps = gost_paramset_find("256:A");
    uint8_t par[32], val[64];
    size_t plen = 0;
    gs_status st;
    if (!ps || gost_oid_to_der(ps->oid, par, sizeof par, &plen, &st) != GS_ERR_OK)
        die("paramset", CKR_GENERAL_ERROR);
    CK_BBOOL yes = CK_TRUE;
    CK_MECHANISM m = { CKM_GOSTR3410_KEY_PAIR_GEN, NULL, 0 };
    CK_ATTRIBUTE pt[] = { { CKA_TOKEN, &yes, sizeof yes },
                          { CKA_GOSTR3410_PARAMS, par, plen },
                          { CKA_LABEL, "gostsign demo key", 17 } };
    CK_ATTRIBUTE kt[] = { { CKA_TOKEN, &yes, sizeof yes },
                          { CKA_PRIVATE, &yes, sizeof yes },
                          { CKA_LABEL, "gostsign demo key", 17 } };
    CK_OBJECT_HANDLE pub, priv;
    ck("C_GenerateKeyPair", F->C_GenerateKeyPair(s, &m, pt, 3, kt, 3, &pub, &priv));
    CK_ATTRIBUTE get[] = { { CKA_VALUE, val, sizeof val }, { CKA_ID, id, *id_len } };
    ck("C_GetAttributeValue", F->C_GetAttributeValue(s, pub, get, 2));
    *id_len = get[1].ulValueLen;
    EVP_PKEY *k = gost_pubkey_from_raw(ps, val, get[0].ulValueLen, &st);
    if (!k)
        die("public key import", CKR_GENERAL_ERROR);
    return k;
}

/* Adds one UTF-8 entry to a name (by short name or dotted OID). */
static void name_add(X509_NAME *n, const char *field, const char *value)
{
    if (!X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, (const unsigned char *)value, -1, -1,
                                    0))
        die(field, CKR_GENERAL_ERROR);
}

/* Adds an extension from its OpenSSL config-style value. */
static void ext_add(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!e || !X509_add_ext(cert, e, -1))
        die("extension", CKR_GENERAL_ERROR);
    X509_EXTENSION_free(e);
}

/* Adds subjectSignTool (1.2.643.100.111, UTF8String) as a raw extension. */
static void add_sign_tool(X509 *cert)
{
    ASN1_UTF8STRING *u = ASN1_UTF8STRING_new();
    unsigned char *der = NULL;
    const char *tool = "gostsign softtoken (demo)";
    ASN1_STRING_set(u, tool, (int)strlen(tool));
    int n = i2d_ASN1_UTF8STRING(u, &der);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    ASN1_OBJECT *oid = OBJ_txt2obj("1.2.643.100.111", 1);
    X509_EXTENSION *e = NULL;
    if (n <= 0 || !os || !oid || !ASN1_OCTET_STRING_set(os, der, n) ||
        !(e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os)) || !X509_add_ext(cert, e, -1))
        die("subjectSignTool", CKR_GENERAL_ERROR);
    X509_EXTENSION_free(e);
    ASN1_OBJECT_free(oid);
    ASN1_OCTET_STRING_free(os);
    OPENSSL_free(der);
    ASN1_UTF8STRING_free(u);
}

/* A certificate skeleton: v3, random serial, validity from now for days. */
static X509 *new_cert(EVP_PKEY *subject_key, long days)
{
    X509 *c = X509_new();
    uint8_t rnd[16];
    RAND_bytes(rnd, sizeof rnd);
    rnd[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(rnd, sizeof rnd, NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
    BN_free(bn);
    X509_set_version(c, 2);
    X509_gmtime_adj(X509_getm_notBefore(c), -60);
    X509_gmtime_adj(X509_getm_notAfter(c), days * 86400L);
    X509_set_pubkey(c, subject_key);
    return c;
}

/* The self-signed test CA (file-based key). */
static X509 *make_ca(EVP_PKEY *ca_key)
{
    X509 *c = new_cert(ca_key, 3650);
    X509_NAME *n = X509_get_subject_name(c);
    name_add(n, "CN", "Тестовый УЦ gostsign demo");
    name_add(n, "O", "gostsign demo");
    name_add(n, "C", "RU");
    X509_set_issuer_name(c, n);
    ext_add(c, c, NID_basic_constraints, "critical,CA:TRUE");
    ext_add(c, c, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
    ext_add(c, c, NID_subject_key_identifier, "hash");
    if (!X509_sign(c, ca_key, gost_digest_md(256)))
        die("CA signature", CKR_GENERAL_ERROR);
    return c;
}

/* The legal-entity employee certificate for the token's public key, signed by the CA. */
static X509 *make_employee(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *token_pub)
{
    X509 *c = new_cert(token_pub, 365);
    X509_NAME *n = X509_get_subject_name(c);
    name_add(n, "CN", "Иванов Иван Иванович");
    name_add(n, "SN", "Иванов");
    name_add(n, "GN", "Иван Иванович");
    name_add(n, "O", "ООО \"Ромашка\"");
    name_add(n, "OU", "Бухгалтерия");
    name_add(n, "title", "Главный бухгалтер");
    name_add(n, "L", "Москва");
    name_add(n, "ST", "77 г. Москва");
    name_add(n, "street", "ул. Тверская, д. 1");
    name_add(n, "emailAddress", "ivanov@romashka.example");
    name_add(n, "C", "RU");
    name_add(n, "INN", "500100732259");
    name_add(n, "1.2.643.100.4", "7707083893");
    name_add(n, "OGRN", "1027700132195");
    name_add(n, "SNILS", "11223344595");
    X509_set_issuer_name(c, X509_get_subject_name(ca));
    ext_add(c, ca, NID_basic_constraints, "critical,CA:FALSE");
    ext_add(c, ca, NID_key_usage, "critical,digitalSignature,nonRepudiation");
    ext_add(c, ca, NID_ext_key_usage, "clientAuth,emailProtection");
    ext_add(c, ca, NID_subject_key_identifier, "hash");
    ext_add(c, ca, NID_authority_key_identifier, "keyid:always");
    add_sign_tool(c);
    if (!X509_sign(c, ca_key, gost_digest_md(256)))
        die("certificate signature", CKR_GENERAL_ERROR);
    return c;
}

/* Writes a PEM certificate or (0600) private key into dir. */
static void write_pem(const char *dir, const char *name, X509 *cert, EVP_PKEY *key)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "we");
    int ok = f && (cert ? PEM_write_X509(f, cert)
                        : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
    if (f && key)
        chmod(path, 0600);
    if (!f || fclose(f) != 0 || !ok)
        die(path, CKR_GENERAL_ERROR);
}

/* Stores the certificate on the token with the key pair's CKA_ID. */
static void store_cert(CK_SESSION_HANDLE s, X509 *cert, uint8_t *id, CK_ULONG id_len)
{
    unsigned char *der = NULL;
    int n = i2d_X509(cert, &der);
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE type = CKC_X_509;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof cls },
                         { CKA_CERTIFICATE_TYPE, &type, sizeof type },
                         { CKA_TOKEN, &yes, sizeof yes },
                         { CKA_ID, id, id_len },
                         { CKA_LABEL, "gostsign demo certificate", 25 },
                         { CKA_VALUE, der, (CK_ULONG)n } };
    CK_OBJECT_HANDLE h;
    if (n <= 0)
        die("certificate encoding", CKR_GENERAL_ERROR);
    ck("C_CreateObject(certificate)", F->C_CreateObject(s, t, 6, &h));
    OPENSSL_free(der);
}

/* Prints usage. */
static int usage(void)
{
    fprintf(stderr, "usage: gostsign-softtoken-setup --out DIR [--module PATH] [--pin-file F] "
                    "[--so-pin-file F]\n"
                    "       gostsign-softtoken-setup --repair [--module PATH]\n"
                    "Creates the DEMO token \"" DEMO_LABEL "\" (demo PINs: user 12345678, "
                    "SO 87654321) in $GOSTSIGN_SOFTTOKEN_DIR\n"
                    "with a GOST-2012-256 key, a test CA (DIR/ca.pem, DIR/ca-key.pem) and an "
                    "employee certificate (DIR/cert.pem).\n"
                    "--repair restores damaged token files from their previous good copy.\n");
    return 2;
}

/* Parses options, builds the demo token, CA and certificate. */
/* The module's vendor interface (repair), or exits. */
static const st_vendor_functions *vendor_functions(void)
{
    typedef CK_RV (*get_fn)(CK_UTF8CHAR_PTR, CK_VERSION_PTR, CK_INTERFACE_PTR_PTR, CK_FLAGS);
    get_fn get = (get_fn)dlsym(module_handle, "C_GetInterface");
    CK_INTERFACE_PTR in = NULL;
    if (!get)
        die("C_GetInterface lookup", CKR_FUNCTION_NOT_SUPPORTED);
    ck("C_GetInterface", get((CK_UTF8CHAR_PTR)ST_VENDOR_INTERFACE, NULL, &in, 0));
    return in->pFunctionList;
}

/* --repair: restores every damaged token file that has a good previous copy; 0 when none is
 * left damaged. */
static int repair_tokens(void)
{
    const st_vendor_functions *v = vendor_functions();
    CK_SLOT_ID ids[64];
    CK_ULONG n = 64;
    int left = 0;
    ck("C_GetSlotList", F->C_GetSlotList(CK_TRUE, ids, &n));
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (F->C_GetTokenInfo(ids[i], &ti) != CKR_TOKEN_NOT_RECOGNIZED)
            continue;
        CK_RV rv = v->repair_token(ids[i]);
        printf("slot %lu: %s\n", (unsigned long)ids[i],
               rv == CKR_OK ? "restored from the previous copy" : "cannot be repaired");
        left += rv != CKR_OK;
    }
    return left ? 1 : 0;
}

/* The repair mode: the module, its vendor interface, every damaged token. */
static int repair_main(const char *module)
{
    load_module(module);
    ck("C_Initialize", F->C_Initialize(NULL));
    int rc = repair_tokens();
    F->C_Finalize(NULL);
    return rc;
}

int main(int argc, char **argv)
{
    const char *out = NULL, *module = NULL, *pin_file = NULL, *so_file = NULL;
    int repair = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--repair")) {
            repair = 1;
            continue;
        }
        const char **dst = !strcmp(argv[i], "--out")           ? &out
                           : !strcmp(argv[i], "--module")      ? &module
                           : !strcmp(argv[i], "--pin-file")    ? &pin_file
                           : !strcmp(argv[i], "--so-pin-file") ? &so_file
                                                               : NULL;
        if (!dst || i + 1 >= argc)
            return usage();
        *dst = argv[++i];
    }
    if (repair)
        return repair_main(module);
    if (!out)
        return usage();
    char pin[128], so_pin[128];
    read_pin(pin_file, "12345678", pin, sizeof pin);
    read_pin(so_file, "87654321", so_pin, sizeof so_pin);
    gs_status st;
    if (gost_init(&st) != GS_ERR_OK) {
        fprintf(stderr, "gostsign-softtoken-setup: %s\n", st.detail);
        return 1;
    }
    mkdir(out, 0700);
    load_module(module);
    ck("C_Initialize", F->C_Initialize(NULL));
    CK_SLOT_ID slot = init_demo_token(so_pin, pin);
    CK_SESSION_HANDLE s;
    ck("C_OpenSession",
       F->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
    ck("C_Login", F->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    OPENSSL_cleanse(pin, sizeof pin);
    OPENSSL_cleanse(so_pin, sizeof so_pin);
    uint8_t id[64];
    CK_ULONG id_len = sizeof id;
    EVP_PKEY *token_pub = generate_on_token(s, id, &id_len);
    EVP_PKEY *ca_key = gost_key_generate(gost_paramset_find("256:A"), &st);
    if (!ca_key)
        die("CA key generation", CKR_GENERAL_ERROR);
    X509 *ca = make_ca(ca_key);
    X509 *cert = make_employee(ca, ca_key, token_pub);
    store_cert(s, cert, id, id_len);
    write_pem(out, "ca.pem", ca, NULL);
    write_pem(out, "ca-key.pem", NULL, ca_key);
    write_pem(out, "cert.pem", cert, NULL);
    ck("C_Logout", F->C_Logout(s));
    F->C_CloseSession(s);
    F->C_Finalize(NULL);
    printf("demo token \"%s\" ready: key + certificate on the token; %s/ca.pem written\n",
           DEMO_LABEL, out);
    X509_free(cert);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(token_pub);
    return 0;
}
