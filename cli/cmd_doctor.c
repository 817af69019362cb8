/*
 * `gostsign doctor [--json] [--test-sign] [--report FILE]`: walks the layers from the USB port to
 * the browser and prints a verdict with a fix for each. Exit status: 0 when nothing is wrong,
 * DOCTOR_WARNINGS (90) for warnings only, DOCTOR_FAILED (91) when a check failed.
 * Built into the helper program gostsign-doctor (cli/gostsign_doctor.c), which `gostsign doctor`
 * runs: libudev and pcsc-lite are loaded for the doctor only.
 */
#include "cli.h"
#include "doctor.h"
#include "gost.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define DOCTOR_USAGE                                                                               \
    "gostsign doctor [--json] [--test-sign [--cert ID]] [--report FILE] [--ca-dir DIR] [--module " \
    "PATH]... "                                                                                    \
    "[--no-p11-kit]"

/* --help text. */
static void doctor_help(void)
{
    printf("usage: %s\n\n"
           "Checks, in order: USB devices, device permissions, pcscd with readers and cards, the\n"
           "reader driver (libccid or the vendor's), PKCS#11 modules, tokens and PIN state,\n"
           "certificates, the agent, browsers and, with --test-sign, one real signature.\n\n"
           "  --json          machine-readable output (docs/doctor-json.md, \"schema\": 1)\n"
           "  --test-sign     sign a test text through the agent and verify it (asks the PIN)\n"
           "  --cert ID       the certificate for --test-sign (needed with several)\n"
           "  --report FILE   also write a support bundle (JSON: versions, config, this report,\n"
           "                  the agent's recent errors and log lines; never a PIN or a key)\n"
           "  --ca-dir DIR    trust directory for the certificate chain check\n"
           "  --module PATH   also check this PKCS#11 module (repeatable)\n"
           "  --no-p11-kit    ignore modules registered with p11-kit and known vendor modules\n\n"
           "Exit status: 0 ok, %d warnings only, %d a check failed.\n",
           DOCTOR_USAGE, GS_ERR_DOCTOR_WARNINGS, GS_ERR_DOCTOR_FAILED);
}

/* Parses the options into opts; returns -1 for --help, an exit code > 0 on a usage error. */
static int parse_doctor_args(int argc, char **argv, doctor_opts *o)
{
    static const struct option longopts[] = {
        { "json", no_argument, NULL, 'j' },
        { "test-sign", no_argument, NULL, 't' },
        { "report", required_argument, NULL, 'r' },
        { "ca-dir", required_argument, NULL, 'd' },
        { "module", required_argument, NULL, 'm' },
        { "no-p11-kit", no_argument, NULL, 'n' },
        { "cert", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'j':
            o->json = 1;
            break;
        case 't':
            o->test_sign = 1;
            break;
        case 'c':
            o->test_cert = optarg;
            break;
        case 'r':
            o->report_path = optarg;
            break;
        case 'd':
            o->ca_dir = optarg;
            break;
        case 'n':
            o->no_registry = 1;
            break;
        case 'm':
            if (o->module_count == DOCTOR_MAX_MODULES)
                return cli_usage_error(DOCTOR_USAGE, "too many --module options");
            o->modules[o->module_count++] = optarg;
            break;
        case 'h':
            return -1;
        default:
            return cli_usage_error(DOCTOR_USAGE, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage_error(DOCTOR_USAGE, "unexpected argument '%s'", argv[optind]);
    if (o->test_cert && !o->test_sign)
        return cli_usage_error(DOCTOR_USAGE, "--cert goes with --test-sign");
    return 0;
}

/* The walk, in the order a signature travels from the port to the page. */
static void run_layers(doctor_ctx *ctx)
{
    doctor_layer_usb(ctx);
    doctor_layer_permissions(ctx);
    doctor_layer_pcsc(ctx);
    doctor_layer_driver(ctx);
    doctor_layer_pkcs11(ctx);
    doctor_layer_agent(ctx);
    doctor_layer_browsers(ctx);
    doctor_layer_test_sign(ctx);
}

int cmd_doctor(int argc, char **argv)
{
    doctor_opts opts;
    memset(&opts, 0, sizeof(opts));
    char cli_program[PATH_MAX];
    cli_main_program(cli_program, sizeof(cli_program));
    opts.cli_program = cli_program;
    int rc = parse_doctor_args(argc, argv, &opts);
    if (rc < 0) {
        doctor_help();
        return 0;
    }
    if (rc > 0)
        return rc;
    gs_status st;
    if (gost_init(&st) != GS_ERR_OK)
        return cli_report(&st);
    doctor_ctx ctx;
    doctor_ctx_init(&ctx, &opts);
    run_layers(&ctx);
    if (opts.json) {
        json_object *j = doctor_to_json(&ctx);
        printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
        json_object_put(j);
    } else {
        doctor_print_text(&ctx, stdout, cli_russian());
    }
    int exit_code = doctor_exit_code(&ctx);
    if (opts.report_path && doctor_write_bundle(&ctx, opts.report_path, &st) != 0)
        exit_code = cli_report(&st);
    doctor_ctx_free(&ctx);
    return exit_code;
}
