/*
 * addin_test.c: the 1C add-in (libpitstop_1c) tested from a host that loads it the way
 * 1C:Enterprise does (addin_host.h): dlopen, the five exports, the object's interface
 * tables, UTF-16 strings, a counting memory manager and an AddError that records.
 *
 * Every method and property, by its English and its Russian name: a full till session,
 * Cyrillic and emoji round trips, 1 MiB requests, wrong argument types and counts,
 * methods before Open and after Close, two objects on one store, objects used from
 * several threads, a second process on the same store (`locked`), a memory manager that
 * refuses, and a panic forced inside. `make onec-test` runs it under valgrind.
 *
 *   addin_test LIBRARY DIR            (DIR is created if missing)
 *   addin_test LIBRARY STORE --second-process
 *
 * Prints "N passed, M failed" and exits non-zero when anything failed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "addin_host.h"
#include "minijson.h"

extern char **environ;

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

static Library library;
static char base_dir[1024];

static void store_path(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", base_dir, name);
}

static Addin *new_addin(void) {
    Addin *addin = addin_create(&library, "Pitstop");
    CHECK(addin != NULL);
    if (addin == NULL) {
        exit(1);
    }
    return addin;
}

/* The response is {"ok": ok}; with `code` the error code too. Frees the response. */
static void expect(char *response, int ok, const char *code) {
    CHECK(response != NULL);
    if (response == NULL) {
        return;
    }
    CHECK(mj_true(response, "ok") == ok);
    if (code != NULL) {
        char got[64] = "";
        mj_text(response, "error.code", got, sizeof got);
        CHECK(strcmp(got, code) == 0);
        if (strcmp(got, code) != 0) {
            fprintf(stderr, "  expected %s, got: %.300s\n", code, response);
        }
    } else if (mj_true(response, "ok") != ok) {
        fprintf(stderr, "  got: %.300s\n", response);
    }
    free(response);
}

/* Execute(operation, arguments): the response, to free. */
static char *execute(Addin *addin, const char *operation, const char *arguments) {
    return call_text(addin, "Execute", operation, arguments);
}

/* The last AddError was a raised exception whose text holds `needle`; then forget it. */
static void expect_raised(Addin *addin, int errors_before, const char *needle) {
    CHECK(addin->connection.errors == errors_before + 1);
    CHECK(addin->connection.wcode == ADDIN_E_FAIL);
    CHECK(addin->connection.scode != 0);
    CHECK(strcmp(addin->connection.source, "Pitstop") == 0);
    CHECK(strstr(addin->connection.description, needle) != NULL);
    if (strstr(addin->connection.description, needle) == NULL) {
        fprintf(stderr, "  expected \"%s\" in: %s\n", needle, addin->connection.description);
    }
}

/* ---- the library's exports and the object's tables ---- */

static void test_exports(void) {
    const WCHAR_T *names = library.get_class_names();
    char *text = from_utf16(names, utf16_length(names));
    CHECK(strcmp(text, "Pitstop") == 0);
    free(text);
    CHECK(library.set_platform_capabilities(3) == 3);
    CHECK(library.get_attach_type() == 3); /* eCanAttachAny */
    CHECK(addin_create(&library, "Other") == NULL);
    Component *none = NULL;
    CHECK(library.destroy_object(&none) == -1);
}

