/* `gostsign verify`: checks a CMS/CAdES-BES signature and prints who signed and when. */
#include "cli.h"
#include "gost.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERIFY_USAGE                                                                               \
    "gostsign verify [--content FILE] [--ca-dir DIR] [--ca-file FILE] [--crl FILE] [--online]\n"   \
    "       [--ocsp] [--crl-dp] [--timeout SECONDS] [--require-inn N] [--require-innle N]\n"       \
    "       [--require-ogrn N] [--require-class KC1|KC2] [--max-skew SECONDS] [--json] SIG.p7s"

/* Largest signature file read into memory (attached signatures carry their content). */
#define VERIFY_MAX_SIG ((size_t)1 << 30)

/* Options after parsing. */
typedef struct {
    const char *content, *ca_dir, *ca_file, *crl, *sig;
    gs_revocation_opts revocation; /* issue 7: online revocation */
    gs_policy policy;              /* issue 7: relying-party policy */
    int json;
    gs_trust_list *trust; /* issue 15: the accredited-CA store, when no --ca-dir/--ca-file */
    char trust_bundle[4096];
} verify_args;

/* --help text: states plainly what is and is not checked without --ca-dir. */
static void print_verify_help(void)
{
    printf("usage: %s\n\n"
           "Verifies a CMS SignedData (CAdES-BES) signature, PEM or DER (.p7s, .sig):\n"
           "the signature value, the signed digest of the content, the signer certificate\n"
           "(signer identifier and signingCertificateV2), its validity at the signing time\n"
           "(GOST R 34.10-2001 refused), the chain to a trusted root at the signing time\n"
           "and, with --crl or --online, revocation. Trusted are the accredited CAs of the\n"
           "store (`gostsign trust update`), or --ca-dir/--ca-file when given.\n\n"
           "  --content FILE  the signed file (detached signatures; read in constant memory)\n"
           "  --ca-dir DIR    trust directory with hashed links (`openssl rehash DIR`)\n"
           "  --ca-file FILE  PEM bundle of trusted root/intermediate certificates\n"
           "  --crl FILE      CRL (PEM or DER) of the signer's issuer; needs --ca-dir/--ca-file\n"
           "  --online        check revocation online: OCSP (authorityInfoAccess) and the CRL\n"
           "                  distribution point (cached in $XDG_CACHE_HOME/gostsign/crl)\n"
           "  --ocsp, --crl-dp  only one of the two online sources\n"
           "  --timeout S     per online request (default 10 s); no answer is the warning\n"
           "                  REVOCATION_UNREACHABLE (exit status 85), never a pass\n"
           "  --require-inn N, --require-innle N, --require-ogrn N\n"
           "                  the signer must carry this INN / INN of the legal entity / OGRN\n"
           "                  (else POLICY_ID_MISMATCH)\n"
           "  --require-class KC1|KC2|KC3|KB1|KB2|KA1\n"
           "                  minimum signing-tool class in certificatePolicies\n"
           "                  (else POLICY_CLASS_MISSING)\n"
           "  --max-skew S    signingTime within S seconds of now (else SIGNING_TIME_SKEW)\n"
           "  --json          print the verdict as JSON on stdout (also on failure)\n\n"
           "With the accredited-CA store (and no --ca-dir/--ca-file) the signature is valid\n"
           "only when the signer's certificate is qualified: it chains to a CA accredited\n"
           "when the certificate was issued and at the signing time, and carries the\n"
           "qualified-certificate fields; otherwise the exit status names the reason\n"
           "(CA_NOT_ACCREDITED, CA_ACCREDITATION_ENDED, CERT_NOT_QUALIFIED, CERT_REVOKED).\n"
           "Without a store and without --ca-dir/--ca-file the chain is NOT checked: the\n"
           "command still verifies everything else and exits 0 for a valid signature, but\n"
           "prints \"Chain: NOT CHECKED\" and a warning, because then\n"
           "anyone could have issued the certificate.\n\n"
           "Exit status: 0 when valid, otherwise the error number (see `gostsign errors`).\n",
           VERIFY_USAGE);
}

