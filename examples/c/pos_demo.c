/*
 * pos_demo.c: a cashier's session at a service station, in plain C against libpitstop.
 *
 * Build and run (from the repository root, after `cargo build --release -p pitstop-ffi`):
 *
 *   cc -std=c11 -Wall -Wextra -I ffi/include -I examples/c examples/c/pos_demo.c \
 *      -L target/release -lpitstop -Wl,-rpath,"$PWD/target/release" -o pos_demo
 *   ./pos_demo ./pos-demo-store      (a directory that does not exist yet)
 *
 * The session: the back office sets the programme; a customer registers with a card and a
 * car; on the next visit the customer has forgotten the card, so the cashier finds them by
 * phone, quotes the basket, pays part of it with points, commits it and prints the receipt;
 * a line is refunded; the statement is shown; the card is lost, blocked and reissued.
 *
 * Every change carries an idempotency key, as a POS should send it, so a retry after a lost
 * answer is harmless (the demo shows one), and every request a fixed `at` instant, so the
 * output is the same on every run.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minijson.h"
#include "pitstop.h"

static pitstop_engine *engine = NULL;

/* A basket: labour, oil and a filter, as the POS would post it. */
#define BASKET                                                                                 \
    "[{\"sku\": \"TO-2\", \"name\": \"ТО-2 (работа)\", \"kind\": \"labor\", \"qty\": \"1\","   \
    " \"unit_price\": \"4500\"},"                                                              \
    " {\"sku\": \"OIL-5W30\", \"name\": \"Масло 5W-30\", \"kind\": \"goods\", \"qty\": \"4.5\"," \
    " \"unit_price\": \"890\"},"                                                               \
    " {\"sku\": \"FLT-01\", \"name\": \"Фильтр масляный\", \"kind\": \"part\", \"qty\": \"1\","  \
    " \"unit_price\": \"650\"}]"

/* Format a request (printf-style) into a new buffer the caller frees with free(). */
static char *format_request(const char *format, va_list args) {
    va_list copy;
    int length;
    char *request;
    va_copy(copy, args);
    length = vsnprintf(NULL, 0, format, copy);
    va_end(copy);
    if (length < 0) {
        return NULL;
    }
    request = malloc((size_t)length + 1);
    if (request != NULL) {
        vsnprintf(request, (size_t)length + 1, format, args);
    }
    return request;
}

/*
 * Execute one operation and check that it ends with `expected`. Returns the response,
 * which the caller frees with pitstop_string_free(); exits on anything unexpected.
 */
