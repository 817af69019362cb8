/*
 * Doctor layers 3 and 4: pcscd through libpcsclite (context, readers, card ATR) and whether an
 * installed PC/SC driver (libccid's or a vendor's Info.plist) lists each seen token.
 */
#include "doctor.h"
#include "doctor_plist.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#ifndef GOSTSIGN_PCSC_DRIVERS_DIR
#define GOSTSIGN_PCSC_DRIVERS_DIR "/usr/lib/pcsc/drivers"
#endif
#define PLIST_MAX   (4 * 1024 * 1024)
#define MAX_BUNDLES 64

/* The socket libpcsclite talks to, for the evidence (it honours PCSCLITE_CSOCK_NAME too). */
static const char *pcsc_socket(void)
{
    const char *env = getenv("PCSCLITE_CSOCK_NAME");
    return env && *env ? env : "/run/pcscd/pcscd.comm";
}

/* Hex of an ATR, "3B AA ..." style without spaces. */
static void atr_hex(const unsigned char *atr, DWORD len, char *out, size_t cap)
{
    out[0] = '\0';
    for (DWORD i = 0; i < len && (size_t)(2 * i + 2) < cap; i++)
        snprintf(out + 2 * i, cap - 2 * i, "%02X", atr[i]);
}

/* One reader: whether a card is in it and its ATR (without connecting to the card). */
static void check_reader(doctor_ctx *ctx, SCARDCONTEXT h, const char *reader)
{
    SCARD_READERSTATE rs = { .szReader = reader, .dwCurrentState = SCARD_STATE_UNAWARE };
    LONG rv = SCardGetStatusChange(h, 0, &rs, 1);
    int present = rv == SCARD_S_SUCCESS && (rs.dwEventState & SCARD_STATE_PRESENT);
    doctor_check *c =
        doctor_add(ctx, DOCTOR_LAYER_PCSC, "pcsc.card", present ? DOCTOR_OK : DOCTOR_WARN,
                   present ? GS_ERR_OK : GS_ERR_TOKEN_NOT_FOUND);
    doctor_ev_str(c, "reader", reader);
    if (!present) {
        doctor_say(c, "Reader \"%s\": no card", "Считыватель «%s»: карты нет", reader);
        doctor_fix(c, "Insert the card or reinsert the token.",
                   "Вставьте карту или переподключите токен.");
        return;
    }
    char hex[2 * MAX_ATR_SIZE + 1];
    atr_hex(rs.rgbAtr, rs.cbAtr, hex, sizeof(hex));
    doctor_ev_str(c, "atr", hex);
    doctor_ev_bool(c, "in_use_exclusive", (rs.dwEventState & SCARD_STATE_EXCLUSIVE) != 0);
    doctor_say(c, "Reader \"%s\": card present, ATR %s", "Считыватель «%s»: карта есть, ATR %s",
               reader, hex);
}

/* Lists readers; for each, the card state. */
static void check_readers(doctor_ctx *ctx, SCARDCONTEXT h)
{
    DWORD len = 0;
    LONG rv = SCardListReaders(h, NULL, NULL, &len);
    char *readers = rv == SCARD_S_SUCCESS ? calloc(1, len + 1) : NULL;
    if (readers && SCardListReaders(h, NULL, readers, &len) != SCARD_S_SUCCESS) {
        free(readers);
        readers = NULL;
    }
    if (!readers) {
        int need = ctx->device_count > 0;
        doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_PCSC, "pcsc.readers",
                                     need ? DOCTOR_FAIL : DOCTOR_WARN, GS_ERR_TOKEN_NOT_FOUND);
        doctor_ev_str(c, "pcsc_result", pcsc_stringify_error(rv));
        doctor_say(c, "pcscd sees no reader", "pcscd не видит ни одного считывателя");
        doctor_fix(c,
                   "Insert the token; if it is connected, check the reader driver (layer 4) and "
                   "restart pcscd.",
                   "Вставьте токен; если он подключён, проверьте драйвер считывателя (уровень 4) и "
                   "перезапустите pcscd.");
        return;
    }
    json_object *names = json_object_new_array();
    for (const char *r = readers; *r; r += strlen(r) + 1)
        json_object_array_add(names, json_object_new_string(r));
    doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_PCSC, "pcsc.readers", DOCTOR_OK, GS_ERR_OK);
    doctor_say(c, "pcscd sees %zu reader(s)", "pcscd видит считывателей: %zu",
               json_object_array_length(names));
    doctor_ev_obj(c, "readers", names);
    for (const char *r = readers; *r; r += strlen(r) + 1)
        check_reader(ctx, h, r);
    free(readers);
}

