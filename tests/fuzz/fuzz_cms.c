/*
 * libFuzzer target: arbitrary bytes through the CMS parse/verify entry, once as an attached
 * signature and once with detached content. Any outcome but a crash or a leak is fine.
 */
#include <stddef.h>
#include <stdint.h>

#include "gost.h"

/* One verification with the given content (NULL = rely on embedded content). */
static void verify_once(const uint8_t *data, size_t size, const uint8_t *content, size_t len)
{
    gs_cms_verify_opts o;
    gs_cms_verify_opts_init(&o);
    o.content = content;
    o.content_len = len;
    gs_cms_verify_result r;
    gs_status st;
    gs_cms_verify(data, size, &o, &r, &st);
    gs_cms_verify_result_clear(&r);
}

/* libFuzzer entry: both content modes over the same bytes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t content[] = "hello\n";
    verify_once(data, size, NULL, 0);
    verify_once(data, size, content, sizeof(content) - 1);
    return 0;
}
