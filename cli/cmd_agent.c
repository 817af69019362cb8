/*
 * Agent-backed commands of `gostsign`: `tokens`, `certs [--json]` and `agent status`.
 * They talk to gostsign-agent exactly as the browser bridge does, with a local origin.
 */
#include "agent.h"
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
    printf(cli_text("%s  \"%s\" %s %s, серийный номер %s%s%s%s\n",
                    "%s  \"%s\" %s %s, serial %s%s%s%s\n"),
           field(t, "id"), field(t, "label"), field(t, "manufacturer"), field(t, "model"),
           field(t, "serial"),
           strcmp(field(pin, "locked"), "true") == 0
               ? cli_text("  [PIN заблокирован]", "  [PIN locked]")
               : "",
           strcmp(field(pin, "final_try"), "true") == 0
               ? cli_text("  [последняя попытка]", "  [final try]")
               : "",
           strcmp(field(t, "pin_pad"), "true") == 0 ? "  [PIN pad]" : "");
}

/* Appends "LABEL VALUE" to the id list when the certificate has that number. */
static void add_id(char *out, size_t cap, const char *label, const char *value)
{
    if (!value || !*value)
        return;
    size_t len = strlen(out);
    snprintf(out + len, cap - len, "%s%s %s", len ? ", " : "", label, value);
}

/* The INN / OGRN numbers the certificate has, as " (ИНН ..., ОГРН ...)", or "" without any. */
static void registration_ids(json_object *subj, char *out, size_t cap)
{
    char ids[160] = "";
    add_id(ids, sizeof(ids), cli_text("ИНН", "INN"), field(subj, "inn"));
    add_id(ids, sizeof(ids), cli_text("ИНН ЮЛ", "INN of the legal entity"), field(subj, "innle"));
    add_id(ids, sizeof(ids), cli_text("ОГРН", "OGRN"), field(subj, "ogrn"));
    add_id(ids, sizeof(ids), cli_text("ОГРНИП", "OGRNIP"), field(subj, "ogrnip"));
    snprintf(out, cap, ids[0] ? " (%s)" : "%s", ids);
}

/* One certificate: id, then owner with organisation, INN/OGRN, validity and days left, status,
 * token, and whether it is qualified (status.qualified; the reason when it is not). */
static void print_certificate(json_object *c)
{
    json_object *subj = NULL, *val = NULL, *status = NULL, *q = NULL;
    json_object_object_get_ex(c, "subject", &subj);
    json_object_object_get_ex(c, "validity", &val);
    json_object_object_get_ex(c, "status", &status);
    char ids[200];
    registration_ids(subj, ids, sizeof(ids));
    const char *o = field(subj, "o");
    int qualified =
        json_object_object_get_ex(status, "qualified", &q) && json_object_get_boolean(q);
    printf(cli_text("%s\n  %s%s%s%s\n  действует до %s (осталось дней: %s)  [%s]  токен %s\n",
                    "%s\n  %s%s%s%s\n  valid until %s (%s days left)  [%s]  token %s\n"),
           field(c, "id"), field(subj, "cn"), *o ? ", " : "", o, ids, field(val, "not_after"),
           field(status, "days_left"), field(status, "code"), field(c, "token"));
    if (qualified)
        printf("  %s\n", cli_text("квалифицированный", "qualified"));
    else
        printf("  %s: %s\n", cli_text("не квалифицированный", "not qualified"),
               field(status, cli_text("qualified_message_ru", "qualified_message")));
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
                        cli_text("Токены не найдены (см. `gostsign doctor`)",
                                 "no tokens found (see `gostsign doctor`)"),
                        print_token);
}

/* After `certs`: certificates on the tokens without a key get a hint where the key usually is. */
static void keyless_hint(void)
{
    json_object *r = NULL, *v;
    if (call_agent("tokens", &r, 0) != 0)
        return;
    int keyless = 0;
    for (size_t i = 0; i < json_object_array_length(r); i++)
        if (json_object_object_get_ex(json_object_array_get_idx(r, i), "certificates_without_key",
                                      &v))
            keyless += json_object_get_int(v);
    json_object_put(r);
    if (keyless == 0)
        return;
    const gs_error_info *e = gs_error_lookup(GS_ERR_KEY_ELSEWHERE);
    printf(cli_text("Сертификатов без закрытого ключа на токенах: %d (`gostsign token certs` "
                    "покажет их).\n%s\n",
                    "certificates without a private key on the tokens: %d (`gostsign token certs` "
                    "shows them).\n%s\n"),
           keyless, cli_text(e->fix_ru, e->fix));
}

int cmd_certs(int argc, char **argv)
{
    int rc = list_command(argc, argv, "certificates",
                          cli_text("Сертификаты не найдены", "no certificates found"),
                          print_certificate);
    if (rc == 0 && !wants_json(argc, argv))
        keyless_hint();
    return rc;
}

#define AGENT_USAGE "gostsign agent status | stop | restart | unpause TOKEN [--yes]"

