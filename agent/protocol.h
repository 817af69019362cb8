/*
 * The commands of the protocol and the arguments each takes (docs/protocol.md): one table that
 * the agent and gostsign-nmhost both check every request against. A JSON null, a value of the
 * wrong type, or a field the command does not know is a BAD_REQUEST that names the field.
 */
#ifndef GOSTSIGN_AGENT_PROTOCOL_H
#define GOSTSIGN_AGENT_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "gost.h"

/*
 * The origin of the extension's own requests (its popup and certificate chooser), never a web
 * page's: gostsign-nmhost passes exactly this string on, and the agent lets it read the status
 * (hello, tokens, certificates) and change the user's site list (origins), but never sign.
 */
#define PROTO_EXTENSION_ORIGIN "extension:"

/* Longest request id as a string, in bytes; integer ids are safe integers (|n| < 2^53). */
#define PROTO_ID_MAX 128

typedef enum {
    PROTO_STRING,     /* a JSON string without NUL characters */
    PROTO_BOOL,       /* true or false, never "false" or 0 */
    PROTO_ARRAY,      /* its elements are checked by the command */
    PROTO_INT,        /* a JSON integer within +-2^53 */
    PROTO_REQUEST_ID, /* a string or integer id, as the envelope's */
} proto_type;

typedef struct proto_field {
    const char *name;
    proto_type type;
    bool local_only;                 /* refused from web pages (origins other than local:) */
    const struct proto_field *items; /* PROTO_ARRAY: each element is an object of these fields */
    bool host_set; /* set by gostsign-nmhost from its environment, refused from the page itself */
} proto_field;

typedef struct proto_command {
    const char *name;
    bool needs_origin;         /* the origin must be on the allow-list */
    const proto_field *fields; /* ends with a { NULL } entry */
    bool local_only;           /* only for local programs (origin local:), never for web pages */
} proto_command;

/* The command of this name, or NULL. */
const proto_command *proto_command_find(const char *name);

/* Checks an id (envelope or cancel.request) and writes its text form (cap > PROTO_ID_MAX). */
gs_code proto_check_id(json_object *id, const char *where, char *text, size_t cap,
                       gs_status *st);

/* Checks an object's fields against a spec; where names the object ("args", "args.batch[2]"). */
gs_code proto_check_fields(json_object *obj, const proto_field *spec, const char *where,
                           bool from_page, gs_status *st);

/* Refuses the fields gostsign-nmhost sets itself (host_set) when a page sent them. */
gs_code proto_check_host_fields(json_object *obj, const proto_field *spec, gs_status *st);

/* A JSON string that holds no NUL (json-c strings may): usable as a C string. */
bool proto_is_clean_string(json_object *v);

#endif
