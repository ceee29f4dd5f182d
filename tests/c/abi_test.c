/*
 * abi_test.c: the C ABI of libpitstop tested from C, the way a host uses it.
 *
 * Every exported function, every error path (NULL pointers, invalid UTF-8, bad and
 * oversized JSON, unknown operations, wrong types, a closed handle, a store opened twice),
 * and concurrent calls from several pthreads on one handle, including a close racing with
 * them. `make c-test` runs it under valgrind, which must report no errors and no definite
 * leaks.
 *
 *   abi_test DIR     (DIR is created if missing; the test makes its stores inside it)
 *
 * Prints "N passed, M failed" and exits non-zero when anything failed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "minijson.h"
#include "pitstop.h"

static atomic_int passed;
static atomic_int failed;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (cond) {                                                                            \
            atomic_fetch_add(&passed, 1);                                                      \
        } else {                                                                               \
            atomic_fetch_add(&failed, 1);                                                      \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);           \
        }                                                                                      \
    } while (0)

static char base_dir[1024];

static void store_path(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", base_dir, name);
}

#define PROGRAM                                                                                \
    "{\"op\": \"program.set\", \"args\": {\"program\": {\"name\": \"Тест\","                   \
    " \"timezone\": \"Europe/Moscow\", \"accrual\": {\"rate_percent\": \"5\"},"                \
    " \"redemption\": {\"kinds\": [\"labor\", \"part\", \"goods\"], \"cap_percent\": \"50\"}," \
    " \"expiry_months\": 12, \"pending_days\": 0,"                                             \
    " \"welcome_bonus\": {\"points\": \"100\", \"expiry_days\": 365}}}}"

/*
 * Check that a response is well-formed for its status: present, `ok` true exactly on
 * success, and for contract statuses (100 and up) `error.code` equal to the status name.
 */
static void check_response(pitstop_status status, const char *response) {
    CHECK(response != NULL);
    if (response == NULL) {
        return;
    }
    CHECK(response[0] == '{');
    CHECK(mj_true(response, "ok") == (status == PITSTOP_STATUS_OK));
    if (status != PITSTOP_STATUS_OK) {
        char code[64];
        char message[16];
        CHECK(mj_text(response, "error.code", code, sizeof code));
        CHECK(mj_text(response, "error.message", message, sizeof message));
        CHECK(mj_find(response, "error.details") != NULL);
        if (status >= 100) {
            CHECK(strcmp(code, pitstop_status_name(status)) == 0);
        }
    }
}

/* Execute `request`, expect `expected`; returns the response for the caller to free. */
static char *expect(const pitstop_engine *engine, const char *request, pitstop_status expected) {
    char *response = (char *)"sentinel";
    pitstop_status status = pitstop_execute(&response, engine, request);
    if (status != expected) {
        fprintf(stderr, "expected %s, got %s for %.200s\n  -> %.400s\n",
                pitstop_status_name(expected), pitstop_status_name(status),
                request ? request : "(NULL)", response ? response : "(NULL)");
    }
    CHECK(status == expected);
    check_response(status, response);
    return response;
}

static void expect_and_free(const pitstop_engine *engine, const char *request,
                            pitstop_status expected) {
    pitstop_string_free(expect(engine, request, expected));
}

static pitstop_engine *open_ok(const char *name, const char *options) {
    char path[4200];
    pitstop_engine *engine = NULL;
    char *error = (char *)"sentinel";
    store_path(path, sizeof path, name);
    pitstop_status status = pitstop_open(&engine, &error, path, options);
    if (status != PITSTOP_STATUS_OK) {
        fprintf(stderr, "open %s: %s %s\n", path, pitstop_status_name(status),
                error ? error : "");
    }
    CHECK(status == PITSTOP_STATUS_OK);
    CHECK(engine != NULL);
    CHECK(error == NULL);
    pitstop_string_free(error);
    return engine;
}

static void test_versions(void) {
    const char *version = pitstop_version();
    CHECK(version != NULL && version[0] >= '0' && version[0] <= '9');
    CHECK(strchr(version, '.') != NULL);
    CHECK(pitstop_version() == version);
    CHECK(pitstop_abi_version() == PITSTOP_ABI_VERSION);
    CHECK(PITSTOP_ABI_VERSION == 1);
}

