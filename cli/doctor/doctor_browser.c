/*
 * Doctor layer 9: browsers. The manifest rules belong to `gostsign browser status`
 * (native-messaging, cli/cmd_browser.c), which has no C interface: the doctor runs that command
 * of this same executable for each browser and turns its per-browser line into a verdict (usable,
 * broken with the reason, not registered) plus its Snap/Flatpak warnings.
 */
#include "doctor.h"
#include "agent.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const browser_names[] = { "chromium", "chrome",        "yandex",
                                             "edge",     "chromium-gost", "firefox" };
#define BROWSER_COUNT (sizeof(browser_names) / sizeof(browser_names[0]))

/* The environment for the command, with the messages' language fixed (LC_ALL=locale). */
static char **env_with_locale(const char *locale, char *slot, size_t cap)
{
    static const char *const dropped[] = { "LC_ALL=", "LANGUAGE=", NULL };
    snprintf(slot, cap, "LC_ALL=%s", locale);
    return agent_environ_replacing(dropped, slot);
}

/*
 * Runs `gostsign browser status [--browser NAME]` (the doctor is a program of its own: opts say
 * where the command is, else it is this program) in a locale (C.UTF-8: the stable English
 * lines this file parses; ru_RU.UTF-8: the Russian reasons); its stdout into out. -1 when it
 * cannot.
 */
static int browser_status_output(const doctor_ctx *ctx, const char *name, const char *locale,
                                 char *out, size_t cap)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = {
        "gostsign", "browser", "status", name ? "--browser" : NULL, (char *)name, NULL
    };
    char slot[64];
    char **env = env_with_locale(locale, slot, sizeof(slot));
    pid_t pid;
    const char *program = ctx->opts.cli_program ? ctx->opts.cli_program : "/proc/self/exe";
    int rc = env ? posix_spawn(&pid, program, &fa, NULL, argv, env) : -1;
    free(env);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    size_t n = 0;
    ssize_t got;
    while (rc == 0 && n + 1 < cap && (got = read(fds[0], out + n, cap - 1 - n)) > 0)
        n += (size_t)got;
    out[n] = '\0';
    close(fds[0]);
    int status;
    if (rc == 0)
        waitpid(pid, &status, 0);
    return rc == 0 ? 0 : -1;
}

/* The first line of the output, without its newline (the browser's state line). */
static void first_line(const char *text, char *line, size_t cap)
{
    size_t len = strcspn(text, "\n");
    snprintf(line, cap, "%.*s", (int)(len < cap ? len : cap - 1), text);
}

/* Which kind of confined copy a line is about. */
static const char *sandbox_kind(const char *line)
{
    return strstr(line, "as a Snap") ? "Snap" : "Flatpak";
}

/* A confined copy that reaches the host through the desktop portal (a "note: " line). */
static void note_sandbox(doctor_ctx *ctx, const char *name, const char *line)
{
    doctor_check *c =
        doctor_add(ctx, DOCTOR_LAYER_BROWSERS, "browsers.sandbox", DOCTOR_OK, GS_ERR_OK);
    doctor_ev_str(c, "browser", name);
    doctor_ev_str(c, "detail", line);
    doctor_say(c,
               "%s: the %s copy reaches gostsign-nmhost through the WebExtensions portal of "
               "xdg-desktop-portal",
               "%s: копия %s запускает gostsign-nmhost через портал WebExtensions "
               "(xdg-desktop-portal)",
               name, sandbox_kind(line));
}

/* A confined copy that cannot start the host (a "warning: " line, "instead: " names the way). */
static void warn_sandbox(doctor_ctx *ctx, const char *name, const char *line)
{
    const char *instead = strstr(line, "instead: ");
    char way[256];
    snprintf(way, sizeof(way), "%s", instead ? instead + 9 : name);
    size_t len = strlen(way);
    if (len && way[len - 1] == '.') /* the sentence's end, not the way's */
        way[len - 1] = '\0';
    doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_BROWSERS, "browsers.sandbox", DOCTOR_WARN,
                                 GS_ERR_NMHOST_NOT_REGISTERED);
    doctor_ev_str(c, "browser", name);
    doctor_ev_str(c, "detail", line);
    doctor_say(c, "%s: the confined %s copy cannot start gostsign-nmhost",
               "%s: изолированная копия %s не может запустить gostsign-nmhost", name,
               sandbox_kind(line));
    doctor_fix(c,
               "Install the browser from Debian packages or its vendor's .deb: %s (see "
               "docs/admin-guide.md, \"Snap and Flatpak\").",
               "Установите браузер из пакетов Debian или пакетом .deb производителя: %s (см. "
               "docs/admin-guide.md, «Snap and Flatpak»).",
               way);
}

