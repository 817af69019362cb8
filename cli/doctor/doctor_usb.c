/*
 * Doctor layers 1 and 2: known tokens on the USB bus (libudev enumeration matched against the
 * hwdb-generated table) and whether this user may open their device nodes.
 */
#include "doctor.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libudev.h>

/* A sysfs attribute as text, or "" when absent. */
static const char *attr(struct udev_device *d, const char *name)
{
    const char *v = udev_device_get_sysattr_value(d, name);
    return v ? v : "";
}

/* Parses a 4-digit hex USB id attribute; -1 when malformed. */
static long hex_id(const char *s)
{
    char *end;
    long v = strtol(s, &end, 16);
    return (*s && *end == '\0' && v >= 0 && v <= 0xffff) ? v : -1;
}

/* Records one known device for the later layers and reports it. */
static void note_device(doctor_ctx *ctx, struct udev_device *d, const gs_token_model *m,
                        uint16_t vid, uint16_t pid)
{
    if (ctx->device_count == DOCTOR_MAX_DEVICES)
        return;
    doctor_device *dev = &ctx->devices[ctx->device_count++];
    memset(dev, 0, sizeof(*dev));
    dev->vendor_id = vid;
    dev->product_id = pid;
    dev->model = m;
    snprintf(dev->syspath, sizeof(dev->syspath), "%s", udev_device_get_syspath(d));
    const char *node = udev_device_get_devnode(d);
    snprintf(dev->devnode, sizeof(dev->devnode), "%s", node ? node : "");
    snprintf(dev->product, sizeof(dev->product), "%s", attr(d, "product"));
    snprintf(dev->serial, sizeof(dev->serial), "%s", attr(d, "serial"));
    dev->busnum = atoi(attr(d, "busnum"));
    dev->devnum = atoi(attr(d, "devnum"));
    dev->udev_props = udev_device_get_property_value(d, "ID_GOSTSIGN_MODEL") != NULL;
    dev->uaccess = udev_device_has_tag(d, "uaccess");

    doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_USB, "usb.device", DOCTOR_OK, GS_ERR_OK);
    doctor_say(c, "%s %s found (USB %04x:%04x, bus %d, device %d)",
               "Найден %s %s (USB %04x:%04x, шина %d, устройство %d)", m->vendor, m->model, vid,
               pid, dev->busnum, dev->devnum);
    char id[16];
    snprintf(id, sizeof(id), "%04x:%04x", vid, pid);
    doctor_ev_str(c, "usb_id", id);
    doctor_ev_str(c, "vendor", m->vendor);
    doctor_ev_str(c, "model", m->model);
    doctor_ev_str(c, "product", dev->product);
    doctor_ev_str(c, "serial", dev->serial);
    doctor_ev_str(c, "driver", m->driver);
    doctor_ev_str(c, "module", m->module);
    doctor_ev_str(c, "syspath", dev->syspath);
    doctor_ev_str(c, "devnode", dev->devnode);
    doctor_ev_int(c, "busnum", dev->busnum);
    doctor_ev_int(c, "devnum", dev->devnum);
    doctor_ev_str(c, "ids_source", m->source);
}

/* Looks at one USB device: known tokens are recorded, everything else is ignored. */
static void inspect_usb_device(doctor_ctx *ctx, struct udev_device *d)
{
    const char *devtype = udev_device_get_devtype(d);
    if (devtype && strcmp(devtype, "usb_device") != 0)
        return;
    long vid = hex_id(attr(d, "idVendor")), pid = hex_id(attr(d, "idProduct"));
    if (vid < 0 || pid < 0)
        return;
    const gs_token_model *m = gs_token_model_find((uint16_t)vid, (uint16_t)pid);
    if (m)
        note_device(ctx, d, m, (uint16_t)vid, (uint16_t)pid);
}

void doctor_layer_usb(doctor_ctx *ctx)
{
    struct udev *udev = udev_new();
    struct udev_enumerate *en = udev ? udev_enumerate_new(udev) : NULL;
    if (!en) {
        doctor_check *c =
            doctor_add(ctx, DOCTOR_LAYER_USB, "usb.udev", DOCTOR_WARN, GS_ERR_INTERNAL);
        doctor_say(c, "udev is not available: USB devices cannot be listed",
                   "udev недоступен: список USB-устройств получить нельзя");
        doctor_fix(
            c, "Run the doctor on the host system, not in a container without /sys and /run/udev.",
            "Запустите диагностику в основной системе, а не в контейнере без /sys и /run/udev.");
        udev_unref(udev);
        return;
    }
    udev_enumerate_add_match_subsystem(en, "usb");
    udev_enumerate_scan_devices(en);
    struct udev_list_entry *e;
    udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en))
    {
        struct udev_device *d = udev_device_new_from_syspath(udev, udev_list_entry_get_name(e));
        if (d) {
            inspect_usb_device(ctx, d);
            udev_device_unref(d);
        }
    }
    udev_enumerate_unref(en);
    udev_unref(udev);
    if (ctx->device_count == 0) {
        doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_USB, "usb.none", DOCTOR_SKIP, GS_ERR_OK);
        doctor_say(
            c, "No known USB token is connected (a software token or a reader may still be used)",
            "Известные USB-токены не подключены (программный токен или считыватель ещё могут "
            "работать)");
        doctor_fix(c, "If you use a USB token, insert it and run the doctor again.",
                   "Если вы пользуетесь USB-токеном, вставьте его и запустите диагностику снова.");
    }
}

