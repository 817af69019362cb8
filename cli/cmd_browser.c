/*
 * `gostsign browser install|uninstall|status`: registers gostsign-nmhost with the browsers by
 * writing native-messaging host manifests (Chromium, Google Chrome, Yandex Browser, Microsoft
 * Edge: allowed origins; Firefox: allowed extensions), per user or system-wide, and checks them.
 * It also notices Snap and Flatpak browsers, whose sandbox cannot start a native host.
 * GOSTSIGN_BROWSER_SYSTEM_ROOT, when set, is put before every system-wide path (a staging root,
 * as DESTDIR; the tests use it so that the machine's own manifests never count).
 */
#include "agent.h"
#include "cli.h"
#include "native_messaging.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#define BROWSER_USAGE                                                                              \
    "gostsign browser install|uninstall|status [--system] [--browser NAME] [--extension-id ID] "   \
    "[--firefox-id ID] [--host PATH] [--profile DIR]"

/* One supported browser: where its manifests live and how it may be sandboxed. */
typedef struct {
    const char *name;       /* for --browser */
    const char *title;      /* for people */
    int firefox;            /* allowed_extensions instead of allowed_origins */
    const char *user_dir;   /* under $XDG_CONFIG_HOME (Chromium family) or $HOME (Firefox) */
    const char *system_dir; /* absolute */
    const char *snap;       /* ~/snap/NAME */
    const char *flatpak;    /* ~/.var/app/ID */
} browser_info;

static const browser_info browsers[] = {
    { "chromium", "Chromium", 0, "chromium/NativeMessagingHosts",
      "/etc/chromium/native-messaging-hosts", "chromium", "org.chromium.Chromium" },
    { "chrome", "Google Chrome", 0, "google-chrome/NativeMessagingHosts",
      "/etc/opt/chrome/native-messaging-hosts", NULL, "com.google.Chrome" },
    { "yandex", "Yandex Browser", 0, "yandex-browser/NativeMessagingHosts",
      "/etc/opt/yandex/browser/native-messaging-hosts", NULL, "ru.yandex.Browser" },
    { "edge", "Microsoft Edge", 0, "microsoft-edge/NativeMessagingHosts",
      "/etc/opt/edge/native-messaging-hosts", NULL, "com.microsoft.Edge" },
    { "firefox", "Firefox", 1, ".mozilla/native-messaging-hosts",
      "/usr/lib/mozilla/native-messaging-hosts", "firefox", "org.mozilla.firefox" },
};
#define BROWSER_COUNT (sizeof(browsers) / sizeof(browsers[0]))

typedef struct {
    const char *action;
    int system;
    const char *only;         /* --browser */
    const char *extension_id; /* Chromium-family extension ID */
    const char *firefox_id;   /* Gecko ID */
    char host[PATH_MAX];      /* gostsign-nmhost path written into the manifests */
} browser_options;

/* Set by --profile: a Chromium-family browser started with --user-data-dir=DIR reads its
 * per-user manifests from DIR/NativeMessagingHosts instead of ~/.config/NAME. */
static const char *custom_profile;

