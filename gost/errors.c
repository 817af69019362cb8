/* The error table compiled from errors.def, and small helpers around it. */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const gs_error_info error_table[] = {
#define GS_ERROR(name, num, en, ru, cause, fix, fix_ru)                                            \
    { GS_ERR_##name, #name, en, ru, cause, fix, fix_ru },
#include "errors.def"
#undef GS_ERROR
};

#define ERROR_COUNT (sizeof(error_table) / sizeof(error_table[0]))

/* Linear search is fine: the table is small and lookups happen only on failures. */
const gs_error_info *gs_error_lookup(gs_code code)
{
    for (size_t i = 0; i < ERROR_COUNT; i++)
        if (error_table[i].code == code)
            return &error_table[i];
    return gs_error_lookup(GS_ERR_INTERNAL);
}

/* Used by clients that receive a symbolic code over the protocol. */
const gs_error_info *gs_error_by_name(const char *name)
{
    for (size_t i = 0; name && i < ERROR_COUNT; i++)
        if (strcmp(error_table[i].name, name) == 0)
            return &error_table[i];
    return NULL;
}

/* Exposes the table so docs/errors.md can be generated and checked. */
const gs_error_info *gs_error_table(size_t *count)
{
    *count = ERROR_COUNT;
    return error_table;
}

/* Central place to fill a status, so every failure carries a code and a detail. */
gs_code gs_fail(gs_status *st, gs_code code, const char *fmt, ...)
{
    if (!st)
        return code;
    st->code = code;
    st->detail[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Start state for a status before an operation. */
void gs_status_clear(gs_status *st)
{
    if (!st)
        return;
    st->code = GS_ERR_OK;
    st->detail[0] = '\0';
}
