/* gostsign error codes: one table (errors.def) for protocol replies, CLI messages and docs. */
#ifndef GOSTSIGN_ERRORS_H
#define GOSTSIGN_ERRORS_H

#include <stddef.h>

typedef enum {
#define GS_ERROR(name, num, en, ru, cause, fix, fix_ru) GS_ERR_##name = num,
#include "errors.def"
#undef GS_ERROR
} gs_code;

/* One entry of the error table, as docs and protocol replies present it. */
typedef struct {
    gs_code code;
    const char *name; /* stable symbolic code, e.g. "PIN_INCORRECT" */
    const char *message_en;
    const char *message_ru;
    const char *cause;
    const char *fix;
    const char *fix_ru; /* the fix in Russian */
} gs_error_info;

/* A result with context: the code plus a human detail (never holds a PIN or key material). */
typedef struct {
    gs_code code;
    char detail[256];
} gs_status;

/* Looks up a code; unknown numbers map to the INTERNAL entry. */
const gs_error_info *gs_error_lookup(gs_code code);

/* Finds an entry by its symbolic name; NULL when there is none. */
const gs_error_info *gs_error_by_name(const char *name);

/* Gives the whole table in number order, for docs generation and tests. */
const gs_error_info *gs_error_table(size_t *count);

/* Records a failure with a printf-style detail; returns the code so callers can `return
 * gs_fail(...)`. */
gs_code gs_fail(gs_status *st, gs_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Resets a status to OK with no detail. */
void gs_status_clear(gs_status *st);

#endif