static void test_status_names(void) {
    static const struct {
        int32_t value;
        const char *name;
    } published[] = {
        {PITSTOP_STATUS_OK, "ok"},
        {PITSTOP_STATUS_NULL_ARGUMENT, "null_argument"},
        {PITSTOP_STATUS_INVALID_UTF8, "invalid_utf8"},
        {PITSTOP_STATUS_PANIC, "panic"},
        {PITSTOP_STATUS_ERROR, "error"},
        {PITSTOP_STATUS_INVALID_REQUEST, "invalid_request"},
        {PITSTOP_STATUS_UNKNOWN_OPERATION, "unknown_operation"},
        {PITSTOP_STATUS_INVALID_ARGUMENT, "invalid_argument"},
        {PITSTOP_STATUS_NOT_FOUND, "not_found"},
        {PITSTOP_STATUS_ALREADY_EXISTS, "already_exists"},
        {PITSTOP_STATUS_INSUFFICIENT_POINTS, "insufficient_points"},
        {PITSTOP_STATUS_IDEMPOTENCY_CONFLICT, "idempotency_conflict"},
        {PITSTOP_STATUS_INVALID_PROGRAM, "invalid_program"},
        {PITSTOP_STATUS_NO_PROGRAM, "no_program"},
        {PITSTOP_STATUS_BLOCKED, "blocked"},
        {PITSTOP_STATUS_REFUND_EXCEEDS_VISIT, "refund_exceeds_visit"},
        {PITSTOP_STATUS_HOLD_NOT_ACTIVE, "hold_not_active"},
        {PITSTOP_STATUS_TOO_LARGE, "too_large"},
        {PITSTOP_STATUS_LOCKED, "locked"},
        {PITSTOP_STATUS_CORRUPTED, "corrupted"},
        {PITSTOP_STATUS_UNSUPPORTED_VERSION, "unsupported_version"},
        {PITSTOP_STATUS_IO, "io"},
        {PITSTOP_STATUS_CLOSED, "closed"},
        {PITSTOP_STATUS_PLUGIN_FAILED, "plugin_failed"},
        {PITSTOP_STATUS_INTERNAL, "internal"},
        {PITSTOP_STATUS_UNAVAILABLE, "unavailable"},
        {PITSTOP_STATUS_ACCESS_DENIED, "access_denied"},
    };
    /* The numbers are the ABI: they never change. */
    CHECK(PITSTOP_STATUS_OK == 0);
    CHECK(PITSTOP_STATUS_PANIC == 3);
    CHECK(PITSTOP_STATUS_INVALID_REQUEST == 100);
    CHECK(PITSTOP_STATUS_INTERNAL == 119);
    CHECK(sizeof(pitstop_status) == sizeof(int32_t));
    for (size_t i = 0; i < sizeof published / sizeof published[0]; i++) {
        CHECK(strcmp(pitstop_status_name(published[i].value), published[i].name) == 0);
    }
    CHECK(strcmp(pitstop_status_name(5), "unknown") == 0);
    CHECK(strcmp(pitstop_status_name(-1), "unknown") == 0);
    CHECK(strcmp(pitstop_status_name(99), "unknown") == 0);
    CHECK(strcmp(pitstop_status_name(INT32_MAX), "unknown") == 0);
    CHECK(strcmp(pitstop_status_name(INT32_MIN), "unknown") == 0);
}

static void expect_open_failure(const char *path, const char *options, pitstop_status expected,
                                const char *code) {
    pitstop_engine *engine = (pitstop_engine *)&engine;
    char *error = NULL;
    pitstop_status status = pitstop_open(&engine, &error, path, options);
    if (status != expected) {
        fprintf(stderr, "open(%s, %s): expected %s, got %s: %s\n", path ? path : "NULL",
                options ? options : "NULL", pitstop_status_name(expected),
                pitstop_status_name(status), error ? error : "");
    }
    CHECK(status == expected);
    CHECK(engine == NULL);
    check_response(status, error);
    if (error != NULL && code != NULL) {
        char found[64];
        mj_text(error, "error.code", found, sizeof found);
        CHECK(strcmp(found, code) == 0);
    }
    pitstop_string_free(error);
    /* Without error_out: the status alone. */
    engine = (pitstop_engine *)&engine;
    CHECK(pitstop_open(&engine, NULL, path, options) == expected);
    CHECK(engine == NULL);
}

