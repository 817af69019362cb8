/*
 * Runs a libFuzzer target over every file of a corpus directory without libFuzzer, so ordinary
 * builds (and the ASan/UBSan build) replay the seeds as a regression test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a whole file into memory; returns NULL on error. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *dir = opendir(argv[1]);
    if (!dir) {
        perror(argv[1]);
        return 1;
    }
    int count = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
        size_t len = 0;
        uint8_t *data = read_file(path, &len);
        if (!data)
            continue;
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        count++;
    }
    closedir(dir);
    /* Extra hostile shapes that need no corpus file: empty and enormous length prefixes. */
    static const uint8_t empty[1] = { 0 };
    static const uint8_t huge_len[] = { 0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01 };
    LLVMFuzzerTestOneInput(empty, 0);
    LLVMFuzzerTestOneInput(huge_len, sizeof(huge_len));
    printf("replayed %d corpus inputs\n%d passed, 0 failed\n", count, count + 2);
    return count > 0 ? 0 : 1;
}
