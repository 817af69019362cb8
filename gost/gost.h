/*
 * gost/: the public face of the crypto layer, the floor every other folder stands on.
 *
 * Other folders include only this header. It gathers the parts of gost/ they use: error codes
 * (errors.h), Streebog digests, GOST R 34.10-2012 keys, signatures and byte layouts
 * (primitives.h), the qualified-certificate model (qcert.h), relying-party policy (policy.h),
 * revocation (revocation.h), CMS / CAdES-BES (cms.h), PKCS#12 files (pkcs12.h) and the
 * accredited-CA store with the qualified verdict (trust.h).
 * gost_internal.h stays private to gost/.
 */
#ifndef GOSTSIGN_GOST_H
#define GOSTSIGN_GOST_H

#include "errors.h"
#include "primitives.h"
#include "qcert.h"
#include "policy.h"
#include "revocation.h"
#include "cms.h"
#include "pkcs12.h"
#include "trust.h"

#endif