/* Every method and property by both names, in any case; counts, defaults, read-only. */
static void test_tables(void) {
    Addin *addin = new_addin();
    Component *c = addin->component;
    void *self = lang_self(addin);
    CHECK(c->init_done->GetInfo(c) == 2000);
    CHECK(c->language->GetNMethods(self) == 4);
    CHECK(c->language->GetNProps(self) == 2);
    const char *methods[4][2] = {{"Open", "Открыть"},
                                 {"Execute", "Выполнить"},
                                 {"ExecuteRequest", "ВыполнитьЗапрос"},
                                 {"Close", "Закрыть"}};
    const long params[4] = {2, 2, 1, 0};
    for (long m = 0; m < 4; m++) {
        for (long alias = 0; alias < 2; alias++) {
            WCHAR_T *name = (WCHAR_T *)c->language->GetMethodName(self, m, alias);
            char *utf8 = from_utf16(name, utf16_length(name));
            CHECK(strcmp(utf8, methods[m][alias]) == 0);
            CHECK(find_method(addin, utf8) == m);
            free(utf8);
            memory_manager.vt->FreeMemory(&memory_manager, (void **)&name);
        }
        CHECK(c->language->GetNParams(self, m) == params[m]);
        CHECK(c->language->HasRetVal(self, m));
    }
    CHECK(find_method(addin, "выполнитьзапрос") == 2);
    CHECK(find_method(addin, "EXECUTE") == 1);
    CHECK(find_method(addin, "Teleport") == -1);
    CHECK(c->language->GetMethodName(self, 4, 0) == NULL);
    CHECK(c->language->GetMethodName(self, 0, 2) == NULL);

    const char *props[2][2] = {{"Version", "Версия"}, {"LastError", "ПоследняяОшибка"}};
    for (long p = 0; p < 2; p++) {
        for (long alias = 0; alias < 2; alias++) {
            WCHAR_T *name = (WCHAR_T *)c->language->GetPropName(self, p, alias);
            char *utf8 = from_utf16(name, utf16_length(name));
            CHECK(strcmp(utf8, props[p][alias]) == 0);
            CHECK(find_prop(addin, utf8) == p);
            free(utf8);
            memory_manager.vt->FreeMemory(&memory_manager, (void **)&name);
        }
        CHECK(c->language->IsPropReadable(self, p));
        CHECK(!c->language->IsPropWritable(self, p));
    }
    CHECK(find_prop(addin, "последняяошибка") == 1);
    addin_destroy(addin);
}

/* Optional parameters default to Неопределено, required ones have none; both properties. */
static void test_defaults_and_properties(void) {
    Addin *addin = new_addin();
    Component *c = addin->component;
    void *self = lang_self(addin);
    tVariant value = string_arg("9.9.9");
    CHECK(!c->language->SetPropVal(self, 0, &value));
    variant_clear(&value);
    memset(&value, 0, sizeof value);
    CHECK(c->language->GetParamDefValue(self, 0, 1, &value) && value.vt == VTYPE_EMPTY);
    CHECK(c->language->GetParamDefValue(self, 1, 1, &value) && value.vt == VTYPE_EMPTY);
    CHECK(!c->language->GetParamDefValue(self, 0, 0, &value));
    CHECK(!c->language->GetParamDefValue(self, 2, 0, &value));
    CHECK(!c->language->GetParamDefValue(self, 9, 0, &value));

    char *version = get_prop(addin, "Версия");
    CHECK(version != NULL && version[0] >= '0' && version[0] <= '9' && strchr(version, '.'));
    free(version);
    char *last = get_prop(addin, "LastError");
    CHECK(last != NULL && last[0] == '\0');
    free(last);
    addin_destroy(addin);
}

/* ---- misuse: before Open, after Close, wrong counts and types ---- */

static void test_misuse(const char *store) {
    Addin *addin = new_addin();
    int errors = addin->connection.errors;
    char *response = NULL;
    tVariant params[3];

    tVariant operation = string_arg("store.stats");
    CHECK(!call_func(addin, "Выполнить", &operation, 1, &response));
    CHECK(response == NULL);
    variant_clear(&operation);
    expect_raised(addin, errors++, "Открыть/Open(store, optionsJSON) first");
    char *last = get_prop(addin, "ПоследняяОшибка");
    CHECK(last != NULL && strstr(last, "\"code\":\"closed\"") != NULL);
    free(last);
    CHECK(!call_proc(addin, "Close", NULL, 0));
    expect_raised(addin, errors++, "Закрыть/Close: no store is open");

    /* Wrong counts: 1C never calls so, but the add-in must not trust it. */
    params[0] = string_arg(store);
    params[1] = string_arg("");
    params[2] = string_arg("");
    CHECK(!call_func(addin, "Open", params, 3, NULL));
    expect_raised(addin, errors++, "takes 1 to 2 arguments, 3 given");
    CHECK(!call_func(addin, "Open", params, 0, NULL));
    expect_raised(addin, errors++, "0 given");
    CHECK(!call_func(addin, "Close", params, 1, NULL));
    expect_raised(addin, errors++, "Закрыть/Close() takes 0 arguments, 1 given");

    /* Wrong types. */
    tVariant number;
    memset(&number, 0, sizeof number);
    number.vt = VTYPE_I4;
    number.lVal = 42;
    CHECK(!call_func(addin, "Open", &number, 1, NULL));
    expect_raised(addin, errors++, "store must be a string (Строка), got Число (Number)");
    tVariant flag = {.bVal = true, .vt = VTYPE_BOOL};
    tVariant open_bool[2] = {params[0], flag};
    CHECK(!call_func(addin, "Open", open_bool, 2, NULL));
    expect_raised(addin, errors++, "optionsJSON must be a string (Строка), got Булево");
    tVariant empty = {.vt = VTYPE_EMPTY};
    CHECK(!call_func(addin, "Open", &empty, 1, NULL));
    expect_raised(addin, errors++, "got Неопределено");
    for (int i = 0; i < 3; i++) {
        variant_clear(&params[i]);
    }
    addin_destroy(addin);
}