void doctor_layer_pcsc(doctor_ctx *ctx)
{
    SCARDCONTEXT h;
    LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &h);
    if (rv != SCARD_S_SUCCESS) {
        int need = ctx->device_count > 0;
        /* no reader or token device at all: software tokens need no pcscd, nothing to warn */
        doctor_check *c =
            doctor_add(ctx, DOCTOR_LAYER_PCSC, "pcsc.service", need ? DOCTOR_FAIL : DOCTOR_SKIP,
                       need ? GS_ERR_PCSC_UNAVAILABLE : GS_ERR_OK);
        doctor_ev_str(c, "socket", pcsc_socket());
        doctor_ev_str(c, "pcsc_result", pcsc_stringify_error(rv));
        if (!need) {
            doctor_say(c,
                       "pcscd does not answer; no reader is connected, software tokens need none",
                       "pcscd не отвечает; считыватель не подключён, программным токенам он не "
                       "нужен");
            return;
        }
        /* the PC/SC text is English: the Russian line gives its code instead */
        char code[24];
        snprintf(code, sizeof(code), "0x%lX", (unsigned long)rv);
        doctor_say(c, "pcscd does not answer (%s)%.0s", "pcscd не отвечает (код PC/SC %.0s%s)",
                   pcsc_stringify_error(rv), code);
        doctor_fix(
            c,
            "Install and start pcscd: `apt install pcscd`, `systemctl enable --now pcscd.socket`.",
            "Установите и запустите pcscd: `apt install pcscd`, `systemctl enable --now "
            "pcscd.socket`.");
        return;
    }
    doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_PCSC, "pcsc.service", DOCTOR_OK, GS_ERR_OK);
    doctor_ev_str(c, "socket", pcsc_socket());
    doctor_say(c, "pcscd answers", "pcscd отвечает");
    check_readers(ctx, h);
    SCardReleaseContext(h);
}

/* ---------------------------------------------------------------- layer 4: drivers */

/* One installed PC/SC driver bundle and its Info.plist text. */
typedef struct {
    char name[128]; /* directory name, e.g. "ifd-ccid.bundle" */
    char *plist;
} driver_bundle;

/* The drivers directory: $GOSTSIGN_PCSC_DRIVERS_DIR (tests) or pcsc-lite's usbdropdir. */
static const char *drivers_dir(void)
{
    const char *env = getenv("GOSTSIGN_PCSC_DRIVERS_DIR");
    return env && *env ? env : GOSTSIGN_PCSC_DRIVERS_DIR;
}

/* Reads a whole text file of bounded size; NULL when missing or too large. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(PLIST_MAX + 1);
    size_t n = buf ? fread(buf, 1, PLIST_MAX + 1, f) : 0;
    fclose(f);
    if (!buf || n > PLIST_MAX) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Loads every *.bundle/Contents/Info.plist under the drivers directory. */
