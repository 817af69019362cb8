/*
 * gost/revocation.h as `gostsign doctor` uses it, on two test PKIs made by the openssl command
 * (one plain, one whose certificates carry AIA/CDP URLs pointing at a closed 127.0.0.1 port):
 * local CRL verdicts (good, revoked with its date, foreign issuer, damaged, expired), URL
 * extraction, the cache path, no source, and an unreachable responder. Live OCSP/HTTP answers are
 * covered by tests/integration/revocation_online.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gost.h"

static char dir[256], plain[300], urls[300];
static int closed_port;

/* A port on 127.0.0.1 nobody listens on (bound, then released). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

/* Group setup: the two PKIs. */
static int make_pkis(void **state)
{
    (void)state;
    const char *root = getenv("SOURCE_ROOT");
    snprintf(dir, sizeof(dir), "%s/gostsign-test-rev.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!root || !mkdtemp(dir) || (closed_port = free_port()) <= 0)
        return -1;
    snprintf(plain, sizeof(plain), "%s/plain", dir);
    snprintf(urls, sizeof(urls), "%s/urls", dir);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "bash '%s/tests/data/make-test-pki.sh' '%s' >/dev/null && "
             "PKI_OCSP_URL=http://127.0.0.1:%d/ocsp PKI_CRL_URL=http://127.0.0.1:%d/ca.crl "
             "bash '%s/tests/data/make-test-pki.sh' '%s' >/dev/null",
             root, plain, closed_port, closed_port, root, urls);
    gs_status st;
    return system(cmd) == 0 && gost_init(&st) == GS_ERR_OK ? 0 : -1;
}

/* Group teardown. */
static int remove_pkis(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Reads DIR/NAME.pem. */
static X509 *load(const char *pki, const char *name)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s.pem", pki, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    return x;
}

/* Checks NAME of the plain PKI against its ca.crl (or another file) at `now`. */
static gs_code check_with_crl(const char *name, const char *issuer_name, const char *crl,
                              time_t now, gs_revocation_result *r)
{
    X509 *cert = load(plain, name), *issuer = load(plain, issuer_name);
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", plain, crl);
    gs_revocation_opts o;
    gs_revocation_opts_init(&o);
    o.crl_file = path;
    o.now = now;
    gs_status st;
    gs_status_clear(&st); /* a success leaves the status untouched */
    gs_code rc = gs_revocation_check(cert, issuer, &o, r, &st);
    assert_int_equal(st.code, rc);
    X509_free(cert);
    X509_free(issuer);
    return rc;
}

/* Good and revoked from the CA's CRL (written by `openssl ca -gencrl`). */
static void test_local_crl(void **state)
{
    (void)state;
    gs_revocation_result r;
    assert_int_equal(check_with_crl("employee", "ca", "ca.crl", 0, &r), GS_ERR_OK);
    assert_true(r.crl.consulted);
    assert_false(r.ocsp.consulted);
    assert_string_equal(gs_revocation_word(&r.crl), "good");
    assert_string_equal(gs_revocation_word(&r.ocsp), "not_checked");
    assert_int_equal(check_with_crl("revoked", "ca", "ca.crl", 0, &r), GS_ERR_CERT_REVOKED);
    assert_true(r.crl.revoked_at > 1700000000);
    assert_true(r.crl.next_update > r.crl.this_update);
    assert_string_equal(gs_revocation_word(&r.crl), "revoked");
}

/* A CRL not issued by the given issuer, a damaged file, and a CRL past its nextUpdate. */
static void test_unusable_crl(void **state)
{
    (void)state;
    gs_revocation_result r;
    assert_int_equal(check_with_crl("employee", "other", "ca.crl", 0, &r), GS_ERR_CRL_INVALID);
    assert_int_equal(check_with_crl("employee", "ca", "ca.pem", 0, &r), GS_ERR_CRL_INVALID);
    assert_string_equal(gs_revocation_word(&r.crl), "invalid");
    /* ca.crl is valid for 3650 days: in 2060 it has long expired */
    assert_int_equal(check_with_crl("employee", "ca", "ca.crl", 2840140800, &r),
                     GS_ERR_CRL_INVALID);
}

