/*
 * Doctor layers 8 and 10: the signing agent (socket, running, version through `hello`) and, with
 * --test-sign, one detached signature made through the agent (its PIN dialog) and verified here.
 */
#include "agent.h"
#include "gost.h"
#include "doctor.h"
#include "gostsign_version.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define DOCTOR_ORIGIN "local:gostsign-doctor"

/* A string field of a reply, or "". */
static const char *field(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "";
}

/* Nobody answers: a socket file left behind is a failure, no socket at all only a warning. */
static void agent_missing(doctor_ctx *ctx, const char *path, const gs_status *st)
{
    struct stat sb;
    if (!path[0])
        path = "(XDG_RUNTIME_DIR is not set)";
    int stale = stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode);
    doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_AGENT, "agent.running",
                                 stale ? DOCTOR_FAIL : DOCTOR_WARN, GS_ERR_AGENT_UNAVAILABLE);
    doctor_ev_str(c, "socket", path);
    doctor_ev_bool(c, "socket_exists", stale);
    doctor_ev_str(c, "detail", st->detail);
    if (stale) {
        doctor_say(c, "The agent socket %s exists but nobody answers",
                   "Сокет агента %s есть, но никто не отвечает", path);
        doctor_fix(c,
                   "Restart the agent: `systemctl --user restart gostsign-agent.socket "
                   "gostsign-agent.service`.",
                   "Перезапустите агент: `systemctl --user restart gostsign-agent.socket "
                   "gostsign-agent.service`.");
        return;
    }
    doctor_say(c, "The agent is not running (socket %s); clients start it on demand",
               "Агент не запущен (сокет %s); клиенты запускают его по требованию", path);
    doctor_fix(c,
               "Enable socket activation: `systemctl --user enable --now gostsign-agent.socket`.",
               "Включите запуск по сокету: `systemctl --user enable --now gostsign-agent.socket`.");
}

/* The socket is there but not provably ours: fail loudly, since signing there would leak data. */
static void agent_unsafe(doctor_ctx *ctx, const char *path, const gs_status *st)
{
    doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_AGENT, "agent.running", DOCTOR_FAIL,
                                 GS_ERR_AGENT_SOCKET_UNSAFE);
    doctor_ev_str(c, "socket", path);
    doctor_ev_str(c, "detail", st->detail);
    /* the detail is the program's English: the Russian text leaves it to the evidence */
    doctor_say(c, "The agent socket %s is not safe: %s",
               "Сокет агента %s небезопасен%.0s (подробности — в evidence.detail, --json)", path,
               st->detail);
    doctor_fix(c,
               "Set XDG_RUNTIME_DIR to your own runtime directory (/run/user/$(id -u)); make the "
               "socket directory yours with mode 0700, or remove it, and restart the agent.",
               "Укажите в XDG_RUNTIME_DIR свой каталог (/run/user/$(id -u)); сделайте каталог "
               "сокета своим с правами 0700 или удалите его и перезапустите агент.");
}

/* Whether the running agent could lock the PIN's memory (its `hello` says; older agents do not). */
static void check_secure_memory(doctor_ctx *ctx, json_object *hello)
{
    const char *state = field(hello, "secure_memory");
    if (!state[0])
        return;
    int locked = strcmp(state, "locked") == 0;
    doctor_check *c =
        doctor_add(ctx, DOCTOR_LAYER_AGENT, "agent.secure_memory", locked ? DOCTOR_OK : DOCTOR_WARN,
                   locked ? GS_ERR_OK : GS_ERR_MEMORY_NOT_LOCKED);
    doctor_ev_str(c, "secure_memory", state);
    if (locked) {
        doctor_say(c, "The agent keeps the PIN in locked memory",
                   "Агент хранит PIN-код в закреплённой памяти");
        return;
    }
    doctor_say(c, "The agent cannot lock memory for the PIN (mlock failed): it may reach swap",
               "Агент не может закрепить память для PIN-кода (mlock не удался): PIN может попасть "
               "в файл подкачки");
    doctor_fix(c,
               "Raise the agent's locked-memory limit: `LimitMEMLOCK=8M` in `systemctl --user edit "
               "gostsign-agent.service` (or `ulimit -l 8192` before starting it), then restart it.",
               "Увеличьте лимит закреплённой памяти агента: `LimitMEMLOCK=8M` в `systemctl --user "
               "edit gostsign-agent.service` (или `ulimit -l 8192` перед запуском) и перезапустите "
               "его.");
}