static void test_open_errors(void) {
    char path[4200];
    char other[4200];
    char *error = (char *)"sentinel";
    store_path(path, sizeof path, "open-errors");

    /* NULL out-parameter for the handle: nothing to write the handle to. */
    CHECK(pitstop_open(NULL, &error, path, NULL) == PITSTOP_STATUS_NULL_ARGUMENT);
    check_response(PITSTOP_STATUS_NULL_ARGUMENT, error);
    CHECK(error != NULL && strstr(error, "engine_out") != NULL);
    pitstop_string_free(error);
    CHECK(pitstop_open(NULL, NULL, path, NULL) == PITSTOP_STATUS_NULL_ARGUMENT);

    expect_open_failure(NULL, NULL, PITSTOP_STATUS_NULL_ARGUMENT, "invalid_argument");
    expect_open_failure("", NULL, PITSTOP_STATUS_INVALID_ARGUMENT, "invalid_argument");
    expect_open_failure("\xff\xfe/store", NULL, PITSTOP_STATUS_INVALID_UTF8, "invalid_argument");
    expect_open_failure(path, "{", PITSTOP_STATUS_INVALID_ARGUMENT, "invalid_argument");
    /* A PostgreSQL connection string is a store too; nothing listens on port 1. */
    expect_open_failure("postgresql://pitstop@127.0.0.1:1/shop?connect_timeout=3", NULL,
                        PITSTOP_STATUS_UNAVAILABLE, "unavailable");
    expect_open_failure(path, "[1, 2]", PITSTOP_STATUS_INVALID_ARGUMENT, "invalid_argument");
    expect_open_failure(path, "{\"durability\": 5}", PITSTOP_STATUS_INVALID_ARGUMENT,
                        "invalid_argument");
    expect_open_failure(path, "{\"durability\": \"sometimes\"}",
                        PITSTOP_STATUS_INVALID_ARGUMENT, "invalid_argument");
    expect_open_failure(path, "{\"no_such_option\": true}", PITSTOP_STATUS_INVALID_ARGUMENT,
                        "invalid_argument");
    expect_open_failure(path, "{\"cache_capacity_bytes\": 1}", PITSTOP_STATUS_INVALID_ARGUMENT,
                        "invalid_argument");
    expect_open_failure(path, "{\"durability\": \"\xc3\x28\"}", PITSTOP_STATUS_INVALID_UTF8,
                        "invalid_argument");
    {
        size_t size = 100 * 1024;
        char *huge = malloc(size + 1);
        memset(huge, ' ', size);
        huge[0] = '{';
        huge[size - 1] = '}';
        huge[size] = '\0';
        expect_open_failure(path, huge, PITSTOP_STATUS_TOO_LARGE, "too_large");
        free(huge);
    }

    /* A directory that exists but is not a store. */
    store_path(other, sizeof other, "not-a-store");
    CHECK(mkdir(other, 0700) == 0 || errno == EEXIST);
    {
        char file[4300];
        FILE *f;
        snprintf(file, sizeof file, "%s/readme.txt", other);
        f = fopen(file, "w");
        CHECK(f != NULL);
        if (f != NULL) {
            fputs("not a store\n", f);
            fclose(f);
        }
        expect_open_failure(other, NULL, PITSTOP_STATUS_NOT_FOUND, "not_found");
        /* A path under a regular file cannot be created. */
        snprintf(file, sizeof file, "%s/readme.txt/store", other);
        {
            pitstop_engine *engine = NULL;
            pitstop_status status = pitstop_open(&engine, &error, file, NULL);
            CHECK(status != PITSTOP_STATUS_OK);
            CHECK(engine == NULL);
            check_response(status, error);
            pitstop_string_free(error);
        }
    }

    /* NULL and "" options are the defaults; so is "{}". */
    {
        pitstop_engine *engine = open_ok("open-defaults-null", NULL);
        pitstop_engine_free(engine);
        engine = open_ok("open-defaults-empty", "");
        pitstop_engine_free(engine);
        engine = open_ok("open-defaults-object", "{}");
        pitstop_engine_free(engine);
        engine = open_ok("open-import", "{\"durability\": \"import\", \"cache_capacity_bytes\": "
                                        "16777216, \"request_bytes_max\": 4096}");
        pitstop_engine_free(engine);
    }
}

static void test_double_open(void) {
    char path[4200];
    char spelled_otherwise[4096];
    char *error = NULL;
    pitstop_engine *second = (pitstop_engine *)&second;
    pitstop_engine *first = open_ok("double-open", NULL);
    store_path(path, sizeof path, "double-open");
    snprintf(spelled_otherwise, sizeof spelled_otherwise, "%s/./../%s/./double-open", base_dir,
             strrchr(base_dir, '/') ? strrchr(base_dir, '/') + 1 : base_dir);

    /* One store, one handle: a second open is refused at once, however it is spelled. */
    CHECK(pitstop_open(&second, &error, path, NULL) == PITSTOP_STATUS_LOCKED);
    CHECK(second == NULL);
    check_response(PITSTOP_STATUS_LOCKED, error);
    pitstop_string_free(error);
    second = (pitstop_engine *)&second;
    CHECK(pitstop_open(&second, &error, spelled_otherwise, NULL) == PITSTOP_STATUS_LOCKED);
    CHECK(second == NULL);
    pitstop_string_free(error);

    /* After close the store can be opened again, even while the old handle is alive. */
    CHECK(pitstop_close(&error, first) == PITSTOP_STATUS_OK);
    CHECK(error == NULL);
    second = open_ok("double-open", NULL);
    CHECK(second != NULL);
    expect_and_free(first, "{\"op\": \"store.stats\"}", PITSTOP_STATUS_CLOSED);
    expect_and_free(second, "{\"op\": \"store.stats\"}", PITSTOP_STATUS_OK);
    pitstop_engine_free(first);
    pitstop_engine_free(second);

    /* Freeing without closing closes too: the store is free again. */
    first = open_ok("double-open", NULL);
    pitstop_engine_free(first);
    first = open_ok("double-open", NULL);
    pitstop_engine_free(first);
}

