/*
 * Doctor layer 9: browsers. The manifest checks belong to `gostsign browser status`
 * (native-messaging); until its public header exists this layer reports itself as skipped.
 */
#include "doctor.h"

void doctor_layer_browsers(doctor_ctx *ctx)
{
    doctor_check *c =
        doctor_add(ctx, DOCTOR_LAYER_BROWSERS, "browsers.manifests", DOCTOR_SKIP, GS_ERR_OK);
    doctor_say(c, "Browser checks are not available in this build; run `gostsign browser status`",
               "Проверка браузеров недоступна в этой сборке; выполните `gostsign browser status`");
}
