/*
 * The only file that knows how GOST algorithms reach OpenSSL: today the `gost` ENGINE from
 * Debian's libengine-gost-openssl. OpenSSL 4 drops ENGINEs; a provider build replaces this file.
 *
 * The engine is loaded by id through OpenSSL's dynamic loader (ENGINESDIR or $OPENSSL_ENGINES),
 * never through openssl.cnf, so a user's broken or missing config changes nothing.
 */
#define OPENSSL_API_COMPAT 10101
#include "primitives.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#define GOST_ENGINE_ID      "gost"
#define GOST_ENGINE_PACKAGE "libengine-gost-openssl"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static gs_code init_code = GS_ERR_INTERNAL;
static char init_detail[256];
static char backend_path[512];
static char backend_name[256];

/* Where OpenSSL's dynamic loader will look, so the error can name the exact file. */
static void engine_expected_path(char *out, size_t cap)
{
    const char *dir = getenv("OPENSSL_ENGINES");
    if (!dir || !*dir) {
        /* OpenSSL_version(OPENSSL_ENGINES_DIR) reads: ENGINESDIR: "/usr/lib/.../engines-3" */
        const char *v = OpenSSL_version(OPENSSL_ENGINES_DIR);
        const char *q = v ? strchr(v, '"') : NULL;
        if (q) {
            snprintf(out, cap, "%.*s/gost.so", (int)(strcspn(q + 1, "\"")), q + 1);
            return;
        }
        dir = ".";
    }
    snprintf(out, cap, "%s/gost.so", dir);
}

/* Checks that the engine really provides what gostsign needs, by NID. */
static int engine_has_algorithms(void)
{
    static const int needed[] = { NID_id_GostR3411_2012_256, NID_id_GostR3411_2012_512 };
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        if (!EVP_get_digestbynid(needed[i]))
            return 0;
    ENGINE *tmp = NULL;
    const EVP_PKEY_ASN1_METHOD *a256 = EVP_PKEY_asn1_find(&tmp, NID_id_GostR3410_2012_256);
    if (tmp)
        ENGINE_finish(tmp);
    tmp = NULL;
    const EVP_PKEY_ASN1_METHOD *a512 = EVP_PKEY_asn1_find(&tmp, NID_id_GostR3410_2012_512);
    if (tmp)
        ENGINE_finish(tmp);
    return a256 && a512;
}

/* Runs once: load, initialise and register the engine for its own algorithms only. */
static void engine_load_once(void)
{
    char path[sizeof(backend_path)];
    engine_expected_path(path, sizeof(path));

    ENGINE_load_builtin_engines();
    ERR_set_mark();
    ENGINE *e = ENGINE_by_id(GOST_ENGINE_ID);
    ERR_pop_to_mark();
    if (!e) {
        init_code = GS_ERR_ENGINE_MISSING;
        snprintf(init_detail, sizeof(init_detail),
                 "cannot load %.160s; install the Debian package %s", path, GOST_ENGINE_PACKAGE);
        return;
    }
    if (!ENGINE_init(e)) {
        ENGINE_free(e);
        init_code = GS_ERR_ENGINE_FAILED;
        snprintf(init_detail, sizeof(init_detail), "ENGINE_init failed for %.160s (package %s)",
                 path, GOST_ENGINE_PACKAGE);
        return;
    }
    /* Registers the engine as the implementation of GOST NIDs; other algorithms are untouched. */
    ENGINE_set_default(e, ENGINE_METHOD_DIGESTS | ENGINE_METHOD_PKEY_METHS |
                              ENGINE_METHOD_PKEY_ASN1_METHS | ENGINE_METHOD_CIPHERS);
    snprintf(backend_name, sizeof(backend_name), "%s: %s", ENGINE_get_id(e),
             ENGINE_get_name(e) ? ENGINE_get_name(e) : "");
    ENGINE_free(e); /* the functional reference taken by ENGINE_init stays alive */
    ERR_clear_error();
    if (!engine_has_algorithms()) {
        init_code = GS_ERR_ENGINE_FAILED;
        snprintf(init_detail, sizeof(init_detail),
                 "%.160s loaded but lacks GOST R 34.10/34.11-2012 (reinstall %s)", path,
                 GOST_ENGINE_PACKAGE);
        return;
    }
    snprintf(backend_path, sizeof(backend_path), "%s", path);
    init_code = GS_ERR_OK;
}

/* Public entry point; every caller gets the same cached result. */
gs_code gost_init(gs_status *st)
{
    pthread_once(&init_once, engine_load_once);
    if (init_code != GS_ERR_OK)
        return gs_fail(st, init_code, "%s", init_detail);
    return GS_ERR_OK;
}

/* Reported by diagnostics; empty until gost_init() succeeded. */
const char *gost_backend_path(void)
{
    return backend_path;
}

/* The support bundle names the engine it ran with; empty until gost_init() succeeded. */
const char *gost_backend_name(void)
{
    return init_code == GS_ERR_OK ? backend_name : "";
}
