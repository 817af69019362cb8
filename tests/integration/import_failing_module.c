/*
 * A PKCS#11 proxy module for the import tests: it forwards every call to the module named by
 * $IMPORT_REAL_MODULE (the software token) but refuses to create certificate objects with
 * CKR_DEVICE_MEMORY, as a full token would. `gostsign import` then fails after the private and
 * public keys were created, and the test checks that both were destroyed again.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST proxy;
static CK_FUNCTION_LIST_PTR real;

/* True when the template creates a certificate. */
static int is_certificate(CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    for (CK_ULONG i = 0; i < n; i++)
        if (t[i].type == CKA_CLASS && t[i].ulValueLen == sizeof(CK_OBJECT_CLASS) &&
            *(CK_OBJECT_CLASS *)t[i].pValue == CKO_CERTIFICATE)
            return 1;
    return 0;
}

/* C_CreateObject: certificates fail as on a full token; everything else goes through. */
static CK_RV proxy_create_object(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                                 CK_OBJECT_HANDLE_PTR h)
{
    if (is_certificate(t, n))
        return CKR_DEVICE_MEMORY;
    return real->C_CreateObject(s, t, n, h);
}

/* Loads the real module and copies its function list with C_CreateObject replaced. */
CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
    if (!real) {
        const char *path = getenv("IMPORT_REAL_MODULE");
        void *lib = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
        CK_C_GetFunctionList get =
            lib ? (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList") : NULL;
        if (!get || get(&real) != CKR_OK)
            return CKR_GENERAL_ERROR;
        memcpy(&proxy, real, sizeof(proxy));
        proxy.C_CreateObject = proxy_create_object;
    }
    *list = &proxy;
    return CKR_OK;
}
