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
    int adds, removes;
    char model[128];
} seen_events;

/* The callback records what the monitor thread reported. */
static void on_event(void *ctx, const char *action, const char *model)
{
    seen_events *s = ctx;
    pthread_mutex_lock(&s->lock);
    if (strcmp(action, "add") == 0)
        s->adds++;
    else
        s->removes++;
    strncpy(s->model, model, sizeof(s->model) - 1);
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

static void test_known_token_add_and_remove(void **state)
{
    (void)state;
    UMockdevTestbed *tb = umockdev_testbed_new();
    seen_events s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, "" };
    hotplug_monitor *m = hotplug_start(on_event, &s);
    assert_non_null(m);

    /* adding a device to the testbed emits its "add" uevent */
    gchar *mouse = add_usb(tb, "mouse", "046d", "c52b");
    gchar *token = add_usb(tb, "rutoken", "0a89", "0030");
    assert_true(wait_for(&s, &s.adds, 1));
    assert_non_null(strstr(s.model, "Rutoken"));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_token_add_and_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
