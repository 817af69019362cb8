/*
 * The PIN dialog: the agent runs a pinentry program (pinentry-gnome3, -qt, -tty, ...) and talks
 * Assuan to it through libassuan. The PIN arrives straight into locked memory (secmem) and is
 * never logged, put in a message or the environment. Nothing here retries: a wrong PIN goes back
 * to the caller, which decides whether to ask again (with an error text) or stop.
 */
#ifndef GOSTSIGN_PINENTRY_H
#define GOSTSIGN_PINENTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "gost.h"
#include "secmem.h"

/* Longest PIN accepted from a pinentry (PKCS#11 tokens use far less). */
#define PINENTRY_MAX_PIN 256

/* Days before the end of a certificate's validity from which the dialog warns. */
#define PINENTRY_EXPIRY_WARN_DAYS 30

/* Room for a description built by pinentry_describe_signing (bytes, NUL included). */
#define PINENTRY_DESC_SIZE 1024

/* One dialog. Texts are UTF-8; NULL means "leave the pinentry's default". */
typedef struct pinentry_request {
    const char *program; /* path of the pinentry executable (required) */
    const char *title; /* window title; NULL: "gostsign — электронная подпись" */
    const char *description;  /* main text, may contain newlines (see pinentry_describe_signing) */
    const char *prompt;       /* NULL: "PIN-код:" */
    const char *error_text;   /* shown for a retry after a wrong PIN; the caller decides */
    const char *ok_label;     /* NULL: "Подписать" */
    const char *cancel_label; /* NULL: "Отмена" */
    const char *ttyname;      /* terminal for pinentry-tty/curses, e.g. "/dev/pts/3"; NULL: none */
    const char *ttytype;      /* NULL with a ttyname: $TERM, else "xterm" */
    const char *lc_ctype;     /* NULL with a ttyname: "C.UTF-8" */
    const char *display;      /* X11 display for graphical pinentries; NULL: inherited */
    const char *wayland_display; /* Wayland display (passed in the pinentry's environment) */
    unsigned timeout_seconds;    /* whole dialog; 0: no limit */
} pinentry_request;

/*
 * Which pinentry program to run. A name with a slash is used as it is. The default name
 * "pinentry" (or "auto", or an empty name) picks, from PATH, the desktop's dialog when graphical
 * is set (pinentry-gnome3, -qt, -gtk2), else a terminal one (pinentry-curses, -tty), else
 * "pinentry" itself; any other bare name is looked up in PATH. 0 and the path in out, or -1.
 */
int pinentry_resolve(const char *configured, bool graphical, char *out, size_t cap);

/*
 * Asks for a PIN. On success *out holds the PIN (possibly empty when the user confirmed an empty
 * field) in locked memory; free it with secure_pin_free. Errors: USER_CANCELLED (the user closed
 * or cancelled the dialog), TIMEOUT (no answer within timeout_seconds), PINENTRY_FAILED (program
 * missing, crashed, killed or speaking nonsense). The pinentry process is always reaped.
 */
gs_code pinentry_ask(const pinentry_request *req, secure_pin **out, gs_status *st);

/*
 * Shows a confirmation (no PIN): OK when the user pressed OK, USER_CANCELLED, TIMEOUT or
 * PINENTRY_FAILED otherwise. With one_button only an OK button is shown (a message).
 */
gs_code pinentry_confirm(const pinentry_request *req, bool one_button, gs_status *st);

/*
 * The PIN-pad case (token with a protected authentication path): the PIN is typed on the device
 * while C_Login blocks, so the dialog only tells the user to do so. pinentry_pinpad_open shows it
 * in the background and returns at once; pinentry_pinpad_close takes it down (killing the
 * pinentry if it is still open) and reports whether the user pressed Cancel meanwhile, so the
 * caller can discard the result of the login. The description should come from
 * pinentry_describe_signing with pinpad set.
 */