/* One token's wrong-PIN state in the agent: counted attempts, and the pause when there is one. */
static void report_pin_pause(doctor_ctx *ctx, json_object *p)
{
    json_object *v;
    int failures = json_object_object_get_ex(p, "failures", &v) ? json_object_get_int(v) : 0;
    int max = json_object_object_get_ex(p, "max_failures", &v) ? json_object_get_int(v) : 0;
    const char *until = field(p, "paused_until"), *label = field(p, "label");
    doctor_check *c =
        doctor_add(ctx, DOCTOR_LAYER_AGENT, "agent.pin_pause", until[0] ? DOCTOR_WARN : DOCTOR_OK,
                   until[0] ? GS_ERR_PIN_LIMITER : GS_ERR_OK);
    doctor_ev_str(c, "token", field(p, "token"));
    doctor_ev_str(c, "label", label);
    doctor_ev_int(c, "failures", failures);
    doctor_ev_int(c, "max_failures", max);
    doctor_ev_str(c, "paused_until", until[0] ? until : NULL);
    doctor_ev_bool(c, "paused", until[0] != '\0');
    if (until[0]) {
        doctor_say(c, "Token \"%s\": the agent pauses PIN entry until %s (%d wrong PINs of %d)",
                   "Токен «%s»: агент приостановил ввод PIN-кода до %s (неверных PIN-кодов: %d из "
                   "%d)",
                   label, until, failures, max);
        doctor_fix(c,
                   "Wait for the end of the pause, or end it at the terminal: `gostsign agent "
                   "unpause %s`. The token itself is not blocked by this pause.",
                   "Дождитесь окончания паузы или снимите её за терминалом: `gostsign agent "
                   "unpause %s`. Сам токен этой паузой не заблокирован.",
                   field(p, "token"));
        return;
    }
    doctor_say(c, "Token \"%s\": no PIN pause (%d wrong PINs counted of %d before a pause)",
               "Токен «%s»: паузы ввода PIN-кода нет (неверных PIN-кодов: %d из %d до паузы)",
               label, failures, max);
}

/* The agent's wrong-PIN pauses, per token, from its local-only `status`. */
static void check_pin_pauses(doctor_ctx *ctx, agent_conn *conn)
{
    json_object *r = NULL, *list;
    gs_status st;
    gs_status_clear(&st);
    if (agent_call(conn, "status", DOCTOR_ORIGIN, NULL, NULL, NULL, &r, &st) == GS_ERR_OK &&
        json_object_object_get_ex(r, "pin_pauses", &list) &&
        json_object_is_type(list, json_type_array))
        for (size_t i = 0; i < json_object_array_length(list); i++)
            report_pin_pause(ctx, json_object_array_get_idx(list, i));
    json_object_put(r);
}

