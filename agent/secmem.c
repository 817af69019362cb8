/*
 * Locked memory for secrets. Each block is its own anonymous mapping: a header page-prefix holds
 * the sizes, the rest is the caller's memory. Whole mappings are locked, marked MADV_DONTDUMP and
 * wiped with OPENSSL_cleanse before munmap, so a secret never reaches swap, a core or a later
 * allocation. Blocks are few and short-lived (a PIN, an Assuan context), so a mapping each is fine.
 */
#include "secmem.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define SECMEM_MAGIC 0x5EC3E3u

/* Set once any mlock failed in this process; the warning hook runs on the first failure only. */
static atomic_int lock_failed;
static void (*_Atomic lock_warning)(int err);

/* Sits in front of every block; 64 bytes keep the user pointer aligned for any type. */
typedef union {
    struct {
        uint32_t magic;
        uint8_t locked;
        uint8_t dontdump;
        size_t map_size;
        size_t user_size;
    } h;
    unsigned char align[64];
} secmem_header;

/* Rounds a byte count up to whole pages; 0 on overflow. */
static size_t page_round(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (size > SIZE_MAX - page)
        return 0;
    return (size + page - 1) / page * page;
}

/* Finds the header of a user pointer, or NULL when it is not a live secmem block. */
static secmem_header *header_of(const void *ptr)
{
    if (!ptr)
        return NULL;
    secmem_header *hdr = (secmem_header *)((uintptr_t)ptr - sizeof(secmem_header));
    return hdr->h.magic == SECMEM_MAGIC ? hdr : NULL;
}

/* Remembers that a secret may reach swap, and tells the program once (no secret involved). */
static void note_lock_failure(int err)
{
    void (*warn)(int) = atomic_load(&lock_warning);
    if (atomic_exchange(&lock_failed, 1) == 0 && warn)
        warn(err);
}

/* Lets the agent log the first mlock failure; the command line stays quiet. */
void secmem_on_lock_failure(void (*warn)(int err))
{
    atomic_store(&lock_warning, warn);
}

/* Whether every secret so far was locked: `hello` and the doctor report it. */
bool secmem_all_locked(void)
{
    return atomic_load(&lock_failed) == 0;
}

/*
 * Locks pages with the system call itself: the sanitizers' mlock interceptor does nothing and
 * reports success, which would hide a real failure from `hello`, the doctor and the tests.
 */
static int lock_pages(void *addr, size_t len)
{
    return (int)syscall(SYS_mlock, addr, len);
}

/* The matching unlock, through the same system call layer as lock_pages. */
static void unlock_pages(void *addr, size_t len)
{
    syscall(SYS_munlock, addr, len);
}

/* Maps, locks and marks a fresh block; the mapping is zero-filled by the kernel. */
void *secmem_alloc(size_t size)
{
    if (size > SIZE_MAX - sizeof(secmem_header))
        return NULL;
    size_t map_size = page_round(size + sizeof(secmem_header));
    if (map_size == 0)
        return NULL;
    void *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return NULL;
    secmem_header *hdr = map;
    hdr->h.magic = SECMEM_MAGIC;
    hdr->h.map_size = map_size;
    hdr->h.user_size = size;
    hdr->h.locked = lock_pages(map, map_size) == 0;
    if (!hdr->h.locked)
        note_lock_failure(errno);
    hdr->h.dontdump = madvise(map, map_size, MADV_DONTDUMP) == 0;
    return hdr + 1;
}

/* Grows or shrinks by copying, so the old secret is wiped rather than left in a freed area. */
void *secmem_realloc(void *ptr, size_t size)
{
    if (!ptr)
        return secmem_alloc(size);
    secmem_header *hdr = header_of(ptr);
    if (!hdr)
        return NULL;
    void *fresh = secmem_alloc(size);
    if (!fresh)
        return NULL;
    memcpy(fresh, ptr, hdr->h.user_size < size ? hdr->h.user_size : size);
    secmem_free(ptr);
    return fresh;
}

/* Wipes the whole mapping (header included), unlocks and unmaps it. */
void secmem_free(void *ptr)
{
    secmem_header *hdr = header_of(ptr);
    if (!hdr)
        return;
    size_t map_size = hdr->h.map_size;
    int locked = hdr->h.locked;
    OPENSSL_cleanse(hdr, map_size);
    if (locked)
        unlock_pages(hdr, map_size);
    munmap(hdr, map_size);
}

/* Lets callers (and tests) tell whether mlock succeeded under the current RLIMIT_MEMLOCK. */
bool secmem_is_locked(const void *ptr)
{
    secmem_header *hdr = header_of(ptr);
    return hdr && hdr->h.locked;
}

/* Lets tests check the block is kept out of core dumps. */
bool secmem_is_dontdump(const void *ptr)
{
    secmem_header *hdr = header_of(ptr);
    return hdr && hdr->h.dontdump;
}

/* One wiping primitive for the agent, so every secret is cleared the same way. */
void secmem_wipe(void *ptr, size_t size)
{
    if (ptr && size)
        OPENSSL_cleanse(ptr, size);
}

/* The PIN container lives in secmem too, so even its length is wiped on free. */
secure_pin *secure_pin_new(size_t cap)
{
    if (cap == SIZE_MAX)
        return NULL;
    secure_pin *pin = secmem_alloc(sizeof(*pin));
    if (!pin)
        return NULL;
    pin->data = secmem_alloc(cap + 1);
    if (!pin->data) {
        secmem_free(pin);
        return NULL;
    }
    pin->cap = cap;
    pin->len = 0;
    return pin;
}

/* Bounded append: a pinentry cannot make the agent grow a secret without limit. */
bool secure_pin_append(secure_pin *pin, const void *bytes, size_t len)
{
    if (!pin || len > pin->cap - pin->len)
        return false;
    memcpy(pin->data + pin->len, bytes, len);
    pin->len += len;
    pin->data[pin->len] = '\0';
    return true;
}

/* Frees both the secret bytes and the container, wiping each. */
void secure_pin_free(secure_pin *pin)
{
    if (!pin)
        return;
    secmem_free(pin->data);
    secmem_free(pin);
}
