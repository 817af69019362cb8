/* Doctor layer 6 (tokens and PIN state) and the walk over the PKCS#11 layers 5, 6 and 7. */
#include "doctor_pkcs11.h"

#include <stdlib.h>
#include <string.h>

/* What the PIN counters of a token mean, for people. */
typedef struct {
    doctor_status status;
    gs_code code;
    const char *en, *ru, *fix_en, *fix_ru;
} pin_verdict;

/* Reads the CK_TOKEN_INFO flags, most serious first. */
static pin_verdict pin_state(CK_FLAGS flags)
{
    if (flags & CKF_USER_PIN_LOCKED)
        return (pin_verdict){
            DOCTOR_FAIL,
            GS_ERR_PIN_LOCKED,
            "user PIN is LOCKED",
            "PIN-код пользователя ЗАБЛОКИРОВАН",
            "Unblock the PIN with the administrator (SO) PIN / PUK: `gostsign token unblock "
            "--token ID`; without the SO PIN, contact the certification centre.",
            "Разблокируйте PIN-код PIN-кодом администратора (SO PIN / PUK): `gostsign token "
            "unblock --token ID`; если его нет, обратитесь в удостоверяющий центр."
        };
    if (flags & CKF_USER_PIN_FINAL_TRY)
        return (pin_verdict){ DOCTOR_WARN,
                              GS_ERR_PIN_INCORRECT,
                              "one PIN attempt is left before the PIN locks",
                              "осталась одна попытка ввода PIN-кода до блокировки",
                              "Enter the PIN very carefully; if unsure, ask the administrator to "
                              "reset the counter first.",
                              "Вводите PIN-код очень внимательно; если не уверены, сначала "
                              "попросите администратора сбросить счётчик." };
    if (flags & CKF_USER_PIN_COUNT_LOW)
        return (pin_verdict){
            DOCTOR_WARN,
            GS_ERR_PIN_INCORRECT,
            "wrong PINs were entered: few attempts are left",
            "вводились неверные PIN-коды: попыток осталось мало",
            "Enter the correct PIN once to reset the counter; mind the keyboard layout.",
            "Введите верный PIN-код, чтобы сбросить счётчик; проверьте раскладку клавиатуры."
        };
    if (!(flags & CKF_USER_PIN_INITIALIZED))
        return (pin_verdict){ DOCTOR_WARN,
                              GS_ERR_PIN_LOCKED,
                              "user PIN is not set",
                              "PIN-код пользователя не задан",
                              "Set the user PIN with the token's administration tool.",
                              "Задайте PIN-код пользователя утилитой администрирования токена." };
    return (pin_verdict){ DOCTOR_OK, GS_ERR_OK, "PIN is fine", "PIN-код в порядке", "", "" };
}

/* The verdict on one token, with its identity as evidence. */
static void check_token(doctor_ctx *ctx, const p11_token *t)
{
    pin_verdict v = pin_state(t->flags);
    doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_TOKENS, "tokens.pin", v.status, v.code);
    if (!c)
        return;
    snprintf(c->message, sizeof(c->message), "Token \"%s\" (%s %s, serial %s, module %s): %s",
             t->label, t->manufacturer, t->model, t->serial, t->module_name, v.en);
    snprintf(c->message_ru, sizeof(c->message_ru),
             "Токен «%s» (%s %s, серийный номер %s, модуль %s): %s", t->label, t->manufacturer,
             t->model, t->serial, t->module_name, v.ru);
    doctor_fix(c, "%s", "%s", v.fix_en);
    snprintf(c->fix_ru, sizeof(c->fix_ru), "%s", v.fix_ru);
    doctor_ev_str(c, "label", t->label);
    doctor_ev_str(c, "manufacturer", t->manufacturer);
    doctor_ev_str(c, "model", t->model);
    doctor_ev_str(c, "serial", t->serial);
    doctor_ev_str(c, "module", t->module_name);
    doctor_ev_bool(c, "pin_initialized", (t->flags & CKF_USER_PIN_INITIALIZED) != 0);
    doctor_ev_bool(c, "pin_count_low", (t->flags & CKF_USER_PIN_COUNT_LOW) != 0);
    doctor_ev_bool(c, "pin_final_try", (t->flags & CKF_USER_PIN_FINAL_TRY) != 0);
    doctor_ev_bool(c, "pin_locked", (t->flags & CKF_USER_PIN_LOCKED) != 0);
    doctor_ev_bool(c, "pin_pad", t->protected_auth);
}

void doctor_layer_tokens(doctor_ctx *ctx, p11_client *client, p11_token **tokens, size_t *count)
{
    gs_status st;
    *tokens = NULL;
    *count = 0;
    if (client && p11_client_tokens(client, tokens, count, &st) != GS_ERR_OK)
        *count = 0;
    if (*count == 0) {
        doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_TOKENS, "tokens.none", DOCTOR_FAIL,
                                     GS_ERR_TOKEN_NOT_FOUND);
        doctor_say(c, "No token is visible through the PKCS#11 modules",
                   "Ни один токен не виден через модули PKCS#11");
        doctor_fix(c, "Insert the token; check the layers above (USB, pcscd, driver, module).",
                   "Вставьте токен; проверьте уровни выше (USB, pcscd, драйвер, модуль).");
        return;
    }
    ctx->tokens_found = 1;
    for (size_t i = 0; i < *count; i++)
        check_token(ctx, &(*tokens)[i]);
}

void doctor_layer_pkcs11(doctor_ctx *ctx)
{
    doctor_modules *ms = calloc(1, sizeof(*ms));
    if (!ms)
        return;
    doctor_layer_modules(ctx, ms);
    const char *paths[DOCTOR_MAX_MODULES];
    size_t n = 0;
    for (size_t i = 0; i < ms->count; i++)
        if (ms->items[i].loads)
            paths[n++] = ms->items[i].path;
    gs_status st;
    p11_client *client = n ? p11_client_open(paths, n, 0, &st) : NULL;
    p11_token *tokens = NULL;
    size_t count = 0;
    doctor_layer_tokens(ctx, client, &tokens, &count);
    doctor_layer_certs(ctx, client, tokens, count);
    free(tokens);
    p11_client_close(client);
    free(ms);
}
