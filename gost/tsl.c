/*
 * The Ministry's list of accredited CAs (TSL) read with libxml2 into a gs_trust_list: authorities
 * with names, INN/OGRN, accreditation status and history, CRL addresses and CA certificates.
 * Element names are those of the published XML (docs/admin-guide.md, "Accredited CAs").
 */
#include "trust.h"
#include "primitives.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#define TSL_ROOT     "АккредитованныеУдостоверяющиеЦентры"
#define MOSCOW_SHIFT (3 * 3600)

/* `Статус` text to the enum. */
static gs_accreditation accreditation_parse(const char *s)
{
    if (!s)
        return GS_ACCR_UNKNOWN;
    for (int a = GS_ACCR_ACTIVE; a <= GS_ACCR_ANNULLED; a++)
        if (strcmp(s, gs_accreditation_ru((gs_accreditation)a)) == 0)
            return (gs_accreditation)a;
    return GS_ACCR_UNKNOWN;
}

/* Whether an element node has this (UTF-8) name. */
static int is_element(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The first child element with this name, or NULL. */
static xmlNode *child(const xmlNode *parent, const char *name)
{
    for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
        if (is_element(n, name))
            return n;
    return NULL;
}

/* The next sibling element with the same name, or NULL. */
static xmlNode *next_same(const xmlNode *n)
{
    for (xmlNode *m = n->next; m; m = m->next)
        if (is_element(m, (const char *)n->name))
            return m;
    return NULL;
}

/* Trimmed text of an element (malloc'ed), NULL when absent or empty. */
static char *node_text(const xmlNode *n)
{
    xmlChar *raw = n ? xmlNodeGetContent(n) : NULL;
    if (!raw)
        return NULL;
    const char *s = (const char *)raw;
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    char *out = len ? strndup(s, len) : NULL;
    xmlFree(raw);
    return out;
}

/* Text of the named child. */
static char *child_text(const xmlNode *parent, const char *name)
{
    return node_text(child(parent, name));
}

/* Days from 1970-01-01 to a civil date (proleptic Gregorian). */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The zone of an ISO 8601 time after the seconds: Z, ±HH:MM, or none (Moscow time). */
static long zone_offset(const char *p)
{
    while (*p == '.' || isdigit((unsigned char)*p))
        p++;
    int zh = 0, zm = 0;
    if (*p == 'Z')
        return 0;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &zh, &zm) >= 1)
        return (*p == '-' ? -1 : 1) * (zh * 3600L + zm * 60L);
    return MOSCOW_SHIFT;
}

/* `2021-07-28T00:00:00+03:00`, with or without fraction and zone, or a bare date; 0 if none. */
static time_t parse_time(const char *s)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || mo < 1 || mo > 12 || d < 1 ||
        d > 31)
        return 0;
    const char *rest = s + used;
    int more = 0;
    if (*rest == 'T' && sscanf(rest + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &more) == 3)
        rest += 1 + more;
    long zone = more ? zone_offset(rest) : MOSCOW_SHIFT;
    return (time_t)(days_from_civil(y, mo, d) * 86400L + h * 3600L + mi * 60L + sec - zone);
}

/* Appends a string to a growing array. */
static int push_str(char ***arr, size_t *n, char *s)
{
    char **grown = realloc(*arr, (*n + 1) * sizeof(**arr));
    if (!grown) {
        free(s);
        return -1;
    }
    grown[(*n)++] = s;
    *arr = grown;
    return 0;
}

/* Appends a certificate to an authority. */
static int push_cert(gs_trust_ca *ca, X509 *x)
{
    X509 **grown = realloc(ca->certs, (ca->cert_count + 1) * sizeof(*grown));
    if (!grown) {
        X509_free(x);
        return -1;
    }
    grown[ca->cert_count++] = x;
    ca->certs = grown;
    return 0;
}

