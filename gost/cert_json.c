/*
 * The certificate JSON model with its honest status: qcert.c's model plus the verdict against
 * the accredited-CA store (status.qualified, status.chain and the reason). The agent's
 * `certificates` reply, `verify --json` and `cert show --json` all come through here.
 */
#include "trust.h"

#include <stdio.h>
#include <string.h>

/* A string member, or null. */
static void add_str(json_object *o, const char *key, const char *value)
{
    json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
}

/* ISO 8601 UTC, or null for 0. */
static json_object *iso(time_t t)
{
    char buf[32];
    struct tm tm;
    if (!t || !gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
        return NULL;
    return json_object_new_string(buf);
}

/* The issuing authority as the list names it. */
static json_object *authority_json(const gs_trust_ca *ca)
{
    if (!ca)
        return NULL;
    json_object *o = json_object_new_object();
    add_str(o, "name", ca->name);
    add_str(o, "short_name", ca->short_name);
    add_str(o, "inn", ca->inn);
    add_str(o, "ogrn", ca->ogrn);
    add_str(o, "accreditation", gs_accreditation_word(ca->status));
    json_object_object_add(o, "accreditation_since", iso(ca->status_since));
    return o;
}

/* The list the verdict came from. */
static json_object *list_json(const gs_trust_list *l)
{
    if (!l)
        return NULL;
    json_object *o = json_object_new_object();
    add_str(o, "version", l->version);
    json_object_object_add(o, "date", iso(l->date));
    return o;
}

/* Adds the verdict's members to the status object. */
static void add_verdict(json_object *status, const gs_trust_verdict *v, const gs_trust_list *l)
{
    json_object_object_add(status, "qualified", json_object_new_boolean(v->qualified));
    add_str(status, "chain", gs_chain_word(v->chain));
    add_str(status, "qualified_code", gs_error_lookup(v->code)->name);
    add_str(status, "qualified_message", gs_trust_verdict_en(v));
    add_str(status, "qualified_message_ru", gs_trust_verdict_ru(v));
    add_str(status, "qualified_detail", v->detail[0] ? v->detail : NULL);
    add_str(status, "missing_fields", v->missing[0] ? v->missing : NULL);
    json_object_object_add(status, "authority", authority_json(v->ca));
    json_object_object_add(status, "trust_list", list_json(l));
}

/* The model with the verdict against l (NULL: no store, chain "not_checked"). */
json_object *gs_cert_to_json_trust(const gs_cert *cert, time_t now, gs_trust_list *l)
{
    json_object *obj = gs_cert_model_json(cert, now), *status = NULL;
    gs_trust_verdict v;
    gs_trust_assess(l, cert, now, &v);
    if (json_object_object_get_ex(obj, "status", &status))
        add_verdict(status, &v, l);
    return obj;
}

/* The model with the verdict against the process's default store. */
json_object *gs_cert_to_json(const gs_cert *cert, time_t now)
{
    gs_trust_list *l = gs_trust_acquire_default();
    json_object *obj = gs_cert_to_json_trust(cert, now, l);
    gs_trust_release(l);
    return obj;
}
