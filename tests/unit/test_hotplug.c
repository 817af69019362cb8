/*
 * Token hotplug through udev, with umockdev's testbed standing in for the kernel: a known token
 * (Rutoken ECP, from the hwdb table) added and removed reaches the callback; a mouse does not.
 * Runs under umockdev-wrapper (meson passes it), which redirects udev to the testbed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <umockdev.h>

#include "hotplug.h"

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int adds, removes, initial, smart_cards;
    char model[128];
    char module[128];
} seen_events;

/* The callback records what the monitor thread reported. */
static void on_event(void *ctx, const hotplug_event *ev)
{
    seen_events *s = ctx;
    pthread_mutex_lock(&s->lock);
    if (strcmp(ev->action, "add") == 0)
        s->adds++;
    else
        s->removes++;
    s->initial += ev->initial;
    s->smart_cards += ev->smart_card && !ev->model;
    strncpy(s->model, ev->model ? ev->model : "(unknown)", sizeof(s->model) - 1);
    strncpy(s->module, ev->module, sizeof(s->module) - 1);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* Waits up to 3 s until *counter reaches want. */
static int wait_for(seen_events *s, int *counter, int want)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 3;
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    while (*counter < want && rc == 0)
        rc = pthread_cond_timedwait(&s->cond, &s->lock, &until);
    int reached = *counter >= want;
    pthread_mutex_unlock(&s->lock);
    return reached;
}

/* Adds a USB device with the given ids to the testbed. */
static gchar *add_usb(UMockdevTestbed *tb, const char *name, const char *vid, const char *pid)
{
    return umockdev_testbed_add_device(tb, "usb", name, NULL, "idVendor", vid, "idProduct", pid,
                                       "product", name, NULL, "DEVTYPE", "usb_device",
                                       "ID_VENDOR_ID", vid, "ID_MODEL_ID", pid, NULL);
}

/* Adds a USB device whose one interface is CCID (class 0x0b), as udev's usb_id describes it. */
static gchar *add_ccid(UMockdevTestbed *tb, const char *name, const char *vid, const char *pid)
{
    return umockdev_testbed_add_device(tb, "usb", name, NULL, "idVendor", vid, "idProduct", pid,
                                       "bDeviceClass", "00", NULL, "DEVTYPE", "usb_device",
                                       "ID_VENDOR_ID", vid, "ID_MODEL_ID", pid, "ID_USB_INTERFACES",
                                       ":0b0000:", NULL);
}

static void test_known_token_add_and_remove(void **state)
{
    (void)state;
    UMockdevTestbed *tb = umockdev_testbed_new();
    seen_events s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, "", "" };
    hotplug_monitor *m = hotplug_start(on_event, &s);
    assert_non_null(m);

    /* adding a device to the testbed emits its "add" uevent */
    gchar *mouse = add_usb(tb, "mouse", "046d", "c52b");
    gchar *token = add_usb(tb, "rutoken", "0a89", "0030");
    assert_true(wait_for(&s, &s.adds, 1));
    assert_non_null(strstr(s.model, "Rutoken"));
    assert_string_equal(s.module, "librtpkcs11ecp.so"); /* the table's module for 0a89:0030 */
    assert_int_equal(s.initial, 0);
    umockdev_testbed_uevent(tb, token, "remove");
    assert_true(wait_for(&s, &s.removes, 1));
    umockdev_testbed_uevent(tb, mouse, "remove");
    struct timespec pause = { 0, 300 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    assert_int_equal(s.adds, 1); /* the mouse never counted */
    assert_int_equal(s.removes, 1);

    hotplug_stop(m);
    g_free(mouse);
    g_free(token);
    g_object_unref(tb);
}

/* A reader the table does not know is reported as a smart card; one present earlier as initial. */
static void test_unknown_reader_and_present_devices(void **state)
{
    (void)state;
    UMockdevTestbed *tb = umockdev_testbed_new();
    seen_events s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, "", "" };
    gchar *early = add_usb(tb, "rutoken", "0a89", "0030");
    gchar *mouse = add_usb(tb, "mouse", "046d", "c52b");
    hotplug_monitor *m = hotplug_start(on_event, &s);
    assert_non_null(m);
    assert_int_equal(s.adds, 1); /* reported before hotplug_start returned; not the mouse */
    assert_int_equal(s.initial, 1);

    gchar *reader = add_ccid(tb, "reader", "072f", "90cc");
    assert_true(wait_for(&s, &s.adds, 2));
    assert_int_equal(s.smart_cards, 1);
    assert_string_equal(s.model, "(unknown)");
    assert_string_equal(s.module, "");
    /* a removal that no longer carries the interface list still reaches the callback */
    umockdev_testbed_set_property(tb, reader, "ID_USB_INTERFACES", ":030101:");
    umockdev_testbed_uevent(tb, reader, "remove");
    assert_true(wait_for(&s, &s.removes, 1));

    hotplug_stop(m);
    g_free(early);
    g_free(mouse);
    g_free(reader);
    g_object_unref(tb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_token_add_and_remove),
        cmocka_unit_test(test_unknown_reader_and_present_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
