/* The doctor's report model: the list of verdicts, the exit code, and its JSON and text forms. */
#include "doctor.h"
#include "gostsign_version.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Stable ids and titles of the layers, in walking order (index = layer - 1). */
static const struct {
    const char *id, *title, *title_ru;
} layer_info[DOCTOR_LAYER_COUNT] = {
    { "usb", "USB devices", "USB-устройства" },
    { "permissions", "Device permissions", "Права доступа к устройствам" },
    { "pcsc", "Smart card service (pcscd), readers and cards",
      "Служба смарт-карт (pcscd), считыватели и карты" },
    { "driver", "Reader drivers", "Драйверы считывателей" },
    { "modules", "PKCS#11 modules", "Модули PKCS#11" },
    { "tokens", "Tokens and PIN state", "Токены и состояние PIN-кода" },
    { "certificates", "Certificates", "Сертификаты" },
    { "agent", "Signing agent", "Агент подписи" },
    { "browsers", "Browsers", "Браузеры" },
    { "test_sign", "Test signature", "Тестовая подпись" },
};

void doctor_ctx_init(doctor_ctx *ctx, const doctor_opts *opts)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->opts = *opts;
}

void doctor_ctx_free(doctor_ctx *ctx)
{
    for (size_t i = 0; i < ctx->count; i++)
        json_object_put(ctx->checks[i].evidence);
    free(ctx->checks);
    ctx->checks = NULL;
    ctx->count = ctx->cap = 0;
}

doctor_check *doctor_add(doctor_ctx *ctx, doctor_layer layer, const char *id, doctor_status status,
                         gs_code code)
{
    if (ctx->count == ctx->cap) {
        size_t cap = ctx->cap ? ctx->cap * 2 : 32;
        doctor_check *grown = realloc(ctx->checks, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        ctx->checks = grown;
        ctx->cap = cap;
    }
    doctor_check *c = &ctx->checks[ctx->count++];
    memset(c, 0, sizeof(*c));
    c->layer = layer;
    snprintf(c->id, sizeof(c->id), "%s", id);
    c->status = status;
    c->code = code;
    c->evidence = json_object_new_object();
    return c;
}

/* Drops a UTF-8 sequence cut at the end of a truncated text, so the JSON stays valid. */
static void trim_cut_utf8(char *text)
{
    size_t len = strlen(text), start = len;
    while (start > 0 && ((unsigned char)text[start - 1] & 0xC0) == 0x80)
        start--;
    if (start == 0 || ((unsigned char)text[start - 1] & 0x80) == 0)
        return;
    unsigned char lead = (unsigned char)text[start - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (len - (start - 1) < need)
        text[start - 1] = '\0';
}

/* Formats one text with a va_list copy so both languages can use the same arguments. */
static void format_pair(char *en, size_t en_cap, char *ru, size_t ru_cap, const char *en_fmt,
                        const char *ru_fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    vsnprintf(en, en_cap, en_fmt, ap);
    vsnprintf(ru, ru_cap, ru_fmt, copy);
    va_end(copy);
    trim_cut_utf8(en);
    trim_cut_utf8(ru);
}

void doctor_say(doctor_check *c, const char *en_fmt, const char *ru_fmt, ...)
{
    if (!c)
        return;
    va_list ap;
    va_start(ap, ru_fmt);
    format_pair(c->message, sizeof(c->message), c->message_ru, sizeof(c->message_ru), en_fmt,
                ru_fmt, ap);
    va_end(ap);
}

void doctor_fix(doctor_check *c, const char *en_fmt, const char *ru_fmt, ...)
{
    if (!c)
        return;
    va_list ap;
    va_start(ap, ru_fmt);
    format_pair(c->fix, sizeof(c->fix), c->fix_ru, sizeof(c->fix_ru), en_fmt, ru_fmt, ap);
    va_end(ap);
}

void doctor_ev_str(doctor_check *c, const char *key, const char *value)
{
    if (c && c->evidence)
        json_object_object_add(c->evidence, key, value ? json_object_new_string(value) : NULL);
}

void doctor_ev_int(doctor_check *c, const char *key, int64_t value)
{
    if (c && c->evidence)
        json_object_object_add(c->evidence, key, json_object_new_int64(value));
}

void doctor_ev_bool(doctor_check *c, const char *key, int value)
{
    if (c && c->evidence)
        json_object_object_add(c->evidence, key, json_object_new_boolean(value != 0));
}

void doctor_ev_obj(doctor_check *c, const char *key, json_object *value)
{
    if (c && c->evidence)
        json_object_object_add(c->evidence, key, value);
    else
        json_object_put(value);
}

doctor_status doctor_worst(const doctor_ctx *ctx)
{
    doctor_status worst = DOCTOR_OK;
    for (size_t i = 0; i < ctx->count; i++)
        if (ctx->checks[i].status > worst)
            worst = ctx->checks[i].status;
    return worst;
}

/* Skipped checks do not count: a machine without a USB token is not broken by that alone. */
int doctor_exit_code(const doctor_ctx *ctx)
{
    switch (doctor_worst(ctx)) {
    case DOCTOR_FAIL:
        return GS_ERR_DOCTOR_FAILED;
    case DOCTOR_WARN:
        return GS_ERR_DOCTOR_WARNINGS;
    default:
        return 0;
    }
}

const char *doctor_status_word(doctor_status s)
{
    static const char *const words[] = { "ok", "skip", "warn", "fail" };
    return (unsigned)s < 4 ? words[s] : "fail";
}

const char *doctor_layer_id(doctor_layer l)
{
    return l >= 1 && l <= DOCTOR_LAYER_COUNT ? layer_info[l - 1].id : "unknown";
}

const char *doctor_layer_title(doctor_layer l, int russian)
{
    if (l < 1 || l > DOCTOR_LAYER_COUNT)
        return "?";
    return russian ? layer_info[l - 1].title_ru : layer_info[l - 1].title;
}

/* The status of a layer: its worst check; a layer without checks was not run ("skip"). */
static doctor_status layer_status(const doctor_ctx *ctx, doctor_layer l, size_t *n)
{
    doctor_status worst = DOCTOR_OK;
    *n = 0;
    for (size_t i = 0; i < ctx->count; i++)
        if (ctx->checks[i].layer == l) {
            (*n)++;
            if (ctx->checks[i].status > worst)
                worst = ctx->checks[i].status;
        }
    return *n ? worst : DOCTOR_SKIP;
}

/* One check as JSON (see docs/doctor-json.md). */
static json_object *check_to_json(const doctor_check *c)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(c->id));
    json_object_object_add(o, "status", json_object_new_string(doctor_status_word(c->status)));
    json_object_object_add(o, "code", json_object_new_string(gs_error_lookup(c->code)->name));
    json_object_object_add(o, "number", json_object_new_int(c->code));
    json_object_object_add(o, "message", json_object_new_string(c->message));
    json_object_object_add(o, "message_ru", json_object_new_string(c->message_ru));
    json_object *fix = NULL;
    if (c->fix[0]) {
        fix = json_object_new_object();
        json_object_object_add(fix, "en", json_object_new_string(c->fix));
        json_object_object_add(fix, "ru", json_object_new_string(c->fix_ru));
    }
    json_object_object_add(o, "fix", fix);
    json_object_object_add(o, "evidence", json_object_get(c->evidence));
    return o;
}

