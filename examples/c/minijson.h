/*
 * minijson.h: a tiny read-only JSON path reader, just enough for the C examples and tests
 * to pick values out of Pitstop's responses without a JSON library. A real host would use
 * the JSON library it already has (cJSON, jansson, 1C's own reader).
 *
 *   const char *v = mj_find(json, "result.lines.0.name");    // start of the value or NULL
 *   char name[256]; mj_text(json, "result.lines.0.name", name, sizeof name);
 *   long n = mj_count(json, "result.lines");                   // array length or -1
 *
 * Paths are object keys and array indices separated by dots. Strings are unescaped
 * (\uXXXX becomes UTF-8); other values are copied as written ("12", "true", "null").
 * The input must be well-formed JSON (Pitstop's responses always are).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef PITSTOP_MINIJSON_H
#define PITSTOP_MINIJSON_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static inline const char *mj_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
        p++;
    }
    return p;
}

/* p is at '"': returns the character after the closing quote, or NULL. */
static inline const char *mj_skip_string(const char *p) {
    p++;
    while (*p != '\0' && *p != '"') {
        if (*p == '\\' && p[1] != '\0') {
            p++;
        }
        p++;
    }
    return *p == '"' ? p + 1 : NULL;
}

/* Returns the character after the value at p, or NULL. */
static inline const char *mj_skip(const char *p) {
    p = mj_ws(p);
    if (*p == '"') {
        return mj_skip_string(p);
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (*p != '\0') {
            if (*p == '"') {
                p = mj_skip_string(p);
                if (p == NULL) {
                    return NULL;
                }
                continue;
            }
            if (*p == '{' || *p == '[') {
                depth++;
            } else if (*p == '}' || *p == ']') {
                depth--;
                if (depth == 0) {
                    return p + 1;
                }
            }
            p++;
        }
        return NULL;
    }
    while (*p != '\0' && strchr(",}] \n\r\t", *p) == NULL) {
        p++;
    }
    return p;
}

/* The start of the value at path, or NULL when it is absent. */
static inline const char *mj_find(const char *json, const char *path) {
    const char *p = mj_ws(json);
    while (*path != '\0') {
        size_t n = strcspn(path, ".");
        const char *key = path;
        path += n;
        if (*path == '.') {
            path++;
        }
        if (*p == '{') {
            int found = 0;
            p = mj_ws(p + 1);
            while (*p == '"') {
                const char *name = p + 1;
                const char *end = mj_skip_string(p);
                if (end == NULL) {
                    return NULL;
                }
                p = mj_ws(end);
                if (*p != ':') {
                    return NULL;
                }
                p = mj_ws(p + 1);
                if ((size_t)(end - 1 - name) == n && memcmp(name, key, n) == 0) {
                    found = 1;
                    break;
                }
                p = mj_skip(p);
                if (p == NULL) {
                    return NULL;
                }
                p = mj_ws(p);
                if (*p == ',') {
                    p = mj_ws(p + 1);
                }
            }
            if (!found) {
                return NULL;
            }
        } else if (*p == '[') {
            char digits[32];
            char *rest = NULL;
            long index;
            if (n == 0 || n >= sizeof digits) {
                return NULL;
            }
            memcpy(digits, key, n);
            digits[n] = '\0';
            index = strtol(digits, &rest, 10);
            if (*rest != '\0' || index < 0) {
                return NULL;
            }
            p = mj_ws(p + 1);
            for (long i = 0; i < index; i++) {
                if (*p == ']') {
                    return NULL;
                }
                p = mj_skip(p);
                if (p == NULL) {
                    return NULL;
                }
                p = mj_ws(p);
                if (*p == ',') {
                    p = mj_ws(p + 1);
                }
            }
            if (*p == ']') {
                return NULL;
            }
        } else {
            return NULL;
        }
    }
    return p;
}

static inline size_t mj_put_utf8(char *out, unsigned long code) {
    if (code < 0x80) {
        out[0] = (char)code;
        return 1;
    }
    if (code < 0x800) {
        out[0] = (char)(0xC0 | (code >> 6));
        out[1] = (char)(0x80 | (code & 0x3F));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = (char)(0xE0 | (code >> 12));
        out[1] = (char)(0x80 | ((code >> 6) & 0x3F));
        out[2] = (char)(0x80 | (code & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (code >> 18));
    out[1] = (char)(0x80 | ((code >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((code >> 6) & 0x3F));
    out[3] = (char)(0x80 | (code & 0x3F));
    return 4;
}

/*
 * Copy the value at path into out (at most cap - 1 bytes, always NUL-terminated).
 * Returns 1 when the value exists, 0 (and "") when it does not.
 */
static inline int mj_text(const char *json, const char *path, char *out, size_t cap) {
    const char *p = mj_find(json, path);
    size_t len = 0;
    if (cap == 0) {
        return p != NULL;
    }
    out[0] = '\0';
    if (p == NULL) {
        return 0;
    }
    if (*p != '"') {
        const char *end = mj_skip(p);
        size_t n = end == NULL ? 0 : (size_t)(end - p);
        if (n >= cap) {
            n = cap - 1;
        }
        memcpy(out, p, n);
        out[n] = '\0';
        return 1;
    }
    p++;
    while (*p != '\0' && *p != '"' && len + 4 < cap) {
        if (*p != '\\') {
            out[len++] = *p++;
            continue;
        }
        p++;
        switch (*p) {
        case 'n': out[len++] = '\n'; p++; break;
        case 't': out[len++] = '\t'; p++; break;
        case 'r': out[len++] = '\r'; p++; break;
        case 'b': out[len++] = '\b'; p++; break;
        case 'f': out[len++] = '\f'; p++; break;
        case 'u': {
            char hex[5] = {0};
            unsigned long code;
            memcpy(hex, p + 1, 4);
            code = strtoul(hex, NULL, 16);
            p += 5;
            if (code >= 0xD800 && code < 0xDC00 && p[0] == '\\' && p[1] == 'u') {
                unsigned long low;
                memcpy(hex, p + 2, 4);
                low = strtoul(hex, NULL, 16);
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                p += 6;
            }
            len += mj_put_utf8(out + len, code);
            break;
        }
        case '\0': break;
        default: out[len++] = *p++; break;
        }
    }
    out[len] = '\0';
    return 1;
}

/* The number of elements of the array at path, or -1 when it is not an array. */
static inline long mj_count(const char *json, const char *path) {
    const char *p = mj_find(json, path);
    long count = 0;
    if (p == NULL || *p != '[') {
        return -1;
    }
    p = mj_ws(p + 1);
    while (*p != ']') {
        p = mj_skip(p);
        if (p == NULL) {
            return -1;
        }
        count++;
        p = mj_ws(p);
        if (*p == ',') {
            p = mj_ws(p + 1);
        }
    }
    return count;
}

/* Whether the value at path is the literal true. */
static inline int mj_true(const char *json, const char *path) {
    const char *p = mj_find(json, path);
    return p != NULL && strncmp(p, "true", 4) == 0;
}

#endif /* PITSTOP_MINIJSON_H */
