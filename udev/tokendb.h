/*
 * Known signature tokens by USB vendor:product: model, reader driver and PKCS#11 module. The
 * table is generated at build time from udev/70-gostsign-tokens.hwdb (udev/gen-token-table.py),
 * so `gostsign doctor`, the agent and udev's ID_GOSTSIGN_* properties share one source.
 */
#ifndef GOSTSIGN_UDEV_TOKENDB_H
#define GOSTSIGN_UDEV_TOKENDB_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint16_t vendor_id, product_id;
    const char *vendor;
    const char *model;
    const char *driver; /* "ccid", a PC/SC bundle name such as "ifd-rutokens", or "vendor" */
    const char *driver_package; /* what to install for the driver */
    const char *module;         /* PKCS#11 module file name, "" when none is known */
    const char *module_package; /* what to install for the module */
    const char *source;         /* where the IDs come from (the hwdb's "# source:" comment) */
} gs_token_model;

/* The generated table. */
extern const gs_token_model gs_token_model_table[];
extern const size_t gs_token_model_count;

/* The entry for a vendor:product, or NULL for a device gostsign does not know. */
const gs_token_model *gs_token_model_find(uint16_t vendor_id, uint16_t product_id);

/* True when the device is served by libccid (the generic CCID driver). */
int gs_token_model_is_ccid(const gs_token_model *m);

#endif