/* The Snap/Flatpak lines of the command: what works in the browser's sandbox. */
static void check_sandbox(doctor_ctx *ctx, const char *name, const char *text)
{
    for (const char *p = strstr(text, "    "); p; p = strstr(p + 1, "\n    ")) {
        char line[512];
        const char *note = strstr(p, "note: "), *warning = strstr(p, "warning: ");
        const char *eol = strchr(p + 1, '\n');
        if (note && (!eol || note < eol)) {
            first_line(note + 6, line, sizeof(line));
            note_sandbox(ctx, name, line);
        } else if (warning && (!eol || warning < eol)) {
            first_line(warning + 9, line, sizeof(line));
            warn_sandbox(ctx, name, line);
        }
    }
}

/* The count over all registered manifests, for "3 of 4 manifests fine". */
typedef struct {
    int total, fine;
    char broken[1024];    /* "chromium (reason), /profile/dir (reason)" */
    char broken_ru[1024]; /* the same with the Russian reasons */
} manifest_count;

/* The reason after "broken: PATH: " in a state line ("" when there is none). */
static const char *broken_reason(const char *line, const char *marker, const char *path)
{
    const char *p = strstr(line, marker);
    if (!p)
        return "";
    p += strlen(marker);
    size_t len = strlen(path);
    return strncmp(p, path, len) == 0 && strncmp(p + len, ": ", 2) == 0 ? p + len + 2 : p;
}

/* The Russian line of the same manifest (same path) in the Russian run's output, or "". */
static void russian_line(const char *ru_out, const char *path, char *line, size_t cap)
{
    line[0] = '\0';
    for (const char *p = ru_out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        first_line(p, line, cap);
        if (path[0] && strstr(line, path))
            return;
    }
    line[0] = '\0';
}

/*
 * One manifest's verdict from its state line (English) and the same line in Russian: usable,
 * broken with the reason, or not registered. who names it in messages (a browser or a profile).
 */
static void check_manifest_line(doctor_ctx *ctx, const char *who, const char *line,
                                const char *ru_out, manifest_count *n, doctor_check **out)
{
    const char *broken = strstr(line, "broken: "), *okp = strstr(line, " ok: ");
    int registered = broken || okp;
    doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_BROWSERS, "browsers.manifest",
                                 okp ? DOCTOR_OK : (broken ? DOCTOR_FAIL : DOCTOR_SKIP),
                                 okp || !registered ? GS_ERR_OK : GS_ERR_NMHOST_NOT_REGISTERED);
    *out = c;
    doctor_ev_str(c, "status_line", line);
    n->total += registered;
    if (okp) {
        n->fine++;
        doctor_ev_str(c, "manifest", okp + 5);
        doctor_say(c, "%s: the gostsign-nmhost manifest is valid (%s)",
                   "%s: манифест gostsign-nmhost корректен (%s)", who, okp + 5);
    } else if (broken) {
        char path[1024], ru[1024];
        first_line(broken + 8, path, sizeof(path));
        path[strcspn(path, ":")] = '\0';
        const char *reason = broken_reason(line, "broken: ", path);
        russian_line(ru_out, path, ru, sizeof(ru));
        const char *reason_ru = ru[0] ? broken_reason(ru, "ошибка: ", path) : reason;
        doctor_ev_str(c, "manifest", path);
        doctor_ev_str(c, "problem", broken + 8);
        doctor_say(c, "%s: the gostsign-nmhost manifest %s is broken: %s%.0s",
                   "%s: манифест gostsign-nmhost %s испорчен: %.0s%s", who, path, reason,
                   reason_ru);
        size_t used = strlen(n->broken);
        snprintf(n->broken + used, sizeof(n->broken) - used, "%s%s (%s)", used ? ", " : "", who,
                 reason);
        used = strlen(n->broken_ru);
        snprintf(n->broken_ru + used, sizeof(n->broken_ru) - used, "%s%s (%s)", used ? ", " : "",
                 who, reason_ru);
    } else {
        doctor_say(c, "%s: gostsign-nmhost is not registered",
                   "%s: gostsign-nmhost не зарегистрирован", who);
    }
}

/* One browser's verdict from the command's state line, counted into n. */
static void check_browser(doctor_ctx *ctx, const char *name, manifest_count *n)
{
    char out[4096], ru_out[4096], line[1024];
    if (browser_status_output(ctx, name, "C.UTF-8", out, sizeof(out)) != 0)
        return;
    ru_out[0] = '\0'; /* the Russian reason, only when there is one */
    if (strstr(out, "broken: ") &&
        browser_status_output(ctx, name, "ru_RU.UTF-8", ru_out, sizeof(ru_out)) != 0)
        ru_out[0] = '\0';
    first_line(out, line, sizeof(line));
    if (strstr(line, "not installed")) /* shown only when there (Chromium-Gost) */
        return;
    doctor_check *c = NULL;
    check_manifest_line(ctx, name, line, ru_out, n, &c);
    doctor_ev_str(c, "browser", name);
    if (c && c->status == DOCTOR_FAIL)
        doctor_fix(c, "Run `gostsign browser install --browser %s` and restart the browser.",
                   "Выполните `gostsign browser install --browser %s` и перезапустите браузер.",
                   name);
    check_sandbox(ctx, name, out);
}

