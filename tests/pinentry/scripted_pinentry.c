/*
 * A scripted Assuan pinentry for tests. It behaves like a pinentry on stdin/stdout, but its
 * answers come from a script file ($GS_TEST_PINENTRY_SCRIPT), one line per invocation, consumed
 * in order (a counter file "<script>.next" remembers the position; the last line repeats):
 *   pin TEXT      GETPIN answers TEXT; CONFIRM answers OK
 *   delay N TEXT  waits N seconds, then answers like "pin TEXT" (a user who takes time)
 *   empty         GETPIN answers an empty PIN
 *   cancel        GETPIN/CONFIRM answer "Operation cancelled" (as pinentry does on Cancel)
 *   timeout       GETPIN/CONFIRM answer "Timeout" (as pinentry does after SETTIMEOUT)
 *   die           kill itself with SIGKILL on GETPIN/CONFIRM
 *   hang          never answer GETPIN/CONFIRM
 *   hang-hard     never answer GETPIN/CONFIRM, and ignore SIGTERM
 *   die-early     exit before the greeting
 *   hang-early    hang before the greeting
 * Every command it receives (SETDESC, SETERROR, OPTION...) is appended to $GS_TEST_PINENTRY_RECORD
 * as received, so tests can check the texts; the PIN only travels outward and is never recorded.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CANCELLED_ERR "ERR 83886179 Operation cancelled <Pinentry>"
#define TIMEOUT_ERR   "ERR 83886142 Timeout <Pinentry>"

/* Reads the next script line for this invocation, advancing the counter file. */
static void next_action(char *action, size_t size)
{
    snprintf(action, size, "cancel");
    const char *script = getenv("GS_TEST_PINENTRY_SCRIPT");
    if (!script)
        return;
    char counter[4096];
    snprintf(counter, sizeof(counter), "%s.next", script);
    int index = 0;
    FILE *c = fopen(counter, "r");
    if (c) {
        if (fscanf(c, "%d", &index) != 1)
            index = 0;
        fclose(c);
    }
    FILE *f = fopen(script, "r");
    if (!f)
        return;
    char line[1024];
    for (int i = 0; fgets(line, sizeof(line), f); i++) {
        line[strcspn(line, "\r\n")] = '\0';
        snprintf(action, size, "%s", line);
        if (i == index)
            break;
    }
    fclose(f);
    c = fopen(counter, "w");
    if (c) {
        fprintf(c, "%d\n", index + 1);
        fclose(c);
    }
}

/* Appends one received command to the record file. */
static void record(const char *line)
{
    const char *path = getenv("GS_TEST_PINENTRY_RECORD");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (!f)
        return;
    fprintf(f, "%s\n", line);
    fclose(f);
}

/* Sends one response line. */
static void reply(const char *line)
{
    printf("%s\n", line);
    fflush(stdout);
}

/* Sends the PIN as an Assuan data line, escaping what the protocol requires. */
static void send_pin(const char *pin)
{
    if (*pin) {
        fputs("D ", stdout);
        for (const unsigned char *p = (const unsigned char *)pin; *p; p++) {
            if (*p == '%' || *p == '\r' || *p == '\n')
                printf("%%%02X", *p);
            else
                putchar(*p);
        }
        putchar('\n');
    }
    reply("OK");
}

/* Answers GETPIN or CONFIRM according to the action. */
static void answer(const char *action, int is_getpin)
{
    if (strcmp(action, "die") == 0) {
        kill(getpid(), SIGKILL);
    } else if (strcmp(action, "hang") == 0 || strcmp(action, "hang-hard") == 0) {
        if (action[4] == '-')
            signal(SIGTERM, SIG_IGN);
        for (;;)
            pause();
    } else if (strncmp(action, "delay ", 6) == 0) {
        const char *pin = strchr(action + 6, ' ');
        sleep((unsigned)atoi(action + 6));
        if (is_getpin)
            send_pin(pin ? pin + 1 : "");
        else
            reply("OK");
    } else if (strcmp(action, "timeout") == 0) {
        reply(TIMEOUT_ERR);
    } else if (strncmp(action, "pin ", 4) == 0 || strcmp(action, "empty") == 0) {
        if (is_getpin)
            send_pin(action[0] == 'p' ? action + 4 : "");
        else
            reply("OK");
    } else {
        reply(CANCELLED_ERR);
    }
}

/* Greets, records each command, answers GETPIN/CONFIRM per the script, OK to the rest. */
int main(void)
{
    char action[1024];
    next_action(action, sizeof(action));
    if (strcmp(action, "die-early") == 0)
        return 1;
    if (strcmp(action, "hang-early") == 0)
        for (;;)
            pause();
    reply("OK Pleased to meet you (scripted test pinentry)");
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        record(line);
        if (strcmp(line, "BYE") == 0) {
            reply("OK closing connection");
            break;
        }
        if (strcmp(line, "GETPIN") == 0)
            answer(action, 1);
        else if (strncmp(line, "CONFIRM", 7) == 0)
            answer(action, 0);
        else
            reply("OK");
    }
    return 0;
}
