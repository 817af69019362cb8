/*
 * The agent's idle exit (agent/server.c): the rule with an explicit clock (off, busy with a
 * connection, a request or hotplug-driven work, due after the quiet time), and the real accept
 * loop on a socket of its own, which returns for idleness only after the quiet time and never
 * while a client is connected or background work runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"

/* An agent with only what the idle rule and the accept loop read. */
static agent *quiet_agent(int idle_seconds)
{
    agent *ag = calloc(1, sizeof(*ag));
    assert_non_null(ag);
    ag->listen_fd = -1;
    ag->idle_exit_seconds = idle_seconds;
    ag->cfg.request_timeout_seconds = 120;
    pthread_mutex_init(&ag->inflight_lock, NULL);
    return ag;
}

static void test_off_never_exits(void **state)
{
    (void)state;
    agent *ag = quiet_agent(0);
    atomic_store(&ag->last_activity_ms, 0);
    assert_int_equal(agent_idle_remaining_ms(ag, 1000LL * 86400 * 365), -1);
    free(ag);
}

static void test_due_after_the_quiet_time(void **state)
{
    (void)state;
    agent *ag = quiet_agent(300);
    atomic_store(&ag->last_activity_ms, 10000);
    assert_int_equal(agent_idle_remaining_ms(ag, 10000), 300000);
    assert_int_equal(agent_idle_remaining_ms(ag, 10000 + 299999), 1);
    assert_int_equal(agent_idle_remaining_ms(ag, 10000 + 300000), 0);
    assert_int_equal(agent_idle_remaining_ms(ag, 10000 + 999999), 0);
    free(ag);
}

/* Each kind of work holds the exit off however long it lasts, and its end restarts the clock. */
static void test_work_under_way_holds_it(void **state)
{
    (void)state;
    agent *ag = quiet_agent(2);
    long long late = agent_now_ms() + 3600 * 1000LL;
    atomic_store(&ag->last_activity_ms, 0);
    atomic_store(&ag->connections, 1); /* a client connected (and its parked uploads) */
    assert_int_equal(agent_idle_remaining_ms(ag, late), -1);
    atomic_store(&ag->connections, 0);
    atomic_store(&ag->active_requests, 1); /* a request: a PIN dialog, a signature */
    assert_int_equal(agent_idle_remaining_ms(ag, late), -1);
    atomic_store(&ag->active_requests, 0);
    assert_int_equal(agent_idle_remaining_ms(ag, late), 0);
    agent_background_begin(ag); /* a hotplug-driven refresh */
    assert_int_equal(agent_idle_remaining_ms(ag, late), -1);
    agent_background_end(ag);
    long long now = agent_now_ms();
    long long left = agent_idle_remaining_ms(ag, now);
    assert_true(left > 1900 && left <= 2000);
    free(ag);
}

typedef struct {
    agent *ag;
    int result;
    long long returned_ms;
} serve_run;

/* The accept loop on its own thread, as main() runs it. */
static void *serve_thread(void *p)
{
    serve_run *run = p;
    run->result = agent_serve(run->ag);
    run->returned_ms = agent_now_ms();
    return NULL;
}

/* Listens on a fresh socket under a temporary directory; returns the directory. */
static char *listen_in_tempdir(agent *ag)
{
    char *dir = strdup("/tmp/gostsign-idle.XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/agent.sock", dir);
    unsetenv("LISTEN_FDS");
    gs_status st;
    assert_int_equal(agent_listen(ag, path, &st), GS_ERR_OK);
    assert_int_equal(ag->socket_activated, 0);
    return dir;
}

/* Connects a client to the agent's socket. */
static int connect_client(const agent *ag)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    assert_true(strlen(ag->socket_path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, ag->socket_path, strlen(ag->socket_path) + 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void test_serve_returns_when_idle_only(void **state)
{
    (void)state;
    agent *ag = quiet_agent(1);
    char *dir = listen_in_tempdir(ag);
    serve_run run = { ag, -2, 0 };
    pthread_t t;
    long long start = agent_now_ms();
    pthread_create(&t, NULL, serve_thread, &run);

    /* a connected client, quiet for 1.5 s (longer than the idle time): the agent stays */
    usleep(200 * 1000);
    int fd = connect_client(ag);
    usleep(1500 * 1000);
    assert_int_equal(run.result, -2);
    close(fd);
    long long closed = agent_now_ms();

    /* background work begun right after: it too holds the exit off */
    usleep(300 * 1000);
    agent_background_begin(ag);
    usleep(1500 * 1000);
    assert_int_equal(run.result, -2);
    agent_background_end(ag);
    long long ended = agent_now_ms();

    pthread_join(t, NULL);
    assert_int_equal(run.result, AGENT_SERVE_IDLE);
    assert_true(run.returned_ms - ended >= 950);   /* a full quiet second after the last work */
    assert_true(run.returned_ms - ended < 3000);   /* and not much later */
    assert_true(run.returned_ms - closed >= 2000); /* not counted from the client's close */
    assert_true(run.returned_ms - start >= 3000);
    agent_shutdown(ag);
    rmdir(dir);
    free(dir);
    free(ag);
}

/* A stop request still ends the loop at once, whatever the idle clock says. */
static void test_stop_beats_idle(void **state)
{
    (void)state;
    agent *ag = quiet_agent(60);
    char *dir = listen_in_tempdir(ag);
    serve_run run = { ag, -2, 0 };
    pthread_t t;
    pthread_create(&t, NULL, serve_thread, &run);
    usleep(100 * 1000);
    agent_request_stop(ag);
    pthread_join(t, NULL);
    assert_int_equal(run.result, 0);
    agent_shutdown(ag);
    rmdir(dir);
    free(dir);
    free(ag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_never_exits),
        cmocka_unit_test(test_due_after_the_quiet_time),
        cmocka_unit_test(test_work_under_way_holds_it),
        cmocka_unit_test(test_serve_returns_when_idle_only),
        cmocka_unit_test(test_stop_beats_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