/* `agent status`: whether the agent runs, its version and socket (never starts it). */
static int agent_status(void)
{
    json_object *r = NULL;
    gs_status st;
    gs_status_clear(&st);
    agent_conn *c = agent_connect(0, &st);
    gs_code rc = c ? agent_call(c, "hello", CLI_ORIGIN, NULL, NULL, NULL, &r, &st) : st.code;
    if (rc == GS_ERR_OK)
        printf(cli_text("Агент работает: %s %s, протокол %s, сокет %s\n",
                        "agent running: %s %s, protocol %s, socket %s\n"),
               field(r, "agent"), field(r, "version"), field(r, "protocol"), agent_conn_path(c));
    agent_disconnect(c);
    json_object_put(r);
    return rc == GS_ERR_OK ? 0 : cli_report(&st);
}

/* Waits (up to 5 s) until the agent process has exited. */
static int wait_agent_gone(int pid)
{
    for (int i = 0; pid > 0 && i < 100; i++) {
        if (kill(pid, 0) != 0 && errno == ESRCH)
            return 0;
        struct timespec nap = { 0, 50 * 1000 * 1000 };
        nanosleep(&nap, NULL);
    }
    return pid > 0 ? -1 : 0;
}

/* `agent stop`: asks the agent to exit (a local-only command) and waits until it has. */
static int agent_stop(int quiet)
{
    gs_status st;
    gs_status_clear(&st);
    agent_conn *c = agent_connect(0, &st);
    if (!c && st.code == GS_ERR_AGENT_UNAVAILABLE) {
        if (!quiet)
            printf("%s\n", cli_text("Агент не запущен.", "the agent is not running"));
        return 0;
    }
    json_object *r = NULL;
    int pid = c ? agent_conn_peer_pid(c) : -1;
    gs_code rc = c ? agent_call(c, "shutdown", CLI_ORIGIN, NULL, NULL, NULL, &r, &st) : st.code;
    agent_disconnect(c);
    json_object_put(r);
    if (rc == GS_ERR_OK && wait_agent_gone(pid) != 0)
        rc = gs_fail(&st, GS_ERR_TIMEOUT, "the agent did not stop within 5 s");
    if (rc != GS_ERR_OK)
        return cli_report(&st);
    if (!quiet)
        printf("%s\n", cli_text("Агент остановлен.", "the agent stopped"));
    return 0;
}

/* `agent restart`: stop, then start it again on demand and show its status. */
static int agent_restart(void)
{
    int rc = agent_stop(1);
    if (rc != 0)
        return rc;
    json_object *r = NULL;
    rc = call_agent("hello", &r, 1);
    json_object_put(r);
    return rc != 0 ? rc : agent_status();
}

/* Asks the user at the terminal to confirm; only "y"/"д" (yes, да) agrees. */
static int confirmed(const char *token)
{
    fprintf(stderr,
            cli_text("Снять паузу подписи для токена %s? Неверные PIN-коды снова будут "
                     "приближать блокировку токена. [y/N] ",
                     "End the signing pause for token %s? Wrong PINs will again count "
                     "towards locking the token. [y/N] "),
            token);
    char line[16];
    if (!fgets(line, sizeof(line), stdin))
        return 0;
    return line[0] == 'y' || line[0] == 'Y' || strncmp(line, "д", strlen("д")) == 0 ||
           strncmp(line, "Д", strlen("Д")) == 0;
}

/* `agent unpause TOKEN`: the user at the terminal ends the agent's wrong-PIN pause. */
static int agent_unpause(int argc, char **argv)
{
    const char *token = NULL;
    int yes = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0)
            yes = 1;
        else if (!token && argv[i][0] != '-')
            token = argv[i];
        else
            return cli_usage_error(AGENT_USAGE, "unexpected argument %s", argv[i]);
    }
    if (!token)
        return cli_usage_error(AGENT_USAGE, "unpause needs the token id (see `gostsign tokens`)");
    if (!yes && !isatty(STDIN_FILENO))
        return cli_usage_error(AGENT_USAGE, "%s",
                               cli_text("снять паузу может только пользователь за терминалом "
                                        "(или укажите --yes)",
                                        "unpause needs the user at the terminal (or --yes)"));
    if (!yes && !confirmed(token))
        return cli_report_code(GS_ERR_USER_CANCELLED, NULL);
    json_object *args = json_object_new_object();
    json_object_object_add(args, "token", json_object_new_string(token));
    json_object *r = NULL;
    gs_status st;
    gs_status_clear(&st);
    agent_conn *c = agent_connect(1, &st);
    gs_code rc = c ? agent_call(c, "unpause", CLI_ORIGIN, args, NULL, NULL, &r, &st) : st.code;
    if (!c)
        json_object_put(args);
    agent_disconnect(c);
    if (rc == GS_ERR_OK)
        printf(cli_text("Пауза снята: токен %s\n", "pause ended: token %s\n"), field(r, "token"));
    json_object_put(r);
    return rc == GS_ERR_OK ? 0 : cli_report(&st);
}

int cmd_agent(int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : NULL;
    if (sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0))
        return cli_help("agent");
    if (sub && strcmp(sub, "status") == 0)
        return agent_status();
    if (sub && strcmp(sub, "stop") == 0)
        return agent_stop(0);
    if (sub && strcmp(sub, "restart") == 0)
        return agent_restart();
    if (sub && strcmp(sub, "unpause") == 0)
        return agent_unpause(argc, argv);
    return cli_usage_error(AGENT_USAGE, "unknown or missing subcommand");
}
