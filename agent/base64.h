/*
 * Base64 for binary data in protocol messages (certificates, CMS, chunks of data to sign). Its
 * own file, apart from the framing: only the programs that decode or build binary fields link
 * it, so gostsign-nmhost, which relays frames without opening them, does not load libcrypto.
 */
#ifndef GOSTSIGN_BASE64_H
#define GOSTSIGN_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "gost.h"

/*
 * Binary data travels as standard base64 (RFC 4648 section 4, with padding) in JSON strings.
 * Decoding refuses a length that is not a multiple of 4 and anything outside the alphabet
 * (BAD_REQUEST); *out is malloc'ed (free it). Encoding returns a new JSON string, NULL when out
 * of memory.
 */
gs_code gs_base64_decode(const char *text, uint8_t **out, size_t *out_len, gs_status *st);
json_object *gs_base64_json(const uint8_t *data, size_t len);

#endif
