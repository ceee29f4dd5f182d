/*
 * load_check.c: does the Windows add-in (pitstop_1c.dll) load and work? Built with
 * mingw-w64 and run under wine by `make onec-wine-check`: LoadLibrary, the five exports,
 * one object through 1C's interface tables (one destructor slot, as MSVC lays out the
 * vtables of 1C for Windows), a store opened, a Cyrillic round trip, misuse raised through
 * AddError, the store closed and every block of the memory manager given back.
 *
 *   load_check.exe pitstop_1c.dll STORE_DIR
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "addin_host.h"
#include "minijson.h"

static int passed;
static int failed;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (cond) {                                                                            \
            passed++;                                                                          \
        } else {                                                                               \
            failed++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);           \
        }                                                                                      \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s pitstop_1c.dll STORE_DIR\n", argv[0]);
        return 2;
    }
    Library library;
    if (!library_load(argv[1], &library)) {
        return 1;
    }
    CHECK(library.set_platform_capabilities(3) == 3);
    Addin *addin = addin_create(&library, "Pitstop");
    CHECK(addin != NULL);
    if (addin == NULL) {
        return 1;
    }
    char *response = call_text(addin, "Открыть", argv[2], "");
    CHECK(response != NULL && mj_true(response, "ok"));
    if (response == NULL || !mj_true(response, "ok")) {
        fprintf(stderr, "Open: %s %s\n", response != NULL ? response : "raised",
                addin->connection.description);
        return 1;
    }
    free(response);
    response = call_text(addin, "Выполнить", "program.set",
                         "{\"program\": {\"name\": \"Клуб\", \"timezone\": \"Europe/Moscow\","
                         " \"accrual\": {\"rate_percent\": \"5\"}}}");
    CHECK(response != NULL && mj_true(response, "ok"));
    free(response);
    response = call_text(addin, "Выполнить", "customer.register",
                         "{\"full_name\": \"Смирнов Алексей 🚗\", \"card\": \"2000000000015\"}");
    CHECK(response != NULL && mj_true(response, "ok"));
    if (response != NULL && !mj_true(response, "ok")) {
        fprintf(stderr, "  %s\n", response);
    }
    free(response);
    response = call_text(addin, "Выполнить", "customer.get",
                         "{\"customer\": {\"card\": \"2000000000015\"}}");
    char name[256] = "";
    CHECK(response != NULL && mj_text(response, "result.customer.full_name", name, sizeof name) &&
          strcmp(name, "Смирнов Алексей 🚗") == 0);
    free(response);
    response = call_text(addin, "Close", NULL, NULL);
    CHECK(response != NULL && mj_true(response, "ok"));
    free(response);
    CHECK(call_text(addin, "Execute", "store.stats", NULL) == NULL);
    CHECK(addin->connection.errors == 1 && strstr(addin->connection.description, "Закрыть"));
    addin_destroy(addin);
    CHECK(atomic_load(&memory_manager.outstanding) == 0);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