static void test_execute_errors(void) {
    pitstop_engine *engine = open_ok("execute-errors", NULL);
    char *response = (char *)"sentinel";

    /* NULL pointers. */
    CHECK(pitstop_execute(NULL, engine, "{\"op\": \"store.stats\"}") ==
          PITSTOP_STATUS_NULL_ARGUMENT);
    CHECK(pitstop_execute(&response, NULL, "{\"op\": \"store.stats\"}") ==
          PITSTOP_STATUS_NULL_ARGUMENT);
    check_response(PITSTOP_STATUS_NULL_ARGUMENT, response);
    CHECK(strstr(response, "\"invalid_argument\"") != NULL);
    CHECK(strstr(response, "engine") != NULL);
    pitstop_string_free(response);
    response = expect(engine, NULL, PITSTOP_STATUS_NULL_ARGUMENT);
    CHECK(strstr(response, "\"invalid_request\"") != NULL);
    pitstop_string_free(response);

    /* Not UTF-8: a lone continuation byte, a truncated sequence, an overlong encoding. */
    response = expect(engine, "{\"op\": \"customer.find\", \"args\": {\"query\": \"\x80\"}}",
                      PITSTOP_STATUS_INVALID_UTF8);
    CHECK(strstr(response, "\"invalid_request\"") != NULL);
    CHECK(strstr(response, "valid_up_to") != NULL);
    pitstop_string_free(response);
    expect_and_free(engine, "{\"op\": \"\xe2\x82\"}", PITSTOP_STATUS_INVALID_UTF8);
    expect_and_free(engine, "\xc0\xaf", PITSTOP_STATUS_INVALID_UTF8);

    /* Not a request. */
    expect_and_free(engine, "", PITSTOP_STATUS_INVALID_REQUEST);
    expect_and_free(engine, "{", PITSTOP_STATUS_INVALID_REQUEST);
    expect_and_free(engine, "[1, 2, 3]", PITSTOP_STATUS_INVALID_REQUEST);
    expect_and_free(engine, "null", PITSTOP_STATUS_INVALID_REQUEST);
    expect_and_free(engine, "{\"args\": {}}", PITSTOP_STATUS_INVALID_REQUEST);
    expect_and_free(engine, "{\"op\": 5}", PITSTOP_STATUS_INVALID_REQUEST);
    expect_and_free(engine, "{\"op\": \"store.stats\", \"extra\": 1}",
                    PITSTOP_STATUS_INVALID_REQUEST);
    expect_and_free(engine, "{\"op\": \"store.stats\"} trailing", PITSTOP_STATUS_INVALID_REQUEST);

    /* Unknown operation. */
    response = expect(engine, "{\"op\": \"customer.teleport\", \"args\": {}}",
                      PITSTOP_STATUS_UNKNOWN_OPERATION);
    CHECK(mj_count(response, "error.details.known") > 10);
    pitstop_string_free(response);

    /* Wrong types and unknown fields in the arguments. */
    expect_and_free(engine, "{\"op\": \"customer.register\", \"args\": []}",
                    PITSTOP_STATUS_INVALID_REQUEST);
    expect_and_free(engine, "{\"op\": \"customer.register\", \"args\": {\"full_name\": 5}}",
                    PITSTOP_STATUS_INVALID_ARGUMENT);
    expect_and_free(engine,
                    "{\"op\": \"customer.register\", \"args\": {\"full_name\": \"А Б\","
                    " \"phone\": \"+79160000000\", \"shoe_size\": 44}}",
                    PITSTOP_STATUS_INVALID_ARGUMENT);
    expect_and_free(engine, "{\"op\": \"points.balance\", \"args\": {\"customer\": {\"id\": \"x\"}}}",
                    PITSTOP_STATUS_INVALID_ARGUMENT);
    expect_and_free(engine, "{\"op\": \"points.balance\", \"args\": {\"customer\": {\"id\": 1},"
                            " \"at\": 12}}",
                    PITSTOP_STATUS_INVALID_ARGUMENT);

    /* Too large: over the default 1 MiB, checked before it is decoded. */
    {
        size_t size = 2 * 1024 * 1024;
        char *huge = malloc(size + 1);
        memset(huge, 'x', size);
        huge[size] = '\0';
        response = expect(engine, huge, PITSTOP_STATUS_TOO_LARGE);
        CHECK(strstr(response, "\"limit\":1048576") != NULL);
        pitstop_string_free(response);
        /* An oversized request is refused even when it is not UTF-8. */
        huge[10] = '\xff';
        expect_and_free(engine, huge, PITSTOP_STATUS_TOO_LARGE);
        free(huge);
    }

    /* Contract errors come back with their own statuses. */
    expect_and_free(engine, "{\"op\": \"checkout.quote\", \"args\": {\"customer\": {\"id\": 1},"
                            " \"lines\": []}}",
                    PITSTOP_STATUS_NO_PROGRAM);
    expect_and_free(engine, PROGRAM, PITSTOP_STATUS_OK);
    expect_and_free(engine, "{\"op\": \"program.set\", \"args\": {\"program\": {\"name\": \"X\", \"timezone\": \"Mars/Olympus\", \"accrual\": {\"rate_percent\": \"-5\"}}}}",
                    PITSTOP_STATUS_INVALID_PROGRAM);
    expect_and_free(engine, "{\"op\": \"points.balance\", \"args\": {\"customer\": {\"id\": 999}}}",
                    PITSTOP_STATUS_NOT_FOUND);
    expect_and_free(engine,
                    "{\"op\": \"customer.register\", \"args\": {\"full_name\": \"Петров Пётр\","
                    " \"phone\": \"+79161112233\", \"idempotency_key\": \"reg-1\"}}",
                    PITSTOP_STATUS_OK);
    /* A retry with the same key returns the first result ... */
    expect_and_free(engine,
                    "{\"op\": \"customer.register\", \"args\": {\"full_name\": \"Петров Пётр\","
                    " \"phone\": \"+79161112233\", \"idempotency_key\": \"reg-1\"}}",
                    PITSTOP_STATUS_OK);
    /* ... the same key with other arguments is a conflict ... */
    expect_and_free(engine,
                    "{\"op\": \"customer.register\", \"args\": {\"full_name\": \"Петров Павел\","
                    " \"phone\": \"+79161112234\", \"idempotency_key\": \"reg-1\"}}",
                    PITSTOP_STATUS_IDEMPOTENCY_CONFLICT);
    /* ... and a taken phone is taken. */
    expect_and_free(engine,
                    "{\"op\": \"customer.register\", \"args\": {\"full_name\": \"Петров Павел\","
                    " \"phone\": \"8 916 111-22-33\"}}",
                    PITSTOP_STATUS_ALREADY_EXISTS);
    expect_and_free(engine,
                    "{\"op\": \"points.adjust\", \"args\": {\"customer\": {\"phone\": \"+79161112233\"},"
                    " \"points\": \"-1000\", \"reason\": \"test\", \"operator\": \"c\"}}",
                    PITSTOP_STATUS_INSUFFICIENT_POINTS);
    /* NUL escaped inside a JSON string is just a character, not the end of the request. */
    expect_and_free(engine,
                    "{\"op\": \"customer.find\", \"args\": {\"query\": \"\\u0000\"}}",
                    PITSTOP_STATUS_OK);

    /* A small request limit from the options applies at the boundary too. */
    pitstop_engine_free(engine);
    engine = open_ok("execute-errors", "{\"request_bytes_max\": 1024}");
    {
        char request[2048];
        memset(request, ' ', sizeof request - 1);
        request[sizeof request - 1] = '\0';
        memcpy(request, "{\"op\": \"store.stats\"}", 21);
        expect_and_free(engine, request, PITSTOP_STATUS_TOO_LARGE);
        request[1024] = '\0';
        expect_and_free(engine, request, PITSTOP_STATUS_OK);
    }
    pitstop_engine_free(engine);
}

