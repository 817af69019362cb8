/*
 * Test helper for tests/integration/pinentry_tty.sh: asks for a PIN through pinentry_ask with a
 * real pinentry on a terminal, then writes to RESULT_FILE only the PIN's length and whether its
 * SHA-256 equals the expected one, never the PIN itself.
 * usage: pinentry-probe PINENTRY TTY EXPECTED_SHA256_HEX RESULT_FILE
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "pinentry.h"

/* Hex SHA-256 of the PIN, so the expected value can be passed without the PIN itself. */
static void sha256_hex(const secure_pin *pin, char out[65])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    EVP_Digest(pin->data, pin->len, md, &md_len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Builds the signing description, asks once, writes the verdict (never the PIN). */
int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s PINENTRY TTY EXPECTED_SHA256_HEX RESULT_FILE\n", argv[0]);
        return 2;
    }
    pinentry_signing_info info = {
        .origin = "https://lk.gosuslugi.ru",
        .action = "вход на сайт",
        .owner = "Иванов Иван Иванович",
        .organisation = "ООО \"Ромашка\"",
        .innle = "7701234567",
        .ogrn = "1027700132195",
        .token_label = "Rutoken ECP",
        .token_serial = "0A1B2C3D",
        .retries_left = 3,
    };
    char desc[PINENTRY_DESC_SIZE];
    gs_status st;
    gs_status_clear(&st);
    if (pinentry_describe_signing(&info, desc, sizeof(desc), &st) != GS_ERR_OK)
        return 1;
    pinentry_request req = {
        .program = argv[1], .description = desc, .ttyname = argv[2], .timeout_seconds = 60
    };
    secure_pin *pin = NULL;
    gs_code rc = pinentry_ask(&req, &pin, &st);
    FILE *f = fopen(argv[4], "w");
    if (!f)
        return 1;
    if (rc == GS_ERR_OK) {
        char hex[65];
        sha256_hex(pin, hex);
        fprintf(f, "status=OK length=%zu match=%s\n", pin->len,
                strcmp(hex, argv[3]) == 0 ? "yes" : "no");
    } else {
        fprintf(f, "status=%s detail=%s\n", gs_error_lookup(rc)->name, st.detail);
    }
    secure_pin_free(pin);
    fclose(f);
    return rc == GS_ERR_OK ? 0 : 1;
}
