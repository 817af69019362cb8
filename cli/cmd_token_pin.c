/*
 * `gostsign token change-pin [--token ID]` and `gostsign token unblock [--token ID]`: the agent
 * asks the PINs in its own dialog (current or SO PIN, then the new PIN twice, with the token's
 * length rules); this command never reads a PIN from its arguments, environment or input.
 */
#include "agent.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

#define TOKEN_PIN_USAGE "gostsign token change-pin|unblock [--token ID]"

/* Local programs identify themselves with a "local:" origin (docs/protocol.md). */
#define CLI_ORIGIN "local:gostsign"

/* Progress events: tell the user where the dialog is. */
static void on_event(void *ctx, const char *event, json_object *data)
{
    (void)ctx;
    (void)data;
    if (strcmp(event, "pin-requested") == 0)
        fprintf(stderr, "%s\n",
                cli_text("Введите PIN-коды в окне агента", "enter the PINs in the agent's dialog"));
}

int cmd_token_pin(int argc, char **argv, int unblock)
{
    const char *token = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--token") == 0 && i + 1 < argc)
            token = argv[++i];
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return printf("usage: %s\n", TOKEN_PIN_USAGE) < 0;
        else
            return cli_usage_error(TOKEN_PIN_USAGE, "%s %s",
                                   cli_text("лишний аргумент (PIN-код здесь не указывают):",
                                            "unexpected argument (a PIN is never given here):"),
                                   argv[i]);
    }
    json_object *args = json_object_new_object(), *result = NULL;
    if (token)
        json_object_object_add(args, "token", json_object_new_string(token));
    gs_status st;
    gs_status_clear(&st);
    agent_conn *c = agent_connect(1, &st);
    on_event(NULL, "pin-requested", NULL);
    gs_code rc = c ? agent_call(c, unblock ? "unblock_pin" : "change_pin", CLI_ORIGIN,
                                agent_dialog_args(args), NULL, NULL, &result, &st)
                   : st.code;
    if (!c)
        json_object_put(args);
    agent_disconnect(c);
    if (rc != GS_ERR_OK)
        return cli_report(&st);
    json_object *v = NULL;
    json_object_object_get_ex(result, "token", &v);
    printf(unblock ? cli_text("PIN-код разблокирован и заменён: токен %s\n",
                              "PIN unblocked and set: token %s\n")
                   : cli_text("PIN-код изменён: токен %s\n", "PIN changed: token %s\n"),
           v ? json_object_get_string(v) : "?");
    json_object_put(result);
    return 0;
}