static void test_validate(void) {
    pitstop_engine *engine = open_ok("validate", NULL);
    char *response = (char *)"sentinel";

    CHECK(pitstop_validate(&response, engine,
                           "{\"op\": \"customer.register\", \"args\": {\"full_name\": \"А Б\"}}") ==
          PITSTOP_STATUS_OK);
    check_response(PITSTOP_STATUS_OK, response);
    CHECK(mj_true(response, "result.mutates"));
    pitstop_string_free(response);
    /* Nothing was executed. */
    response = expect(engine, "{\"op\": \"customer.find\", \"args\": {\"query\": \"А\"}}",
                      PITSTOP_STATUS_OK);
    CHECK(mj_count(response, "result.items") == 0);
    pitstop_string_free(response);

    CHECK(pitstop_validate(&response, engine, "{\"op\": \"points.balance\", \"args\": "
                                              "{\"customer\": {\"id\": 7}}}") ==
          PITSTOP_STATUS_OK);
    CHECK(!mj_true(response, "result.mutates"));
    pitstop_string_free(response);

    CHECK(pitstop_validate(&response, engine, "{\"op\": \"nope\"}") ==
          PITSTOP_STATUS_UNKNOWN_OPERATION);
    check_response(PITSTOP_STATUS_UNKNOWN_OPERATION, response);
    pitstop_string_free(response);
    CHECK(pitstop_validate(&response, engine, "{\"op\": \"points.balance\", \"args\": "
                                              "{\"customer\": {\"id\": \"seven\"}}}") ==
          PITSTOP_STATUS_INVALID_ARGUMENT);
    check_response(PITSTOP_STATUS_INVALID_ARGUMENT, response);
    pitstop_string_free(response);
    CHECK(pitstop_validate(&response, engine, "not json") == PITSTOP_STATUS_INVALID_REQUEST);
    check_response(PITSTOP_STATUS_INVALID_REQUEST, response);
    pitstop_string_free(response);
    CHECK(pitstop_validate(&response, engine, "\"\xff\"") == PITSTOP_STATUS_INVALID_UTF8);
    check_response(PITSTOP_STATUS_INVALID_UTF8, response);
    pitstop_string_free(response);
    CHECK(pitstop_validate(&response, engine, NULL) == PITSTOP_STATUS_NULL_ARGUMENT);
    check_response(PITSTOP_STATUS_NULL_ARGUMENT, response);
    pitstop_string_free(response);
    CHECK(pitstop_validate(&response, NULL, "{\"op\": \"store.stats\"}") ==
          PITSTOP_STATUS_NULL_ARGUMENT);
    check_response(PITSTOP_STATUS_NULL_ARGUMENT, response);
    pitstop_string_free(response);
    CHECK(pitstop_validate(NULL, engine, "{\"op\": \"store.stats\"}") ==
          PITSTOP_STATUS_NULL_ARGUMENT);

    CHECK(pitstop_close(NULL, engine) == PITSTOP_STATUS_OK);
    CHECK(pitstop_validate(&response, engine, "{\"op\": \"store.stats\"}") ==
          PITSTOP_STATUS_CLOSED);
    check_response(PITSTOP_STATUS_CLOSED, response);
    pitstop_string_free(response);
    pitstop_engine_free(engine);
}

