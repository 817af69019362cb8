/* Helpers shared by the files of gost/ only; not part of the public header. */
#ifndef GOSTSIGN_GOST_INTERNAL_H
#define GOSTSIGN_GOST_INTERNAL_H

#include <openssl/ec.h>

#include "primitives.h"

/* An EVP_PKEY that has the curve of ps but no key material yet. */
EVP_PKEY *gost_key_with_params(const gost_paramset *ps, gs_status *st);

/* The engine's EC_KEY inside a GOST EVP_PKEY, or NULL. */
const EC_KEY *gost_key_ec(const EVP_PKEY *pkey);

#endif
