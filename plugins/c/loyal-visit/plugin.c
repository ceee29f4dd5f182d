/*
 * Loyal visit: a Pitstop plugin written in C, to show the ABI is language-neutral
 * (plugins/ABI.md). No libc, no imports: a bump heap, a tiny JSON scanner, and output
 * written by hand.
 *
 *  - checkout: every Nth counted visit earns bonus points; the cashier is told when the
 *    next visit is the rewarded one.
 *  - registration: a customer who came by a given source (a referral) gets welcome
 *    points and a tag.
 *
 * Config: {"every": 5, "points": "500", "welcome_source": "referral", "welcome_points": "200"}
 *
 * Build: python3 -m ziglang cc --target=wasm32-freestanding -O2 -nostdlib \
 *          -Wl,--no-entry -o loyal_visit.wasm plugin.c
 */

typedef unsigned int u32;
typedef unsigned long long u64;

#define EXPORT(name) __attribute__((export_name(name)))

/* ---- memory: a bump heap; every call runs on a fresh instance ---- */

static unsigned char heap[256 * 1024];
static u32 heap_used;

EXPORT("pitstop_alloc") void *pitstop_alloc(int size) {
    u32 want = (u32)(size > 0 ? size : 1);
    u32 start = (heap_used + 7u) & ~7u;
    if (start + want > sizeof heap || start + want < start) return 0;
    heap_used = start + want;
    return heap + start;
}

EXPORT("pitstop_abi_version_1") void pitstop_abi_version_1(void) {}

/* ---- a tiny JSON scanner over the host's (well-formed) input ---- */

typedef struct { const char *p; const char *end; } cursor;

static void skip_ws(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t')) c->p++;
}

static int skip_string(cursor *c) {
    if (c->p >= c->end || *c->p != '"') return 0;
    c->p++;
    while (c->p < c->end) {
        if (*c->p == '\\') c->p += 2;
        else if (*c->p == '"') { c->p++; return 1; }
        else c->p++;
    }
    return 0;
}

static int skip_value(cursor *c, int depth) {
    skip_ws(c);
    if (c->p >= c->end || depth > 32) return 0;
    char open = *c->p;
    if (open == '"') return skip_string(c);
    if (open == '{' || open == '[') {
        char close = open == '{' ? '}' : ']';
        c->p++;
        skip_ws(c);
        if (c->p < c->end && *c->p == close) { c->p++; return 1; }
        for (;;) {
            skip_ws(c);
            if (open == '{') {
                if (!skip_string(c)) return 0;
                skip_ws(c);
                if (c->p >= c->end || *c->p != ':') return 0;
                c->p++;
            }
            if (!skip_value(c, depth + 1)) return 0;
            skip_ws(c);
            if (c->p < c->end && *c->p == ',') { c->p++; continue; }
            if (c->p < c->end && *c->p == close) { c->p++; return 1; }
            return 0;
        }
    }
    while (c->p < c->end && *c->p != ',' && *c->p != '}' && *c->p != ']' && *c->p != ' ' && *c->p != '\n') c->p++;
    return 1;
}

static u32 length(const char *s) { u32 n = 0; while (s[n]) n++; return n; }

static int same(const char *a, u32 n, const char *b) {
    if (length(b) != n) return 0;
    for (u32 i = 0; i < n; i++) if (a[i] != b[i]) return 0;
    return 1;
}

/* Position the cursor on the value of `key` in the object under the cursor. */
static int find(cursor *c, const char *key) {
    skip_ws(c);
    if (c->p >= c->end || *c->p != '{') return 0;
    c->p++;
    for (;;) {
        skip_ws(c);
        if (c->p >= c->end || *c->p == '}') return 0;
        const char *name = c->p + 1;
        if (!skip_string(c)) return 0;
        u32 n = (u32)(c->p - 1 - name);
        skip_ws(c);
        if (c->p >= c->end || *c->p != ':') return 0;
        c->p++;
        skip_ws(c);
        if (same(name, n, key)) return 1;
        if (!skip_value(c, 0)) return 0;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') c->p++;
    }
}

