// Split a boot command line into words, in place. Double quotes group words with spaces.
#include "board.h"

size_t board_split_cmdline(char *s, const char **argv, size_t max) {
    size_t n = 0;
    while (*s && n < max) {
        while (*s == ' ' || *s == '\t' || *s == '\n') {
            s++;
        }
        if (!*s) {
            break;
        }
        char *out = s;
        argv[n++] = out;
        int quoted = 0;
        while (*s && (quoted || (*s != ' ' && *s != '\t' && *s != '\n'))) {
            if (*s == '"') {
                quoted = !quoted;
                s++;
                continue;
            }
            *out++ = *s++;
        }
        if (*s) {
            s++;
        }
        *out = 0;
    }
    return n;
}
