/*
 * Doctor layers 5 and 6: PKCS#11 modules (p11-kit registry, the gostsign config, --module, the
 * vendor module a seen token needs), whether each loads, one token seen through two modules, and
 * the tokens' PIN state. Layer 7 (certificates) is in doctor_certs.c and uses the same client.
 */
#include "agent.h"
#include "pkcs11_client.h"
#include "doctor.h"
#include "doctor_pkcs11.h"

#include <stdlib.h>
#include <string.h>

#include <p11-kit/p11-kit.h>

/* Base name of a path (the module file name the tables use). */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Adds a module path once (same file name = same module); origin says where it was found. */
static void add_module(doctor_modules *ms, const char *path, const char *origin)
{
    for (size_t i = 0; i < ms->count; i++)
        if (strcmp(base_name(ms->items[i].path), base_name(path)) == 0)
            return;
    if (ms->count == DOCTOR_MAX_MODULES || strcmp(base_name(path), "p11-kit-trust.so") == 0)
        return;
    snprintf(ms->items[ms->count].path, sizeof(ms->items[0].path), "%s", path);
    snprintf(ms->items[ms->count].origin, sizeof(ms->items[0].origin), "%s", origin);
    ms->count++;
}

/* Module files registered with p11-kit (loading them is how p11-kit tells their paths). */
static void add_registry_modules(doctor_modules *ms)
{
    CK_FUNCTION_LIST **mods = p11_kit_modules_load(NULL, 0);
    for (size_t i = 0; mods && mods[i]; i++) {
        char *file = p11_kit_module_get_filename(mods[i]);
        if (file)
            add_module(ms, file, "p11-kit");
        free(file);
    }
    if (mods)
        p11_kit_modules_release(mods);
}

/* Modules named in the agent config (system + user file). */
static void add_config_modules(doctor_modules *ms)
{
    agent_config cfg;
    gs_status st;
    char user[1024];
    if (agent_config_user_path(user, sizeof(user)) != 0)
        user[0] = '\0';
    if (agent_config_load(&cfg, AGENT_CONFIG_SYSTEM_PATH, user[0] ? user : NULL, &st) != GS_ERR_OK) {
        agent_config_free(&cfg); /* the defaults and what was read before the failure */
        return;
    }
    for (size_t i = 0; i < cfg.module_count; i++)
        add_module(ms, cfg.modules[i], "config");
    agent_config_free(&cfg);
}

/* Known vendor modules present on disk (the agent loads these too). */
static void add_known_modules(doctor_modules *ms)
{
    size_t n;
    const p11_known_module *known = p11_known_modules(&n);
    char path[1024];
    for (size_t i = 0; i < n; i++)
        if (p11_known_module_locate(&known[i], path, sizeof(path)))
            add_module(ms, path, "known");
}

void doctor_collect_modules(const doctor_ctx *ctx, doctor_modules *ms)
{
    memset(ms, 0, sizeof(*ms));
    for (size_t i = 0; i < ctx->opts.module_count; i++)
        add_module(ms, ctx->opts.modules[i], "option");
    add_config_modules(ms);
    if (!ctx->opts.no_registry) {
        add_registry_modules(ms);
        add_known_modules(ms);
    }
}

/* A blank-padded PKCS#11 text field as a C string without the padding. */
static void trim_field(const CK_UTF8CHAR *field, size_t len, char *out, size_t cap)
{
    while (len && (field[len - 1] == ' ' || field[len - 1] == '\0'))
        len--;
    snprintf(out, cap, "%.*s", (int)len, (const char *)field);
}

/* C_GetInfo of the loaded module: its version and maker, for the support bundle. */
static void module_info_evidence(doctor_check *chk, p11_client *c)
{
    CK_FUNCTION_LIST *f = p11_client_module(c, 0);
    CK_INFO info;
    if (!f || !f->C_GetInfo || f->C_GetInfo(&info) != CKR_OK)
        return;
    char text[64];
    snprintf(text, sizeof(text), "%u.%u", info.libraryVersion.major, info.libraryVersion.minor);
    doctor_ev_str(chk, "library_version", text);
    trim_field(info.manufacturerID, sizeof(info.manufacturerID), text, sizeof(text));
    doctor_ev_str(chk, "manufacturer", text);
    trim_field(info.libraryDescription, sizeof(info.libraryDescription), text, sizeof(text));
    doctor_ev_str(chk, "description", text);
}

/* Where a module was found, in Russian words (the English text keeps the origin word). */
static const char *origin_ru(const char *origin)
{
    return strcmp(origin, "option") == 0   ? "параметр --module"
           : strcmp(origin, "config") == 0 ? "настройки агента"
           : strcmp(origin, "known") == 0  ? "известный модуль"
                                           : origin;
}

