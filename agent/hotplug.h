/*
 * USB hotplug for tokens whose PKCS#11 module cannot report slot events: a udev monitor thread
 * (netlink, no polling) that calls back when a known token (udev/ hwdb table) is added or removed.
 */
#ifndef GOSTSIGN_AGENT_HOTPLUG_H
#define GOSTSIGN_AGENT_HOTPLUG_H

typedef struct hotplug_monitor hotplug_monitor;

/* Called on the monitor thread for each add/remove of a known token; action is "add"/"remove". */
typedef void (*hotplug_fn)(void *ctx, const char *action, const char *model);

/* Starts watching; NULL when udev is not available (containers): the agent then relies on
 * C_WaitForSlotEvent alone. */
hotplug_monitor *hotplug_start(hotplug_fn fn, void *ctx);
/* Stops the thread and frees everything. */
void hotplug_stop(hotplug_monitor *m);

#endif