/* Open twice, wrong types on an open object, Close twice; Open again after Close. */
static void test_open_close(const char *store) {
    Addin *addin = new_addin();
    int errors = addin->connection.errors;
    tVariant params[2] = {string_arg(store), string_arg("")};
    tVariant empty = {.vt = VTYPE_EMPTY};
    /* The optional options left out, then as Неопределено. */
    expect(call_text(addin, "Открыть", store, NULL), 1, NULL);
    CHECK(!call_func(addin, "Open", params, 2, NULL));
    expect_raised(addin, errors++, "already has a store open");
    tVariant date = {.vt = VTYPE_TM};
    tVariant execute_date[2] = {params[1], date};
    CHECK(!call_func(addin, "Execute", execute_date, 2, NULL));
    expect_raised(addin, errors++, "argumentsJSON must be a string (Строка), got Дата");
    tVariant execute_empty[2] = {string_arg("store.stats"), empty};
    expect(call_text(addin, "Execute", "store.stats", NULL), 1, NULL);
    char *stats = NULL;
    CHECK(call_func(addin, "Execute", execute_empty, 2, &stats));
    expect(stats, 1, NULL);
    variant_clear(&execute_empty[0]);
    CHECK(!call_func(addin, "ExecuteRequest", NULL, 0, NULL));
    expect_raised(addin, errors++, "ВыполнитьЗапрос/ExecuteRequest(requestJSON) takes 1");

    /* Close, then every method but Open is misuse; Open works again. */
    CHECK(call_proc(addin, "Закрыть", NULL, 0));
    CHECK(!call_proc(addin, "ExecuteRequest", params, 1));
    expect_raised(addin, errors++, "closed by Закрыть/Close");
    CHECK(!call_func(addin, "Close", NULL, 0, NULL));
    expect_raised(addin, errors++, "closed by Закрыть/Close");
    CHECK(addin->connection.errors == errors);
    expect(call_text(addin, "Open", store, "{}"), 1, NULL);
    expect(call_text(addin, "Close", NULL, NULL), 1, NULL);
    variant_clear(&params[0]);
    variant_clear(&params[1]);
    addin_destroy(addin);
}

/* ---- a till session, by the Russian names as 1C code writes them ---- */

#define PROGRAM                                                                                \
    "{\"program\": {\"name\": \"Клуб автосервиса\", \"timezone\": \"Europe/Moscow\","          \
    " \"accrual\": {\"rate_percent\": \"5\"},"                                                 \
    " \"redemption\": {\"kinds\": [\"labor\"], \"cap_percent\": \"30\"},"                      \
    " \"expiry_months\": 12, \"pending_days\": 0,"                                             \
    " \"welcome_bonus\": {\"points\": \"300\", \"expiry_days\": 90}}}"

#define BASKET                                                                                 \
    "\"lines\": [{\"sku\": \"TO-2\", \"name\": \"ТО-2 (работа)\", \"kind\": \"labor\","        \
    " \"qty\": \"1\", \"unit_price\": \"4500\"}, {\"sku\": \"FLT-01\", \"name\":"              \
    " \"Фильтр масляный\", \"kind\": \"part\", \"qty\": \"1\", \"unit_price\": \"650\"}]"

static void test_till_failures_and_refund(Addin *addin);