static void test_close_and_free(void) {
    pitstop_engine *engine = open_ok("close", NULL);
    char *error = (char *)"sentinel";
    char *response = NULL;

    expect_and_free(engine, PROGRAM, PITSTOP_STATUS_OK);
    CHECK(pitstop_close(&error, engine) == PITSTOP_STATUS_OK);
    CHECK(error == NULL);
    /* Closing twice is harmless. */
    error = (char *)"sentinel";
    CHECK(pitstop_close(&error, engine) == PITSTOP_STATUS_OK);
    CHECK(error == NULL);
    CHECK(pitstop_close(NULL, engine) == PITSTOP_STATUS_OK);

    /* A closed handle answers `closed`, with the error JSON, forever. */
    response = expect(engine, "{\"op\": \"program.get\"}", PITSTOP_STATUS_CLOSED);
    CHECK(strstr(response, "is closed") != NULL);
    pitstop_string_free(response);
    expect_and_free(engine, "not even json", PITSTOP_STATUS_CLOSED);
    /* Closed comes before the request is read: not UTF-8 still answers closed. */
    expect_and_free(engine, "{\"op\": \"\xe2\x82\"}", PITSTOP_STATUS_CLOSED);
    expect_and_free(engine, "\xc0\xaf", PITSTOP_STATUS_CLOSED);
    response = NULL;
    CHECK(pitstop_validate(&response, engine, "\"\xff\"") == PITSTOP_STATUS_CLOSED);
    check_response(PITSTOP_STATUS_CLOSED, response);
    pitstop_string_free(response);
    expect_and_free(engine, NULL, PITSTOP_STATUS_NULL_ARGUMENT);

    /* NULL handle. */
    error = (char *)"sentinel";
    CHECK(pitstop_close(&error, NULL) == PITSTOP_STATUS_NULL_ARGUMENT);
    check_response(PITSTOP_STATUS_NULL_ARGUMENT, error);
    pitstop_string_free(error);
    CHECK(pitstop_close(NULL, NULL) == PITSTOP_STATUS_NULL_ARGUMENT);

    pitstop_engine_free(engine);
    pitstop_engine_free(NULL);
    pitstop_string_free(NULL);

    /* What was written before close is there after reopening. */
    engine = open_ok("close", NULL);
    response = expect(engine, "{\"op\": \"program.get\"}", PITSTOP_STATUS_OK);
    {
        char name[64];
        mj_text(response, "result.name", name, sizeof name);
        CHECK(strcmp(name, "Тест") == 0);
    }
    pitstop_string_free(response);
    pitstop_engine_free(engine);
}