/* Permissions of one device node: access(2) as this user, plus the udev rule's traces. */
static void check_device_access(doctor_ctx *ctx, const doctor_device *dev)
{
    const char *name = dev->model->model;
    if (!dev->devnode[0]) {
        doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_PERMISSIONS, "permissions.devnode",
                                     DOCTOR_WARN, GS_ERR_DEVICE_ACCESS);
        doctor_say(c, "%s has no device node", "У устройства %s нет файла устройства", name);
        doctor_fix(c, "Check that udev runs (systemd-udevd) and reinsert the token.",
                   "Проверьте, что работает udev (systemd-udevd), и вставьте токен заново.");
        return;
    }
    struct stat sb;
    int exists = stat(dev->devnode, &sb) == 0;
    int rw = access(dev->devnode, R_OK | W_OK) == 0;
    doctor_check *c =
        doctor_add(ctx, DOCTOR_LAYER_PERMISSIONS, "permissions.devnode",
                   rw ? DOCTOR_OK : DOCTOR_FAIL, rw ? GS_ERR_OK : GS_ERR_DEVICE_ACCESS);
    doctor_ev_str(c, "devnode", dev->devnode);
    doctor_ev_bool(c, "readable_writable", rw);
    doctor_ev_bool(c, "uaccess_tag", dev->uaccess);
    if (exists) {
        char mode[8];
        snprintf(mode, sizeof(mode), "%04o", (unsigned)(sb.st_mode & 07777));
        doctor_ev_str(c, "mode", mode);
        doctor_ev_int(c, "owner_uid", sb.st_uid);
        doctor_ev_int(c, "group_gid", sb.st_gid);
    }
    if (rw) {
        doctor_say(c, "%s: %s can be opened by this user", "%s: пользователь может открыть %s",
                   name, dev->devnode);
        return;
    }
    doctor_say(c, "%s: %s cannot be opened by this user (read/write denied)",
               "%s: у пользователя нет доступа на чтение и запись к %s", name, dev->devnode);
    doctor_fix(c,
               "Install 70-gostsign-tokens.rules and .hwdb (they add TAG+=\"uaccess\"), run "
               "`systemd-hwdb update && udevadm trigger --subsystem-match=usb`, reinsert the token "
               "and work at the local seat.",
               "Установите 70-gostsign-tokens.rules и .hwdb (они добавляют TAG+=\"uaccess\"), "
               "выполните `systemd-hwdb update && udevadm trigger --subsystem-match=usb`, вставьте "
               "токен заново и работайте за локальным рабочим местом.");
}

/* Whether udev applied our hwdb to the device (the rules and hwdb are installed and loaded). */
static void check_udev_rules(doctor_ctx *ctx, const doctor_device *dev)
{
    int ok = dev->udev_props;
    doctor_check *c =
        doctor_add(ctx, DOCTOR_LAYER_PERMISSIONS, "permissions.udev_rules",
                   ok ? DOCTOR_OK : DOCTOR_WARN, ok ? GS_ERR_OK : GS_ERR_DEVICE_ACCESS);
    doctor_ev_str(c, "syspath", dev->syspath);
    doctor_ev_bool(c, "id_gostsign_properties", ok);
    doctor_ev_bool(c, "uaccess_tag", dev->uaccess);
    if (ok) {
        doctor_say(c, "%s: gostsign udev rules are applied", "%s: правила udev gostsign применены",
                   dev->model->model);
        return;
    }
    doctor_say(c, "%s: the gostsign udev rules and hwdb are not applied (no ID_GOSTSIGN_MODEL)",
               "%s: правила udev и hwdb gostsign не применены (нет ID_GOSTSIGN_MODEL)",
               dev->model->model);
    doctor_fix(c,
               "Install gostsign's 70-gostsign-tokens.rules and 70-gostsign-tokens.hwdb, then run "
               "`systemd-hwdb update && udevadm trigger --subsystem-match=usb`.",
               "Установите 70-gostsign-tokens.rules и 70-gostsign-tokens.hwdb из gostsign, затем "
               "выполните `systemd-hwdb update && udevadm trigger --subsystem-match=usb`.");
}

void doctor_layer_permissions(doctor_ctx *ctx)
{
    if (ctx->device_count == 0) {
        doctor_check *c =
            doctor_add(ctx, DOCTOR_LAYER_PERMISSIONS, "permissions.none", DOCTOR_SKIP, GS_ERR_OK);
        doctor_say(c, "No USB token to check", "Нет USB-токена для проверки");
        return;
    }
    for (size_t i = 0; i < ctx->device_count; i++) {
        check_device_access(ctx, &ctx->devices[i]);
        check_udev_rules(ctx, &ctx->devices[i]);
    }
}