static void test_till_session(const char *store) {
    Addin *addin = new_addin();
    char text[512];
    expect(call_text(addin, "Открыть", store, ""), 1, NULL);
    expect(call_text(addin, "Выполнить", "program.set", PROGRAM), 1, NULL);
    char *response = call_text(
        addin, "Выполнить", "customer.register",
        "{\"full_name\": \"Смирнов Алексей Петрович\", \"phone\": \"8 916 555-12-34\","
        " \"card\": \"2000000000015\", \"notes\": \"Любит кофе ☕, ездит на 🚗\","
        " \"at\": \"2025-03-01T09:00:00Z\"}");
    expect(response, 1, NULL);
    expect(call_text(addin, "Выполнить", "vehicle.add",
                     "{\"customer\": {\"card\": \"2000000000015\"}, \"plate\": \"о777оо77\","
                     " \"make\": \"Škoda\", \"model\": \"Octavia\", \"year\": 2017,"
                     " \"at\": \"2025-03-01T09:05:00Z\"}"),
           1, NULL);

    /* Found by the card, and by the plate written in Latin capitals: the same customer. */
    response = call_text(addin, "Выполнить", "customer.get",
                         "{\"customer\": {\"card\": \"2000000000015\"}}");
    CHECK(mj_text(response, "result.customer.full_name", text, sizeof text) &&
          strcmp(text, "Смирнов Алексей Петрович") == 0);
    CHECK(mj_text(response, "result.customer.notes", text, sizeof text) &&
          strcmp(text, "Любит кофе ☕, ездит на 🚗") == 0);
    CHECK(mj_text(response, "result.vehicles.0.make", text, sizeof text) &&
          strcmp(text, "Škoda") == 0);
    expect(response, 1, NULL);
    response = call_text(addin, "ВыполнитьЗапрос",
                         "{\"op\": \"customer.find\", \"args\": {\"by\": {\"plate\": \"O777OO77\"}}}",
                         NULL);
    CHECK(mj_text(response, "result.items.0.full_name", text, sizeof text) &&
          strcmp(text, "Смирнов Алексей Петрович") == 0);
    expect(response, 1, NULL);

    /* Quote, commit under the document's key (twice: the retry changes nothing). */
    response = call_text(addin, "Выполнить", "checkout.quote",
                         "{\"customer\": {\"plate\": \"O777OO77\"}, \"redeem\": \"max\","
                         " \"at\": \"2025-03-10T10:00:00Z\", " BASKET "}");
    CHECK(mj_text(response, "result.totals.net", text, sizeof text) &&
          strcmp(text, "5150.00") == 0);
    CHECK(mj_count(response, "result.messages") >= 1);
    expect(response, 1, NULL);
    const char *commit =
        "{\"customer\": {\"plate\": \"O777OO77\"}, \"redeem\": \"max\", \"order_id\": "
        "\"ЗН-000123\", \"idempotency_key\": \"ЗаказНаряд-6f1d2c1e-1b0a-4a55-9d2e-0c2b\","
        " \"at\": \"2025-03-10T10:05:00Z\", " BASKET "}";
    char *first = call_text(addin, "Выполнить", "checkout.commit", commit);
    char *again = call_text(addin, "Execute", "checkout.commit", commit);
    CHECK(first != NULL && again != NULL && strcmp(first, again) == 0);
    CHECK(mj_text(first, "result.totals.points", text, sizeof text) &&
          strcmp(text, "300") == 0);
    CHECK(mj_text(first, "result.totals.money", text, sizeof text) &&
          strcmp(text, "4850.00") == 0);
    expect(first, 1, NULL);
    expect(again, 1, NULL);
    test_till_failures_and_refund(addin);
    expect(call_text(addin, "Закрыть", NULL, NULL), 1, NULL);
    addin_destroy(addin);
}