/* The profiles registered with `gostsign browser install --profile DIR`: their manifests. */
static void check_profiles(doctor_ctx *ctx, manifest_count *n)
{
    static char out[16384], ru_out[16384];
    if (browser_status_output(ctx, NULL, "C.UTF-8", out, sizeof(out)) != 0)
        return;
    if (!strstr(out, "\nProfile /"))
        return; /* no profile registered with --profile */
    ru_out[0] = '\0';
    if (strstr(out, "broken: ") &&
        browser_status_output(ctx, NULL, "ru_RU.UTF-8", ru_out, sizeof(ru_out)) != 0)
        ru_out[0] = '\0';
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        char line[2048], dir[1024], who[1024];
        first_line(p, line, sizeof(line));
        if (strncmp(line, "Profile /", 9) != 0)
            continue;
        const char *end = strstr(line, " ok: ");
        if (!end)
            end = strstr(line, " broken: ");
        if (!end)
            end = strstr(line, " not registered (");
        if (!end)
            continue;
        snprintf(dir, sizeof(dir), "%.*s", (int)(end - line - 8), line + 8);
        snprintf(who, sizeof(who), "%s", dir);
        doctor_check *c = NULL;
        check_manifest_line(ctx, who, line, ru_out, n, &c);
        doctor_ev_str(c, "profile", dir);
        if (c && c->status == DOCTOR_FAIL)
            doctor_fix(c, "Run `gostsign browser install --profile %s` and restart the browser.",
                       "Выполните `gostsign browser install --profile %s` и перезапустите "
                       "браузер.",
                       dir);
        else if (c && c->status == DOCTOR_SKIP) {
            c->status = DOCTOR_FAIL; /* registered with --profile, and the manifest is gone */
            c->code = GS_ERR_NMHOST_NOT_REGISTERED;
            n->total++;
            size_t used = strlen(n->broken);
            snprintf(n->broken + used, sizeof(n->broken) - used, "%s%.200s (missing)",
                     used ? ", " : "", who);
            used = strlen(n->broken_ru);
            snprintf(n->broken_ru + used, sizeof(n->broken_ru) - used, "%s%.200s (отсутствует)",
                     used ? ", " : "", who);
            doctor_say(c, "%s: the manifest registered there is missing",
                       "%s: зарегистрированный там манифест отсутствует", who);
            doctor_fix(c, "Run `gostsign browser install --profile %s` again.",
                       "Снова выполните `gostsign browser install --profile %s`.", dir);
        }
    }
}

/*
 * Other signing extensions that answer the same page APIs as gostsign's adapters (COMPAT.md):
 * with both in one profile two extensions answer one page, and signing hangs.
 */
static const struct {
    const char *id;
    const char *name;
} rival_extensions[] = {
    { "iifchhfnnmpdbibifmljnfjhpififfog", "CryptoPro Extension for CAdES Browser Plug-in" },
    { "pfhgbfnnjiafkhfdkmpiflachepdcjod", "CryptoPro Extension for CAdES Browser Plug-in" },
    { "epebfcehmdedogndhlcacafjaacknbcm", "CryptoPro Extension for CAdES Browser Plug-in" },
    { "jabjbhgjaidecageckilhonbggakppme", "Госплагин (плагин Госуслуг)" },
    { "npijgiimlfmdighlfbbhjmnjicedfooc", "Госплагин (плагин Госуслуг)" },
    { "pbefkdcndngodfeigfdgiodgnmbgcfha", "IFCPlugin (плагин Госуслуг)" },
};

/* The user's configuration folders of the Chromium family, under $XDG_CONFIG_HOME (~/.config). */
static const char *const chromium_family_dirs[] = {
    "chromium", "google-chrome", "yandex-browser", "microsoft-edge", "chromium-gost",
};

