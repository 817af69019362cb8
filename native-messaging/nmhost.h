/*
 * gostsign-nmhost core: everything the browser bridge decides, kept apart from its I/O so the
 * unit tests and the fuzz target drive exactly the code the host runs. Who is calling (the
 * extension, from argv), which extensions are served, and what to do with each frame from the
 * browser (forward to the agent, answer with an error, or close) and from the agent.
 */
#ifndef GOSTSIGN_NMHOST_H
#define GOSTSIGN_NMHOST_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "gost.h"
#include "agent.h"
#include "native_messaging.h"


/* System and user configuration of the host: {"allowed_extensions": ["...", ...]}. */
#define NM_SYSTEM_CONFIG_PATH "/etc/gostsign/nmhost.json"

#define NM_MAX_EXTENSIONS 32
/* Longest request id we track (the agent keeps at most 127 characters too). */
#define NM_ID_TEXT_MAX    (PROTO_ID_MAX + 1)

/* The browser that started the host, as learnt from argv. */
typedef enum { NM_BROWSER_UNKNOWN, NM_BROWSER_CHROMIUM, NM_BROWSER_FIREFOX } nm_browser;

/* Who called: the browser family and the extension's identity ("ID" for Chromium, Gecko ID). */
typedef struct {
    nm_browser browser;
    char extension[256];
} nm_caller;

/* The extensions the host serves. */
typedef struct {
    size_t count;
    char *ids[NM_MAX_EXTENSIONS];
} nm_allowlist;

/*
 * Learns the caller from the host's arguments: Chromium passes "chrome-extension://ID/" (plus
 * "--parent-window=N" on Windows), Firefox passes the manifest path and the extension ID.
 * BAD_REQUEST when neither shape matches (e.g. started by hand).
 */
gs_code nm_caller_from_args(int argc, char **argv, nm_caller *out, gs_status *st);

/* The compiled-in allow-list (the project's extension for both browser families). */
void nm_allowlist_defaults(nm_allowlist *al);
/* Adds the ids of a config file's "allowed_extensions"; a missing file is fine, a bad one is not.
 */
gs_code nm_allowlist_load(nm_allowlist *al, const char *path, gs_status *st);
/* Loads the system file and the user file ($GOSTSIGN_NMHOST_CONFIG, or ~/.config/gostsign). */
gs_code nm_allowlist_load_all(nm_allowlist *al, gs_status *st);
void nm_allowlist_free(nm_allowlist *al);
/* OK when the caller's extension is listed; ORIGIN_NOT_ALLOWED otherwise. */
gs_code nm_caller_check(const nm_allowlist *al, const nm_caller *caller, gs_status *st);

/*
 * Checks a page origin the extension supplies: "https://host[:port]", or "http://" for the
 * loopback development hosts (the agent then decides with allow_localhost). Refuses "local:"
 * origins (reserved for local programs), paths, user info and every other scheme; passes the
 * extension's own origin (PROTO_EXTENSION_ORIGIN, its popup and chooser) unchanged. On success
 * writes the normalised origin (lower-case scheme and host) into out.
 */
gs_code nm_origin_validate(const char *origin, char *out, size_t cap, gs_status *st);

/* What to do with one frame from the browser. */
typedef enum {
    NM_FORWARD,         /* *out holds the request to send to the agent */
    NM_REPLY,           /* *out holds an error reply for the browser; the stream goes on */
    NM_REPLY_AND_CLOSE, /* *out holds an error reply; the stream is out of step: exit after it */
    NM_CLOSE,           /* the browser closed the pipe at a frame boundary: exit cleanly */
} nm_action;

/*
 * Reads one frame from the browser (at most GS_FRAME_MAX_FROM_BROWSER) and decides what to do.
 * The request must be an object with an integer or string id, a string cmd, an object args (if
 * any) and a valid web origin (nm_origin_validate); the forwarded request carries exactly id,
 * cmd, origin and args. id_text receives the request id as text ("" when it had none).
 */
nm_action nm_from_browser(gs_frame_source *src, json_object **out, char *id_text, size_t cap);

/* The same decision for one already-read body (the fuzz target and the tests call it too). */
nm_action nm_check_request(const char *body, size_t len, json_object **out, char *id_text,
                           size_t cap);

/*
 * Checks one frame body from the agent before it goes to the browser. Returns true when the
 * body may go as is; otherwise *replacement holds an error reply for the same id
 * (FRAME_TOO_LARGE above the browsers' 1 MiB limit, INTERNAL for a body that is not a JSON
 * object). *is_final is set when the message ends its request (a reply, not an event), and
 * id_text receives its id as text.
 */
bool nm_check_agent_message(const char *body, size_t len, json_object **replacement, bool *is_final,
                            char *id_text, size_t cap);

#endif
