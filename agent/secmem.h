/*
 * Locked memory for secrets (the PIN): pages are mlock()ed so they are not swapped, excluded from
 * core dumps (MADV_DONTDUMP), and wiped before they are returned to the system.
 */
#ifndef GOSTSIGN_SECMEM_H
#define GOSTSIGN_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

/* Allocates zeroed locked memory; NULL when out of memory. Locking is best effort (RLIMIT_MEMLOCK).
 */
void *secmem_alloc(size_t size);

/* Resizes a secmem block (copy, then wipe and free the old one); NULL keeps the old block. */
void *secmem_realloc(void *ptr, size_t size);

/* Wipes and frees a secmem block; NULL is a no-op. */
void secmem_free(void *ptr);

/* Whether the block's pages are locked in RAM (false when mlock was refused). */
bool secmem_is_locked(const void *ptr);

/* Whether the block's pages are excluded from core dumps. */
bool secmem_is_dontdump(const void *ptr);

/*
 * Sets a hook called once, with errno, on the first mlock failure of the process (e.g.
 * RLIMIT_MEMLOCK 0): the agent logs a warning. NULL removes it.
 */
void secmem_on_lock_failure(void (*warn)(int err));

/* False once any block could not be locked in RAM in this process. */
bool secmem_all_locked(void);

/* Wipes a buffer in a way the compiler cannot optimise away. */
void secmem_wipe(void *ptr, size_t size);

/* A secret string (PIN) in locked memory, NUL-terminated for PKCS#11 and friends. */
typedef struct {
    char *data; /* secmem block, NUL-terminated */
    size_t len; /* bytes before the NUL */
    size_t cap; /* usable bytes, excluding the NUL */
} secure_pin;

/* Creates an empty secret with room for `cap` bytes; NULL when out of memory. */
secure_pin *secure_pin_new(size_t cap);

/* Appends bytes; false (and nothing appended) when the secret would exceed its capacity. */
bool secure_pin_append(secure_pin *pin, const void *bytes, size_t len);

/* Wipes and frees the secret; NULL is a no-op. */
void secure_pin_free(secure_pin *pin);

#endif
