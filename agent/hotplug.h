/*
 * USB hotplug for tokens whose PKCS#11 module cannot report slot events: a udev monitor thread
 * (netlink, no polling) that calls back when a known token (udev/ hwdb table) or any smart-card
 * device (a CCID reader or token the table does not know) is added or removed.
 */
#ifndef GOSTSIGN_AGENT_HOTPLUG_H
#define GOSTSIGN_AGENT_HOTPLUG_H

typedef struct hotplug_monitor hotplug_monitor;

/* One device that came or went: a known token (udev/ table), or a smart-card device of any kind. */
typedef struct {
    const char *action;  /* "add" or "remove" */
    const char *syspath; /* the device, so a removal finds its add */
    const char *model;   /* the table's model, NULL for a device the table does not know */
    const char *module;  /* the table's PKCS#11 module file name, "" when it names none */
    int smart_card;      /* a CCID (USB class 0x0b) device: a reader or a token of some kind */
    int initial;         /* present when the monitor started (reported by hotplug_start) */
} hotplug_event;

/* Called for each add/remove of a known token or smart-card device. */
typedef void (*hotplug_fn)(void *ctx, const hotplug_event *ev);

/*
 * Starts watching. Devices already present are reported first, as "add", on the caller's thread
 * before it returns; later ones on the monitor thread. NULL when udev is not available
 * (containers): the agent then relies on C_WaitForSlotEvent alone.
 */
hotplug_monitor *hotplug_start(hotplug_fn fn, void *ctx);
/* Stops the thread and frees everything. */
void hotplug_stop(hotplug_monitor *m);

#endif