/* Whole non-negative seconds, or -2 for anything else. */
static long parse_seconds(const char *text)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    return end != text && *end == '\0' && v >= 0 && v <= 100L * 365 * 86400 ? v : -2;
}

/* Revocation and policy options (issue 7); returns 0 when c was one of them. */
static int parse_issue7_option(int c, verify_args *a)
{
    switch (c) {
    case 'O':
        a->revocation.use_ocsp = a->revocation.use_crl_dp = 1;
        return 0;
    case 'S':
        a->revocation.use_ocsp = 1;
        return 0;
    case 'D':
        a->revocation.use_crl_dp = 1;
        return 0;
    case 'T':
        a->revocation.timeout_seconds = (int)parse_seconds(optarg);
        if (a->revocation.timeout_seconds == 0)
            a->revocation.timeout_seconds = -2;
        return 0;
    case 'C':
        a->revocation.cache_dir = optarg;
        return 0;
    case 'I':
        a->policy.require_inn = optarg;
        return 0;
    case 'L':
        a->policy.require_innle = optarg;
        return 0;
    case 'G':
        a->policy.require_ogrn = optarg;
        return 0;
    case 'K':
        a->policy.require_class = gs_protection_class_parse(optarg);
        if (a->policy.require_class == GS_CLASS_NONE)
            a->policy.require_class = (gs_protection_class)-1;
        return 0;
    case 'W':
        a->policy.max_skew_seconds = parse_seconds(optarg);
        return 0;
    case 'j':
        a->json = 1;
        return 0;
    default:
        return -1;
    }
}

/* Whether an online revocation source was asked for. */
static int online_requested(const verify_args *a)
{
    return a->revocation.use_ocsp || a->revocation.use_crl_dp;
}

