/*
 * `gostsign doctor`: checks every layer from the USB port to the browser and says, for each
 * check, ok / warn / fail / skip with evidence and a fix in Russian and English. The layers run
 * in order and share what earlier layers saw (the USB devices) through doctor_ctx.
 * docs/doctor-json.md describes the JSON (schema 1) that doctor_to_json() produces.
 */
#ifndef GOSTSIGN_DOCTOR_H
#define GOSTSIGN_DOCTOR_H

#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "tokendb.h"
#include "gost.h"

#define DOCTOR_SCHEMA      1
#define DOCTOR_MAX_DEVICES 16
#define DOCTOR_MAX_MODULES 16

/* Severity order: the worst status of all checks decides the exit code. */
typedef enum { DOCTOR_OK = 0, DOCTOR_SKIP, DOCTOR_WARN, DOCTOR_FAIL } doctor_status;

/* The layers, in the order they are walked (the numbers appear in JSON and text). */
typedef enum {
    DOCTOR_LAYER_USB = 1,
    DOCTOR_LAYER_PERMISSIONS,
    DOCTOR_LAYER_PCSC,
    DOCTOR_LAYER_DRIVER,
    DOCTOR_LAYER_MODULES,
    DOCTOR_LAYER_TOKENS,
    DOCTOR_LAYER_CERTIFICATES,
    DOCTOR_LAYER_AGENT,
    DOCTOR_LAYER_BROWSERS,
    DOCTOR_LAYER_TEST_SIGN,
    DOCTOR_LAYER_COUNT = DOCTOR_LAYER_TEST_SIGN
} doctor_layer;

/* One verdict. Texts are plain sentences; the fix is empty for an ok check. */
typedef struct {
    doctor_layer layer;
    char id[48]; /* stable, e.g. "usb.device", "driver.ccid" */
    doctor_status status;
    gs_code code; /* error-table code of the problem, OK otherwise */
    char message[512], message_ru[512];
    char fix[512], fix_ru[512];
    json_object *evidence; /* object, owned */
} doctor_check;

/* A known token seen on the USB bus (layer 1), for the later layers. */
typedef struct {
    uint16_t vendor_id, product_id;
    const gs_token_model *model;
    char syspath[512], devnode[256], product[128], serial[128];
    int busnum, devnum;
    int udev_props; /* ID_GOSTSIGN_MODEL set by our hwdb: the rules are installed */
    int uaccess;    /* the uaccess tag is on the device */
} doctor_device;

/* What the user asked for. */
typedef struct {
    int json;
    int test_sign;
    const char *test_cert; /* --cert ID for --test-sign (thumbprint or a unique prefix) */
    const char *report_path;
    const char *ca_dir; /* trust directory for the chain check, NULL: skip the chain */
    const char *modules[DOCTOR_MAX_MODULES]; /* --module PATH: extra modules to check */
    size_t module_count;
    int no_registry;         /* --no-p11-kit: ignore the p11-kit registry */
    const char *cli_program; /* the `gostsign` command (browser status), NULL: this program */
} doctor_opts;

typedef struct {
    doctor_opts opts;
    doctor_check *checks;
    size_t count, cap;
    doctor_device devices[DOCTOR_MAX_DEVICES];
    size_t device_count;
    int tokens_found; /* layer 6 found at least one token (for layer 10) */
} doctor_ctx;

void doctor_ctx_init(doctor_ctx *ctx, const doctor_opts *opts);
void doctor_ctx_free(doctor_ctx *ctx);

/* Adds a verdict; NULL only when out of memory (the caller then simply skips its details). */
doctor_check *doctor_add(doctor_ctx *ctx, doctor_layer layer, const char *id, doctor_status status,
                         gs_code code);
/* Sets the message in both languages; both formats take the same arguments in the same order. */
void doctor_say(doctor_check *c, const char *en_fmt, const char *ru_fmt, ...)
    __attribute__((format(printf, 2, 4)));
/* Sets the fix in both languages, same convention. */
void doctor_fix(doctor_check *c, const char *en_fmt, const char *ru_fmt, ...)
    __attribute__((format(printf, 2, 4)));
/* Evidence fields. */
void doctor_ev_str(doctor_check *c, const char *key, const char *value);
void doctor_ev_int(doctor_check *c, const char *key, int64_t value);
void doctor_ev_bool(doctor_check *c, const char *key, int value);
void doctor_ev_obj(doctor_check *c, const char *key, json_object *value); /* takes value */

/* Worst status over all checks, and the exit code it maps to (0, DOCTOR_WARNINGS, DOCTOR_FAILED).
 */
doctor_status doctor_worst(const doctor_ctx *ctx);
int doctor_exit_code(const doctor_ctx *ctx);

/* Stable words and titles. */
const char *doctor_status_word(doctor_status s);
const char *doctor_layer_id(doctor_layer l);
const char *doctor_layer_title(doctor_layer l, int russian);

/* Renderings. */
json_object *doctor_to_json(const doctor_ctx *ctx);
void doctor_print_text(const doctor_ctx *ctx, FILE *out, bool russian);

/* The layers (each adds its checks). */
void doctor_layer_usb(doctor_ctx *ctx);
void doctor_layer_permissions(doctor_ctx *ctx);
void doctor_layer_pcsc(doctor_ctx *ctx);
void doctor_layer_driver(doctor_ctx *ctx);
void doctor_layer_pkcs11(doctor_ctx *ctx); /* modules, tokens and certificates (5, 6, 7) */
void doctor_layer_agent(doctor_ctx *ctx);
void doctor_layer_browsers(doctor_ctx *ctx);
void doctor_layer_test_sign(doctor_ctx *ctx);

/* Writes the support bundle (versions, config, doctor JSON, recent agent log): 0 on success. */
int doctor_write_bundle(const doctor_ctx *ctx, const char *path, gs_status *st);

#endif