/* DER from base64 text with line breaks anywhere; NULL when it is not a certificate. */
static X509 *cert_from_base64(const char *text)
{
    size_t len = strlen(text), n = 0;
    char *clean = malloc(len + 1);
    unsigned char *der = malloc(len + 1);
    X509 *x = NULL;
    if (clean && der) {
        for (size_t i = 0; i < len; i++)
            if (!isspace((unsigned char)text[i]))
                clean[n++] = text[i];
        int out = n % 4 == 0 && n > 0 && n < INT_MAX
                      ? EVP_DecodeBlock(der, (unsigned char *)clean, (int)n)
                      : -1;
        if (out > 0) {
            out -= (clean[n - 1] == '=') + (clean[n - 2] == '=');
            const unsigned char *p = der;
            x = d2i_X509(NULL, &p, out);
            if (x && p != der + out) {
                X509_free(x);
                x = NULL;
            }
        }
    }
    free(clean);
    free(der);
    ERR_clear_error();
    return x;
}

/* One `Ключ`: its CRL addresses and certificates. */
static void parse_key(gs_trust_list *l, gs_trust_ca *ca, const xmlNode *key)
{
    for (xmlNode *a = child(child(key, "АдресаСписковОтзыва"), "Адрес"); a; a = next_same(a)) {
        char *url = node_text(a);
        if (url)
            push_str(&ca->crl_urls, &ca->crl_count, url);
    }
    for (xmlNode *c = child(child(key, "Сертификаты"), "ДанныеСертификата"); c; c = next_same(c)) {
        char *b64 = child_text(c, "Данные");
        X509 *x = b64 ? cert_from_base64(b64) : NULL;
        free(b64);
        if (x)
            push_cert(ca, x);
        else
            l->skipped_certs++;
    }
}

/* Every `ПрограммноАппаратныйКомплекс/КлючиУполномоченныхЛиц/Ключ` of an authority. */
static void parse_complexes(gs_trust_list *l, gs_trust_ca *ca, const xmlNode *node)
{
    xmlNode *pak =
        child(child(node, "ПрограммноАппаратныеКомплексы"), "ПрограммноАппаратныйКомплекс");
    for (; pak; pak = next_same(pak))
        for (xmlNode *k = child(child(pak, "КлючиУполномоченныхЛиц"), "Ключ"); k; k = next_same(k))
            parse_key(l, ca, k);
}

/* Adds one status period. */
static int push_period(gs_trust_ca *ca, gs_accreditation a, time_t from, time_t to)
{
    gs_accr_period *grown = realloc(ca->periods, (ca->period_count + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    grown[ca->period_count++] = (gs_accr_period){ a, from, to };
    ca->periods = grown;
    return 0;
}

/* One `СтатусАккредитации` element as a period. */
static void parse_status_node(gs_trust_ca *ca, const xmlNode *s)
{
    char *word = child_text(s, "Статус"), *from = child_text(s, "ДействуетС"),
         *to = child_text(s, "ДействуетПо");
    push_period(ca, accreditation_parse(word), parse_time(from), parse_time(to));
    free(word);
    free(from);
    free(to);
}

/* Orders periods by start (insertion sort: histories are short). */
static void sort_periods(gs_trust_ca *ca)
{
    for (size_t i = 1; i < ca->period_count; i++)
        for (size_t j = i; j > 0 && ca->periods[j].from < ca->periods[j - 1].from; j--) {
            gs_accr_period t = ca->periods[j];
            ca->periods[j] = ca->periods[j - 1];
            ca->periods[j - 1] = t;
        }
}

/* Whether the history already has the current status starting at its date. */
static int history_has_current(const gs_trust_ca *ca)
{
    for (size_t i = 0; i < ca->period_count; i++)
        if (ca->periods[i].status == ca->status && ca->periods[i].from == ca->status_since)
            return 1;
    return 0;
}

/*
 * The history (`ИсторияСтатусовАккредитации`) with the current status. Without a history, an
 * authority whose accreditation ended or was annulled on D is taken as accredited before D.
 */
static void parse_accreditation(gs_trust_ca *ca, const xmlNode *node)
{
    const xmlNode *cur = child(node, "СтатусАккредитации");
    char *word = child_text(cur, "Статус"), *since = child_text(cur, "ДействуетС");
    ca->status = accreditation_parse(word);
    ca->status_since = parse_time(since);
    free(word);
    free(since);
    xmlNode *h = child(child(node, "ИсторияСтатусовАккредитации"), "СтатусАккредитации");
    int had_history = h != NULL;
    for (; h; h = next_same(h))
        parse_status_node(ca, h);
    if (!had_history && ca->status != GS_ACCR_ACTIVE && ca->status_since)
        push_period(ca, GS_ACCR_ACTIVE, 0, ca->status_since);
    if (!history_has_current(ca))
        push_period(ca, ca->status, ca->status_since, 0);
    sort_periods(ca);
    for (size_t i = 0; i + 1 < ca->period_count; i++)
        if (!ca->periods[i].to || ca->periods[i].to > ca->periods[i + 1].from)
            ca->periods[i].to = ca->periods[i + 1].from;
}

/* One `УдостоверяющийЦентр`. */
static void parse_ca(gs_trust_list *l, gs_trust_ca *ca, const xmlNode *node)
{
    ca->name = child_text(node, "Название");
    ca->short_name = child_text(node, "КраткоеНазвание");
    ca->inn = child_text(node, "ИНН");
    ca->ogrn = child_text(node, "ОГРН");
    parse_accreditation(ca, node);
    parse_complexes(l, ca, node);
}

/* Counts the `УдостоверяющийЦентр` children. */
static size_t count_cas(const xmlNode *root)
{
    size_t n = 0;
    for (xmlNode *c = child(root, "УдостоверяющийЦентр"); c; c = next_same(c))
        n++;
    return n;
}

/* The list from a parsed document; NULL with the reason when it is not a usable TSL. */
static gs_trust_list *list_from_doc(xmlDoc *doc, gs_status *st)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!is_element(root, TSL_ROOT)) {
        gs_fail(st, GS_ERR_TSL_INVALID, "the root element is not %s", TSL_ROOT);
        return NULL;
    }
    gs_trust_list *l = calloc(1, sizeof(*l));
    size_t n = count_cas(root);
    if (!l || (n && !(l->cas = calloc(n, sizeof(*l->cas))))) {
        free(l);
        gs_fail(st, GS_ERR_OUT_OF_MEMORY, "the list of accredited CAs");
        return NULL;
    }
    l->version = child_text(root, "Версия");
    char *date = child_text(root, "Дата");
    l->date = parse_time(date);
    free(date);
    for (xmlNode *c = child(root, "УдостоверяющийЦентр"); c && l->ca_count < n; c = next_same(c))
        parse_ca(l, &l->cas[l->ca_count++], c);
    return l;
}

