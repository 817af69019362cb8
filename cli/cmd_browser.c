/*
 * `gostsign browser install|uninstall|status`: registers gostsign-nmhost with the browsers by
 * writing native-messaging host manifests (Chromium, Google Chrome, Yandex Browser, Microsoft
 * Edge: allowed origins; Firefox: allowed extensions), per user or system-wide, and checks them.
 * Chromium-Gost has no folders of its own: it reads Chromium's, then Google Chrome's system one.
 * It also notices Snap and Flatpak copies and says what works there: Firefox reaches a host
 * through the WebExtensions portal of xdg-desktop-portal when the desktop has it; a confined
 * Chromium-family browser cannot start one at all.
 * GOSTSIGN_BROWSER_SYSTEM_ROOT, when set, is put before every system-wide path (a staging root,
 * as DESTDIR; the tests use it so that the machine's own manifests, programs, Snap and Flatpak
 * installations and portal never count).
 */
#include "agent.h"
#include "cli.h"
#include "native_messaging.h"

#include <errno.h>
#include <fcntl.h>
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
    const char *name;             /* for --browser */
    const char *title;            /* for people */
    int firefox;                  /* allowed_extensions instead of allowed_origins */
    const char *user_dir;         /* under $XDG_CONFIG_HOME (Chromium family) or $HOME (Firefox) */
    const char *system_dir;       /* absolute */
    const char *extra_system_dir; /* read after system_dir when there is none there */
    const char *shares_with;      /* the browser whose files these are: install-all skips it */
    const char *programs[2];      /* shown only when one exists (NULL: always shown) */
    const char *snap;             /* /snap/bin/NAME, ~/snap/NAME */
    const char *flatpak;          /* application ID: ~/.var/app/ID, .../flatpak/app/ID */
    const char *unconfined;       /* where an unconfined build comes from, for people */
} browser_info;

static const browser_info browsers[] = {
    { .name = "chromium",
      .title = "Chromium",
      .user_dir = "chromium/NativeMessagingHosts",
      .system_dir = "/etc/chromium/native-messaging-hosts",
      .snap = "chromium",
      .flatpak = "org.chromium.Chromium",
      .unconfined = "apt-get install chromium" },
    { .name = "chrome",
      .title = "Google Chrome",
      .user_dir = "google-chrome/NativeMessagingHosts",
      .system_dir = "/etc/opt/chrome/native-messaging-hosts",
      .flatpak = "com.google.Chrome",
      .unconfined = "Google's .deb (google-chrome-stable)" },
    { .name = "yandex",
      .title = "Yandex Browser",
      .user_dir = "yandex-browser/NativeMessagingHosts",
      .system_dir = "/etc/opt/yandex/browser/native-messaging-hosts",
      .flatpak = "ru.yandex.Browser",
      .unconfined = "Yandex's .deb (yandex-browser-stable)" },
    { .name = "edge",
      .title = "Microsoft Edge",
      .user_dir = "microsoft-edge/NativeMessagingHosts",
      .system_dir = "/etc/opt/edge/native-messaging-hosts",
      .flatpak = "com.microsoft.Edge",
      .unconfined = "Microsoft's .deb (microsoft-edge-stable)" },
    /* A Chromium-branded build (installed in /opt/chromium-gost): Chromium's folders, then
     * Google Chrome's system folder, which its own patch adds to the search. */
    { .name = "chromium-gost",
      .title = "Chromium-Gost",
      .user_dir = "chromium/NativeMessagingHosts",
      .system_dir = "/etc/chromium/native-messaging-hosts",
      .extra_system_dir = "/etc/opt/chrome/native-messaging-hosts",
      .shares_with = "chromium",
      .programs = { "/opt/chromium-gost/chrome", "/usr/bin/chromium-gost" } },
    { .name = "firefox",
      .title = "Firefox",
      .firefox = 1,
      .user_dir = ".mozilla/native-messaging-hosts",
      .system_dir = "/usr/lib/mozilla/native-messaging-hosts",
      .snap = "firefox",
      .flatpak = "org.mozilla.firefox",
      .unconfined = "apt-get install firefox-esr" },
};
#define BROWSER_COUNT (sizeof(browsers) / sizeof(browsers[0]))

/* The title of the browser named name (for --browser). */
static const char *browser_title(const char *name)
{
    for (size_t i = 0; i < BROWSER_COUNT; i++)
        if (strcmp(browsers[i].name, name) == 0)
            return browsers[i].title;
    return name;
}