/* Reports one rival extension found in one browser profile. */
static void report_rival(doctor_ctx *ctx, const char *profile, size_t rival)
{
    doctor_check *c =
        doctor_add(ctx, DOCTOR_LAYER_BROWSERS, "browsers.conflict", DOCTOR_WARN, GS_ERR_OK);
    doctor_ev_str(c, "profile", profile);
    doctor_ev_str(c, "extension_id", rival_extensions[rival].id);
    doctor_ev_str(c, "extension", rival_extensions[rival].name);
    doctor_say(c,
               "%s is installed in %s: it answers the same pages as gostsign, and two answers "
               "make signing hang",
               "В профиле %s установлено расширение «%s»: оно отвечает тем же страницам, что и "
               "gostsign, и два ответа приводят к зависанию подписи",
               rival_extensions[rival].name, profile);
    doctor_fix(c,
               "Disable one of them in the browser's extension settings (chrome://extensions): "
               "keep %s only if you use its own plug-in; gostsign's adapter then stands down.",
               "Отключите одно из расширений в настройках браузера (chrome://extensions); "
               "оставляйте «%s» только если пользуетесь его собственным плагином.",
               rival_extensions[rival].name);
}

/* Looks into every profile of one browser folder for the rival extensions' folders. */
static void scan_profiles(doctor_ctx *ctx, const char *browser_dir)
{
    DIR *d = opendir(browser_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        for (size_t r = 0; r < sizeof(rival_extensions) / sizeof(rival_extensions[0]); r++) {
            char path[PATH_MAX];
            struct stat sb;
            char profile[PATH_MAX];
            if (snprintf(profile, sizeof(profile), "%s/%s", browser_dir, e->d_name) >=
                    (int)sizeof(profile) ||
                snprintf(path, sizeof(path), "%s/Extensions/%s", profile, rival_extensions[r].id) >=
                    (int)sizeof(path))
                continue;
            if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
                report_rival(ctx, profile, r);
        }
    }
    if (d)
        closedir(d);
}

/* Coexistence: the other vendors' extensions in the user's Chromium-family profiles. */
static void check_rival_extensions(doctor_ctx *ctx)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char base[PATH_MAX];
    if (xdg && *xdg)
        snprintf(base, sizeof(base), "%s", xdg);
    else if (home && *home)
        snprintf(base, sizeof(base), "%s/.config", home);
    else
        return;
    for (size_t i = 0; i < sizeof(chromium_family_dirs) / sizeof(chromium_family_dirs[0]); i++) {
        char dir[PATH_MAX + 32];
        if (snprintf(dir, sizeof(dir), "%s/%s", base, chromium_family_dirs[i]) < (int)sizeof(dir))
            scan_profiles(ctx, dir);
    }
}

/* The summary over all registered manifests: "3 of 4 manifests fine", naming the broken ones. */
static void manifests_summary(doctor_ctx *ctx, const manifest_count *n)
{
    doctor_check *c;
    if (n->total == 0) {
        c = doctor_add(ctx, DOCTOR_LAYER_BROWSERS, "browsers.none", DOCTOR_WARN,
                       GS_ERR_NMHOST_NOT_REGISTERED);
        doctor_say(c, "No browser can reach gostsign: no native-messaging manifest is registered",
                   "Ни один браузер не может обратиться к gostsign: манифест не зарегистрирован");
        doctor_fix(c,
                   "Run `gostsign browser install` (or `sudo gostsign browser install --system`) "
                   "and restart the browser.",
                   "Выполните `gostsign browser install` (или `sudo gostsign browser install "
                   "--system`) и перезапустите браузер.");
        return;
    }
    int all = n->fine == n->total;
    c = doctor_add(ctx, DOCTOR_LAYER_BROWSERS, "browsers.manifests",
                   all ? DOCTOR_OK : (n->fine ? DOCTOR_WARN : DOCTOR_FAIL),
                   all ? GS_ERR_OK : GS_ERR_NMHOST_NOT_REGISTERED);
    doctor_ev_int(c, "total", n->total);
    doctor_ev_int(c, "fine", n->fine);
    if (all) {
        doctor_say(c, "%d of %d manifests fine", "Исправно манифестов: %d из %d", n->fine,
                   n->total);
        return;
    }
    doctor_ev_str(c, "broken", n->broken);
    doctor_say(c, "%d of %d manifests fine; broken: %s%.0s",
               "Исправно манифестов: %d из %d; с ошибкой: %.0s%s", n->fine, n->total, n->broken,
               n->broken_ru);
    doctor_fix(c, "Reinstall the broken ones (the fix of each is above) and restart the browser.",
               "Переустановите испорченные (что делать, сказано у каждого выше) и перезапустите "
               "браузер.");
}

void doctor_layer_browsers(doctor_ctx *ctx)
{
    manifest_count n = { 0, 0, "", "" };
    check_rival_extensions(ctx);
    for (size_t i = 0; i < BROWSER_COUNT; i++)
        check_browser(ctx, browser_names[i], &n);
    check_profiles(ctx, &n);
    manifests_summary(ctx, &n);
}