/* Whether the list carries a version, a date and some accredited authority's certificate. */
static gs_code list_usable(const gs_trust_list *l, gs_status *st)
{
    if (!l->version || !l->date)
        return gs_fail(st, GS_ERR_TSL_INVALID, "the list has no Версия or no Дата");
    for (size_t i = 0; i < l->ca_count; i++)
        if (l->cas[i].status == GS_ACCR_ACTIVE && l->cas[i].cert_count)
            return GS_ERR_OK;
    return gs_fail(st, GS_ERR_TSL_INVALID,
                   "the list names no accredited authority with a readable certificate");
}

/* libxml2's errors are not printed: the first one becomes the detail. */
static void xml_error_sink(void *ctx, xmlErrorPtr e)
{
    gs_status *st = ctx;
    if (st->detail[0] == '\0' && e && e->message)
        snprintf(st->detail, sizeof(st->detail), "line %d: %s", e->line, e->message);
}

/* Parses the XML text; entities are not expanded and nothing is fetched from the network. */
gs_trust_list *gs_tsl_parse(const uint8_t *xml, size_t len, gs_status *st)
{
    if (len == 0 || len > GS_TSL_MAX_SIZE || len > INT_MAX) {
        gs_fail(st, GS_ERR_TSL_INVALID, "the list is empty or larger than %zu bytes",
                (size_t)GS_TSL_MAX_SIZE);
        return NULL;
    }
    if (gost_init(st) != GS_ERR_OK) /* GOST keys of the certificates decode only with it */
        return NULL;
    gs_status xst;
    gs_status_clear(&xst);
    xmlSetStructuredErrorFunc(&xst, xml_error_sink);
    xmlDoc *doc =
        xmlReadMemory((const char *)xml, (int)len, "tsl.xml", NULL,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_HUGE);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (!doc) {
        gs_fail(st, GS_ERR_TSL_INVALID, "not well-formed XML (%s)",
                xst.detail[0] ? xst.detail : "no detail");
        return NULL;
    }
    gs_trust_list *l = list_from_doc(doc, st);
    xmlFreeDoc(doc);
    if (l && list_usable(l, st) != GS_ERR_OK) {
        gs_trust_list_free(l);
        return NULL;
    }
    return l;
}