/* After the sale of test_till_session: failures as answers, the refund, the daily job. */
static void test_till_failures_and_refund(Addin *addin) {
    char text[512];
    char *response = NULL;
    /* A failed operation: ok false, no exception, LastError set; a success clears it. */
    int errors = addin->connection.errors;
    expect(call_text(addin, "Выполнить", "checkout.commit",
                     "{\"customer\": {\"card\": \"9999999999994\"}, \"order_id\": \"ЗН-1\", " BASKET
                     "}"),
           0, "not_found");
    CHECK(addin->connection.errors == errors);
    char *last = get_prop(addin, "LastError");
    CHECK(mj_text(last, "code", text, sizeof text) && strcmp(text, "not_found") == 0);
    free(last);
    /* The same failure in a procedure call raises, with the code. */
    tVariant params[2] = {string_arg("checkout.commit"), string_arg("{\"order_id\": 5}")};
    CHECK(!call_proc(addin, "Execute", params, 2));
    expect_raised(addin, errors, "invalid_argument: ");
    variant_clear(&params[0]);
    variant_clear(&params[1]);

    /* Refund the filter, then the nightly job. */
    response = call_text(addin, "Выполнить", "checkout.refund",
                         "{\"order_id\": \"ЗН-000123\", \"lines\": [{\"line\": 1}], \"reason\":"
                         " \"не подошёл\", \"idempotency_key\": \"Возврат-ЗН-000123-1\","
                         " \"at\": \"2025-03-11T12:00:00Z\"}");
    CHECK(mj_text(response, "result.refund.money", text, sizeof text) &&
          strcmp(text, "650.00") == 0);
    expect(response, 1, NULL);
    last = get_prop(addin, "ПоследняяОшибка");
    CHECK(last != NULL && last[0] == '\0');
    free(last);
    expect(call_text(addin, "Выполнить", "jobs.daily", "{\"date\": \"2025-03-12\"}"), 1, NULL);
    expect(call_text(addin, "Выполнить", "store.check", NULL), 1, NULL);

    /* Arguments read strictly; an unknown operation answers, it does not raise. */
    expect(call_text(addin, "Выполнить", "store.stats", "{\"a\": 1, \"a\": 2}"), 0,
           "invalid_request");
    expect(call_text(addin, "Выполнить", "teleport", "{}"), 0, "unknown_operation");
    CHECK(addin->connection.errors == errors + 1);
}

/* ---- sizes: 1 MiB requests, in UTF-16 and in UTF-8 ---- */

static char *padded_request(size_t bytes) {
    const char *request = "{\"op\": \"store.stats\", \"args\": {}}";
    char *text = malloc(bytes + 1);
    size_t length = strlen(request);
    memcpy(text, request, length - 1);
    memset(text + length - 1, ' ', bytes - length);
    memcpy(text + bytes - 1, "}", 2);
    return text;
}

static void test_sizes(const char *store) {
    Addin *addin = new_addin();
    expect(call_text(addin, "Open", store, NULL), 1, NULL);
    const size_t limit = 1024 * 1024;
    char *request = padded_request(limit);
    expect(call_text(addin, "ExecuteRequest", request, NULL), 1, NULL);
    free(request);
    request = padded_request(limit + 1);
    expect(call_text(addin, "ExecuteRequest", request, NULL), 0, "too_large");
    free(request);

    /* 'ж' is one UTF-16 unit and two UTF-8 bytes: the limit counts the bytes. */
    const size_t letters = 600 * 1024;
    char *arguments = malloc(letters * 2 + 64);
    size_t n = (size_t)sprintf(arguments, "{\"query\": \"");
    for (size_t i = 0; i < letters; i++) {
        memcpy(arguments + n, "ж", 2);
        n += 2;
    }
    strcpy(arguments + n, "\"}");
    char field[64] = "";
    char *response = execute(addin, "customer.find", arguments);
    CHECK(mj_text(response, "error.details.field", field, sizeof field) &&
          strcmp(field, "argumentsJSON") == 0);
    expect(response, 0, "too_large");
    /* Half of it fits the request and reaches the core, which refuses the long query. */
    arguments[(letters / 2) * 2 + 11] = '\0';
    strcat(arguments, "\"}");
    response = execute(addin, "customer.find", arguments);
    CHECK(mj_text(response, "error.details.field", field, sizeof field) &&
          strcmp(field, "query") == 0);
    expect(response, 0, "too_large");
    free(arguments);

    /* A lone surrogate is not text. */
    tVariant params[2] = {string_arg("store.stats"), string_arg("{\"x\": \"ab\"}")};
    params[1].wstr.pwstrVal[8] = 0xD800;
    response = NULL;
    CHECK(call_func(addin, "Execute", params, 2, &response));
    expect(response, 0, "invalid_argument");
    variant_clear(&params[0]);
    variant_clear(&params[1]);
    expect(call_text(addin, "Close", NULL, NULL), 1, NULL);
    addin_destroy(addin);
}

