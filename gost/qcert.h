/*
 * The qualified-certificate model: an X.509 certificate as a Russian qualified certificate
 * (КСКПЭП) presents it: the owner and organisation with INN/INNLE/OGRN/OGRNIP/SNILS, validity,
 * key algorithm and parameter set, usages, signing tools and thumbprints. Parsed with OpenSSL.
 */
#ifndef GOSTSIGN_QCERT_H
#define GOSTSIGN_QCERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/x509.h>

#include "errors.h"
#include "primitives.h"

/* Russian-specific name attribute OIDs (FNS/FSB orders on qualified certificates). */
#define GS_OID_INN          "1.2.643.3.131.1.1"
#define GS_OID_INNLE        "1.2.643.100.4"
#define GS_OID_OGRN         "1.2.643.100.1"
#define GS_OID_OGRNIP       "1.2.643.100.5"
#define GS_OID_SNILS        "1.2.643.100.3"
#define GS_OID_SUBJECT_TOOL "1.2.643.100.111"
#define GS_OID_ISSUER_TOOL  "1.2.643.100.112"
#define GS_OID_POLICY_KC1   "1.2.643.100.113.1"
#define GS_OID_POLICY_KC2   "1.2.643.100.113.2"

/* A distinguished name split into the fields users and relying parties look at. NULL = absent. */
typedef struct {
    char *cn, *sn, *g, *o, *ou, *t, *l, *st, *street, *e, *c;
    char *inn, *innle, *ogrn, *ogrnip, *snils;
    char *oneline; /* the whole name, RFC 2253 style, UTF-8 */
} gs_name;

/* Key usage bits as in RFC 5280 (digitalSignature = 1 << 0 ... decipherOnly = 1 << 8). */
#define GS_KU_DIGITAL_SIGNATURE 0x001
#define GS_KU_NON_REPUDIATION   0x002
#define GS_KU_KEY_ENCIPHERMENT  0x004
#define GS_KU_DATA_ENCIPHERMENT 0x008
#define GS_KU_KEY_AGREEMENT     0x010
#define GS_KU_KEY_CERT_SIGN     0x020
#define GS_KU_CRL_SIGN          0x040
#define GS_KU_ENCIPHER_ONLY     0x080
#define GS_KU_DECIPHER_ONLY     0x100

/* Largest certificate input accepted, PEM or DER (real qualified certificates are ~2 KiB). */
#define GS_CERT_MAX_INPUT (1024 * 1024)

#define GS_CERT_MAX_EKU      16
#define GS_CERT_MAX_POLICIES 16
#define GS_CERT_MAX_TOOLS    4

typedef struct {
    X509 *x509; /* owned */
    gs_name subject, issuer;
    char *serial_hex; /* upper-case hex, as CryptoPro shows it */
    time_t not_before, not_after;
    int key_bits;                  /* 256 / 512 for GOST 2012, 0 otherwise */
    int is_gost2001;               /* GOST R 34.10-2001 key: no longer accepted */
    const gost_paramset *paramset; /* NULL when not a known GOST set */
    char key_algorithm_oid[64];
    int has_key_usage;
    unsigned key_usage; /* GS_KU_* bits */
    size_t eku_count;
    char *eku[GS_CERT_MAX_EKU]; /* dotted OIDs */
    size_t policy_count;
    char *policies[GS_CERT_MAX_POLICIES];
    char *subject_sign_tool; /* NULL when absent */
    size_t issuer_tool_count;
    char *issuer_sign_tool[GS_CERT_MAX_TOOLS];
    int is_ca;
    char sha1_thumbprint[41]; /* lower-case hex of SHA-1 over the DER, as CryptoPro's "Отпечаток" */
    char streebog_thumbprint[65]; /* lower-case hex of Streebog-256 over the DER */
} gs_cert;