/* Runs "PROGRAM --version" with no input and no output: whether the pinentry starts at all. */
static int program_starts(const char *program)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        execl(program, program, "--version", (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        return 0;
    int status = 0;
    for (int i = 0; i < 50; i++) { /* 5 s at most */
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        struct timespec nap = { 0, 100 * 1000 * 1000 };
        nanosleep(&nap, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 0;
}

/* The PIN dialog the agent would run: found in PATH (as the agent resolves it) and starting. */
static void check_pinentry(doctor_ctx *ctx, const agent_config *cfg)
{
    char path[1024];
    const char *display = getenv("DISPLAY"), *wayland = getenv("WAYLAND_DISPLAY");
    bool graphical = (display && *display) || (wayland && *wayland);
    int found = pinentry_resolve(cfg->pinentry, graphical, path, sizeof(path)) == 0 &&
                access(path, X_OK) == 0;
    int starts = found && program_starts(path);
    doctor_check *c =
        doctor_add(ctx, DOCTOR_LAYER_AGENT, "agent.pinentry", starts ? DOCTOR_OK : DOCTOR_FAIL,
                   starts ? GS_ERR_OK : GS_ERR_PINENTRY_FAILED);
    doctor_ev_str(c, "configured", cfg->pinentry);
    doctor_ev_str(c, "program", found ? path : NULL);
    if (starts) {
        doctor_say(c, "PIN dialog: %s", "Окно PIN-кода: %s", path);
        return;
    }
    doctor_say(c, found ? "The PIN dialog %s does not start" : "The PIN dialog %s is not installed",
               found ? "Окно PIN-кода %s не запускается" : "Окно PIN-кода %s не установлено",
               found ? path : cfg->pinentry);
    const gs_error_info *e = gs_error_lookup(GS_ERR_PINENTRY_FAILED);
    doctor_fix(c, "%s%.0s", "%.0s%s", e->fix, e->fix_ru);
}

/* agent.json (system and user): strict JSON and safe files, as the agent will read them. */
static void check_config(doctor_ctx *ctx)
{
    agent_config cfg;
    gs_status st;
    gs_status_clear(&st);
    char user[1024];
    if (agent_config_user_path(user, sizeof(user)) != 0)
        user[0] = '\0';
    gs_code rc = agent_config_load(&cfg, AGENT_CONFIG_SYSTEM_PATH, user[0] ? user : NULL, &st);
    doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_AGENT, "agent.config",
                                 rc == GS_ERR_OK ? DOCTOR_OK : DOCTOR_FAIL, rc);
    doctor_ev_str(c, "user_file", user[0] ? user : NULL);
    if (rc != GS_ERR_OK) {
        const gs_error_info *e = gs_error_lookup(rc);
        doctor_ev_str(c, "detail", st.detail);
        doctor_say(c, "The agent configuration cannot be used: %s%.0s",
                   "Файл настроек агента не годится (%.0s%s; подробности — в evidence.detail, "
                   "--json)",
                   st.detail, gs_error_lookup(rc)->message_ru);
        doctor_fix(c, "Correct the file (strict JSON: no trailing commas). %s%.0s",
                   "Исправьте файл (строгий JSON: без лишних запятых). %.0s%s", e->fix, e->fix_ru);
        agent_config_free(&cfg);
        return;
    }
    doctor_say(c, "The agent configuration is valid", "Файл настроек агента корректен");
    check_pinentry(ctx, &cfg);
    agent_config_free(&cfg);
}

void doctor_layer_agent(doctor_ctx *ctx)
{
    check_config(ctx);
    gs_status st;
    gs_status_clear(&st);
    char path[1024] = "";
    agent_socket_path(path, sizeof(path), &st);
    agent_conn *conn = agent_connect(0, &st);
    json_object *r = NULL;
    if (!conn || agent_call(conn, "hello", DOCTOR_ORIGIN, NULL, NULL, NULL, &r, &st) != GS_ERR_OK) {
        agent_disconnect(conn);
        if (st.code == GS_ERR_AGENT_SOCKET_UNSAFE)
            agent_unsafe(ctx, path, &st);
        else
            agent_missing(ctx, path, &st);
        return;
    }
    int same = strcmp(field(r, "version"), GOSTSIGN_VERSION) == 0;
    doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_AGENT, "agent.running",
                                 same ? DOCTOR_OK : DOCTOR_WARN, GS_ERR_OK);
    doctor_ev_str(c, "socket", agent_conn_path(conn));
    doctor_ev_str(c, "agent_version", field(r, "version"));
    doctor_ev_str(c, "protocol", field(r, "protocol"));
    doctor_ev_str(c, "gostsign_version", GOSTSIGN_VERSION);
    doctor_say(c, "The agent %s answers on %s (protocol %s)",
               "Агент %s отвечает на %s (протокол %s)", field(r, "version"), agent_conn_path(conn),
               field(r, "protocol"));
    if (!same) {
        doctor_say(c, "The agent %s differs from this gostsign %s",
                   "Версия агента %s отличается от gostsign %s", field(r, "version"),
                   GOSTSIGN_VERSION);
        doctor_fix(c,
                   "Restart the agent after the upgrade: `systemctl --user restart "
                   "gostsign-agent.service`.",
                   "Перезапустите агент после обновления: `systemctl --user restart "
                   "gostsign-agent.service`.");
    }
    check_secure_memory(ctx, r);
    check_pin_pauses(ctx, conn);
    json_object_put(r);
    agent_disconnect(conn);
}

/* Verifies the agent's signature over the test text, with the chain when --ca-dir was given. */
static gs_code verify_test_signature(const doctor_ctx *ctx, const char *cms_b64, const char *text,
                                     gs_status *st)
{
    size_t len = 0;
    uint8_t *der = NULL;
    if (gs_base64_decode(cms_b64, &der, &len, st) != GS_ERR_OK)
        return gs_fail(st, GS_ERR_CMS_PARSE, "the agent's reply holds no valid base64 CMS");
    gs_cms_verify_opts o;
    gs_cms_verify_opts_init(&o);
    o.content = (const uint8_t *)text;
    o.content_len = strlen(text);
    o.ca_dir = ctx->opts.ca_dir;
    gs_cms_verify_result res;
    memset(&res, 0, sizeof(res));
    gs_code rc = gs_cms_verify(der, len, &o, &res, st);
    gs_cms_verify_result_clear(&res);
    free(der);
    return rc;
}

/* One detached signature through the agent, verified locally. */
static void run_test_sign(doctor_ctx *ctx)
{
    char text[128];
    snprintf(text, sizeof(text), "gostsign doctor test signature %ld\n", (long)time(NULL));
    gs_status st;
    gs_status_clear(&st);
    agent_conn *conn = agent_connect(1, &st);
    json_object *args = json_object_new_object(), *r = NULL;
    json_object_object_add(args, "data", gs_base64_json((const uint8_t *)text, strlen(text)));
    json_object_object_add(args, "detached", json_object_new_boolean(1));
    json_object_object_add(args, "document", json_object_new_string("gostsign doctor test"));
    if (ctx->opts.test_cert)
        json_object_object_add(args, "certificate", json_object_new_string(ctx->opts.test_cert));
    gs_code rc =
        conn ? agent_call(conn, "sign", DOCTOR_ORIGIN, agent_dialog_args(args), NULL, NULL, &r, &st)
             : st.code;
    if (!conn)
        json_object_put(args);
    if (rc == GS_ERR_OK)
        rc = verify_test_signature(ctx, field(r, "cms"), text, &st);
    const gs_error_info *e = gs_error_lookup(rc);
    doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_TEST_SIGN, "test_sign.signature",
                                 rc == GS_ERR_OK ? DOCTOR_OK : DOCTOR_FAIL, rc);
    doctor_ev_str(c, "certificate", field(r, "certificate"));
    doctor_ev_bool(c, "chain_checked", ctx->opts.ca_dir != NULL);
    if (rc == GS_ERR_OK) {
        doctor_say(c, "A test signature was made through the agent and verified",
                   "Тестовая подпись создана через агент и проверена");
    } else {
        doctor_ev_str(c, "detail", st.detail);
        doctor_say(c, "Test signature failed: %s", "Тестовая подпись не удалась: %s",
                   e->message_en);
        snprintf(c ? c->message_ru : text, c ? sizeof(c->message_ru) : sizeof(text),
                 "Тестовая подпись не удалась: %s", e->message_ru);
        doctor_fix(c, "%s%.0s", "%.0s%s", e->fix, e->fix_ru);
    }
    json_object_put(r);
    agent_disconnect(conn);
}

void doctor_layer_test_sign(doctor_ctx *ctx)
{
    if (!ctx->opts.test_sign) {
        doctor_check *c =
            doctor_add(ctx, DOCTOR_LAYER_TEST_SIGN, "test_sign.signature", DOCTOR_SKIP, GS_ERR_OK);
        doctor_say(c, "Not requested (run with --test-sign; it asks for the PIN)",
                   "Не запрошена (запустите с --test-sign; будет запрошен PIN-код)");
        return;
    }
    run_test_sign(ctx);
}
