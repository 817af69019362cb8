/* udev monitor thread for token hotplug; matches devices against the hwdb-generated table. */
#include "hotplug.h"
#include "tokendb.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libudev.h>

#define HOTPLUG_MAX_REPORTED 32

struct hotplug_monitor {
    /* devices reported as added: their removal is reported even when it lacks their properties */
    char reported[HOTPLUG_MAX_REPORTED][256];
    struct udev *udev;
    struct udev_monitor *mon;
    int stop_pipe[2];
    pthread_t thread;
    hotplug_fn fn;
    void *ctx;
};

/* Reads a 4-digit hex USB id attribute or property ("0a89"). */
static int read_usb_id(struct udev_device *dev, const char *attr, const char *prop, uint16_t *out)
{
    const char *v = udev_device_get_sysattr_value(dev, attr);
    if (!v)
        v = udev_device_get_property_value(dev, prop); /* removals carry only properties */
    if (!v)
        return -1;
    char *end = NULL;
    unsigned long id = strtoul(v, &end, 16);
    if (end == v || id > 0xffff)
        return -1;
    *out = (uint16_t)id;
    return 0;
}

/* The table entry of a USB device, or NULL for anything that is not a known token. */
static const gs_token_model *known_token(struct udev_device *dev)
{
    uint16_t vid, pid;
    if (read_usb_id(dev, "idVendor", "ID_VENDOR_ID", &vid) != 0 ||
        read_usb_id(dev, "idProduct", "ID_MODEL_ID", &pid) != 0)
        return NULL;
    return gs_token_model_find(vid, pid);
}

/* USB class of smart-card readers and tokens (CCID), as udev and sysfs write it. */
#define USB_CLASS_SMART_CARD "0b"

/* Whether a device is a CCID reader or token: by its class, or one of its interfaces'. */
static int is_smart_card(struct udev_device *dev)
{
    const char *cls = udev_device_get_sysattr_value(dev, "bDeviceClass");
    if (cls && strcmp(cls, USB_CLASS_SMART_CARD) == 0)
        return 1;
    /* ID_USB_INTERFACES (udev's usb_id) lists ":ccsspp:" per interface: class first */
    const char *ifs = udev_device_get_property_value(dev, "ID_USB_INTERFACES");
    for (const char *p = ifs; p && (p = strchr(p, ':')) && p[1]; p++)
        if (strncmp(p + 1, USB_CLASS_SMART_CARD, 2) == 0)
            return 1;
    return 0;
}

/* Remembers (add) or forgets (remove) a reported device; returns 1 when it was remembered. */
static int note_reported(hotplug_monitor *m, const char *syspath, int add)
{
    int known = 0;
    for (size_t i = 0; i < HOTPLUG_MAX_REPORTED; i++)
        if (strcmp(m->reported[i], syspath) == 0) {
            known = 1;
            if (!add)
                m->reported[i][0] = '\0';
        }
    for (size_t i = 0; add && !known && i < HOTPLUG_MAX_REPORTED; i++)
        if (!m->reported[i][0]) {
            snprintf(m->reported[i], sizeof(m->reported[i]), "%s", syspath);
            break;
        }
    return known;
}

/* Reports one device when it is a known token or a smart-card device (or was reported so). */
static void report_device(hotplug_monitor *m, struct udev_device *dev, const char *action,
                          int initial)
{
    const gs_token_model *model = known_token(dev);
    hotplug_event ev = { .action = action,
                         .syspath = udev_device_get_syspath(dev),
                         .model = model ? model->model : NULL,
                         .module = model ? model->module : "",
                         .smart_card = is_smart_card(dev),
                         .initial = initial };
    if (!ev.syspath)
        return;
    int add = strcmp(action, "add") == 0;
    int was_reported = note_reported(m, ev.syspath, add && (model || ev.smart_card));
    if (model || ev.smart_card || (!add && was_reported))
        m->fn(m->ctx, &ev);
}

/* Handles one uevent: known tokens' and smart-card devices' add and remove reach the callback. */
static void handle_event(hotplug_monitor *m)
{
    struct udev_device *dev = udev_monitor_receive_device(m->mon);
    if (!dev)
        return;
    const char *action = udev_device_get_action(dev);
    if (action && (strcmp(action, "add") == 0 || strcmp(action, "remove") == 0))
        report_device(m, dev, action, 0);
    udev_device_unref(dev);
}

/* Reports the devices present now as "add", so a token plugged in before the start counts. */
static void report_present(hotplug_monitor *m)
{
    struct udev_enumerate *en = udev_enumerate_new(m->udev);
    if (!en)
        return;
    if (udev_enumerate_add_match_subsystem(en, "usb") == 0 &&
        udev_enumerate_add_match_property(en, "DEVTYPE", "usb_device") == 0 &&
        udev_enumerate_scan_devices(en) == 0) {
        struct udev_list_entry *e;
        udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en))
        {
            struct udev_device *dev =
                udev_device_new_from_syspath(m->udev, udev_list_entry_get_name(e));
            if (dev) {
                report_device(m, dev, "add", 1);
                udev_device_unref(dev);
            }
        }
    }
    udev_enumerate_unref(en);
}

/* The thread: sleeps in poll() until udev or the stop pipe speaks. */
static void *monitor_thread(void *p)
{
    hotplug_monitor *m = p;
    struct pollfd fds[2] = { { udev_monitor_get_fd(m->mon), POLLIN, 0 },
                             { m->stop_pipe[0], POLLIN, 0 } };
    for (;;) {
        if (poll(fds, 2, -1) < 0)
            continue;
        if (fds[1].revents)
            break;
        if (fds[0].revents & POLLIN)
            handle_event(m);
    }
    return NULL;
}

hotplug_monitor *hotplug_start(hotplug_fn fn, void *ctx)
{
    hotplug_monitor *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->fn = fn;
    m->ctx = ctx;
    m->udev = udev_new();
    m->mon = m->udev ? udev_monitor_new_from_netlink(m->udev, "udev") : NULL;
    if (!m->mon ||
        udev_monitor_filter_add_match_subsystem_devtype(m->mon, "usb", "usb_device") < 0 ||
        udev_monitor_enable_receiving(m->mon) < 0 || pipe(m->stop_pipe) != 0) {
        udev_monitor_unref(m->mon);
        udev_unref(m->udev);
        free(m);
        return NULL;
    }
    report_present(m); /* after receiving is on: a device plugged in meanwhile is not lost */
    if (pthread_create(&m->thread, NULL, monitor_thread, m) != 0) {
        close(m->stop_pipe[0]);
        close(m->stop_pipe[1]);
        udev_monitor_unref(m->mon);
        udev_unref(m->udev);
        free(m);
        return NULL;
    }
    return m;
}

void hotplug_stop(hotplug_monitor *m)
{
    if (!m)
        return;
    ssize_t n = write(m->stop_pipe[1], "x", 1);
    (void)n;
    pthread_join(m->thread, NULL);
    close(m->stop_pipe[0]);
    close(m->stop_pipe[1]);
    udev_monitor_unref(m->mon);
    udev_unref(m->udev);
    free(m);
}
