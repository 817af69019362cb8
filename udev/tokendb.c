/* Look-ups in the generated table of known tokens (see tokendb.h). */
#include "tokendb.h"

#include <string.h>

/* Linear search: the table has a few dozen entries and is read once per device. */
const gs_token_model *gs_token_model_find(uint16_t vendor_id, uint16_t product_id)
{
    for (size_t i = 0; i < gs_token_model_count; i++)
        if (gs_token_model_table[i].vendor_id == vendor_id &&
            gs_token_model_table[i].product_id == product_id)
            return &gs_token_model_table[i];
    return NULL;
}

/* The driver kind decides which Info.plist the doctor reads. */
int gs_token_model_is_ccid(const gs_token_model *m)
{
    return m && strcmp(m->driver, "ccid") == 0;
}