/* A system-wide path under GOSTSIGN_BROWSER_SYSTEM_ROOT (the real one when that is unset). */
static int system_path(const char *path, char *out, size_t cap)
{
    const char *root = getenv("GOSTSIGN_BROWSER_SYSTEM_ROOT");
    int n = snprintf(out, cap, "%s%s", root ? root : "", path);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* True when path (under the system root) exists. */
static int system_path_exists(const char *path)
{
    char full[PATH_MAX];
    return system_path(path, full, sizeof(full)) == 0 && access(full, F_OK) == 0;
}

/* True for a browser shown only when installed (Chromium-Gost) whose program is not there. */
static int not_installed(const browser_info *b)
{
    if (!b->programs[0])
        return 0;
    for (size_t i = 0; i < sizeof(b->programs) / sizeof(b->programs[0]); i++)
        if (b->programs[i] && system_path_exists(b->programs[i]))
            return 0;
    return 1;
}

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

static int make_dirs(const char *path);

/* What `status` found over all manifests: how many are registered, how many usable, which not. */
typedef struct {
    int total, fine;
    char broken[2048]; /* "Google Chrome (PATH: reason); ..." */
} manifest_tally;

/* The file that remembers the profiles registered with --profile, one absolute path a line. */
static int profiles_file(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n = xdg && *xdg     ? snprintf(out, cap, "%s/gostsign/browser-profiles", xdg)
            : home && *home ? snprintf(out, cap, "%s/.config/gostsign/browser-profiles", home)
                            : -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Reads the recorded profiles into list (at most max); returns how many. */
static size_t read_profiles(char list[][PATH_MAX], size_t max)
{
    char path[PATH_MAX], line[PATH_MAX];
    size_t n = 0;
    FILE *f = profiles_file(path, sizeof(path)) == 0 ? fopen(path, "r") : NULL;
    while (f && n < max && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '/')
            snprintf(list[n++], PATH_MAX, "%s", line);
    }
    if (f)
        fclose(f);
    return n;
}

#define MAX_PROFILES 32

/* Adds (add = 1) or removes a profile in the record, so that status and the doctor check it. */
static int record_profile(const char *dir, int add)
{
    static char list[MAX_PROFILES][PATH_MAX];
    char path[PATH_MAX], folder[PATH_MAX];
    size_t n = read_profiles(list, MAX_PROFILES), kept = 0;
    if (profiles_file(path, sizeof(path)) != 0)
        return -1;
    snprintf(folder, sizeof(folder), "%s", path);
    *strrchr(folder, '/') = '\0';
    FILE *f = make_dirs(folder) == 0 ? fopen(path, "w") : NULL;
    if (!f)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], dir) != 0 && ++kept)
            fprintf(f, "%s\n", list[i]);
    if (add && kept < MAX_PROFILES)
        fprintf(f, "%s\n", dir);
    return fclose(f) == 0 ? 0 : -1;
}

