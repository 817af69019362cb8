/*
 * A PKCS#11 module for the benchmarks that forwards every call to a real module and measures
 * the time spent inside it, so the harness can split an agent request into "time in the token"
 * and "the agent's own overhead" from the outside, without changing the agent.
 *
 * GOSTSIGN_BENCH_REAL_MODULE names the module to forward to (the software token);
 * GOSTSIGN_BENCH_P11_STATS names a file that holds the counters (shared memory: the harness
 * reads and zeroes it while the agent runs). Layout: SHIM_SLOTS pairs of little-endian u64
 * (calls, nanoseconds), in the order of the shim_slot enum below.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

/* Which counter a forwarded call adds to. Keep in step with tests/bench/bench.py. */
typedef enum {
    SHIM_LOGIN,
    SHIM_SIGN, /* C_SignInit + C_Sign */
    SHIM_SESSION,
    SHIM_FIND,
    SHIM_ATTRIBUTES,
    SHIM_INFO, /* slot/token/mechanism information and the slot list */
    SHIM_LOGOUT,
    SHIM_SLOTS
} shim_slot;

typedef struct {
    uint64_t calls;
    uint64_t ns;
} shim_counter;

static CK_FUNCTION_LIST shim_list;
static CK_FUNCTION_LIST_PTR real;
static shim_counter *counters;
static shim_counter fallback[SHIM_SLOTS];

/* Monotonic nanoseconds, the clock every figure of the harness uses. */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Adds one call of the given length to a counter (threads of the agent call concurrently). */
static void account(shim_slot slot, uint64_t start)
{
    uint64_t spent = now_ns() - start;
    __atomic_fetch_add(&counters[slot].calls, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&counters[slot].ns, spent, __ATOMIC_RELAXED);
}

/* Maps the counters file so the harness sees the figures while the agent runs. */
static void map_counters(void)
{
    counters = fallback;
    const char *path = getenv("GOSTSIGN_BENCH_P11_STATS");
    int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (fd < 0)
        return;
    size_t size = sizeof(shim_counter) * SHIM_SLOTS;
    if (ftruncate(fd, (off_t)size) == 0) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED)
            counters = p;
    }
    close(fd);
}

/* The timed wrappers: each forwards one call and accounts its duration. */
#define SHIM_TIMED(slot, call)                                                                     \
    do {                                                                                           \
        uint64_t t0 = now_ns();                                                                    \
        CK_RV rv = (call);                                                                         \
        account(slot, t0);                                                                         \
        return rv;                                                                                 \
    } while (0)

/* C_Login: includes the token's PIN key derivation. */
static CK_RV shim_login(CK_SESSION_HANDLE s, CK_USER_TYPE u, CK_UTF8CHAR_PTR pin, CK_ULONG n)
{
    SHIM_TIMED(SHIM_LOGIN, real->C_Login(s, u, pin, n));
}

/* C_Logout. */
static CK_RV shim_logout(CK_SESSION_HANDLE s)
{
    SHIM_TIMED(SHIM_LOGOUT, real->C_Logout(s));
}

/* C_SignInit: key unsealing happens here in the software token. */
static CK_RV shim_sign_init(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
    SHIM_TIMED(SHIM_SIGN, real->C_SignInit(s, m, k));
}

/* C_Sign: the signature itself. */
static CK_RV shim_sign(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG n, CK_BYTE_PTR sig,
                       CK_ULONG_PTR sig_len)
{
    SHIM_TIMED(SHIM_SIGN, real->C_Sign(s, in, n, sig, sig_len));
}

/* C_OpenSession. */
static CK_RV shim_open(CK_SLOT_ID slot, CK_FLAGS f, CK_VOID_PTR app, CK_NOTIFY cb,
                       CK_SESSION_HANDLE_PTR s)
{
    SHIM_TIMED(SHIM_SESSION, real->C_OpenSession(slot, f, app, cb, s));
}

/* C_CloseSession. */
static CK_RV shim_close(CK_SESSION_HANDLE s)
{
    SHIM_TIMED(SHIM_SESSION, real->C_CloseSession(s));
}

/* C_FindObjectsInit. */
static CK_RV shim_find_init(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    SHIM_TIMED(SHIM_FIND, real->C_FindObjectsInit(s, t, n));
}

/* C_FindObjects. */
static CK_RV shim_find(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR h, CK_ULONG max, CK_ULONG_PTR n)
{
    SHIM_TIMED(SHIM_FIND, real->C_FindObjects(s, h, max, n));
}

/* C_FindObjectsFinal. */
static CK_RV shim_find_final(CK_SESSION_HANDLE s)
{
    SHIM_TIMED(SHIM_FIND, real->C_FindObjectsFinal(s));
}

/* C_GetAttributeValue. */
static CK_RV shim_get_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    SHIM_TIMED(SHIM_ATTRIBUTES, real->C_GetAttributeValue(s, o, t, n));
}

/* C_GetSlotList. */
static CK_RV shim_slot_list(CK_BBOOL present, CK_SLOT_ID_PTR l, CK_ULONG_PTR n)
{
    SHIM_TIMED(SHIM_INFO, real->C_GetSlotList(present, l, n));
}

/* C_GetSlotInfo. */
static CK_RV shim_slot_info(CK_SLOT_ID slot, CK_SLOT_INFO_PTR i)
{
    SHIM_TIMED(SHIM_INFO, real->C_GetSlotInfo(slot, i));
}

/* C_GetTokenInfo: the agent re-reads PIN flags before every dialog. */
static CK_RV shim_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR i)
{
    SHIM_TIMED(SHIM_INFO, real->C_GetTokenInfo(slot, i));
}

/* C_GetMechanismInfo. */
static CK_RV shim_mech_info(CK_SLOT_ID slot, CK_MECHANISM_TYPE t, CK_MECHANISM_INFO_PTR i)
{
    SHIM_TIMED(SHIM_INFO, real->C_GetMechanismInfo(slot, t, i));
}

/* Loads the real module once and builds the forwarding list with the timed entries. */
static CK_RV load_real(void)
{
    if (real)
        return CKR_OK;
    const char *path = getenv("GOSTSIGN_BENCH_REAL_MODULE");
    void *h = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
    CK_C_GetFunctionList get = h ? (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList") : NULL;
    CK_FUNCTION_LIST_PTR list = NULL;
    if (!get || get(&list) != CKR_OK || !list)
        return CKR_GENERAL_ERROR;
    map_counters();
    shim_list = *list;
    shim_list.C_GetFunctionList = C_GetFunctionList;
    shim_list.C_Login = shim_login;
    shim_list.C_Logout = shim_logout;
    shim_list.C_SignInit = shim_sign_init;
    shim_list.C_Sign = shim_sign;
    shim_list.C_OpenSession = shim_open;
    shim_list.C_CloseSession = shim_close;
    shim_list.C_FindObjectsInit = shim_find_init;
    shim_list.C_FindObjects = shim_find;
    shim_list.C_FindObjectsFinal = shim_find_final;
    shim_list.C_GetAttributeValue = shim_get_attr;
    shim_list.C_GetSlotList = shim_slot_list;
    shim_list.C_GetSlotInfo = shim_slot_info;
    shim_list.C_GetTokenInfo = shim_token_info;
    shim_list.C_GetMechanismInfo = shim_mech_info;
    real = list;
    return CKR_OK;
}

/* The module's only export: the real module's function list with the timed entries. */
CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
    if (!out)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = load_real();
    if (rv == CKR_OK)
        *out = &shim_list;
    return rv;
}