/* Loads one module alone and lists its tokens; reports the module's verdict. */
static void probe_module(doctor_ctx *ctx, doctor_module *m)
{
    gs_status st;
    const char *paths[1] = { m->path };
    p11_client *c = p11_client_open(paths, 1, 0, &st);
    m->loads = c && p11_client_module_count(c) == 1;
    doctor_check *chk =
        doctor_add(ctx, DOCTOR_LAYER_MODULES, "modules.load", m->loads ? DOCTOR_OK : DOCTOR_FAIL,
                   m->loads ? GS_ERR_OK : GS_ERR_PKCS11_MODULE);
    doctor_ev_str(chk, "path", m->path);
    doctor_ev_str(chk, "registered_in", m->origin);
    if (!m->loads) {
        const char *why = c ? p11_client_load_errors(c) : st.detail;
        doctor_ev_str(chk, "error", why);
        doctor_say(chk, "PKCS#11 module %s does not load: %s",
                   "Модуль PKCS#11 %s не загружается%.0s (подробности — в evidence.error, --json)",
                   m->path, why);
        doctor_fix(chk, "Reinstall the module's package, or remove %s from %s.",
                   "Переустановите пакет модуля или уберите %s из %s.", m->path, m->origin);
        p11_client_close(c);
        return;
    }
    module_info_evidence(chk, c);
    p11_token *tokens = NULL;
    size_t n = 0;
    if (p11_client_tokens(c, &tokens, &n, &st) == GS_ERR_OK) {
        for (size_t i = 0; i < n && m->token_count < DOCTOR_MAX_TOKENS; i++)
            m->tokens[m->token_count++] = tokens[i];
    }
    free(tokens);
    doctor_say(chk, "PKCS#11 module %s loads (%s%.0s), %zu token(s)",
               "Модуль PKCS#11 %s загружается (%.0s%s), токенов: %zu", base_name(m->path),
               m->origin, origin_ru(m->origin), m->token_count);
    doctor_ev_int(chk, "tokens", (int64_t)m->token_count);
    p11_client_close(c);
}

/* Two modules showing a token with the same manufacturer and serial number. */
static void check_duplicates(doctor_ctx *ctx, const doctor_modules *ms)
{
    for (size_t a = 0; a < ms->count; a++)
        for (size_t b = a + 1; b < ms->count; b++)
            for (size_t i = 0; i < ms->items[a].token_count; i++)
                for (size_t j = 0; j < ms->items[b].token_count; j++) {
                    const p11_token *x = &ms->items[a].tokens[i], *y = &ms->items[b].tokens[j];
                    if (strcmp(x->serial, y->serial) != 0 || !x->serial[0])
                        continue;
                    doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_MODULES, "modules.duplicate",
                                                 DOCTOR_WARN, GS_ERR_TOKEN_DUPLICATE);
                    doctor_say(c, "Token \"%s\" (serial %s) is served by both %s and %s",
                               "Токен «%s» (серийный номер %s) обслуживают и %s, и %s", x->label,
                               x->serial, base_name(ms->items[a].path),
                               base_name(ms->items[b].path));
                    doctor_fix(c,
                               "Keep one module for this token (gostsign prefers the vendor's); "
                               "remove the other from p11-kit or the config.",
                               "Оставьте для токена один модуль (gostsign предпочитает модуль "
                               "производителя); уберите второй из p11-kit или из конфигурации.");
                    doctor_ev_str(c, "serial", x->serial);
                    doctor_ev_str(c, "module_a", ms->items[a].path);
                    doctor_ev_str(c, "module_b", ms->items[b].path);
                }
}

/* True when a module with this file name is among the loaded ones. */
static int module_loaded(const doctor_modules *ms, const char *file)
{
    for (size_t i = 0; i < ms->count; i++)
        if (ms->items[i].loads && strcmp(base_name(ms->items[i].path), file) == 0)
            return 1;
    return 0;
}

/* The vendor module each seen USB token needs is installed (or at least known). */
static void check_device_modules(doctor_ctx *ctx, const doctor_modules *ms)
{
    for (size_t i = 0; i < ctx->device_count; i++) {
        const gs_token_model *m = ctx->devices[i].model;
        p11_known_module km = { m->vendor, m->module, 0 };
        char path[1024] = "";
        int present = m->module[0] && (module_loaded(ms, m->module) ||
                                       p11_known_module_locate(&km, path, sizeof(path)));
        doctor_check *c =
            doctor_add(ctx, DOCTOR_LAYER_MODULES, "modules.device",
                       present ? DOCTOR_OK : (m->module[0] ? DOCTOR_FAIL : DOCTOR_WARN),
                       present ? GS_ERR_OK : GS_ERR_PKCS11_MODULE);
        doctor_ev_str(c, "model", m->model);
        doctor_ev_str(c, "module", m->module);
        doctor_ev_str(c, "module_package", m->module_package);
        if (present) {
            doctor_say(c, "%s: its PKCS#11 module %s is installed",
                       "%s: модуль PKCS#11 %s установлен", m->model, m->module);
        } else if (m->module[0]) {
            doctor_say(c, "%s: its PKCS#11 module %s is not installed",
                       "%s: модуль PKCS#11 %s не установлен", m->model, m->module);
            doctor_fix(c, "Install %s.", "Установите %s.", m->module_package);
        } else {
            doctor_say(c, "%s: gostsign knows no PKCS#11 module file for it",
                       "%s: gostsign не знает файла модуля PKCS#11 для него", m->model);
            doctor_fix(c,
                       "Install %s and add its library path to \"modules\" in "
                       "~/.config/gostsign/agent.json.",
                       "Установите %s и добавьте путь к библиотеке в \"modules\" файла "
                       "~/.config/gostsign/agent.json.",
                       m->module_package);
        }
    }
}

void doctor_layer_modules(doctor_ctx *ctx, doctor_modules *ms)
{
    doctor_collect_modules(ctx, ms);
    if (ms->count == 0) {
        doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_MODULES, "modules.none", DOCTOR_FAIL,
                                     GS_ERR_PKCS11_MODULE);
        doctor_say(c, "No PKCS#11 module is registered or configured",
                   "Не зарегистрирован и не настроен ни один модуль PKCS#11");
        doctor_fix(c,
                   "Install your token's PKCS#11 library or OpenSC (`apt install opensc-pkcs11`).",
                   "Установите библиотеку PKCS#11 вашего токена или OpenSC (`apt install "
                   "opensc-pkcs11`).");
    }
    for (size_t i = 0; i < ms->count; i++)
        probe_module(ctx, &ms->items[i]);
    check_duplicates(ctx, ms);
    check_device_modules(ctx, ms);
}