/*
 * Parses PEM or DER bytes. Returns NULL with GS_ERR_CERT_PARSE for anything else: empty,
 * truncated or damaged input, DER followed by trailing bytes, or more than GS_CERT_MAX_INPUT.
 * PEM may carry text around the first CERTIFICATE block (as `openssl x509 -text` writes it).
 */
gs_cert *gs_cert_parse(const uint8_t *data, size_t len, gs_status *st);
/* Builds the model from an X509 (takes a new reference; the caller keeps its own). */
gs_cert *gs_cert_from_x509(X509 *x509, gs_status *st);
/* Reads and parses a file (PEM or DER). */
gs_cert *gs_cert_load_file(const char *path, gs_status *st);
void gs_cert_free(gs_cert *cert);

/* Validity at time `at`: OK, CERT_EXPIRED or CERT_NOT_YET_VALID. */
gs_code gs_cert_check_time(const gs_cert *cert, time_t at, gs_status *st);
/*
 * Whether a qualified signature may use it at `at`: GOST-2001 refusal (CERT_GOST2001), a key
 * that is not GOST R 34.10-2012 (UNSUPPORTED_ALGORITHM), then the time check.
 */
gs_code gs_cert_check_usable(const gs_cert *cert, time_t at, gs_status *st);

/* Every reason the certificate is unusable at `at`, in the order above; returns the count. */
size_t gs_cert_problems(const gs_cert *cert, time_t at, gs_code *out, size_t cap);

/* Whole days until notAfter (negative once expired), rounded towards minus infinity. */
long gs_cert_days_left(const gs_cert *cert, time_t at);

/* One key usage bit with its RFC 5280 name and the label Russian software shows. */
typedef struct {
    unsigned bit;
    const char *name;
    const char *name_ru;
} gs_key_usage_info;

/* All key usage bits in RFC 5280 order. */
const gs_key_usage_info *gs_key_usage_table(size_t *count);

/* Russian label for a well-known EKU or policy OID (e.g. "КС1"), or NULL. */
const char *gs_oid_label_ru(const char *dotted_oid);

/*
 * JSON view; `now` drives the status fields. Stable field names (absent values are null):
 *   version, serial, is_ca,
 *   subject / issuer: {cn, sn, g, o, ou, t, l, st, street, e, c, inn, innle, ogrn, ogrnip,
 *                      snils, dn},
 *   validity: {not_before, not_after (ISO 8601 UTC), not_before_unix, not_after_unix},
 *   key: {algorithm_oid, algorithm, bits, paramset, paramset_oid, paramset_long_name, gost2001},
 *   key_usage: [names] or null, extended_key_usage: [{oid, name, name_ru}],
 *   policies: [{oid, name, name_ru}], subject_sign_tool,
 *   issuer_sign_tool: {sign_tool, ca_tool, sign_tool_cert, ca_tool_cert} or null,
 *   thumbprints: {sha1, streebog256},
 *   status: {code, usable, days_left, checked_at, problems: [{code, number, message,
 *            message_ru}]}   (code is "OK" or the first problem's error-table name)
 */
json_object *gs_cert_model_json(const gs_cert *cert, time_t now);
/*
 * The model above plus, in status, the verdict against the accredited-CA store of the process
 * (gost/trust.h, gs_trust_acquire_default): qualified (true only for a certificate of an
 * accredited CA with the qualified fields and no problem), chain ("accredited",
 * "not_accredited", "ended", "annulled", "not_checked"), qualified_code, qualified_message,
 * qualified_message_ru, qualified_detail, missing_fields, authority {name, short_name, inn, ogrn,
 * accreditation, accreditation_since} or null, trust_list {version, date} or null.
 * Defined in cert_json.c.
 */
json_object *gs_cert_to_json(const gs_cert *cert, time_t now);

/* Short human line for the owner: "CN, O (ИНН ..., ОГРН ...)". Caller frees. */
char *gs_cert_owner_summary(const gs_cert *cert);
/* The same with Russian (russian != 0) or English labels of the numbers. */
char *gs_cert_owner_summary_lang(const gs_cert *cert, int russian);

#endif
