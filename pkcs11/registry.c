/*
 * The p11-kit module registry read as text: which modules are registered and where their files
 * are, without loading any of them (p11-kit's own API loads every module to tell). The agent uses
 * it to load a module only when a device it serves is present.
 */
#include "pkcs11_client.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/auxv.h>

#ifndef P11_MODULE_CONFIGS
#define P11_MODULE_CONFIGS "/usr/share/p11-kit/modules"
#endif
#ifndef P11_MODULE_PATH
#define P11_MODULE_PATH "/usr/lib/x86_64-linux-gnu/pkcs11"
#endif
#define P11_SYSTEM_CONFIG_MODULES "/etc/pkcs11/modules"
#define P11_SYSTEM_CONFIG_FILE    "/etc/pkcs11/pkcs11.conf"

/* The program name p11-kit's enable-in / disable-in lists would name. */
#define AGENT_PROGRAM_NAME "gostsign-agent"

/* Strips leading and trailing blanks in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Whether a p11-kit program list ("a, b c") names the agent. */
static int list_names_agent(const char *list)
{
    char copy[512];
    snprintf(copy, sizeof(copy), "%s", list);
    for (char *save = NULL, *w = strtok_r(copy, ", \t", &save); w;
         w = strtok_r(NULL, ", \t", &save))
        if (strcmp(w, AGENT_PROGRAM_NAME) == 0)
            return 1;
    return 0;
}

/* Reads "key: value" lines of one .module file; returns 1 when it names a module for us. */
static int parse_module_file(const char *file, char *module, size_t cap)
{
    FILE *f = fopen(file, "re");
    if (!f)
        return 0;
    char line[1024];
    int usable = 1;
    module[0] = '\0';
    while (fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (line[0] == '#' || !colon)
            continue;
        *colon = '\0';
        char *key = trim(line), *value = trim(colon + 1);
        if (strcmp(key, "module") == 0)
            snprintf(module, cap, "%s", value);
        else if (strcmp(key, "enable-in") == 0 && !list_names_agent(value))
            usable = 0;
        else if (strcmp(key, "disable-in") == 0 && list_names_agent(value))
            usable = 0;
        else if (strcmp(key, "remote") == 0)
            usable = 0; /* a module in another process: nothing to load here */
    }
    fclose(f);
    return usable && module[0];
}

/* The index of a registered module by its registry name, or -1. */
static long find_by_name(const p11_registered_module *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* Reads one config directory; a later directory replaces entries of the same name. */
static void read_dir(const char *dir, p11_registered_module *list, size_t *n, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len <= 7 || strcmp(e->d_name + len - 7, ".module") != 0)
            continue;
        char file[1024], module[512], name[128];
        snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
        snprintf(name, sizeof(name), "%.*s", (int)(len - 7), e->d_name);
        long at = find_by_name(list, *n, name);
        if (!parse_module_file(file, module, sizeof(module))) {
            if (at >= 0) /* disabled here: also drops what an earlier directory said */
                list[at] = list[--*n];
            continue;
        }
        if (at < 0 && *n >= cap)
            continue;
        p11_registered_module *m = &list[at >= 0 ? (size_t)at : (*n)++];
        snprintf(m->name, sizeof(m->name), "%s", name);
        if (module[0] == '/')
            snprintf(m->path, sizeof(m->path), "%s", module);
        else /* p11-kit reads a relative path against its module directory */
            snprintf(m->path, sizeof(m->path), "%s/%.400s", P11_MODULE_PATH, module);
    }
    closedir(d);
}

/* p11-kit's "user-config" setting of the system file: none, merge (default), only, override. */
static void user_config_mode(char *mode, size_t cap)
{
    snprintf(mode, cap, "merge");
    FILE *f = fopen(P11_SYSTEM_CONFIG_FILE, "re");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (line[0] != '#' && colon) {
            *colon = '\0';
            if (strcmp(trim(line), "user-config") == 0)
                snprintf(mode, cap, "%s", trim(colon + 1));
        }
    }
    fclose(f);
}

/* The user's module directory, as p11-kit expands ~/.config/pkcs11/modules; 0 when none. */
static int user_modules_dir(char *out, size_t cap)
{
    /* p11-kit reads no user configuration for root or a setuid program: neither do we. */
    if (geteuid() == 0 || getauxval(AT_SECURE))
        return 0;
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(out, cap, "%s/pkcs11/modules", xdg);
    else if (home && home[0] == '/')
        snprintf(out, cap, "%s/.config/pkcs11/modules", home);
    else
        return 0;
    return 1;
}

size_t p11_registered_modules_in(const char *const *dirs, size_t dir_count,
                                 p11_registered_module *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < dir_count; i++)
        read_dir(dirs[i], out, &n, cap);
    return n;
}

size_t p11_registered_modules(p11_registered_module *out, size_t cap)
{
    char mode[32], user_dir[512];
    user_config_mode(mode, sizeof(mode));
    int user = strcmp(mode, "none") != 0 && user_modules_dir(user_dir, sizeof(user_dir));
    const char *dirs[3];
    size_t n = 0;
    if (!user || strcmp(mode, "only") != 0) {
        dirs[n++] = P11_MODULE_CONFIGS;
        dirs[n++] = P11_SYSTEM_CONFIG_MODULES;
    }
    if (user)
        dirs[n++] = user_dir;
    return p11_registered_modules_in(dirs, n, out, cap);
}