/* The manifest directory of a browser for this user or the whole system. */
static int manifest_dir(const browser_info *b, int system, char *out, size_t cap)
{
    if (custom_profile && !b->firefox && !system)
        return snprintf(out, cap, "%s/NativeMessagingHosts", custom_profile) < (int)cap ? 0 : -1;
    if (system)
        return system_path(b->system_dir, out, cap);
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

/* Checks one manifest file; returns a problem for people (in the locale's language), or NULL
 * when it is usable. */
static const char *check_manifest(const char *path, const browser_info *b, const browser_options *o)
{
    static char problem[PATH_MAX + 64];
    json_object *m = json_object_from_file(path), *v;
    const char *result = NULL;
    if (!m || !json_object_is_type(m, json_type_object))
        result = cli_text("это не объект JSON", "not a JSON object");
    else if (!json_object_object_get_ex(m, "name", &v) ||
             strcmp(json_object_get_string(v), NM_HOST_NAME) != 0)
        result =
            cli_text("\"name\" не совпадает с именем файла", "\"name\" differs from the file name");
    else if (!json_object_object_get_ex(m, "type", &v) ||
             strcmp(json_object_get_string(v), "stdio") != 0)
        result = cli_text("\"type\" должен быть \"stdio\"", "\"type\" must be \"stdio\"");
    else if (!json_object_object_get_ex(m, "path", &v) ||
             access(json_object_get_string(v), X_OK) != 0) {
        snprintf(problem, sizeof(problem),
                 cli_text("программа %s отсутствует или не исполняемая",
                          "host program %s is missing or not executable"),
                 v ? json_object_get_string(v) : "(none)");
        result = problem;
    } else if (!manifest_names_extension(m, b, o))
        result = cli_text("расширение gostsign не входит в число допущенных",
                          "the gostsign extension is not among the allowed callers");
    json_object_put(m);
    return result;
}

/* Where a Snap copy of the browser is (/snap/bin/NAME, ~/snap/NAME) into where; 1 if found. */
static int find_snap(const browser_info *b, char *where, size_t cap)
{
    const char *home = getenv("HOME");
    char rel[128];
    if (!b->snap)
        return 0;
    snprintf(rel, sizeof(rel), "/snap/bin/%s", b->snap);
    if (system_path(rel, where, cap) == 0 && access(where, F_OK) == 0)
        return 1;
    return home && *home && snprintf(where, cap, "%s/snap/%s", home, b->snap) < (int)cap &&
           access(where, F_OK) == 0;
}

/*
 * Where a Flatpak copy is into where; 1 if found. The places `flatpak list` reads: the system
 * installation (/var/lib/flatpak/app/ID), the user's (~/.local/share/flatpak/app/ID), and the
 * data folder of an application that has run (~/.var/app/ID).
 */
static int find_flatpak(const browser_info *b, char *where, size_t cap)
{
    const char *home = getenv("HOME");
    char rel[256];
    if (!b->flatpak)
        return 0;
    if (home && *home && snprintf(where, cap, "%s/.var/app/%s", home, b->flatpak) < (int)cap &&
        access(where, F_OK) == 0)
        return 1;
    if (home && *home &&
        snprintf(where, cap, "%s/.local/share/flatpak/app/%s", home, b->flatpak) < (int)cap &&
        access(where, F_OK) == 0)
        return 1;
    snprintf(rel, sizeof(rel), "/var/lib/flatpak/app/%s", b->flatpak);
    return system_path(rel, where, cap) == 0 && access(where, F_OK) == 0;
}

/* True when the file holds the byte string needle (read in overlapping blocks). */
static int file_contains(const char *path, const char *needle)
{
    size_t len = strlen(needle), have = 0;
    char buf[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0;
    ssize_t n;
    while (fd >= 0 && !found && (n = read(fd, buf + have, sizeof(buf) - have)) > 0) {
        have += (size_t)n;
        found = memmem(buf, have, needle, len) != NULL;
        if (have > len) { /* keep the tail: the needle may straddle two blocks */
            memmove(buf, buf + have - (len - 1), len - 1);
            have = len - 1;
        }
    }
    if (fd >= 0)
        close(fd);
    return found;
}

/*
 * The xdg-desktop-portal program when it serves the WebExtensions portal (it names the D-Bus
 * interface), or NULL. Ubuntu (22.04 and later) patches it in; Debian 12's 1.16 has none.
 */
static const char *webextensions_portal(void)
{
    static const char *const programs[] = { "/usr/libexec/xdg-desktop-portal",
                                            "/usr/lib/xdg-desktop-portal/xdg-desktop-portal" };
    static char found[PATH_MAX];
    for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
        if (system_path(programs[i], found, sizeof(found)) == 0 &&
            file_contains(found, "org.freedesktop.portal.WebExtensions"))
            return found;
    return NULL;
}

/* What a confined Firefox can do: start the host through the portal, if the desktop has it. */
static void report_confined_firefox(const browser_info *b, const char *kind, const char *where)
{
    const char *portal = webextensions_portal();
    if (portal)
        printf(cli_text("    примечание: %s %s (%s): запускает gostsign-nmhost через портал "
                        "WebExtensions службы xdg-desktop-portal (%s), который читает манифест "
                        "Firefox выше; Firefox один раз спросит, можно ли расширению его "
                        "запускать (ответы показывает `flatpak permissions webextensions`).\n",
                        "    note: %s %s (%s): it starts gostsign-nmhost through the "
                        "WebExtensions portal of xdg-desktop-portal (%s), which reads the Firefox "
                        "manifest above; Firefox asks once whether the extension may start it "
                        "(`flatpak permissions webextensions` lists the answers).\n"),
               b->title, kind, where, portal);
    else
        printf(cli_text("    внимание: %s %s (%s): в песочнице он может запускать "
                        "native-messaging hosts только через портал WebExtensions службы "
                        "xdg-desktop-portal, а здесь его нет (в xdg-desktop-portal 1.16 из "
                        "Debian 12 его нет; Ubuntu 22.04 и новее его добавляют); вместо этого: "
                        "%s.\n",
                        "    warning: %s %s (%s): confined, it can start native-messaging "
                        "hosts only through the WebExtensions portal of xdg-desktop-portal, and "
                        "this system's portal has none (Debian 12's xdg-desktop-portal 1.16 lacks "
                        "it; Ubuntu 22.04 and later add it); instead: %s.\n"),
               b->title, kind, where, b->unconfined);
}

/* A confined Chromium-family browser: it has no portal client, so no native host at all. */
static void report_confined_chromium(const browser_info *b, const char *kind, const char *where)
{
    printf(cli_text("    внимание: %s %s (%s): его песочница не может запустить gostsign-nmhost "
                    "(у браузеров семейства Chromium нет клиента портала рабочего стола): не "
                    "поддерживается; вместо этого: %s.\n",
                    "    warning: %s %s (%s): its sandbox cannot start gostsign-nmhost "
                    "(Chromium-family browsers have no client for the desktop portal): not "
                    "supported; instead: %s.\n"),
           b->title, kind, where, b->unconfined);
}

/* Says what works for a Snap or Flatpak copy of the browser, when there is one. */
static void report_sandbox(const browser_info *b)
{
    char where[PATH_MAX];
    void (*report)(const browser_info *, const char *, const char *) =
        b->firefox ? report_confined_firefox : report_confined_chromium;
    if (find_snap(b, where, sizeof(where)))
        report(b, cli_text("установлен как пакет Snap", "is installed as a Snap"), where);
    if (find_flatpak(b, where, sizeof(where)))
        report(b, cli_text("работает как Flatpak", "runs as a Flatpak"), where);
}

/*
 * The manifest the browser reads: without --system the user's when there is one, else the
 * system-wide one (the one a package installs), else the extra system place (Chromium-Gost).
 * 0 with the path in out (the first place when none exists), -1 when no path can be built.
 */
static int manifest_in_use(const browser_info *b, const browser_options *o, char *out, size_t cap)
{
    char system_manifest[PATH_MAX];
    int have = manifest_path(b, o->system, out, cap) == 0;
    if (have && access(out, F_OK) == 0)
        return 0;
    if (!o->system && manifest_path(b, 1, system_manifest, sizeof(system_manifest)) == 0 &&
        access(system_manifest, F_OK) == 0) {
        snprintf(out, cap, "%s", system_manifest);
        return 0;
    }
    if (b->extra_system_dir &&
        system_path(b->extra_system_dir, system_manifest, sizeof(system_manifest) - 32) == 0) {
        size_t used = strlen(system_manifest);
        snprintf(system_manifest + used, sizeof(system_manifest) - used, "/%s.json", NM_HOST_NAME);
        if (access(system_manifest, F_OK) == 0) {
            snprintf(out, cap, "%s", system_manifest);
            return 0;
        }
    }
    return have ? 0 : -1;
}

/* Prints one manifest's state line and counts it: ok, broken with the reason, or not there. */
static void status_manifest(const char *title, const char *path, const browser_info *b,
                            const browser_options *o, manifest_tally *t)
{
    if (access(path, F_OK) != 0) {
        printf(cli_text("%-15s не зарегистрирован (%s)\n", "%-15s not registered (%s)\n"), title,
               path);
        return;
    }
    t->total++;
    const char *problem = check_manifest(path, b, o);
    if (!problem) {
        t->fine++;
        printf("%-15s ok: %s\n", title, path);
        return;
    }
    printf(cli_text("%-15s ошибка: %s: %s\n", "%-15s broken: %s: %s\n"), title, path, problem);
    size_t used = strlen(t->broken);
    snprintf(t->broken + used, sizeof(t->broken) - used, "%s%s (%s: %s)", used ? "; " : "", title,
             path, problem);
}

/* Prints one browser's state and counts its manifest: the one the browser reads (see
 * manifest_in_use), then what its Snap or Flatpak copies can do. */
static void status_one(const browser_info *b, const browser_options *o, manifest_tally *t)
{
    char path[PATH_MAX];
    if (not_installed(b)) {
        printf(cli_text("%-15s не установлен (%s)\n", "%-15s not installed (%s)\n"), b->title,
               b->programs[0]);
        return;
    }
    if (manifest_in_use(b, o, path, sizeof(path)) != 0)
        printf(cli_text("%-15s (HOME не задан)\n", "%-15s (HOME is not set)\n"), b->title);
    else
        status_manifest(b->title, path, b, o, t);
    if (b->shares_with)
        printf(cli_text("    %s читает манифесты %s (пользователя, затем %s), затем %s.\n",
                        "    %s reads the %s manifests (the user's, then %s), then %s.\n"),
               b->title, browser_title(b->shares_with), b->system_dir, b->extra_system_dir);
    report_sandbox(b);
}

/* The profiles registered with `install --profile DIR`: each one's manifest, counted too. */
static void status_profiles(const browser_options *o, manifest_tally *t)
{
    static char list[MAX_PROFILES][PATH_MAX];
    size_t n = read_profiles(list, MAX_PROFILES);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX + 64], title[PATH_MAX + 16];
        snprintf(path, sizeof(path), "%s/NativeMessagingHosts/%s.json", list[i], NM_HOST_NAME);
        snprintf(title, sizeof(title), "%s %s", cli_text("Профиль", "Profile"), list[i]);
        status_manifest(title, path, &browsers[0], o, t);
    }
}