/* ---- two objects on one store, and objects on several threads ---- */

static void test_two_objects(const char *store) {
    Addin *first = new_addin();
    Addin *second = new_addin();
    expect(call_text(first, "Open", store, ""), 1, NULL);
    expect(call_text(second, "Открыть", store, "{}"), 1, NULL);
    expect(execute(second, "program.set", PROGRAM), 1, NULL);
    int errors = second->connection.errors;
    CHECK(call_text(second, "Открыть", store, "{}") == NULL);
    expect_raised(second, errors, "already has a store open");
    expect(execute(first, "customer.register", "{\"full_name\": \"Первый Клиент\"}"), 1, NULL);
    char *response = execute(second, "customer.find", "{\"query\": \"Первый\"}");
    CHECK(mj_count(response, "result.items") == 1);
    expect(response, 1, NULL);
    /* Other options for a store open in this process are refused. */
    Addin *third = new_addin();
    expect(call_text(third, "Open", store, "{\"durability\": \"import\"}"), 0,
           "invalid_argument");
    addin_destroy(third);
    /* The first lets go; the second goes on; the last one closes the store. */
    expect(call_text(first, "Close", NULL, NULL), 1, NULL);
    expect(execute(second, "store.stats", ""), 1, NULL);
    addin_destroy(second); /* never closed: destroying it releases the store */
    expect(call_text(first, "Open", store, ""), 1, NULL);
    expect(execute(first, "store.check", ""), 1, NULL);
    addin_destroy(first);
}

enum { THREADS = 4, COMMITS_PER_THREAD = 5 };

typedef struct Worker {
    const char *store;
    int number;
    Addin *addin; /* made by another thread when set */
} Worker;

static void *worker_run(void *arg) {
    Worker *worker = arg;
    Addin *addin = worker->addin != NULL ? worker->addin : new_addin();
    if (worker->addin == NULL) {
        expect(call_text(addin, "Open", worker->store, NULL), 1, NULL);
    }
    char arguments[512];
    for (int i = 0; i < COMMITS_PER_THREAD; i++) {
        snprintf(arguments, sizeof arguments,
                 "{\"customer\": {\"card\": \"2000000000015\"}, \"order_id\": \"Т%d-%d\","
                 " \"idempotency_key\": \"касса-%d-%d\", \"lines\": [{\"sku\": \"W\", \"name\":"
                 " \"Мойка\", \"kind\": \"labor\", \"qty\": \"1\", \"unit_price\": \"500\"}]}",
                 worker->number, i, worker->number, i);
        expect(execute(addin, "checkout.commit", arguments), 1, NULL);
    }
    expect(call_text(addin, "Close", NULL, NULL), 1, NULL);
    addin_destroy(addin);
    return NULL;
}

