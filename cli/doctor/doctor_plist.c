/* A small reader for the device arrays of PC/SC driver Info.plist files (see doctor_plist.h). */
#include "doctor_plist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Skips XML whitespace. */
static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

/* Copies the text of one <string>...</string> at p; returns the position after it, or NULL. */
static const char *read_string(const char *p, char **value)
{
    static const char open[] = "<string>", close[] = "</string>";
    if (strncmp(p, open, sizeof(open) - 1) != 0)
        return NULL;
    p += sizeof(open) - 1;
    const char *end = strstr(p, close);
    if (!end)
        return NULL;
    *value = strndup(p, (size_t)(end - p));
    return *value ? end + sizeof(close) - 1 : NULL;
}

/* Appends a value to a growing list; -1 when out of memory. */
static int push(char ***list, size_t *n, char *value)
{
    char **grown = realloc(*list, (*n + 1) * sizeof(**list));
    if (!grown) {
        free(value);
        return -1;
    }
    grown[(*n)++] = value;
    *list = grown;
    return 0;
}

/* Finds "<key>KEY</key>" exactly and returns the position after it, or NULL. */
static const char *find_key(const char *xml, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = strstr(xml, "<key>"); p; p = strstr(p + 1, "<key>")) {
        const char *k = p + 5;
        if (strncmp(k, key, klen) == 0 && strncmp(k + klen, "</key>", 6) == 0)
            return k + klen + 6;
    }
    return NULL;
}

int doctor_plist_values(const char *xml, const char *key, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const char *p = find_key(xml, key);
    if (!p)
        return 0;
    p = skip_space(p);
    char *value = NULL;
    if (strncmp(p, "<string>", 8) == 0) {
        if (!read_string(p, &value))
            return 0;
        return push(out, n, value);
    }
    if (strncmp(p, "<array>", 7) != 0)
        return 0;
    for (p = skip_space(p + 7); strncmp(p, "<string>", 8) == 0; p = skip_space(p)) {
        p = read_string(p, &value);
        if (!p)
            break;
        if (push(out, n, value) != 0) {
            doctor_plist_free(*out, *n);
            *out = NULL;
            *n = 0;
            return -1;
        }
    }
    return 0;
}

void doctor_plist_free(char **values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(values[i]);
    free(values);
}

/* "0x0A89" (any case, with or without 0x) as a number; -1 when it is not a 16-bit hex number. */
static long parse_id(const char *s)
{
    s = skip_space(s);
    if (strncasecmp(s, "0x", 2) == 0)
        s += 2;
    char *end;
    long v = strtol(s, &end, 16);
    if (end == s || *skip_space(end) != '\0' || v < 0 || v > 0xffff)
        return -1;
    return v;
}

int doctor_plist_lists(const char *xml, uint16_t vendor_id, uint16_t product_id, char *name,
                       size_t cap)
{
    char **vids = NULL, **pids = NULL, **names = NULL;
    size_t nv = 0, np = 0, nn = 0;
    int rc = -1;
    if (doctor_plist_values(xml, "ifdVendorID", &vids, &nv) != 0 ||
        doctor_plist_values(xml, "ifdProductID", &pids, &np) != 0 ||
        doctor_plist_values(xml, "ifdFriendlyName", &names, &nn) != 0 || nv != np)
        goto out;
    rc = 0;
    if (cap)
        name[0] = '\0';
    for (size_t i = 0; i < nv; i++)
        if (parse_id(vids[i]) == vendor_id && parse_id(pids[i]) == product_id) {
            if (cap)
                snprintf(name, cap, "%s", i < nn ? names[i] : "");
            rc = 1;
            break;
        }
out:
    doctor_plist_free(vids, nv);
    doctor_plist_free(pids, np);
    doctor_plist_free(names, nn);
    return rc;
}