static size_t load_bundles(driver_bundle *out, size_t cap)
{
    DIR *d = opendir(drivers_dir());
    size_t n = 0;
    struct dirent *e;
    while (d && n < cap && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 8 || strcmp(e->d_name + len - 7, ".bundle") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s/Contents/Info.plist", drivers_dir(), e->d_name);
        out[n].plist = read_text(path);
        if (out[n].plist) {
            snprintf(out[n].name, sizeof(out[n].name), "%.*s", (int)sizeof(out[n].name) - 1,
                     e->d_name);
            n++;
        }
    }
    if (d)
        closedir(d);
    return n;
}

/* The first bundle listing the device (name = its friendly name there), or NULL. */
static const driver_bundle *bundle_for(const driver_bundle *b, size_t n, const doctor_device *dev,
                                       char *name, size_t cap)
{
    for (size_t i = 0; i < n; i++)
        if (doctor_plist_lists(b[i].plist, dev->vendor_id, dev->product_id, name, cap) == 1)
            return &b[i];
    return NULL;
}

/* Says which driver serves the device, or what to install. */
static void check_device_driver(doctor_ctx *ctx, const driver_bundle *b, size_t n,
                                const doctor_device *dev)
{
    const gs_token_model *m = dev->model;
    char friendly[256];
    const driver_bundle *found = bundle_for(b, n, dev, friendly, sizeof(friendly));
    if (found) {
        doctor_check *c =
            doctor_add(ctx, DOCTOR_LAYER_DRIVER, "driver.device", DOCTOR_OK, GS_ERR_OK);
        doctor_say(c, "%s is supported by the installed driver %s (\"%s\")",
                   "%s поддерживается установленным драйвером %s («%s»)", m->model, found->name,
                   friendly);
        doctor_ev_str(c, "model", m->model);
        doctor_ev_str(c, "bundle", found->name);
        doctor_ev_str(c, "friendly_name", friendly);
        doctor_ev_str(c, "expected_driver", m->driver);
        return;
    }
    int vendor_only = strcmp(m->driver, "vendor") == 0;
    doctor_check *c =
        doctor_add(ctx, DOCTOR_LAYER_DRIVER, "driver.device",
                   vendor_only ? DOCTOR_WARN : DOCTOR_FAIL, GS_ERR_READER_DRIVER_MISSING);
    doctor_ev_str(c, "model", m->model);
    doctor_ev_str(c, "expected_driver", m->driver);
    doctor_ev_str(c, "driver_package", m->driver_package);
    doctor_ev_str(c, "drivers_dir", drivers_dir());
    doctor_ev_int(c, "bundles_checked", (int64_t)n);
    if (gs_token_model_is_ccid(m)) {
        doctor_say(c, "%s: no installed CCID driver lists %04x:%04x",
                   "%s: ни один установленный драйвер CCID не знает %04x:%04x", m->model,
                   dev->vendor_id, dev->product_id);
        doctor_fix(
            c, "Install or update libccid (`apt install libccid`), then restart pcscd.",
            "Установите или обновите libccid (`apt install libccid`), затем перезапустите pcscd.");
    } else {
        doctor_say(c, "%s needs the vendor driver %s, which is not installed",
                   "%s требует драйвер производителя %s, он не установлен", m->model, m->driver);
        doctor_fix(c, "Install the %s driver: %s; then restart pcscd.",
                   "Установите драйвер для %s: %s; затем перезапустите pcscd.", m->model,
                   m->driver_package);
    }
}

void doctor_layer_driver(doctor_ctx *ctx)
{
    if (ctx->device_count == 0) {
        doctor_check *c =
            doctor_add(ctx, DOCTOR_LAYER_DRIVER, "driver.none", DOCTOR_SKIP, GS_ERR_OK);
        doctor_say(c, "No USB token to check", "Нет USB-токена для проверки");
        return;
    }
    driver_bundle bundles[MAX_BUNDLES];
    size_t n = load_bundles(bundles, MAX_BUNDLES);
    for (size_t i = 0; i < ctx->device_count; i++)
        check_device_driver(ctx, bundles, n, &ctx->devices[i]);
    for (size_t i = 0; i < n; i++)
        free(bundles[i].plist);
}