/* UTC time as ISO 8601, for the report header. */
static void iso_now(char *out, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_object *doctor_to_json(const doctor_ctx *ctx)
{
    json_object *root = json_object_new_object(), *layers = json_object_new_array();
    char when[32];
    iso_now(when, sizeof(when));
    json_object_object_add(root, "schema", json_object_new_int(DOCTOR_SCHEMA));
    json_object_object_add(root, "gostsign_version", json_object_new_string(GOSTSIGN_VERSION));
    json_object_object_add(root, "generated_at", json_object_new_string(when));
    json_object_object_add(root, "status",
                           json_object_new_string(doctor_status_word(doctor_worst(ctx))));
    json_object_object_add(root, "exit_code", json_object_new_int(doctor_exit_code(ctx)));
    int counts[4] = { 0 };
    for (size_t i = 0; i < ctx->count; i++)
        counts[ctx->checks[i].status]++;
    json_object *summary = json_object_new_object();
    for (int s = 0; s < 4; s++)
        json_object_object_add(summary, doctor_status_word(s), json_object_new_int(counts[s]));
    json_object_object_add(root, "summary", summary);
    for (int l = 1; l <= DOCTOR_LAYER_COUNT; l++) {
        size_t n;
        json_object *lo = json_object_new_object(), *checks = json_object_new_array();
        json_object_object_add(lo, "layer", json_object_new_int(l));
        json_object_object_add(lo, "id", json_object_new_string(doctor_layer_id(l)));
        json_object_object_add(lo, "title", json_object_new_string(doctor_layer_title(l, 0)));
        json_object_object_add(lo, "title_ru", json_object_new_string(doctor_layer_title(l, 1)));
        doctor_status st = layer_status(ctx, l, &n);
        json_object_object_add(lo, "status", json_object_new_string(doctor_status_word(st)));
        for (size_t i = 0; i < ctx->count; i++)
            if (ctx->checks[i].layer == (doctor_layer)l)
                json_object_array_add(checks, check_to_json(&ctx->checks[i]));
        json_object_object_add(lo, "checks", checks);
        json_object_array_add(layers, lo);
    }
    json_object_object_add(root, "layers", layers);
    return root;
}

/* Marker of a status in the text report (ASCII, so it survives any terminal). */
static const char *status_mark(doctor_status s)
{
    static const char *const marks[] = { "[ OK ]", "[SKIP]", "[WARN]", "[FAIL]" };
    return (unsigned)s < 4 ? marks[s] : "[FAIL]";
}

void doctor_print_text(const doctor_ctx *ctx, FILE *out, bool russian)
{
    for (int l = 1; l <= DOCTOR_LAYER_COUNT; l++) {
        size_t n;
        doctor_status st = layer_status(ctx, l, &n);
        fprintf(out, "%s %d. %s\n", status_mark(st), l, doctor_layer_title(l, russian));
        for (size_t i = 0; i < ctx->count; i++) {
            const doctor_check *c = &ctx->checks[i];
            if (c->layer != (doctor_layer)l)
                continue;
            fprintf(out, "    %s %s\n", status_mark(c->status),
                    russian ? c->message_ru : c->message);
            if (c->fix[0])
                fprintf(out, "           %s %s\n",
                        russian ? "Что сделать:" : "Fix:", russian ? c->fix_ru : c->fix);
        }
    }
    doctor_status worst = doctor_worst(ctx);
    static const char *const words_ru[] = { "всё в порядке", "пропущено", "есть предупреждения",
                                            "есть ошибки" };
    if (russian)
        fprintf(out, "\nИтог: %s (код выхода %d)\n",
                (unsigned)worst < 4 ? words_ru[worst] : words_ru[3], doctor_exit_code(ctx));
    else
        fprintf(out, "\nResult: %s (exit %d)\n", doctor_status_word(worst), doctor_exit_code(ctx));
}
