/*
 * GOST R 34.10-2012 parameter sets: TC26 names, CryptoPro aliases and OIDs (RFC 7836, RFC 9215,
 * R 1323565.1.024-2019). One table so PKCS#11, X.509 and the command line agree on names.
 */
#include "primitives.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <openssl/objects.h>

static const gost_paramset paramsets[] = {
    { "256:A", "1.2.643.7.1.2.1.1.1", "id-tc26-gost-3410-12-256-paramSetA", "TCA 256A", "TCA", NULL,
      256, 0, NID_id_tc26_gost_3410_2012_256_paramSetA },
    { "256:B", "1.2.643.7.1.2.1.1.2", "id-tc26-gost-3410-12-256-paramSetB", "TCB 256B", "TCB", NULL,
      256, 0, NID_id_tc26_gost_3410_2012_256_paramSetB },
    { "256:C", "1.2.643.7.1.2.1.1.3", "id-tc26-gost-3410-12-256-paramSetC", "TCC 256C", "TCC", NULL,
      256, 0, NID_id_tc26_gost_3410_2012_256_paramSetC },
    { "256:D", "1.2.643.7.1.2.1.1.4", "id-tc26-gost-3410-12-256-paramSetD", "TCD 256D", "TCD", NULL,
      256, 0, NID_id_tc26_gost_3410_2012_256_paramSetD },
    { "256:CryptoPro-A", "1.2.643.2.2.35.1", "id-GostR3410-2001-CryptoPro-A-ParamSet",
      "CryptoPro-A CPA", "A", "256:B", 256, 0, NID_id_GostR3410_2001_CryptoPro_A_ParamSet },
    { "256:CryptoPro-B", "1.2.643.2.2.35.2", "id-GostR3410-2001-CryptoPro-B-ParamSet",
      "CryptoPro-B CPB", "B", "256:C", 256, 0, NID_id_GostR3410_2001_CryptoPro_B_ParamSet },
    { "256:CryptoPro-C", "1.2.643.2.2.35.3", "id-GostR3410-2001-CryptoPro-C-ParamSet",
      "CryptoPro-C CPC", "C", "256:D", 256, 0, NID_id_GostR3410_2001_CryptoPro_C_ParamSet },
    { "256:XchA", "1.2.643.2.2.36.0", "id-GostR3410-2001-CryptoPro-XchA-ParamSet",
      "XchA CryptoPro-XchA XA", "XA", "256:B", 256, 0,
      NID_id_GostR3410_2001_CryptoPro_XchA_ParamSet },
    { "256:XchB", "1.2.643.2.2.36.1", "id-GostR3410-2001-CryptoPro-XchB-ParamSet",
      "XchB CryptoPro-XchB XB", "XB", "256:D", 256, 0,
      NID_id_GostR3410_2001_CryptoPro_XchB_ParamSet },
    { "512:A", "1.2.643.7.1.2.1.2.1", "id-tc26-gost-3410-12-512-paramSetA", "512A", "A", NULL, 512,
      0, NID_id_tc26_gost_3410_2012_512_paramSetA },
    { "512:B", "1.2.643.7.1.2.1.2.2", "id-tc26-gost-3410-12-512-paramSetB", "512B", "B", NULL, 512,
      0, NID_id_tc26_gost_3410_2012_512_paramSetB },
    { "512:C", "1.2.643.7.1.2.1.2.3", "id-tc26-gost-3410-12-512-paramSetC", "512C", "C", NULL, 512,
      0, NID_id_tc26_gost_3410_2012_512_paramSetC },
    { "256:test", "1.2.643.2.2.35.0", "id-GostR3410-2001-TestParamSet", "", "0", NULL, 256, 1,
      NID_id_GostR3410_2001_TestParamSet },
    { "512:test", "1.2.643.7.1.2.1.2.0", "id-tc26-gost-3410-12-512-paramSetTest", "",
      "1.2.643.7.1.2.1.2.0", NULL, 512, 1, NID_id_tc26_gost_3410_2012_512_paramSetTest },
};

#define PARAMSET_COUNT (sizeof(paramsets) / sizeof(paramsets[0]))

/* True when word appears as a whole word in the space-separated list. */
static int alias_matches(const char *list, const char *word)
{
    size_t wlen = strlen(word);
    for (const char *p = list; *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == wlen && strncasecmp(p, word, n) == 0)
            return 1;
        p += n;
    }
    return 0;
}

/* Single lookup used by the CLI, the token and certificate parsing. */
const gost_paramset *gost_paramset_find(const char *name)
{
    if (!name || !*name)
        return NULL;
    for (size_t i = 0; i < PARAMSET_COUNT; i++) {
        const gost_paramset *ps = &paramsets[i];
        if (strcasecmp(ps->name, name) == 0 || strcmp(ps->oid, name) == 0 ||
            strcasecmp(ps->long_name, name) == 0 || alias_matches(ps->aliases, name))
            return ps;
    }
    /* "A" alone means the TC26 256-bit set A, as pkcs11-tool's "GOSTR3410-2012-256:A" does. */
    if (strlen(name) == 1 && strchr("AaBbCcDd", name[0])) {
        char full[8] = "256:";
        full[4] = (char)toupper((unsigned char)name[0]);
        return gost_paramset_find(full);
    }
    return NULL;
}

/* For `gostsign paramsets` and tests that sweep every set. */
const gost_paramset *gost_paramset_list(size_t *count)
{
    *count = PARAMSET_COUNT;
    return paramsets;
}