/* AIA/CDP URLs are read from the certificates that have them, and absent otherwise. */
static void test_urls(void **state)
{
    (void)state;
    char want[100];
    X509 *with = load(urls, "employee"), *without = load(plain, "employee");
    char *crl = gs_cert_crl_url(with), *ocsp = gs_cert_ocsp_url(with);
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/ca.crl", closed_port);
    assert_string_equal(crl, want);
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/ocsp", closed_port);
    assert_string_equal(ocsp, want);
    assert_null(gs_cert_crl_url(without));
    assert_null(gs_cert_ocsp_url(without));
    free(crl);
    free(ocsp);
    X509_free(with);
    X509_free(without);
}

/* The cache file lives in $XDG_CACHE_HOME/gostsign/crl, named by the URL's Streebog hash. */
static void test_cache_path(void **state)
{
    (void)state;
    gs_revocation_opts o;
    gs_revocation_opts_init(&o);
    char a[600], b[600], prefix[400];
    setenv("XDG_CACHE_HOME", dir, 1);
    assert_int_equal(gs_crl_cache_path(&o, "http://a/ca.crl", a, sizeof(a)), 0);
    assert_int_equal(gs_crl_cache_path(&o, "http://b/ca.crl", b, sizeof(b)), 0);
    snprintf(prefix, sizeof(prefix), "%s/gostsign/crl/", dir);
    assert_memory_equal(a, prefix, strlen(prefix));
    assert_int_equal(strlen(a), strlen(prefix) + 64 + 4);
    assert_string_not_equal(a, b);
    o.cache_dir = "/elsewhere";
    assert_int_equal(gs_crl_cache_path(&o, "http://a/ca.crl", a, sizeof(a)), 0);
    assert_memory_equal(a, "/elsewhere/", 11);
}

/* Nothing to consult is "unknown", not a pass. */
static void test_no_source(void **state)
{
    (void)state;
    X509 *cert = load(plain, "employee"), *issuer = load(plain, "ca");
    gs_revocation_result r;
    gs_status st;
    assert_int_equal(gs_revocation_check(cert, issuer, NULL, &r, &st), GS_ERR_REVOCATION_UNKNOWN);
    gs_revocation_opts o;
    gs_revocation_opts_init(&o);
    o.use_ocsp = o.use_crl_dp = 1; /* the plain PKI names no responder and no CDP */
    assert_int_equal(gs_revocation_check(cert, issuer, &o, &r, &st), GS_ERR_REVOCATION_UNKNOWN);
    assert_int_equal(gs_revocation_check(cert, NULL, &o, &r, &st), GS_ERR_INTERNAL);
    X509_free(cert);
    X509_free(issuer);
}

/* A closed port: both online sources unreachable, and the combined verdict says so. */
static void test_unreachable(void **state)
{
    (void)state;
    X509 *cert = load(urls, "employee"), *issuer = load(urls, "ca");
    gs_revocation_opts o;
    gs_revocation_opts_init(&o);
    o.use_ocsp = o.use_crl_dp = 1;
    o.no_cache = 1;
    o.timeout_seconds = 3;
    gs_revocation_result r;
    gs_status st;
    assert_int_equal(gs_revocation_check(cert, issuer, &o, &r, &st), GS_ERR_REVOCATION_UNREACHABLE);
    assert_string_equal(gs_revocation_word(&r.ocsp), "unreachable");
    assert_string_equal(gs_revocation_word(&r.crl), "unreachable");
    /* with the local CRL as well, its verdict wins over the unreachable responder */
    char path[400];
    snprintf(path, sizeof(path), "%s/ca.crl", urls);
    o.crl_file = path;
    assert_int_equal(gs_revocation_check(cert, issuer, &o, &r, &st), GS_ERR_OK);
    X509_free(cert);
    X509_free(issuer);
}

/* Test entry point. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_crl), cmocka_unit_test(test_unusable_crl),
        cmocka_unit_test(test_urls),      cmocka_unit_test(test_cache_path),
        cmocka_unit_test(test_no_source), cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, make_pkis, remove_pkis);
}
