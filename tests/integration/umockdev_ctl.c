/*
 * A umockdev testbed that a shell test steers: prints the testbed directory (for UMOCKDEV_DIR of
 * the programs started under umockdev's preload library), then reads commands from stdin:
 *   add NAME VID PID usb|ccid   adds a USB device (ccid: one CCID interface), prints its syspath
 *   remove SYSPATH              sends its "remove" uevent and takes it away, prints "ok"
 * and ends (removing the testbed) at the end of input. It runs under umockdev's preload library
 * too (LD_PRELOAD): sending a uevent looks the device up under the redirected /sys.
 */
#include <stdio.h>
#include <string.h>

#include <umockdev.h>

/* Adds one USB device as udev would describe it; ccid gives it a smart-card interface. */
static gchar *add_device(UMockdevTestbed *tb, const char *name, const char *vid, const char *pid,
                         int ccid)
{
    return umockdev_testbed_add_device(tb, "usb", name, NULL, "idVendor", vid, "idProduct", pid,
                                       "bDeviceClass", "00", NULL, "DEVTYPE", "usb_device",
                                       "ID_VENDOR_ID", vid, "ID_MODEL_ID", pid, "ID_USB_INTERFACES",
                                       ccid ? ":0b0000:" : ":030101:", NULL);
}

/* Runs one command line; returns 0 when it was understood. */
static int run_command(UMockdevTestbed *tb, char *line)
{
    char name[64], vid[8], pid[8], kind[8], sys[512];
    if (sscanf(line, "add %63s %7s %7s %7s", name, vid, pid, kind) == 4) {
        gchar *path = add_device(tb, name, vid, pid, strcmp(kind, "ccid") == 0);
        printf("%s\n", path ? path : "error");
        g_free(path);
        return path ? 0 : -1;
    }
    if (sscanf(line, "remove %511s", sys) == 1) {
        umockdev_testbed_uevent(tb, sys, "remove");
        umockdev_testbed_remove_device(tb, sys);
        printf("ok\n");
        return 0;
    }
    printf("error\n");
    return -1;
}

int main(void)
{
    UMockdevTestbed *tb = umockdev_testbed_new();
    printf("%s\n", umockdev_testbed_get_root_dir(tb));
    fflush(stdout);
    char line[1024];
    while (fgets(line, sizeof(line), stdin)) {
        run_command(tb, line);
        fflush(stdout);
    }
    g_object_unref(tb);
    return 0;
}
