/*
 * libFuzzer target for the qualified-certificate parser: any bytes go through gs_cert_parse, and
 * whatever parses is rendered as JSON and as the owner summary, so every accessor sees hostile
 * certificates. Must never crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>

#include "gost.h"

/* One input: parse, render, free. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gs_status st;
    gs_status_clear(&st);
    gs_cert *cert = gs_cert_parse(data, size, &st);
    if (!cert)
        return 0;
    json_object *obj = gs_cert_to_json(cert, (time_t)1700000000);
    (void)json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY);
    json_object_put(obj);
    free(gs_cert_owner_summary(cert));
    gs_status ignored;
    (void)gs_cert_check_usable(cert, (time_t)1700000000, &ignored);
    gs_cert_free(cert);
    return 0;
}
