/* The revocation check before signing; see revocation_gate.h. */
#include "revocation_gate.h"

#include <stdio.h>
#include <string.h>

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/* The issuer of the signer: from the accredited-CA store first, else a CA certificate on a
 * token (whose signature on the CRL or OCSP answer is checked all the same). New reference. */
static X509 *find_issuer(agent *ag, const cert_ref *ref)
{
    gs_trust_list *l = gs_trust_acquire_default();
    X509 *issuer = gs_trust_issuer_of(l, ref->cert->x509);
    gs_trust_release(l);
    if (issuer)
        return issuer;
    STACK_OF(X509) *chain = NULL;
    gs_status ignored;
    if (token_cache_chain(ag->tokens, ref, &chain, &ignored) == GS_ERR_OK &&
        sk_X509_num(chain) > 0 &&
        X509_check_issued(sk_X509_value(chain, 0), ref->cert->x509) == X509_V_OK) {
        issuer = sk_X509_value(chain, 0);
        X509_up_ref(issuer);
    }
    sk_X509_pop_free(chain, X509_free);
    return issuer;
}

/* Asks the certificate's CRL distribution point and OCSP responder; returns the verdict. */
static gs_code ask_sources(agent *ag, const cert_ref *ref, char *detail, size_t cap)
{
    X509 *issuer = find_issuer(ag, ref);
    if (!issuer) {
        snprintf(detail, cap,
                 "the issuer's certificate is neither in the accredited-CA store nor "
                 "on a token");
        return GS_ERR_REVOCATION_UNKNOWN;
    }
    gs_revocation_opts o;
    gs_revocation_opts_init(&o);
    o.use_crl_dp = 1;
    o.use_ocsp = 1;
    o.timeout_seconds = ag->cfg.revocation_timeout_seconds;
    gs_revocation_result result;
    gs_status st;
    gs_status_clear(&st);
    gs_code rc = gs_revocation_check(ref->cert->x509, issuer, &o, &result, &st);
    snprintf(detail, cap, "%s", st.detail);
    X509_free(issuer);
    return rc;
}

gs_code revocation_before_sign(agent *ag, const cert_ref *ref, revocation_note *note, gs_status *st)
{
    memset(note, 0, sizeof(*note));
    if (ag->cfg.revocation_policy == AGENT_REVOCATION_OFF)
        return GS_ERR_OK;
    note->checked = true;
    note->code = ask_sources(ag, ref, note->detail, sizeof(note->detail));
    if (note->code == GS_ERR_OK)
        return GS_ERR_OK;
    if (note->code == GS_ERR_CERT_REVOKED) /* never signed with, whatever the policy */
        return gs_fail(st, GS_ERR_CERT_REVOKED, "%s", note->detail);
    if (ag->cfg.revocation_policy == AGENT_REVOCATION_REQUIRE)
        return gs_fail(st, GS_ERR_REVOCATION_CHECK_REQUIRED, "%s: %s",
                       gs_error_lookup(note->code)->name, note->detail);
    return GS_ERR_OK; /* warn: the dialog and the reply say the status is unknown */
}

json_object *revocation_note_json(const revocation_note *note)
{
    if (!note->checked || note->code == GS_ERR_OK)
        return NULL;
    const gs_error_info *e = gs_error_lookup(note->code);
    json_object *w = json_object_new_object();
    json_object_object_add(w, "code", json_object_new_string(e->name));
    json_object_object_add(w, "message", json_object_new_string(e->message_en));
    json_object_object_add(w, "message_ru", json_object_new_string(e->message_ru));
    json_object *list = json_object_new_array();
    json_object_array_add(list, w);
    return list;
}