/* ---- Concurrency: many threads, one handle. ---- */

#define THREADS 6
#define VISITS_PER_THREAD 8

struct worker {
    const pitstop_engine *engine;
    int index;
    int failures;
    atomic_int ok; /* read by the main thread while the worker runs */
    int closed;
};

static void worker_init(struct worker *worker, const pitstop_engine *engine, int index) {
    worker->engine = engine;
    worker->index = index;
    worker->failures = 0;
    atomic_init(&worker->ok, 0);
    worker->closed = 0;
}

static int run(const pitstop_engine *engine, const char *request, pitstop_status expected,
               char **response_out) {
    char *response = NULL;
    pitstop_status status = pitstop_execute(&response, engine, request);
    int good = status == expected && response != NULL &&
               mj_true(response, "ok") == (status == PITSTOP_STATUS_OK);
    if (!good) {
        fprintf(stderr, "thread: expected %s, got %s: %.300s\n", pitstop_status_name(expected),
                pitstop_status_name(status), response ? response : "(NULL)");
    }
    if (response_out != NULL) {
        *response_out = response;
    } else {
        pitstop_string_free(response);
    }
    return good;
}

static void *cashier(void *argument) {
    struct worker *worker = argument;
    char request[2048];
    char *response = NULL;

    snprintf(request, sizeof request,
             "{\"op\": \"customer.register\", \"args\": {\"full_name\": \"Кассир Клиент %d\","
             " \"phone\": \"+7916%07d\", \"idempotency_key\": \"thread-%d\","
             " \"at\": \"2025-01-01T10:00:00Z\"}}",
             worker->index, worker->index, worker->index);
    worker->failures += !run(worker->engine, request, PITSTOP_STATUS_OK, NULL);
    for (int visit = 0; visit < VISITS_PER_THREAD; visit++) {
        snprintf(request, sizeof request,
                 "{\"op\": \"checkout.quote\", \"args\": {\"customer\": {\"phone\": \"+7916%07d\"},"
                 " \"redeem\": \"max\", \"lines\": [{\"sku\": \"W\", \"name\": \"Мойка\","
                 " \"kind\": \"labor\", \"qty\": \"1\", \"unit_price\": \"1000\"}],"
                 " \"at\": \"2025-01-02T10:00:00Z\"}}",
                 worker->index);
        worker->failures += !run(worker->engine, request, PITSTOP_STATUS_OK, NULL);
        snprintf(request, sizeof request,
                 "{\"op\": \"checkout.commit\", \"args\": {\"customer\": {\"phone\": \"+7916%07d\"},"
                 " \"order_id\": \"T%d-%d\", \"idempotency_key\": \"T%d-%d\","
                 " \"lines\": [{\"sku\": \"W\", \"name\": \"Мойка\","
                 " \"kind\": \"labor\", \"qty\": \"1\", \"unit_price\": \"1000\"}],"
                 " \"at\": \"2025-01-02T10:00:00Z\"}}",
                 worker->index, worker->index, visit, worker->index, visit);
        worker->failures += !run(worker->engine, request, PITSTOP_STATUS_OK, NULL);
        /* The host's order id is recorded once: posting an earlier order again fails. */
        snprintf(request, sizeof request,
                 "{\"op\": \"checkout.commit\", \"args\": {\"customer\": {\"phone\": \"+7916%07d\"},"
                 " \"order_id\": \"T%d-0\", \"lines\": [{\"sku\": \"W\", \"name\": \"Мойка\","
                 " \"kind\": \"labor\", \"qty\": \"1\", \"unit_price\": \"1000\"}],"
                 " \"at\": \"2025-01-02T10:00:00Z\"}}",
                 worker->index, worker->index);
        worker->failures += !run(worker->engine, request, PITSTOP_STATUS_ALREADY_EXISTS, NULL);
        worker->failures += !run(worker->engine, "{\"op\": \"nope\"}",
                                 PITSTOP_STATUS_UNKNOWN_OPERATION, NULL);
        {
            char *validated = NULL;
            pitstop_status status = pitstop_validate(&validated, worker->engine, request);
            worker->failures += status != PITSTOP_STATUS_OK;
            pitstop_string_free(validated);
        }
    }
    snprintf(request, sizeof request,
             "{\"op\": \"points.balance\", \"args\": {\"customer\": {\"phone\": \"+7916%07d\"},"
             " \"at\": \"2025-01-03T10:00:00Z\"}}",
             worker->index);
    if (run(worker->engine, request, PITSTOP_STATUS_OK, &response)) {
        char total[32];
        mj_text(response, "result.total", total, sizeof total);
        /* 100 welcome + 8 visits x 5% of 1000. */
        worker->failures += strcmp(total, "500") != 0;
        if (strcmp(total, "500") != 0) {
            fprintf(stderr, "thread %d: total %s, expected 500\n", worker->index, total);
        }
    } else {
        worker->failures++;
    }
    pitstop_string_free(response);
    return NULL;
}

