/*
 * Agent-backed commands of `gostsign`: `tokens`, `certs [--json]` and `agent status`.
 * They talk to gostsign-agent exactly as the browser bridge does, with a local origin.
 */
#include "agent.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

/* Local programs identify themselves with a "local:" origin (docs/protocol.md). */
#define CLI_ORIGIN "local:gostsign"

/* Connects (starting the agent when needed), runs one command, prints errors. */
static int call_agent(const char *cmd, json_object **result, int autostart)
{
    gs_status st;
    gs_status_clear(&st);
    agent_conn *c = agent_connect(autostart, &st);
    gs_code rc = c ? agent_call(c, cmd, CLI_ORIGIN, NULL, NULL, NULL, result, &st) : st.code;
    agent_disconnect(c);
    return rc == GS_ERR_OK ? 0 : cli_report(&st);
}

/* A JSON string field or "" when absent/null. */
static const char *field(json_object *o, const char *key)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !v)
        return "";
    return json_object_get_string(v);
}

/* True when --json is among the arguments. */
static int wants_json(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--json") == 0)
            return 1;
    return 0;
}

/* One token per line: id, label, maker and model, serial, PIN state. */
static void print_token(json_object *t)
{
    json_object *pin = NULL;
    json_object_object_get_ex(t, "pin", &pin);
    printf("%s  \"%s\" %s %s, serial %s%s%s%s\n", field(t, "id"), field(t, "label"),
           field(t, "manufacturer"), field(t, "model"), field(t, "serial"),
           strcmp(field(pin, "locked"), "true") == 0 ? "  [PIN заблокирован / locked]" : "",
           strcmp(field(pin, "final_try"), "true") == 0 ? "  [последняя попытка / final try]" : "",
           strcmp(field(t, "pin_pad"), "true") == 0 ? "  [PIN pad]" : "");
}

/* One certificate: id, then owner with organisation, INN/OGRN, validity and days left, status,
 * token, and whether it is qualified (status.qualified; the reason when it is not). */
static void print_certificate(json_object *c)
{
    json_object *subj = NULL, *val = NULL, *status = NULL, *q = NULL;
    json_object_object_get_ex(c, "subject", &subj);
    json_object_object_get_ex(c, "validity", &val);
    json_object_object_get_ex(c, "status", &status);
    int qualified =
        json_object_object_get_ex(status, "qualified", &q) && json_object_get_boolean(q);
    printf(
        "%s\n  %s, %s (ИНН %s, ИНН ЮЛ %s, ОГРН %s)\n  до / until %s (дней / days left %s)  [%s]  "
        "token %s\n  квалифицированный / qualified: %s%s%s\n",
        field(c, "id"), field(subj, "cn"), field(subj, "o"), field(subj, "inn"),
        field(subj, "innle"), field(subj, "ogrn"), field(val, "not_after"),
        field(status, "days_left"), field(status, "code"), field(c, "token"),
        qualified ? "да / yes" : "нет / no", qualified ? "" : " — ",
        qualified ? "" : field(status, "qualified_message_ru"));
}

/* The shape of `tokens` and `certs`: ask the agent for a list, print it as JSON or by lines. */
static int list_command(int argc, char **argv, const char *cmd, const char *empty_text,
                        void (*print_one)(json_object *))
{
    json_object *r = NULL;
    int rc = call_agent(cmd, &r, 1);
    if (rc != 0)
        return rc;
    if (wants_json(argc, argv)) {
        printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY));
    } else {
        size_t n = json_object_array_length(r);
        if (n == 0)
            printf("%s\n", empty_text);
        for (size_t i = 0; i < n; i++)
            print_one(json_object_array_get_idx(r, i));
    }
    json_object_put(r);
    return 0;
}

int cmd_tokens(int argc, char **argv)
{
    return list_command(argc, argv, "tokens",
                        "Токены не найдены / no tokens found (see `gostsign doctor`)", print_token);
}

int cmd_certs(int argc, char **argv)
{
    return list_command(argc, argv, "certificates",
                        "Сертификаты не найдены / no certificates found", print_certificate);
}

int cmd_agent(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "status") != 0)
        return cli_usage_error("gostsign agent status", "unknown or missing subcommand");
    json_object *r = NULL;
    gs_status st;
    gs_status_clear(&st);
    agent_conn *c = agent_connect(0, &st);
    gs_code rc = c ? agent_call(c, "hello", CLI_ORIGIN, NULL, NULL, NULL, &r, &st) : st.code;
    if (rc == GS_ERR_OK)
        printf("Агент работает / agent running: %s %s, protocol %s, socket %s\n", field(r, "agent"),
               field(r, "version"), field(r, "protocol"), agent_conn_path(c));
    agent_disconnect(c);
    json_object_put(r);
    return rc == GS_ERR_OK ? 0 : cli_report(&st);
}