/* Value at a path of keys from the top object. */
static int lookup(const char *json, u32 len, const char *first, const char *second, cursor *out) {
    cursor c = { json, json + len };
    if (!find(&c, first)) return 0;
    if (second && !find(&c, second)) return 0;
    *out = c;
    return 1;
}

static long long read_int(cursor c, long long fallback) {
    if (c.p < c.end && *c.p == '"') c.p++;
    if (c.p >= c.end || *c.p < '0' || *c.p > '9') return fallback;
    long long value = 0;
    while (c.p < c.end && *c.p >= '0' && *c.p <= '9' && value < 1000000000) value = value * 10 + (*c.p++ - '0');
    return value;
}

/* ---- output ---- */

static char out[4096];
static u32 out_len;

static void put(const char *s) {
    while (*s && out_len < sizeof out) out[out_len++] = *s++;
}

static void put_int(long long v) {
    char digits[24];
    int n = 0;
    if (v == 0) digits[n++] = '0';
    while (v > 0 && n < 20) { digits[n++] = (char)('0' + v % 10); v /= 10; }
    while (n > 0 && out_len < sizeof out) out[out_len++] = digits[--n];
}

static long long result(void) {
    return (long long)(((u64)(u32)out << 32) | (u64)out_len);
}

EXPORT("pitstop_checkout") long long pitstop_checkout(const char *input, int len) {
    cursor c;
    long long every = lookup(input, (u32)len, "config", "every", &c) ? read_int(c, 0) : 0;
    long long points = lookup(input, (u32)len, "config", "points", &c) ? read_int(c, 0) : 0;
    long long visits = lookup(input, (u32)len, "customer", "visits", &c) ? read_int(c, -1) : -1;
    out_len = 0;
    if (every < 2 || points <= 0 || visits < 0) {
        put("{\"error\":{\"code\":\"bad_config\",\"message\":\"every >= 2 and points > 0 are required\"}}");
        return result();
    }
    long long this_visit = visits + 1;
    put("{\"effects\":[");
    if (this_visit % every == 0) {
        put("{\"type\":\"bonus_points\",\"points\":\"");
        put_int(points);
        put("\",\"reason\":\"визит №");
        put_int(this_visit);
        put("\"},{\"type\":\"message\",\"to\":\"customer\",\"text\":\"Спасибо за верность: каждый ");
        put_int(every);
        put("-й визит приносит ");
        put_int(points);
        put(" бонусных баллов\"}");
    } else if ((this_visit + 1) % every == 0) {
        put("{\"type\":\"message\",\"to\":\"cashier\",\"text\":\"Следующий визит клиента — подарочный (");
        put_int(points);
        put(" баллов)\"}");
    }
    put("]}");
    return result();
}

EXPORT("pitstop_registration") long long pitstop_registration(const char *input, int len) {
    cursor c, source;
    long long points = lookup(input, (u32)len, "config", "welcome_points", &c) ? read_int(c, 0) : 0;
    out_len = 0;
    put("{\"effects\":[");
    if (points > 0 && lookup(input, (u32)len, "config", "welcome_source", &c) &&
        lookup(input, (u32)len, "customer", "source", &source)) {
        const char *want = c.p;
        cursor end = c;
        skip_string(&end);
        u32 n = (u32)(end.p - want);
        int equal = *want == '"' && (u32)(source.end - source.p) >= n;
        for (u32 i = 0; equal && i < n; i++) equal = want[i] == source.p[i];
        if (equal) {
            put("{\"type\":\"bonus_points\",\"points\":\"");
            put_int(points);
            put("\",\"reason\":\"приветственный бонус по рекомендации\"},");
            put("{\"type\":\"add_tags\",\"tags\":[\"referral\"]},");
            put("{\"type\":\"message\",\"to\":\"customer\",\"text\":\"Добро пожаловать! Вам начислены приветственные баллы\"}");
        }
    }
    put("]}");
    return result();
}