static void test_threads(const char *store) {
    Addin *setup = new_addin();
    expect(call_text(setup, "Open", store, NULL), 1, NULL);
    expect(execute(setup, "program.set", PROGRAM), 1, NULL);
    expect(execute(setup, "customer.register",
                   "{\"full_name\": \"Поток Клиент\", \"card\": \"2000000000015\"}"),
           1, NULL);
    pthread_t threads[THREADS];
    Worker workers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (Worker){.store = store, .number = t, .addin = NULL};
        if (t == 0) {
            /* Made and opened on this thread, used and destroyed on another. */
            workers[t].addin = new_addin();
            expect(call_text(workers[t].addin, "Open", store, NULL), 1, NULL);
        }
        CHECK(pthread_create(&threads[t], NULL, worker_run, &workers[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
    }
    char *response = execute(setup, "visit.list",
                             "{\"customer\": {\"card\": \"2000000000015\"}, \"limit\": 100}");
    CHECK(mj_count(response, "result.visits") == THREADS * COMMITS_PER_THREAD ||
          mj_count(response, "result") == THREADS * COMMITS_PER_THREAD);
    expect(response, 1, NULL);
    expect(call_text(setup, "Close", NULL, NULL), 1, NULL);
    addin_destroy(setup);
}

/* ---- what must never reach 1C: a panic, and a memory manager that refuses ---- */

static void test_panic_and_memory(const char *store) {
    fprintf(stderr, "(the panic messages that follow are forced by PITSTOP_1C_PANIC_IN, and each"
                    " is caught)\n");
    setenv("PITSTOP_1C_PANIC_IN", "Execute", 1);
    Addin *addin = new_addin();
    unsetenv("PITSTOP_1C_PANIC_IN");
    expect(call_text(addin, "Open", store, NULL), 1, NULL);
    int errors = addin->connection.errors;
    tVariant operation = string_arg("store.stats");
    CHECK(!call_func(addin, "Выполнить", &operation, 1, NULL));
    expect_raised(addin, errors++, "internal: a bug in the Pitstop add-in was caught");
    char *last = get_prop(addin, "LastError");
    CHECK(last != NULL && strstr(last, "\"code\":\"internal\"") != NULL);
    free(last);
    CHECK(!call_proc(addin, "Execute", &operation, 1));
    expect_raised(addin, errors++, "PITSTOP_1C_PANIC_IN asked Execute to panic");
    /* The object goes on working. */
    expect(call_text(addin, "ExecuteRequest", "{\"op\": \"store.stats\"}", NULL), 1, NULL);

    /* 1C's memory manager refuses: raised, nothing leaked. */
    atomic_store(&memory_manager.refuse, 1);
    CHECK(!call_func(addin, "ExecuteRequest", &operation, 1, NULL));
    atomic_store(&memory_manager.refuse, 0);
    expect_raised(addin, errors++, "memory manager refused");
    variant_clear(&operation);
    expect(call_text(addin, "Close", NULL, NULL), 1, NULL);
    addin_destroy(addin);

    setenv("PITSTOP_1C_PANIC_IN", "LastError", 1);
    addin = new_addin();
    unsetenv("PITSTOP_1C_PANIC_IN");
    CHECK(get_prop(addin, "ПоследняяОшибка") == NULL);
    expect_raised(addin, 0, "internal: ");
    char *version = get_prop(addin, "Version");
    CHECK(version != NULL);
    free(version);
    addin_destroy(addin);
}

/* ---- a second process on the same store: what a second 1C worker process sees ---- */

static int second_process(const char *store) {
    Addin *addin = new_addin();
    char *response = call_text(addin, "Open", store, NULL);
    char code[64] = "";
    char message[1024] = "";
    mj_text(response, "error.code", code, sizeof code);
    mj_text(response, "error.message", message, sizeof message);
    CHECK(strcmp(code, "locked") == 0);
    CHECK(strstr(message, "PostgreSQL") != NULL);
    free(response);
    addin_destroy(addin);
    return atomic_load(&failed) == 0 ? 0 : 1;
}

static void test_second_process(const char *self, const char *library_path, const char *store) {
    Addin *addin = new_addin();
    expect(call_text(addin, "Open", store, NULL), 1, NULL);
    char *argv[] = {(char *)self, (char *)library_path, (char *)store, "--second-process", NULL};
    pid_t child;
    CHECK(posix_spawn(&child, self, NULL, NULL, argv, environ) == 0);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    expect(call_text(addin, "Close", NULL, NULL), 1, NULL);
    addin_destroy(addin);
}

/* ---- several worker processes on one PostgreSQL store: they all work ---- */

static const char *PG_VISIT =
    "{\"customer\": {\"card\": \"2000000000015\"}, \"order_id\": \"1С-ЗН-%d\","
    " \"idempotency_key\": \"1С-Реализация-%d\", \"lines\": [{\"sku\": \"W\", \"name\":"
    " \"Мойка\", \"kind\": \"labor\", \"qty\": \"1\", \"unit_price\": \"500\"}]}";

static int postgres_process(const char *store, int number) {
    Addin *addin = new_addin();
    expect(call_text(addin, "Open", store, NULL), 1, NULL);
    char arguments[512];
    snprintf(arguments, sizeof arguments, PG_VISIT, number, number);
    expect(execute(addin, "checkout.commit", arguments), 1, NULL);
    expect(call_text(addin, "Close", NULL, NULL), 1, NULL);
    addin_destroy(addin);
    return atomic_load(&failed) == 0 ? 0 : 1;
}

/* Three worker processes (what client-server 1C runs) load the add-in at once and work on
   one PostgreSQL store, where a sled store would answer the second one `locked`; a retry
   from this process with a worker's idempotency key gets that worker's receipt. */
static void test_postgres_processes(const char *self, const char *library_path) {
    const char *server = getenv("PITSTOP_TEST_POSTGRES");
    if (server == NULL) {
        printf("PostgreSQL: skipped (PITSTOP_TEST_POSTGRES is not set; make test sets it)\n");
        return;
    }
    Addin *addin = new_addin();
    expect(call_text(addin, "Open", server, NULL), 1, NULL);
    expect(execute(addin, "program.set", PROGRAM), 1, NULL);
    expect(execute(addin, "customer.register",
                   "{\"full_name\": \"Общий Клиент\", \"card\": \"2000000000015\"}"),
           1, NULL);
    enum { PROCESSES = 3 };
    pid_t children[PROCESSES];
    for (int p = 0; p < PROCESSES; p++) {
        char number[16];
        snprintf(number, sizeof number, "%d", p);
        char *argv[] = {(char *)self, (char *)library_path, (char *)server, "--postgres-process",
                        number, NULL};
        CHECK(posix_spawn(&children[p], self, NULL, NULL, argv, environ) == 0);
    }
    for (int p = 0; p < PROCESSES; p++) {
        int status = 0;
        CHECK(waitpid(children[p], &status, 0) == children[p]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    char *response = execute(addin, "visit.list",
                             "{\"customer\": {\"card\": \"2000000000015\"}, \"limit\": 100}");
    CHECK(mj_count(response, "result.visits") == PROCESSES ||
          mj_count(response, "result") == PROCESSES);
    expect(response, 1, NULL);
    char arguments[512];
    snprintf(arguments, sizeof arguments, PG_VISIT, 1, 1);
    response = execute(addin, "checkout.commit", arguments);
    char order[64] = "";
    mj_text(response, "result.order_id", order, sizeof order);
    CHECK(strcmp(order, "1С-ЗН-1") == 0);
    expect(response, 1, NULL);
    expect(execute(addin, "store.check", ""), 1, NULL);
    expect(call_text(addin, "Close", NULL, NULL), 1, NULL);
    addin_destroy(addin);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIBRARY DIR | LIBRARY STORE --second-process\n", argv[0]);
        return 2;
    }
    if (!library_load(argv[1], &library)) {
        return 1;
    }
    if (argc == 4 && strcmp(argv[3], "--second-process") == 0) {
        return second_process(argv[2]);
    }
    if (argc == 5 && strcmp(argv[3], "--postgres-process") == 0) {
        return postgres_process(argv[2], atoi(argv[4]));
    }
    snprintf(base_dir, sizeof base_dir, "%s", argv[2]);
    mkdir(base_dir, 0755);
    char store[1100];

    test_exports();
    test_tables();
    test_defaults_and_properties();
    store_path(store, sizeof store, "misuse");
    test_misuse(store);
    test_open_close(store);
    store_path(store, sizeof store, "till");
    test_till_session(store);
    store_path(store, sizeof store, "sizes");
    test_sizes(store);
    store_path(store, sizeof store, "two-objects");
    test_two_objects(store);
    store_path(store, sizeof store, "threads");
    test_threads(store);
    store_path(store, sizeof store, "panic");
    test_panic_and_memory(store);
    store_path(store, sizeof store, "two-processes");
    test_second_process(argv[0], argv[1], store);
    test_postgres_processes(argv[0], argv[1]);

    CHECK(atomic_load(&memory_manager.outstanding) == 0);
    if (atomic_load(&memory_manager.outstanding) != 0) {
        fprintf(stderr, "%ld blocks from the memory manager were not freed\n",
                atomic_load(&memory_manager.outstanding));
    }
    printf("%d passed, %d failed\n", atomic_load(&passed), atomic_load(&failed));
    return atomic_load(&failed) == 0 ? 0 : 1;
}