static char *call_expecting(pitstop_status expected, const char *format, ...) {
    va_list args;
    char *request;
    char *response = NULL;
    pitstop_status status;
    va_start(args, format);
    request = format_request(format, args);
    va_end(args);
    if (request == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    status = pitstop_execute(&response, engine, request);
    if (status != expected) {
        char message[512];
        mj_text(response, "error.message", message, sizeof message);
        fprintf(stderr, "unexpected %s (%d): %s\nrequest: %s\n", pitstop_status_name(status),
                (int)status, message, request);
        free(request);
        pitstop_string_free(response);
        exit(1);
    }
    free(request);
    return response;
}

#define call(...) call_expecting(PITSTOP_STATUS_OK, __VA_ARGS__)

/* Print `text` padded to `width` characters (not bytes: the names are Cyrillic). */
static void print_cell(const char *text, int width, int right) {
    int chars = 0;
    for (const char *p = text; *p != '\0'; p++) {
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    }
    if (right) {
        printf("%*s%s", chars < width ? width - chars : 0, "", text);
    } else {
        printf("%s%*s", text, chars < width ? width - chars : 0, "");
    }
}

static void print_row(const char *label, const char *value) {
    printf("  ");
    print_cell(label, 36, 0);
    print_cell(value, 12, 1);
    printf("\n");
}

/* The value at `path` of `json` ("" when absent), in one of 8 rotating static buffers, so
 * that several may be passed to one printf. */
static const char *get(const char *json, const char *path) {
    static char values[8][512];
    static unsigned next = 0;
    char *value = values[next++ % 8];
    mj_text(json, path, value, sizeof values[0]);
    return value;
}

static void back_office(void) {
    char *response = call(
        "{\"op\": \"program.set\", \"args\": {\"idempotency_key\": \"pos-demo-program-1\","
        " \"at\": \"2025-03-01T06:00:00Z\", \"program\": {"
        " \"name\": \"Клуб автосервиса\", \"timezone\": \"Europe/Moscow\","
        " \"accrual\": {\"rate_percent\": \"5\", \"rate_by_kind\": {\"labor\": \"7\", \"part\": \"3\"},"
        "   \"min_bill\": \"500\"},"
        " \"redemption\": {\"kinds\": [\"labor\"], \"cap_percent\": \"30\"},"
        " \"expiry_months\": 12, \"pending_days\": 0,"
        " \"welcome_bonus\": {\"points\": \"300\", \"expiry_days\": 90}}}}");
    printf("back office: programme \"%s\", version %s\n", get(response, "result.name"),
           get(response, "result.version"));
    pitstop_string_free(response);
}

static void first_visit(void) {
    char *response = call(
        "{\"op\": \"customer.register\", \"args\": {\"idempotency_key\": \"pos-demo-register-1\","
        " \"full_name\": \"Смирнов Алексей Петрович\", \"phone\": \"8 916 555-12-34\","
        " \"birthday\": \"1984-05-17\", \"consents\": {\"sms\": true}, \"card\": \"2000000000015\","
        " \"at\": \"2025-03-01T09:00:00Z\"}}");
    printf("registered: %s, card %s, welcome bonus %s points\n",
           get(response, "result.customer.full_name"), get(response, "result.customer.card"),
           get(response, "result.welcome_bonus"));
    pitstop_string_free(response);

    response = call(
        "{\"op\": \"vehicle.add\", \"args\": {\"idempotency_key\": \"pos-demo-vehicle-1\","
        " \"customer\": {\"card\": \"2000000000015\"}, \"vin\": \"XW8ZZZ61ZHG012345\","
        " \"plate\": \"о777оо77\", \"make\": \"Skoda\", \"model\": \"Octavia\", \"year\": 2017,"
        " \"mileage\": 98000, \"at\": \"2025-03-01T09:05:00Z\"}}");
    printf("car: %s %s, plate %s, %s km\n", get(response, "result.make"),
           get(response, "result.model"), get(response, "result.plate"),
           get(response, "result.mileage_km"));
    pitstop_string_free(response);
}

/* The customer forgot the card: find them by phone. Returns the card number. */
static void find_by_phone(char *card, size_t card_size) {
    char *response = call("{\"op\": \"customer.find\", \"args\": {\"by\": {\"phone\": \"+7 (916) 555-12-34\"},"
                          " \"at\": \"2025-03-10T09:58:00Z\"}}");
    long found = mj_count(response, "result.items");
    printf("\nnext visit, no card: phone +7 (916) 555-12-34 -> %ld customer(s)\n", found);
    if (found != 1) {
        fprintf(stderr, "expected one customer\n");
        exit(1);
    }
    printf("  %s, card %s\n", get(response, "result.items.0.full_name"),
           get(response, "result.items.0.card"));
    mj_text(response, "result.items.0.card", card, card_size);
    pitstop_string_free(response);

    response = call("{\"op\": \"points.balance\", \"args\": {\"customer\": {\"card\": \"%s\"},"
                    " \"at\": \"2025-03-10T09:58:00Z\"}}",
                    card);
    printf("  available %s points (%s RUB), next expiry %s points on %s\n",
           get(response, "result.available"), get(response, "result.available_money"),
           get(response, "result.next_expiries.0.points"),
           get(response, "result.next_expiries.0.date"));
    pitstop_string_free(response);
}

static void quote(const char *card) {
    char *response = call("{\"op\": \"checkout.quote\", \"args\": {\"customer\": {\"card\": \"%s\"},"
                          " \"redeem\": \"max\", \"lines\": " BASKET ","
                          " \"at\": \"2025-03-10T10:00:00Z\"}}",
                          card);
    printf("\nquote: %s RUB, points may pay %s (at most %s), the visit earns %s points\n",
           get(response, "result.totals.net"), get(response, "result.redemption.applied"),
           get(response, "result.redemption.max"), get(response, "result.totals.accrual"));
    for (long i = 0; i < mj_count(response, "result.messages"); i++) {
        char path[64];
        snprintf(path, sizeof path, "result.messages.%ld.text", i);
        printf("  cashier sees: %s\n", get(response, path));
    }
    pitstop_string_free(response);
}

static void commit_and_print_receipt(const char *card) {
    char *response = call(
        "{\"op\": \"checkout.commit\", \"args\": {\"idempotency_key\": \"pos1-ЗН-000123\","
        " \"customer\": {\"card\": \"%s\"}, \"vehicle\": {\"plate\": \"O777OO77\"},"
        " \"mileage\": 105200, \"order_id\": \"ЗН-000123\", \"redeem\": \"max\","
        " \"lines\": " BASKET ", \"at\": \"2025-03-10T10:05:00Z\"}}",
        card);
    long lines = mj_count(response, "result.lines");
    printf("\n  ============== RECEIPT %s ==============\n", get(response, "result.order_id"));
    printf("  %s\n", get(response, "result.customer_name"));
    for (long i = 0; i < lines; i++) {
        char path[64];
        char label[256];
        char qty[32];
        char price[32];
        snprintf(path, sizeof path, "result.lines.%ld.qty", i);
        mj_text(response, path, qty, sizeof qty);
        snprintf(path, sizeof path, "result.lines.%ld.unit_price", i);
        mj_text(response, path, price, sizeof price);
        snprintf(path, sizeof path, "result.lines.%ld.name", i);
        snprintf(label, sizeof label, "%ld. %s  %s x %s", i + 1, get(response, path), qty,
                 price);
        snprintf(path, sizeof path, "result.lines.%ld.net", i);
        print_row(label, get(response, path));
    }
    printf("  ------------------------------------------------\n");
    print_row("Total", get(response, "result.totals.net"));
    print_row("Discount", get(response, "result.totals.discount"));
    print_row("Paid with points", get(response, "result.totals.points_money"));
    print_row("To pay", get(response, "result.totals.money"));
    print_row("Points earned", get(response, "result.totals.accrual"));
    print_row("Points balance", get(response, "result.balance"));
    printf("  ================================================\n");
    pitstop_string_free(response);

    /* The POS lost the answer and retries: the same key returns the same receipt. */
    response = call(
        "{\"op\": \"checkout.commit\", \"args\": {\"idempotency_key\": \"pos1-ЗН-000123\","
        " \"customer\": {\"card\": \"%s\"}, \"vehicle\": {\"plate\": \"O777OO77\"},"
        " \"mileage\": 105200, \"order_id\": \"ЗН-000123\", \"redeem\": \"max\","
        " \"lines\": " BASKET ", \"at\": \"2025-03-10T10:05:00Z\"}}",
        card);
    printf("retry after a lost answer: visit %s again, balance still %s\n",
           get(response, "result.visit"), get(response, "result.balance"));
    pitstop_string_free(response);
}

static void refund_filter(void) {
    char *response = call(
        "{\"op\": \"checkout.refund\", \"args\": {\"idempotency_key\": \"pos1-ЗН-000123-refund-1\","
        " \"order_id\": \"ЗН-000123\", \"lines\": [{\"line\": 2}], \"reason\": \"не подошёл\","
        " \"at\": \"2025-03-11T12:00:00Z\"}}");
    printf("\nrefund of the oil filter: %s RUB back, %s points of accrual taken back,"
           " balance %s\n",
           get(response, "result.refund.money"), get(response, "result.refund.accrual_taken"),
           get(response, "result.balance"));
    pitstop_string_free(response);
}

static void statement(const char *card) {
    char *response = call("{\"op\": \"points.statement\", \"args\": {\"customer\": {\"card\": \"%s\"},"
                          " \"limit\": 10, \"at\": \"2025-03-11T12:01:00Z\"}}",
                          card);
    long entries = mj_count(response, "result.entries");
    printf("\nstatement (newest first), balance %s:\n", get(response, "result.balance"));
    for (long i = 0; i < entries; i++) {
        char path[64];
        char date[32];
        char kind[64];
        char amount[32];
        snprintf(path, sizeof path, "result.entries.%ld.date", i);
        mj_text(response, path, date, sizeof date);
        snprintf(path, sizeof path, "result.entries.%ld.kind", i);
        mj_text(response, path, kind, sizeof kind);
        snprintf(path, sizeof path, "result.entries.%ld.amount", i);
        mj_text(response, path, amount, sizeof amount);
        snprintf(path, sizeof path, "result.entries.%ld.balance_after", i);
        printf("  %s  ", date);
        print_cell(kind, 18, 0);
        print_cell(amount, 8, 1);
        printf("  -> %s\n", get(response, path));
    }
    pitstop_string_free(response);
}

static void lost_card(const char *card) {
    char *response = call("{\"op\": \"card.block\", \"args\": {\"idempotency_key\": \"pos-demo-block-1\","
                          " \"card\": \"%s\", \"reason\": \"утеряна\", \"reissue\": true,"
                          " \"at\": \"2025-03-12T09:00:00Z\"}}",
                          card);
    char new_card[64];
    mj_text(response, "result.new_card.number", new_card, sizeof new_card);
    printf("\nlost card %s blocked, new card %s\n", card, new_card);
    pitstop_string_free(response);

    /* The old card is refused with a status the POS can switch on. */
    response = call_expecting(PITSTOP_STATUS_BLOCKED,
                              "{\"op\": \"points.balance\", \"args\": {\"customer\": {\"card\": \"%s\"},"
                              " \"at\": \"2025-03-12T09:01:00Z\"}}",
                              card);
    printf("  old card: %s (%s)\n", get(response, "error.code"), get(response, "error.message"));
    pitstop_string_free(response);

    response = call("{\"op\": \"points.balance\", \"args\": {\"customer\": {\"card\": \"%s\"},"
                    " \"at\": \"2025-03-12T09:01:00Z\"}}",
                    new_card);
    printf("  new card: balance %s points, kept\n", get(response, "result.available"));
    pitstop_string_free(response);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "./pos-demo-store";
    char *error = NULL;
    char card[64];
    pitstop_status status;

    if (pitstop_abi_version() != PITSTOP_ABI_VERSION) {
        fprintf(stderr, "libpitstop ABI %u, this program was built for %u\n",
                (unsigned)pitstop_abi_version(), (unsigned)PITSTOP_ABI_VERSION);
        return 1;
    }
    printf("Pitstop POS demo: libpitstop %s, ABI %u, store %s\n\n", pitstop_version(),
           (unsigned)pitstop_abi_version(), path);

    status = pitstop_open(&engine, &error, path, "{\"durability\": \"durable\"}");
    if (status != PITSTOP_STATUS_OK) {
        fprintf(stderr, "cannot open %s: %s: %s\n", path, pitstop_status_name(status),
                get(error, "error.message"));
        pitstop_string_free(error);
        return 1;
    }

    back_office();
    first_visit();
    find_by_phone(card, sizeof card);
    quote(card);
    commit_and_print_receipt(card);
    refund_filter();
    statement(card);
    lost_card(card);

    status = pitstop_close(&error, engine);
    if (status != PITSTOP_STATUS_OK) {
        fprintf(stderr, "close: %s: %s\n", pitstop_status_name(status),
                get(error, "error.message"));
        pitstop_string_free(error);
    }
    pitstop_engine_free(engine);
    printf("\nclosed.\n");
    return status == PITSTOP_STATUS_OK ? 0 : 1;
}
