/*
 * The accredited-CA store: the Ministry's list of accredited certification authorities (the TSL,
 * XML, read with libxml2), kept on disk as a store (system: /var/lib/gostsign/trust, per user:
 * $XDG_DATA_HOME/gostsign/trust), and the "qualified" verdict of a certificate against it.
 *
 * Files: tsl.c parses the XML into a gs_trust_list; trust_store.c writes and reads a store
 * (a new directory per update, switched in by renaming the `current` link, so a crash or a
 * damaged list never leaves a half-written store); trust_fetch.c downloads the list over
 * https/http with a timeout; trust.c judges a certificate; cert_json.c puts the verdict into the
 * certificate JSON model (status.qualified, status.chain).
 */
#ifndef GOSTSIGN_TRUST_H
#define GOSTSIGN_TRUST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/x509.h>

#include "errors.h"
#include "qcert.h"

/* Where `gostsign trust update --online` downloads the list from. */
#define GS_TSL_URL             "https://e-trust.gosuslugi.ru/app/scc/portal/api/v1/portal/ca/getxml"
#define GS_TSL_MAX_SIZE        ((size_t)256 * 1024 * 1024)
#define GS_TSL_DEFAULT_TIMEOUT 60
/* A list older than this (by its `Дата`) gets a warning. */
#define GS_TRUST_MAX_AGE_DAYS  30
#define GS_TRUST_SYSTEM_DIR    "/var/lib/gostsign/trust"

/* `СтатусАккредитации/Статус`. */
typedef enum {
    GS_ACCR_UNKNOWN = 0,
    GS_ACCR_ACTIVE,   /* «Действует» */
    GS_ACCR_ENDED,    /* «Прекращена» */
    GS_ACCR_ANNULLED, /* «Аннулирована» */
} gs_accreditation;

/* One period of an accreditation status: from `from` (0: since ever) until `to` (0: open). */
typedef struct {
    gs_accreditation status;
    time_t from, to;
} gs_accr_period;

/* One authority (`УдостоверяющийЦентр`). */
typedef struct {
    char *name, *short_name, *inn, *ogrn;
    gs_accreditation status; /* the current status */
    time_t status_since;     /* its `ДействуетС`, 0 when absent */
    size_t period_count;     /* the history, oldest first (at least the current status) */
    gs_accr_period *periods;
    size_t crl_count;
    char **crl_urls; /* `АдресаСписковОтзыва/Адрес` of all its keys */
    size_t cert_count;
    X509 **certs; /* the CA certificates (`Данные`) that parsed */
} gs_trust_ca;

/* The whole list, or the store it was saved in. */
typedef struct {
    char *version;     /* `Версия` */
    time_t date;       /* `Дата` */
    time_t updated_at; /* when the store was written (0 for a freshly parsed list) */
    char *source;      /* file or URL the list came from, NULL when unknown */
    char *dir;         /* the store's directory (…/current), NULL for a freshly parsed list */
    size_t ca_count;
    gs_trust_ca *cas;
    size_t skipped_certs; /* certificates whose `Данные` did not parse (not kept) */
    X509_STORE *x509;     /* every certificate of the list, built on first use */
    int refs;             /* references held through gs_trust_acquire_default */
    char link[512];       /* the target of `current` when loaded from a store */
} gs_trust_list;

/* Status words: "active", "ended", "annulled", "unknown"; and the Russian status names. */
const char *gs_accreditation_word(gs_accreditation a);
const char *gs_accreditation_ru(gs_accreditation a);

/* Parses the TSL XML; NULL with TSL_INVALID for damaged XML or a list with no certificate. */
gs_trust_list *gs_tsl_parse(const uint8_t *xml, size_t len, gs_status *st);
void gs_trust_list_free(gs_trust_list *l);

/* The accreditation status in force at t (UNKNOWN when no period covers t). */
gs_accreditation gs_trust_ca_status_at(const gs_trust_ca *ca, time_t t);
/* The authority whose certificate list holds this certificate, or NULL. */
const gs_trust_ca *gs_trust_find_ca(const gs_trust_list *l, X509 *cert);
/* Number of authorities with status ACTIVE; the list's age in whole days at `now`. */
size_t gs_trust_active_count(const gs_trust_list *l);
long gs_trust_age_days(const gs_trust_list *l, time_t now);

/* The store root: system (GOSTSIGN_TRUST_SYSTEM_DIR overrides /var/lib/gostsign/trust) or the
 * user's ($XDG_DATA_HOME/gostsign/trust, else ~/.local/share/gostsign/trust). 0 on success. */
int gs_trust_root(int system, char *out, size_t cap);