/* Parses the command line; returns -1 to continue, or an exit status. */
static int parse_verify_args(int argc, char **argv, verify_args *a)
{
    static const struct option opts[] = { { "content", required_argument, NULL, 'c' },
                                          { "ca-dir", required_argument, NULL, 'd' },
                                          { "ca-file", required_argument, NULL, 'f' },
                                          { "crl", required_argument, NULL, 'r' },
                                          { "help", no_argument, NULL, 'h' },
                                          { "online", no_argument, NULL, 'O' },
                                          { "ocsp", no_argument, NULL, 'S' },
                                          { "crl-dp", no_argument, NULL, 'D' },
                                          { "timeout", required_argument, NULL, 'T' },
                                          { "crl-cache", required_argument, NULL, 'C' },
                                          { "require-inn", required_argument, NULL, 'I' },
                                          { "require-innle", required_argument, NULL, 'L' },
                                          { "require-ogrn", required_argument, NULL, 'G' },
                                          { "require-class", required_argument, NULL, 'K' },
                                          { "max-skew", required_argument, NULL, 'W' },
                                          { "json", no_argument, NULL, 'j' },
                                          { NULL, 0, NULL, 0 } };
    int c;
    memset(a, 0, sizeof(*a));
    gs_revocation_opts_init(&a->revocation);
    gs_policy_init(&a->policy);
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
            if (parse_issue7_option(c, a) == 0)
                break;
            return cli_usage_error(VERIFY_USAGE, "unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(VERIFY_USAGE, "give exactly one signature file");
    if (a->policy.max_skew_seconds < -1 || a->revocation.timeout_seconds < 0)
        return cli_usage_error(VERIFY_USAGE, "--max-skew and --timeout take whole seconds");
    if (a->policy.require_class == (gs_protection_class)-1)
        return cli_usage_error(VERIFY_USAGE, "--require-class: KC1, KC2, KC3, KB1, KB2 or KA1");
    a->sig = argv[optind];
    return -1;
}

/* Without --ca-dir/--ca-file: the accredited-CA store becomes the trust (issue 15). Revocation
 * needs one of the two, since it trusts the issuer from the verified chain. */
static int attach_trust(verify_args *a)
{
    if (!a->ca_dir && !a->ca_file) {
        gs_status st;
        a->trust = gs_trust_load_default(&st);
        if (a->trust &&
            gs_trust_bundle_path(a->trust, a->trust_bundle, sizeof(a->trust_bundle)) == 0)
            a->ca_file = a->trust_bundle;
    }
    if (a->crl && !a->ca_dir && !a->ca_file)
        return cli_usage_error(VERIFY_USAGE, "--crl needs a trust store (`gostsign trust update`) "
                                             "or --ca-dir/--ca-file to check it");
    if (online_requested(a) && !a->ca_dir && !a->ca_file)
        return cli_usage_error(VERIFY_USAGE, "--online/--ocsp/--crl-dp need a trust store or "
                                             "--ca-dir/--ca-file");
    return -1;
}

/* The qualified verdict of the signer against the store at the signing time: a valid signature
 * by a certificate that is not qualified is refused with the reason. */
static gs_code judge_qualified(const verify_args *a, gs_code rc, const gs_cms_verify_result *r,
                               gs_trust_verdict *v, gs_status *st)
{
    memset(v, 0, sizeof(*v));
    if (!a->trust || !r->signer)
        return rc;
    gs_trust_assess(a->trust, r->signer, r->signing_time, v);
    if (rc == GS_ERR_CERT_REVOKED)
        gs_trust_verdict_revoked(v, st->detail);
    int signature_ok =
        rc == GS_ERR_OK || rc == GS_ERR_REVOCATION_UNKNOWN || rc == GS_ERR_REVOCATION_UNREACHABLE;
    if ((signature_ok || rc == GS_ERR_CERT_UNTRUSTED) && !v->qualified) {
        gs_fail(st, v->code, "%s: %s", gs_trust_verdict_ru(v), v->detail);
        return v->code;
    }
    return rc;
}

/* The line that says which trust was used. */
static void trust_label(const verify_args *a, char *out, size_t cap)
{
    char date[16] = "?";
    struct tm tm;
    if (a->trust && gmtime_r(&a->trust->date, &tm))
        strftime(date, sizeof(date), "%Y-%m-%d", &tm);
    if (a->trust)
        snprintf(out, cap,
                 cli_text("список аккредитованных УЦ, версия %s от %s",
                          "accredited CAs, version %s of %s"),
                 a->trust->version ? a->trust->version : "?", date);
    else
        snprintf(out, cap, "%s", a->ca_dir ? a->ca_dir : a->ca_file);
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
    char *summary = gs_cert_owner_summary_lang(c, cli_russian());
    print_field(cli_text("Подписант:", "Signer:"), summary);
    free(summary);
    print_field(cli_text("Владелец:", "Owner:"), c->subject.cn);
    print_field(cli_text("Должность:", "Title:"), c->subject.t);
    print_field(cli_text("Организация:", "Organisation:"), c->subject.o);
    print_field(cli_text("ИНН:", "INN:"), c->subject.inn);
    print_field(cli_text("ИНН ЮЛ:", "INNLE:"), c->subject.innle);
    print_field(cli_text("ОГРН:", "OGRN:"), c->subject.ogrn);
    print_field(cli_text("ОГРНИП:", "OGRNIP:"), c->subject.ogrnip);
    print_field(cli_text("СНИЛС:", "SNILS:"), c->subject.snils);
    print_field(cli_text("Издатель:", "Issuer:"), c->issuer.cn);
    print_field(cli_text("Серийный номер:", "Serial:"), c->serial_hex);
    char from[40], to[40], line[100];
    format_utc(c->not_before, from, sizeof(from));
    format_utc(c->not_after, to, sizeof(to));
    snprintf(line, sizeof(line), "%s .. %s", from, to);
    print_field(cli_text("Действителен:", "Valid:"), line);
}

/* The verdict lines: signing time, content, chain and revocation status. */
static void print_checks(const gs_cms_verify_result *r, const verify_args *a)
{
    char when[40], line[600];
    format_utc(r->signing_time, when, sizeof(when));
    snprintf(line, sizeof(line), "%s%s", when,
             r->has_signing_time ? ""
                                 : cli_text(" (не указано в подписи, взято текущее)",
                                            " (not stated, current time used)"));
    print_field(cli_text("Время подписи:", "Signing time:"), line);
    snprintf(line, sizeof(line), "%s, Streebog-%d%s",
             r->attached ? cli_text("прикреплённая", "attached")
                         : cli_text("отсоединённая", "detached"),
             r->digest_bits,
             r->has_signing_cert_v2
                 ? ", signingCertificateV2 OK"
                 : cli_text(", без signingCertificateV2", ", no signingCertificateV2"));
    print_field(cli_text("Подпись:", "Signature:"), line);
    char trust[300];
    trust_label(a, trust, sizeof(trust));
    if (r->chain_checked)
        snprintf(line, sizeof(line), cli_text("проверена (%s)", "verified (%s)"), trust);
    else
        snprintf(line, sizeof(line), "%s",
                 cli_text("НЕ ПРОВЕРЕНА (нет списка аккредитованных УЦ и --ca-dir)",
                          "NOT CHECKED (no trust store, no --ca-dir)"));
    print_field(cli_text("Цепочка:", "Chain:"), line);
    if (r->crl_checked)
        snprintf(line, sizeof(line), cli_text("не отозван (%s)", "not revoked (%s)"), a->crl);
    else
        snprintf(line, sizeof(line), "%s",
                 cli_text("не проверялся (--crl не задан)", "not checked (no --crl given)"));
    print_field(cli_text("Отзыв:", "Revocation:"), line);
}

/* One online source's verdict in words, with where it came from. */
static void print_source(const char *label, const gs_revocation_source *src)
{
    char line[700];
    const char *word = src->code == GS_ERR_OK             ? cli_text("не отозван", "good")
                       : src->code == GS_ERR_CERT_REVOKED ? cli_text("ОТОЗВАН", "REVOKED")
                       : src->code == GS_ERR_REVOCATION_UNKNOWN ? cli_text("неизвестен", "unknown")
                       : src->code == GS_ERR_REVOCATION_UNREACHABLE
                           ? cli_text("нет связи", "unreachable")
                           : cli_text("ошибка", "invalid");
    snprintf(line, sizeof(line), "%s (%s%s)", word, src->where[0] ? src->where : src->detail,
             src->from_cache ? cli_text(", из кэша", ", cached") : "");
    print_field(label, line);
}

/* Online revocation and policy lines (issue 7). */
static void print_issue7_checks(const gs_cms_verify_result *r, const verify_args *a)
{
    if (r->revocation_checked && r->revocation.crl.consulted)
        print_source(cli_text("CRL (точка распространения):", "CRL (distribution point):"),
                     &r->revocation.crl);
    if (r->revocation_checked && r->revocation.ocsp.consulted)
        print_source("OCSP:", &r->revocation.ocsp);
    if (r->policy_checked) {
        char line[300];
        snprintf(line, sizeof(line), "%s%s%s%s%s%s%s", cli_text("соблюдена", "satisfied"),
                 a->policy.require_inn ? cli_text(", ИНН ", ", INN ") : "",
                 a->policy.require_inn ? a->policy.require_inn : "",
                 a->policy.require_ogrn ? cli_text(", ОГРН ", ", OGRN ") : "",
                 a->policy.require_ogrn ? a->policy.require_ogrn : "",
                 a->policy.require_class > 0 ? cli_text(", класс ", ", class ") : "",
                 a->policy.require_class > 0 ? gs_protection_class_name(a->policy.require_class)
                                             : "");
        print_field(cli_text("Политика:", "Policy:"), line);
    }
}

/* ISO 8601 UTC for JSON. */
static json_object *json_time(time_t t)
{
    char buf[32];
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
        return NULL;
    return json_object_new_string(buf);
}

/* True for the verdicts that leave a valid signature with an unconfirmed revocation status. */
static int is_revocation_warning(gs_code rc)
{
    return rc == GS_ERR_REVOCATION_UNKNOWN || rc == GS_ERR_REVOCATION_UNREACHABLE;
}

/* Online source status for JSON: {"status", "url", "cached", "this_update", "next_update"}. */
static json_object *json_source(const gs_cms_verify_result *r, const gs_revocation_source *src)
{
    json_object *o = json_object_new_object();
    json_object_object_add(
        o, "status",
        json_object_new_string(r->revocation_checked ? gs_revocation_word(src) : "not_checked"));
    json_object_object_add(o, "source", src->where[0] ? json_object_new_string(src->where) : NULL);
    json_object_object_add(o, "cached", json_object_new_boolean(src->from_cache));
    json_object_object_add(o, "this_update", src->this_update ? json_time(src->this_update) : NULL);
    json_object_object_add(o, "next_update", src->next_update ? json_time(src->next_update) : NULL);
    return o;
}

/*
 * The verdict as JSON (stable fields): valid, warning, code, number, message, message_ru,
 * detail, signer (the certificate model or null), signing_time (ISO 8601 or null),
 * signing_time_stated, attached, digest_bits, chain ("verified" | "not_checked" | "failed"),
 * crl_file ("good" | "revoked" | "not_checked" | "failed"), crl and ocsp ({status, source,
 * cached, this_update, next_update}), policy ("satisfied" | "not_checked" | "failed"),
 * qualified (true only with the accredited-CA store and a qualified signer), trust ("ca_dir",
 * "none", or the store's chain word: "accredited", "not_accredited", "ended", "annulled").
 */
static void print_json(gs_code rc, const gs_status *st, const gs_cms_verify_result *r,
                       const verify_args *a, const gs_trust_verdict *v)
{
    const gs_error_info *e = gs_error_lookup(rc);
    json_object *o = json_object_new_object();
    int sig_ok = rc == GS_ERR_OK || is_revocation_warning(rc);
    json_object_object_add(o, "valid", json_object_new_boolean(rc == GS_ERR_OK));
    json_object_object_add(o, "warning", json_object_new_boolean(is_revocation_warning(rc)));
    json_object_object_add(o, "code", json_object_new_string(e->name));
    json_object_object_add(o, "number", json_object_new_int((int)rc));
    json_object_object_add(o, "message", json_object_new_string(e->message_en));
    json_object_object_add(o, "message_ru", json_object_new_string(e->message_ru));
    json_object_object_add(
        o, "detail", rc != GS_ERR_OK && st->detail[0] ? json_object_new_string(st->detail) : NULL);
    json_object_object_add(o, "signer", r->signer ? gs_cert_to_json(r->signer, time(NULL)) : NULL);
    json_object_object_add(o, "signing_time", r->signer ? json_time(r->signing_time) : NULL);
    json_object_object_add(o, "signing_time_stated", json_object_new_boolean(r->has_signing_time));
    json_object_object_add(o, "attached", json_object_new_boolean(r->attached));
    json_object_object_add(o, "digest_bits", json_object_new_int(r->digest_bits));
    const char *chain = r->chain_checked                       ? "verified"
                        : (a->ca_dir || a->ca_file) && !sig_ok ? "failed"
                                                               : "not_checked";
    json_object_object_add(o, "chain", json_object_new_string(chain));
    const char *crl_file = !a->crl                                               ? "not_checked"
                           : r->crl_checked                                      ? "good"
                           : rc == GS_ERR_CERT_REVOKED && !r->revocation_checked ? "revoked"
                                                                                 : "failed";
    json_object_object_add(o, "crl_file", json_object_new_string(crl_file));
    json_object_object_add(o, "crl", json_source(r, &r->revocation.crl));
    json_object_object_add(o, "ocsp", json_source(r, &r->revocation.ocsp));
    const char *policy = gs_policy_is_empty(&a->policy)                   ? "not_checked"
                         : r->policy_checked                              ? "satisfied"
                         : r->chain_checked || !(a->ca_dir || a->ca_file) ? "failed"
                                                                          : "not_checked";
    json_object_object_add(o, "policy", json_object_new_string(policy));
    json_object_object_add(o, "qualified", json_object_new_boolean(a->trust && v->qualified));
    json_object_object_add(o, "trust",
                           json_object_new_string(a->trust ? gs_chain_word(v->chain)
                                                  : a->ca_dir || a->ca_file ? "ca_dir"
                                                                            : "none"));
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
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
    o.revocation = online_requested(a) ? &a->revocation : NULL;
    o.policy = gs_policy_is_empty(&a->policy) ? NULL : &a->policy;
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

/* The qualified line under the checks, when the store was the trust. */
static void print_qualified(const gs_trust_verdict *v, const verify_args *a)
{
    if (!a->trust)
        return;
    char line[600];
    const gs_trust_ca *ca = v->ca;
    snprintf(line, sizeof(line), "%s%s%s%s%s%s",
             v->qualified ? cli_text("да", "yes") : cli_text("нет", "no"), ca ? " — " : "",
             ca && ca->short_name ? ca->short_name
             : ca && ca->name     ? ca->name
                                  : "",
             ca && ca->inn ? cli_text(" (ИНН ", " (INN ") : "", ca && ca->inn ? ca->inn : "",
             ca && ca->inn ? ")" : "");
    print_field(cli_text("Квалифицированный:", "Qualified:"), line);
}

/* Everything printed after a verification; returns the exit status. */
static int print_outcome(gs_code rc, const gs_status *st, const gs_cms_verify_result *res,
                         const verify_args *a, const gs_trust_verdict *v)
{
    if (is_revocation_warning(rc) && res->signer) {
        printf("%s\n", cli_text("Подпись верна, но статус отзыва не подтверждён",
                                "Signature verifies, but the revocation status is NOT confirmed"));
        print_signer(res->signer);
        print_checks(res, a);
        print_issue7_checks(res, a);
        print_qualified(v, a);
    }
    if (rc != GS_ERR_OK) {
        int status = cli_report(st);
        char *who = res->signer ? gs_cert_owner_summary_lang(res->signer, cli_russian()) : NULL;
        if (who)
            fprintf(stderr, cli_text("  подписант: %s\n", "  signer: %s\n"), who);
        if (a->trust && res->signer && !v->qualified)
            fprintf(stderr, cli_text("  не квалифицированный: %s\n", "  not qualified: %s\n"),
                    cli_russian() ? gs_trust_verdict_ru(v) : gs_trust_verdict_en(v));
        free(who);
        return status;
    }
    printf("%s\n", cli_text("Подпись действительна", "Signature is valid"));
    print_signer(res->signer);
    print_checks(res, a);
    print_issue7_checks(res, a);
    print_qualified(v, a);
    if (!res->chain_checked)
        fprintf(stderr, "%s\n",
                cli_text("gostsign: ВНИМАНИЕ: цепочка сертификатов не проверена (нет списка "
                         "аккредитованных УЦ и --ca-dir): личность подписанта не подтверждена; "
                         "выполните `gostsign trust update`",
                         "gostsign: WARNING: certificate chain NOT checked (no accredited-CA "
                         "store, no --ca-dir): the signer's identity is not confirmed; run "
                         "`gostsign trust update`"));
    return 0;
}

/* `gostsign verify`: exit 0 only for a valid signature, printing the signer and the checks. */
int cmd_verify(int argc, char **argv)
{
    verify_args a;
    int early = parse_verify_args(argc, argv, &a);
    if (early < 0)
        early = attach_trust(&a);
    if (early >= 0) {
        gs_trust_list_free(a.trust);
        return early;
    }
    gs_status st;
    gs_status_clear(&st);
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    if (read_sig_file(a.sig, &sig, &sig_len, &st) != GS_ERR_OK) {
        gs_trust_list_free(a.trust);
        return cli_report(&st);
    }
    gs_cms_verify_result res;
    memset(&res, 0, sizeof(res));
    gs_code rc = run_verify(&a, sig, sig_len, &res, &st);
    free(sig);
    if (rc == GS_ERR_OK && !res.signer) /* gs_cms_verify gives OK only with the signer found */
        rc = cli_cannot_happen(&st, "a valid signature without its signer certificate");
    gs_trust_verdict v;
    rc = judge_qualified(&a, rc, &res, &v, &st);
    if (a.trust)
        cli_warn_trust_age(a.trust, time(NULL));
    int status = a.json ? (print_json(rc, &st, &res, &a, &v), (int)rc)
                        : print_outcome(rc, &st, &res, &a, &v);
    gs_cms_verify_result_clear(&res);
    gs_trust_list_free(a.trust);
    return status;
}