typedef struct pinentry_pinpad pinentry_pinpad;
gs_code pinentry_pinpad_open(const pinentry_request *req, pinentry_pinpad **out, gs_status *st);
/* True while the dialog is still showing (the user has not answered and it was not closed). */
bool pinentry_pinpad_active(pinentry_pinpad *pad);
/* Closes the dialog; returns USER_CANCELLED if the user cancelled it, OK otherwise. Frees pad. */
gs_code pinentry_pinpad_close(pinentry_pinpad *pad, gs_status *st);

/* What the user is about to sign, as pinentry_describe_signing presents it. NULL: not shown. */
typedef struct {
    const char *origin;       /* requesting site, e.g. "https://lk.gosuslugi.ru" */
    const char *action;       /* e.g. "вход на сайт", "подпись файла" */
    const char *document;     /* file or document name */
    const char *digest_hex;   /* Streebog digest of the data (shown shortened) */
    const char *owner;        /* certificate owner, e.g. "Иванов Иван Иванович" */
    const char *organisation; /* organisation name from the certificate */
    const char *inn;          /* personal INN (12 digits) */
    const char *innle;        /* organisation INN (ИНН ЮЛ, 10 digits) */
    const char *ogrn;         /* OGRN (13 digits) */
    const char *ogrnip;       /* OGRNIP (15 digits) */
    const char *token_label;  /* PKCS#11 token label */
    const char *token_serial; /* PKCS#11 token serial number */
    int retries_left;         /* PIN attempts left on the token; < 0: unknown */
    bool final_try;           /* the token reports CKF_USER_PIN_FINAL_TRY */
    bool count_low;           /* the token reports CKF_USER_PIN_COUNT_LOW */
    bool pinpad;              /* the PIN is entered on the device (protected auth path) */
    const char *api;          /* the page API that asked, e.g. "через интерфейс плагина Госуслуг" */
    bool content_hidden;      /* a bare hash or raw value: the content cannot be shown */
    int agent_attempts_left;  /* wrong PINs before gostsign's own pause; 0: not shown */
    int agent_pause_minutes;  /* how long that pause lasts */
    /* for pinentry_describe_warnings only (not part of the description): */
    bool expires_soon;       /* the certificate expires in under 30 days: say so */
    long days_left;          /* whole days until it expires (with expires_soon) */
    bool revocation_unknown; /* the revocation check before signing got no answer (warn) */
} pinentry_signing_info;

/*
 * Builds the Russian dialog text from structured inputs: site, action, document, owner,
 * organisation with INN/OGRN, token, retries left, and an explicit "Последняя попытка!" warning
 * on the final try, or "Введите PIN-код на устройстве" for a PIN pad. Control characters in the
 * inputs are replaced and long fields shortened, so a site cannot forge extra lines and the text
 * always fits one Assuan line. Errors: BAD_REQUEST (no origin), PIN_LOCKED (retries_left == 0).
 */
gs_code pinentry_describe_signing(const pinentry_signing_info *info, char *out, size_t out_size,
                                  gs_status *st);

/*
 * The warnings about the certificate itself (it expires in under PINENTRY_EXPIRY_WARN_DAYS days,
 * its revocation status is unknown), in Russian and English, for the dialog's error line
 * (SETERROR: a line of its own, shown prominently, so the description keeps its whole room).
 * Returns the length, 0 when there is nothing to warn about (out is then "").
 */
#define PINENTRY_WARNINGS_SIZE 400
size_t pinentry_describe_warnings(const pinentry_signing_info *info, char *out, size_t out_size);

/*
 * Percent-escapes text for an Assuan command argument ('%', CR, LF and other control bytes).
 * Returns the escaped length, or -1 when it would not fit into out_size (NUL included).
 */
long pinentry_escape(const char *text, char *out, size_t out_size);

/* Longest escaped argument pinentry_describe_signing may produce (one Assuan line minus "SETDESC
 * "). */
#define PINENTRY_ARG_MAX 990

#endif