/* Hammers the handle until it is closed; every answer must be ok or closed. */
/* Calls until the handle answers closed three times. The main thread always closes the
 * handle, so the loop ends; a fixed iteration count let a thread that valgrind scheduled
 * ahead of the others finish before the close and never see it. */
static void *until_closed(void *argument) {
    struct worker *worker = argument;
    for (unsigned long i = 0;; i++) {
        char *response = NULL;
        pitstop_status status = pitstop_execute(
            &response, worker->engine,
            i % 2 ? "{\"op\": \"points.balance\", \"args\": {\"customer\": {\"id\": 1}}}"
                  : "{\"op\": \"customer.find\", \"args\": {\"query\": \"Кассир\"}}");
        if (response == NULL || mj_true(response, "ok") != (status == PITSTOP_STATUS_OK)) {
            worker->failures++;
        }
        pitstop_string_free(response);
        if (status == PITSTOP_STATUS_OK) {
            atomic_fetch_add(&worker->ok, 1);
        } else if (status == PITSTOP_STATUS_CLOSED) {
            worker->closed++;
            if (worker->closed >= 3) {
                break;
            }
        } else {
            fprintf(stderr, "racing thread: %s\n", pitstop_status_name(status));
            worker->failures++;
        }
    }
    return NULL;
}

static void test_threads(void) {
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    pitstop_engine *engine = open_ok("threads", NULL);
    char *response = NULL;

    expect_and_free(engine, PROGRAM, PITSTOP_STATUS_OK);
    for (int i = 0; i < THREADS; i++) {
        worker_init(&workers[i], engine, i);
        CHECK(pthread_create(&threads[i], NULL, cashier, &workers[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(workers[i].failures == 0);
    }
    response = expect(engine, "{\"op\": \"store.check\"}", PITSTOP_STATUS_OK);
    pitstop_string_free(response);
    response = expect(engine, "{\"op\": \"customer.find\", \"args\": {\"query\": \"Кассир\","
                              " \"limit\": 50}}",
                      PITSTOP_STATUS_OK);
    CHECK(mj_count(response, "result.items") == THREADS);
    pitstop_string_free(response);

    /* Close while other threads are calling: each call is ok or closed, never a crash. */
    for (int i = 0; i < THREADS; i++) {
        worker_init(&workers[i], engine, i);
        CHECK(pthread_create(&threads[i], NULL, until_closed, &workers[i]) == 0);
    }
    {
        /* Let every thread get some answers first. */
        int ready = 0;
        for (int spins = 0; spins < 20000 && !ready; spins++) {
            ready = 1;
            for (int i = 0; i < THREADS; i++) {
                ready &= atomic_load(&workers[i].ok) > 2;
            }
            if (!ready) {
                struct timespec pause = {.tv_sec = 0, .tv_nsec = 1000000};
                nanosleep(&pause, NULL);
            }
        }
    }
    CHECK(pitstop_close(NULL, engine) == PITSTOP_STATUS_OK);
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(workers[i].failures == 0);
        CHECK(workers[i].closed >= 1);
    }
    pitstop_engine_free(engine);

    /* Everything committed by the threads is durable. */
    engine = open_ok("threads", NULL);
    response = expect(engine, "{\"op\": \"store.check\"}", PITSTOP_STATUS_OK);
    pitstop_string_free(response);
    response = expect(engine, "{\"op\": \"visit.get\", \"args\": {\"order_id\": \"T3-7\"}}",
                      PITSTOP_STATUS_OK);
    pitstop_string_free(response);
    pitstop_engine_free(engine);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "./abi-test-stores";
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        perror(dir);
        return 2;
    }
    snprintf(base_dir, sizeof base_dir, "%s/run-XXXXXX", dir);
    if (mkdtemp(base_dir) == NULL) {
        perror(base_dir);
        return 2;
    }

    test_versions();
    test_status_names();
    test_open_errors();
    test_double_open();
    test_execute_errors();
    test_validate();
    test_close_and_free();
    test_threads();

    printf("%d passed, %d failed\n", atomic_load(&passed), atomic_load(&failed));
    return atomic_load(&failed) == 0 ? 0 : 1;
}
