/*
 * Reads the device list of a PC/SC driver bundle's Info.plist (libccid, or a vendor driver such as
 * ifd-rutokens): the parallel ifdVendorID / ifdProductID / ifdFriendlyName entries. Each may be an
 * <array> of <string> or a single <string>. Only this subset of the plist XML is understood.
 */
#ifndef GOSTSIGN_DOCTOR_PLIST_H
#define GOSTSIGN_DOCTOR_PLIST_H

#include <stddef.h>
#include <stdint.h>

/* The strings under <key>KEY</key> (array or single string); *n = 0 when the key is absent.
 * Returns 0, or -1 when out of memory. Free with doctor_plist_free. */
int doctor_plist_values(const char *xml, const char *key, char ***out, size_t *n);
void doctor_plist_free(char **values, size_t n);

/* 1 when the plist lists vendor:product (name gets the friendly name, may be ""), 0 when not,
 * -1 on a malformed list (vendor and product arrays of different lengths) or no memory. */
int doctor_plist_lists(const char *xml, uint16_t vendor_id, uint16_t product_id, char *name,
                       size_t cap);

#endif