/* The verdict of `status`: "3 of 4 manifests fine", naming the broken ones with the reason. */
static int status_verdict(const manifest_tally *t)
{
    gs_status st = { GS_ERR_NMHOST_NOT_REGISTERED, "" };
    if (t->total == 0) {
        snprintf(st.detail, sizeof(st.detail), "%s",
                 cli_text("ни один манифест gostsign-nmhost не зарегистрирован; выполните "
                          "`gostsign browser install`",
                          "no gostsign-nmhost manifest is registered; run `gostsign browser "
                          "install`"));
        return cli_report(&st);
    }
    printf(cli_text("Исправно манифестов: %d из %d\n", "%d of %d manifests fine\n"), t->fine,
           t->total);
    if (t->fine == t->total)
        return 0;
    snprintf(st.detail, sizeof(st.detail),
             cli_text("исправно манифестов: %d из %d; с ошибкой: %.160s",
                      "%d of %d manifests fine; broken: %.180s"),
             t->fine, t->total, t->broken);
    return cli_report(&st);
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
    return o->only ? cli_usage_error(BROWSER_USAGE, "--browser: chromium, chrome, yandex, edge, "
                                                    "chromium-gost or firefox")
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
    manifest_tally tally = { 0, 0, "" };
    int profile_seen = 0;
    for (size_t i = 0; i < BROWSER_COUNT; i++) {
        const browser_info *b = &browsers[i];
        if ((o.only && strcmp(o.only, b->name) != 0) || (custom_profile && b->firefox))
            continue; /* --profile DIR is a Chromium-family --user-data-dir */
        /* the same files as another entry: written once, by that entry */
        if (b->shares_with && !o.only && strcmp(o.action, "status") != 0)
            continue;
        if (strcmp(o.action, "install") == 0 && install_one(b, &o, &st) != GS_ERR_OK)
            return cli_report(&st);
        if (strcmp(o.action, "uninstall") == 0 && uninstall_one(b, &o, &st) != GS_ERR_OK)
            return cli_report(&st);
        /* with --profile, the Chromium family shares one manifest there: count it once */
        if (strcmp(o.action, "status") == 0 && !(custom_profile && !b->firefox && profile_seen++))
            status_one(b, &o, &tally);
    }
    if (custom_profile && strcmp(o.action, "status") != 0 &&
        record_profile(custom_profile, strcmp(o.action, "install") == 0) != 0)
        fprintf(stderr,
                cli_text("gostsign: не удалось запомнить профиль %s\n",
                         "gostsign: cannot record the profile %s\n"),
                custom_profile);
    if (strcmp(o.action, "install") == 0)
        printf(cli_text("Перезапустите браузер, чтобы он увидел программу (%s).\n",
                        "Restart the browser to pick up the host (%s).\n"),
               o.host);
    if (strcmp(o.action, "status") == 0 && !custom_profile && !o.only)
        status_profiles(&o, &tally);
    return strcmp(o.action, "status") == 0 ? status_verdict(&tally) : 0;
}
