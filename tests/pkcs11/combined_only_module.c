/*
 * MOCK PKCS#11 module for tests: forwards everything to a real module ($GOSTSIGN_TEST_REAL_MODULE,
 * the software token) but offers no raw CKM_GOSTR3410 / CKM_GOSTR3410_512, like tokens that only
 * sign with the combined CKM_GOSTR3410_WITH_GOSTR3411_12_* mechanisms (they hash by themselves).
 */
#include <dlfcn.h>
#include <stdlib.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/pkcs11x.h>

static CK_FUNCTION_LIST proxy_list;
static CK_FUNCTION_LIST_PTR real;

/* True for the mechanisms this mock pretends not to have. */
static int is_raw_gost(CK_MECHANISM_TYPE t)
{
    return t == CKM_GOSTR3410 || t == CKM_GOSTR3410_512;
}

/* Hides the raw mechanisms from C_GetMechanismInfo. */
static CK_RV proxy_mechanism_info(CK_SLOT_ID slot, CK_MECHANISM_TYPE t, CK_MECHANISM_INFO_PTR i)
{
    return is_raw_gost(t) ? CKR_MECHANISM_INVALID : real->C_GetMechanismInfo(slot, t, i);
}

/* Refuses to sign with them, so a client that ignored the mechanism list would fail. */
static CK_RV proxy_sign_init(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
    return m && is_raw_gost(m->mechanism) ? CKR_MECHANISM_INVALID : real->C_SignInit(s, m, k);
}

/* The entry point: the real module's list with the two calls above replaced. */
CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
    const char *path = getenv("GOSTSIGN_TEST_REAL_MODULE");
    void *h = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
    CK_RV (*get)
    (CK_FUNCTION_LIST_PTR_PTR) =
        h ? (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(h, "C_GetFunctionList") : NULL;
    if (!out || !get || get(&real) != CKR_OK)
        return CKR_GENERAL_ERROR;
    proxy_list = *real;
    proxy_list.C_GetMechanismInfo = proxy_mechanism_info;
    proxy_list.C_SignInit = proxy_sign_init;
    *out = &proxy_list;
    return CKR_OK;
}