/*
 * Writes the list as a new store under root (created 0755 for the system one, 0700 otherwise):
 * a new directory with index.json, all.pem (every CA certificate) and accredited.pem, then the
 * `current` link is renamed onto it and older directories are removed. The old store stays
 * whole when anything fails.
 */
gs_code gs_trust_store_write(const gs_trust_list *l, const char *root, const char *source,
                             time_t now, gs_status *st);
/* Reads root/current; TRUST_STORE_MISSING when there is none, TSL_INVALID when damaged. */
gs_trust_list *gs_trust_store_load(const char *root, gs_status *st);
/* The newer (by `Дата`) of the user's and the system store; NULL with TRUST_STORE_MISSING. */
gs_trust_list *gs_trust_load_default(gs_status *st);
/* The path of the store's all.pem (every CA certificate, for chain building). */
int gs_trust_bundle_path(const gs_trust_list *l, char *out, size_t cap);

/*
 * Downloads the list with a GET over https (certificate checked against ca_file, or the
 * system's trust when NULL) or http, within timeout seconds. *out is malloc'ed.
 * TSL_FETCH_FAILED on any failure.
 */
gs_code gs_tsl_fetch(const char *url, const char *ca_file, int timeout, uint8_t **out,
                     size_t *out_len, gs_status *st);

/* The chain of a certificate against the list. */
typedef enum {
    GS_CHAIN_NOT_CHECKED = 0, /* no store */
    GS_CHAIN_ACCREDITED,      /* chains to an authority accredited at issue time and now */
    GS_CHAIN_NOT_ACCREDITED,  /* no chain to an authority of the list */
    GS_CHAIN_ENDED,           /* the authority's accreditation ended («Прекращена») */
    GS_CHAIN_ANNULLED,        /* the authority's accreditation was annulled */
} gs_chain_state;

/* The honest status of one certificate. */
typedef struct {
    gs_chain_state chain;
    int qualified;         /* 1 only with an accredited chain, the fields, no problem */
    gs_code code;          /* OK, or why it is not qualified (the first reason) */
    const gs_trust_ca *ca; /* the issuing authority when found (points into the list) */
    char detail[256];      /* human detail of the reason */
    char missing[160];     /* qualified-certificate fields that are absent, "" when none */
} gs_trust_verdict;

/* Stable words for JSON: "not_checked", "accredited", "not_accredited", "ended", "annulled". */
const char *gs_chain_word(gs_chain_state c);

/*
 * The qualified-certificate fields (FSB order on the form of the certificate) that are absent:
 * a GOST R 34.10-2012 key, subjectSignTool, issuerSignTool, a KC class policy, and the owner's
 * identifiers (SNILS, or OGRN with INNLE, or OGRNIP). Returns the count; names go to `missing`.
 */
int gs_cert_missing_qualified_fields(const gs_cert *cert, char *missing, size_t cap);

/*
 * Judges `cert` at time `at` (the signing time, or now): the chain through the list's
 * certificates, the issuing authority's accreditation at the certificate's notBefore and at
 * `at`, the fields, then gs_cert_problems. l may be NULL (chain NOT_CHECKED, TRUST_STORE_MISSING).
 */
void gs_trust_assess(gs_trust_list *l, const gs_cert *cert, time_t at, gs_trust_verdict *v);
/* The certificate of the list that issued `x` (x itself for a listed root), a new reference, or
 * NULL when no chain through the list verifies (for the revocation check before signing). */
X509 *gs_trust_issuer_of(gs_trust_list *l, X509 *x);
/* Marks a verdict as revoked (CERT_REVOKED, not qualified), keeping its chain state. */
void gs_trust_verdict_revoked(gs_trust_verdict *v, const char *detail);
/* The Russian reason of a verdict: «квалифицированный сертификат», «цепочка не доходит до
 * аккредитованного УЦ», «аккредитация УЦ прекращена», «сертификат отозван», ... */
const char *gs_trust_verdict_ru(const gs_trust_verdict *v);
const char *gs_trust_verdict_en(const gs_trust_verdict *v);

/* The default store shared by a process (the agent): reloaded when `current` changes.
 * Returns a reference (NULL when there is no store); give it back with gs_trust_release. */
gs_trust_list *gs_trust_acquire_default(void);
void gs_trust_release(gs_trust_list *l);

/* The certificate model (qcert.h) plus the verdict against `l` in status (qualified, chain,
 * qualified_code, qualified_message, qualified_message_ru, missing_fields, authority). */
json_object *gs_cert_to_json_trust(const gs_cert *cert, time_t now, gs_trust_list *l);

#endif