/* The manifest directory of a browser for this user or the whole system. */
static int manifest_dir(const browser_info *b, int system, char *out, size_t cap)
{
    if (custom_profile && !b->firefox && !system)
        return snprintf(out, cap, "%s/NativeMessagingHosts", custom_profile) < (int)cap ? 0 : -1;
    if (system) {
        const char *root = getenv("GOSTSIGN_BROWSER_SYSTEM_ROOT");
        return snprintf(out, cap, "%s%s", root ? root : "", b->system_dir) < (int)cap ? 0 : -1;
    }
    const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
    if (!home || !*home)
        return -1;
    int n = b->firefox || !xdg || !*xdg
                ? snprintf(out, cap, "%s/%s%s", home, b->firefox ? "" : ".config/", b->user_dir)
                : snprintf(out, cap, "%s/%s", xdg, b->user_dir);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* The manifest file of a browser. */
static int manifest_path(const browser_info *b, int system, char *out, size_t cap)
{
    char dir[PATH_MAX - 64];
    if (manifest_dir(b, system, dir, sizeof(dir)) != 0)
        return -1;
    int n = snprintf(out, cap, "%s/%s.json", dir, NM_HOST_NAME);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* The default host path: gostsign-nmhost next to this gostsign, else the installed bindir. */
static void default_host_path(char *out, size_t cap)
{
    if (agent_sibling_program("gostsign-nmhost", out, cap) != 0)
        snprintf(out, cap, "/usr/bin/gostsign-nmhost");
}

/* Creates a directory and its parents (mode 0755). */
static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* The manifest a browser reads: name, description, path, type, and who may connect. */
static json_object *build_manifest(const browser_info *b, const browser_options *o)
{
    json_object *m = json_object_new_object(), *list = json_object_new_array();
    char origin[128];
    json_object_object_add(m, "name", json_object_new_string(NM_HOST_NAME));
    json_object_object_add(m, "description",
                           json_object_new_string("gostsign: GOST R 34.10-2012 signatures for web "
                                                  "sites (native-messaging host)"));
    json_object_object_add(m, "path", json_object_new_string(o->host));
    json_object_object_add(m, "type", json_object_new_string("stdio"));
    if (b->firefox) {
        json_object_array_add(list, json_object_new_string(o->firefox_id));
        json_object_object_add(m, "allowed_extensions", list);
    } else {
        snprintf(origin, sizeof(origin), "chrome-extension://%s/", o->extension_id);
        json_object_array_add(list, json_object_new_string(origin));
        json_object_object_add(m, "allowed_origins", list);
    }
    return m;
}

/* Writes one browser's manifest (through a temporary file, then rename). */
static int install_one(const browser_info *b, const browser_options *o, gs_status *st)
{
    char dir[PATH_MAX - 64], path[PATH_MAX], tmp[PATH_MAX + 8];
    if (manifest_dir(b, o->system, dir, sizeof(dir)) != 0 ||
        manifest_path(b, o->system, path, sizeof(path)) != 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "cannot build the manifest path (is HOME set?)");
    if (make_dirs(dir) != 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "mkdir %s: %s", dir, strerror(errno));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    json_object *m = build_manifest(b, o);
    int rc =
        json_object_to_file_ext(tmp, m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    json_object_put(m);
    if (rc != 0 || chmod(tmp, 0644) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return gs_fail(st, GS_ERR_IO_ERROR, "write %s: %s", path, strerror(errno));
    }
    printf("%-15s %s\n", b->title, path);
    return GS_ERR_OK;
}

/* Removes one browser's manifest; a missing one is fine. */
static int uninstall_one(const browser_info *b, const browser_options *o, gs_status *st)
{
    char path[PATH_MAX];
    if (manifest_path(b, o->system, path, sizeof(path)) != 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "cannot build the manifest path (is HOME set?)");
    if (unlink(path) == 0)
        printf("%-15s removed %s\n", b->title, path);
    else if (errno != ENOENT)
        return gs_fail(st, GS_ERR_IO_ERROR, "remove %s: %s", path, strerror(errno));
    return GS_ERR_OK;
}

/* True when the manifest lets the expected extension in. */
static int manifest_names_extension(json_object *m, const browser_info *b, const browser_options *o)
{
    json_object *list;
    char want[256];
    if (b->firefox)
        snprintf(want, sizeof(want), "%s", o->firefox_id);
    else
        snprintf(want, sizeof(want), "chrome-extension://%s/", o->extension_id);
    if (!json_object_object_get_ex(m, b->firefox ? "allowed_extensions" : "allowed_origins",
                                   &list) ||
        !json_object_is_type(list, json_type_array))
        return 0;
    for (size_t i = 0; i < json_object_array_length(list); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(list, i)), want) == 0)
            return 1;
    return 0;
}

/* Checks one manifest file; returns a problem for people, or NULL when it is usable. */
static const char *check_manifest(const char *path, const browser_info *b, const browser_options *o)
{
    static char problem[PATH_MAX + 64];
    json_object *m = json_object_from_file(path), *v;
    const char *result = NULL;
    if (!m || !json_object_is_type(m, json_type_object))
        result = "not a JSON object";
    else if (!json_object_object_get_ex(m, "name", &v) ||
             strcmp(json_object_get_string(v), NM_HOST_NAME) != 0)
        result = "\"name\" differs from the file name";
    else if (!json_object_object_get_ex(m, "type", &v) ||
             strcmp(json_object_get_string(v), "stdio") != 0)
        result = "\"type\" must be \"stdio\"";
    else if (!json_object_object_get_ex(m, "path", &v) ||
             access(json_object_get_string(v), X_OK) != 0) {
        snprintf(problem, sizeof(problem), "host program %s is missing or not executable",
                 v ? json_object_get_string(v) : "(none)");
        result = problem;
    } else if (!manifest_names_extension(m, b, o))
        result = "the gostsign extension is not among the allowed callers";
    json_object_put(m);
    return result;
}

/* Says whether a Snap or Flatpak copy of the browser is present (they cannot start hosts). */
static void report_sandbox(const browser_info *b)
{
    const char *home = getenv("HOME");
    char path[PATH_MAX];
    struct stat sb;
    if (!home)
        return;
    if (b->snap &&
        (snprintf(path, sizeof(path), "/snap/bin/%s", b->snap),
         stat(path, &sb) == 0 ||
             (snprintf(path, sizeof(path), "%s/snap/%s", home, b->snap), stat(path, &sb) == 0)))
        printf("    внимание / warning: %s is installed as a Snap package (%s): its sandbox cannot "
               "start native-messaging hosts; use the Debian package (apt-get install %s).\n",
               b->title, path, b->snap);
    if (b->flatpak &&
        (snprintf(path, sizeof(path), "%s/.var/app/%s", home, b->flatpak), stat(path, &sb) == 0))
        printf("    внимание / warning: %s runs as a Flatpak (%s): the sandbox cannot start "
               "gostsign-nmhost; install the browser from Debian packages.\n",
               b->title, path);
}

/* Prints one browser's state; returns 1 when its manifest is installed and usable. Like the
 * browser itself, without --system it takes the user's manifest when there is one and else the
 * system-wide one (the one a package installs). */
static int status_one(const browser_info *b, const browser_options *o, int *broken)
{
    char path[PATH_MAX], system_path[PATH_MAX];
    int usable = 0;
    int have_path = manifest_path(b, o->system, path, sizeof(path)) == 0;
    if (!o->system && (!have_path || access(path, F_OK) != 0) &&
        manifest_path(b, 1, system_path, sizeof(system_path)) == 0 &&
        access(system_path, F_OK) == 0) {
        snprintf(path, sizeof(path), "%s", system_path);
        have_path = 1;
    }
    if (!have_path) {
        printf("%-15s (HOME is not set)\n", b->title);
    } else if (access(path, F_OK) != 0) {
        printf("%-15s не зарегистрирован / not registered (%s)\n", b->title, path);
    } else {
        const char *problem = check_manifest(path, b, o);
        if (problem) {
            *broken = 1;
            printf("%-15s ошибка / broken: %s: %s\n", b->title, path, problem);
        } else {
            usable = 1;
            printf("%-15s ok: %s\n", b->title, path);
        }
    }
    report_sandbox(b);
    return usable;
}

/* Parses the options after the action. */
static int parse_browser_options(int argc, char **argv, browser_options *o)
{
    o->action = argv[1];
    o->extension_id = NM_CHROMIUM_EXTENSION_ID;
    o->firefox_id = NM_FIREFOX_EXTENSION_ID;
    default_host_path(o->host, sizeof(o->host));
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--system") == 0)
            o->system = 1;
        else if (val && strcmp(a, "--browser") == 0)
            o->only = argv[++i];
        else if (val && strcmp(a, "--extension-id") == 0)
            o->extension_id = argv[++i];
        else if (val && strcmp(a, "--firefox-id") == 0)
            o->firefox_id = argv[++i];
        else if (val && strcmp(a, "--profile") == 0 && val[0] == '/')
            custom_profile = argv[++i];
        else if (val && strcmp(a, "--host") == 0 && val[0] == '/')
            snprintf(o->host, sizeof(o->host), "%s", argv[++i]);
        else
            return cli_usage_error(BROWSER_USAGE, "unexpected argument '%s'", a);
    }
    if (strlen(o->extension_id) != 32 || strspn(o->extension_id, "abcdefghijklmnop") != 32)
        return cli_usage_error(BROWSER_USAGE, "--extension-id must be 32 letters a-p");
    for (size_t i = 0; o->only && i < BROWSER_COUNT; i++)
        if (strcmp(o->only, browsers[i].name) == 0)
            return 0;
    return o->only ? cli_usage_error(BROWSER_USAGE,
                                     "--browser: chromium, chrome, yandex, edge or firefox")
                   : 0;
}

