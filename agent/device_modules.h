/*
 * Which PKCS#11 modules the agent holds, and when: a vendor or registered module is loaded only
 * while a device it serves is present (USB IDs from the udev/ table, or a smart-card device of a
 * kind the table does not know), and unloaded once its devices and tokens have been gone for
 * cfg->module_unload_seconds. Configured modules and the software token stay loaded throughout.
 * See docs/admin-guide.md, "Which modules the agent loads".
 */
#ifndef GOSTSIGN_AGENT_DEVICE_MODULES_H
#define GOSTSIGN_AGENT_DEVICE_MODULES_H

#include "config.h"
#include "hotplug.h"
#include "token_cache.h"

typedef struct device_modules device_modules;

/*
 * Collects the candidate modules (known vendor modules found on disk, p11-kit's registered ones),
 * loads the software token and, with "always", every candidate; starts the unload thread.
 */
device_modules *device_modules_new(token_cache *tc, const agent_config *cfg);

/* A device came or went (the hotplug callback): loads what it needs, schedules what it freed. */
void device_modules_event(device_modules *dm, const hotplug_event *ev);

/*
 * No udev (a container): devices cannot be seen, so "on_device" becomes "always" and every
 * candidate loads now, as before lazy loading.
 */
void device_modules_without_hotplug(device_modules *dm);

/* Stops the unload thread; the modules themselves go with the token cache. */
void device_modules_free(device_modules *dm);

#endif
