/*
 * What `gostsign trust` and its helper gostsign-trust-update (the one action that reads XML)
 * share: the options, their parsing and help, and how a date is printed (cli/cmd_trust_args.c).
 */
#ifndef GOSTSIGN_CMD_TRUST_H
#define GOSTSIGN_CMD_TRUST_H

#include <stddef.h>
#include <time.h>

#define TRUST_USAGE                                                                                \
    "gostsign trust update [--tsl FILE | --online [--url URL] [--tls-ca-file FILE]\n"              \
    "                      [--timeout S]] [--system]\n"                                            \
    "       gostsign trust list [--all] [--json] [--system]\n"                                     \
    "       gostsign trust show NAME|INN|OGRN [--system]\n"                                        \
    "       gostsign trust status [--json]"

/* Options of every action. */
typedef struct {
    const char *tsl, *url, *tls_ca;
    int online, system, all, json, timeout;
    const char *query;
} trust_args;

/* The help page of `gostsign trust`. */
void trust_print_help(void);
/* Parses the options after the action; returns -1 to go on, or an exit status. */
int trust_parse_args(int argc, char **argv, trust_args *a);
/* A date as YYYY-MM-DD in Moscow time (UTC+3, as the list gives its dates), "—" for 0. */
void trust_day(time_t t, char *out, size_t cap);

#endif