int cmd_browser(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "install") != 0 && strcmp(argv[1], "uninstall") != 0 &&
                     strcmp(argv[1], "status") != 0))
        return cli_usage_error(BROWSER_USAGE, "expected install, uninstall or status");
    browser_options o = { 0 };
    int rc = parse_browser_options(argc, argv, &o);
    if (rc != 0)
        return rc;
    gs_status st;
    gs_status_clear(&st);
    int usable = 0, broken = 0;
    for (size_t i = 0; i < BROWSER_COUNT; i++) {
        const browser_info *b = &browsers[i];
        if (o.only && strcmp(o.only, b->name) != 0)
            continue;
        if (strcmp(o.action, "install") == 0 && install_one(b, &o, &st) != GS_ERR_OK)
            return cli_report(&st);
        if (strcmp(o.action, "uninstall") == 0 && uninstall_one(b, &o, &st) != GS_ERR_OK)
            return cli_report(&st);
        if (strcmp(o.action, "status") == 0)
            usable += status_one(b, &o, &broken);
    }
    if (strcmp(o.action, "install") == 0)
        printf("Перезапустите браузер / restart the browser to pick up the host (%s).\n", o.host);
    if (strcmp(o.action, "status") == 0 && (broken || !usable))
        return cli_report(&(gs_status){ GS_ERR_NMHOST_NOT_REGISTERED,
                                        "no usable gostsign-nmhost manifest; run `gostsign "
                                        "browser install`" });
    return 0;
}
