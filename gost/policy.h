/*
 * Relying-party policy: what a portal demands of a signer beyond a valid signature and a trusted
 * chain. An optional required INN / INN of the legal entity / OGRN (POLICY_ID_MISMATCH), a
 * minimum protection class of the signing tool from certificatePolicies (POLICY_CLASS_MISSING),
 * and the signing time within a window around now, for login challenges (SIGNING_TIME_SKEW).
 * GOST R 34.10-2001 is refused elsewhere (gs_cert_check_usable) for every signature.
 */
#ifndef GOSTSIGN_POLICY_H
#define GOSTSIGN_POLICY_H

#include <time.h>

#include "errors.h"
#include "qcert.h"

/* Protection classes of signing tools (FSB order No. 796), weakest first; their policy OIDs are
 * 1.2.643.100.113.1 (KC1) ... 1.2.643.100.113.6 (KA1). */
typedef enum {
    GS_CLASS_NONE = 0,
    GS_CLASS_KC1,
    GS_CLASS_KC2,
    GS_CLASS_KC3,
    GS_CLASS_KB1,
    GS_CLASS_KB2,
    GS_CLASS_KA1
} gs_protection_class;

/* Parses "KC1", "КС2", "kc3", "KB1", "KA1" or a dotted policy OID; GS_CLASS_NONE when unknown. */
gs_protection_class gs_protection_class_parse(const char *name);
/* "KC1" ... "KA1" (Latin letters); "" for GS_CLASS_NONE. */
const char *gs_protection_class_name(gs_protection_class c);
/* Highest class the certificate's policies state; GS_CLASS_NONE when none. */
gs_protection_class gs_cert_protection_class(const gs_cert *cert);

/* The policy. Zero-initialise with gs_policy_init; unset fields are not checked. */
typedef struct {
    const char *require_inn;           /* personal INN (12 digits), or NULL */
    const char *require_innle;         /* INN of the legal entity (10 digits), or NULL */
    const char *require_ogrn;          /* OGRN (13 digits) or OGRNIP (15 digits), or NULL */
    gs_protection_class require_class; /* minimum class, GS_CLASS_NONE: not checked */
    long max_skew_seconds; /* < 0: not checked; else |signing time - now| must not exceed it */
    time_t now;            /* 0: the current time */
} gs_policy;

void gs_policy_init(gs_policy *p);

/* Whether anything is asked of the signer at all. */
int gs_policy_is_empty(const gs_policy *p);

/*
 * Checks the signer certificate and the signing time against the policy, in the order: identity
 * numbers, protection class, signing time. has_signing_time = 0 fails a skew check (a login
 * signature must say when it was made).
 */
gs_code gs_policy_check(const gs_policy *p, const gs_cert *cert, time_t signing_time,
                        int has_signing_time, gs_status *st);

#endif
