//! `program.simulate`: a past period replayed under a proposed programme, beside the
//! programme in force, with nothing written. Every history here is built through the
//! public operations; the expected figures are worked out by hand in the comments (or
//! read from the receipts the shop actually got, for the replay of the programme in
//! force).

use crate::common;

use chrono::NaiveDate;
use common::plugin_fixtures::{b64, checkout_body, effects};
use common::{Shop, dec, simple_program};
use pitstop_core::ErrorCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn at(date: &str) -> String {
    format!("{date}T09:30:00Z")
}

fn register(shop: &Shop, name: &str, phone: &str, date: &str) -> u64 {
    shop.ok(
        "customer.register",
        json!({ "full_name": name, "phone": phone, "at": at(date) }),
    )["customer"]["id"]
        .as_u64()
        .expect("id")
}

/// One visit: a labour line at `price`, paying `redeem` points when given.
fn visit(
    shop: &Shop,
    customer: u64,
    order: &str,
    date: &str,
    price: &str,
    redeem: Option<&str>,
) -> Value {
    let mut args = json!({
        "customer": { "id": customer },
        "order_id": order,
        "lines": [{ "sku": "TO-1", "name": "Техобслуживание", "kind": "labor", "qty": "1", "unit_price": price }],
        "at": at(date),
    });
    if let Some(points) = redeem {
        args["redeem"] = json!(points);
    }
    shop.ok("checkout.commit", args)
}

/// The daily job on every day of `[from, to]`, as a shop's scheduler runs it.
fn daily_through(shop: &Shop, from: &str, to: &str) {
    let mut day: NaiveDate = from.parse().unwrap();
    let last: NaiveDate = to.parse().unwrap();
    while day <= last {
        shop.ok("jobs.daily", json!({ "date": day.to_string() }));
        day = day.succ_opt().unwrap();
    }
}

fn program_with(change: impl FnOnce(&mut Value)) -> Value {
    let mut program = simple_program();
    change(&mut program);
    program
}

fn simulate(shop: &Shop, program: Value, from: &str, to: &str) -> Value {
    shop.ok(
        "program.simulate",
        json!({ "program": program, "from": from, "to": to }),
    )
}

fn figure(result: &Value, side: &str, name: &str) -> Decimal {
    dec(&result[side][name])
}

const MONEY_FIGURES: [&str; 7] = [
    "issued",
    "redeemed",
    "expired",
    "adjusted",
    "liability_start",
    "liability_end",
    "discounts",
];

/// Everything a reader can see of a store: if a simulation wrote anything, one of
/// these differs.
fn everything(shop: &Shop) -> Vec<Value> {
    vec![
        shop.ok("store.stats", json!({}))["seq"].clone(),
        shop.ok("store.stats", json!({}))["records"].clone(),
        shop.ok("store.check", json!({})),
        shop.ok("customer.list", json!({ "limit": 1000 })),
        shop.ok("visit.export", json!({ "limit": 1000 })),
        shop.ok("ledger.export", json!({ "limit": 1000 })),
        shop.ok("program.get", json!({})),
        shop.ok("plugin.list", json!({})),
    ]
}

/// A shop whose period 2025-02-01..2025-06-30 holds redemptions, a refund, lots that
/// expire inside it and lots carried in from before it (expiry three months). Returns
/// the receipts of the visits and the refund.
fn busy_shop(name: &str) -> (Shop, Vec<Value>, Value) {
    let program = program_with(|p| p["expiry_months"] = json!(3));
    let shop = Shop::with_program(name, program);
    let ivanov = register(&shop, "Иванов Иван Петрович", "+79161234567", "2024-11-01");
    let petrova = register(
        &shop,
        "Петрова Анна Сергеевна",
        "+79031112233",
        "2024-11-15",
    );
    let sidorov = register(&shop, "Сидоров Олег", "+79260001122", "2025-03-01");
    daily_through(&shop, "2024-11-01", "2024-11-30");
    let mut receipts = Vec::new();
    receipts.push(visit(&shop, ivanov, "ЗН-0001", "2024-12-02", "4500", None));
    receipts.push(visit(
        &shop,
        petrova,
        "ЗН-0002",
        "2024-12-20",
        "12000",
        None,
    ));
    daily_through(&shop, "2024-12-01", "2025-01-31");
    // In the period: Иванов spends part of December's lot, Петрова lets hers burn
    // (it expires on 2025-03-20), Сидоров comes twice and redeems.
    receipts.push(visit(
        &shop,
        ivanov,
        "ЗН-0003",
        "2025-02-10",
        "3000",
        Some("300"),
    ));
    daily_through(&shop, "2025-02-01", "2025-03-31");
    receipts.push(visit(&shop, sidorov, "ЗН-0004", "2025-04-02", "8000", None));
    receipts.push(visit(
        &shop,
        sidorov,
        "ЗН-0005",
        "2025-05-15",
        "2000",
        Some("max"),
    ));
    // Петрова buys work and a part, and brings the part back five days later.
    receipts.push(shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": petrova }, "order_id": "ЗН-0008", "at": at("2025-05-20"),
                "lines": [
                    { "sku": "TO-2", "name": "Замена колодок", "kind": "labor", "qty": "1", "unit_price": "6000" },
                    { "sku": "BRK-1", "name": "Колодки тормозные", "kind": "part", "qty": "2", "unit_price": "1000" }
                ] }),
    ));
    let refund = shop.ok(
        "checkout.refund",
        json!({ "order_id": "ЗН-0008", "lines": [{ "line": 1, "qty": "2" }], "at": at("2025-05-25") }),
    );
    receipts.push(visit(&shop, ivanov, "ЗН-0006", "2025-06-30", "1500", None));
    daily_through(&shop, "2025-04-01", "2025-06-30");
    // After the period: more activity the replay must not see, a refund of a visit of
    // the period among it.
    visit(&shop, petrova, "ЗН-0007", "2025-07-05", "5000", None);
    shop.ok(
        "checkout.refund",
        json!({ "order_id": "ЗН-0006", "at": at("2025-07-06") }),
    );
    daily_through(&shop, "2025-07-01", "2025-07-10");
    (shop, receipts, refund)
}

#[test]
fn replaying_the_programme_in_force_gives_the_ledger_s_figures() {
    let (shop, receipts, refund) = busy_shop("sim-in-force");
    let in_force = shop.ok("program.get", json!({}));
    let result = simulate(&shop, in_force, "2025-02-01", "2025-06-30");

    // The history holds only what the replay replays (visits, the daily job every day,
    // one programme all along): the replay of the same rules must give the ledger's
    // figures exactly, on both replayed sides.
    for side in ["in_force", "proposed"] {
        for name in MONEY_FIGURES {
            assert_eq!(
                figure(&result, side, name),
                figure(&result, "actual", name),
                "{side}.{name}: {result:#}"
            );
        }
        assert_eq!(result[side]["visits"], json!(5));
        assert_eq!(result[side]["refunds"], json!(1));
    }
    assert_eq!(result["actual"]["refunds"], json!(1));
    assert_eq!(result["skipped_in_force"], json!(0));
    assert_eq!(result["skipped_proposed"], json!(0));
    assert_eq!(result["changes"], json!([]), "the same rules change nobody");

    // And the ledger's figures are the ones the receipts show: the period's receipts
    // earned 10% of what was paid in money and spent what they redeemed.
    // The refund took back the 200 the parts had earned (10% of 2000).
    assert_eq!(dec(&refund["refund"]["accrual_taken"]), Decimal::from(200));
    let period = &receipts[2..];
    let earned: Decimal = period
        .iter()
        .map(|r| dec(&r["totals"]["accrual"]))
        .sum::<Decimal>()
        - Decimal::from(200);
    let spent: Decimal = period.iter().map(|r| dec(&r["totals"]["points"])).sum();
    assert_eq!(figure(&result, "actual", "issued"), earned);
    assert_eq!(figure(&result, "actual", "redeemed"), spent);
    // Carried in: Иванов 450 and Петрова 1200 (10% of December's 4500 and 12000).
    assert_eq!(
        figure(&result, "actual", "liability_start"),
        Decimal::from(1650)
    );
    // Петрова's 1200 expire on 2025-03-20; Иванов's December lot (450 − 300 spent =
    // 150) on 2025-03-02; what he earned on 2025-02-10 on 2025-05-10.
    let expired = Decimal::from(1350) + dec(&receipts[2]["totals"]["accrual"]);
    assert_eq!(figure(&result, "actual", "expired"), expired);
    let end = Decimal::from(1650) + earned - spent - expired;
    assert_eq!(figure(&result, "actual", "liability_end"), end);
    assert!(
        result["assumption"]
            .as_str()
            .unwrap()
            .contains("same visits")
    );
    assert_eq!(result["customers"], json!(3));

    // A period ending on the day Петрова's lot burned (2025-03-21, the day after its
    // last day): the replay, which knows the lot only from the entry that burned it
    // (it is gone from her account today), burns it that same day.
    let in_force = shop.ok("program.get", json!({}));
    let short = simulate(&shop, in_force, "2025-02-01", "2025-03-21");
    assert_eq!(figure(&short, "actual", "expired"), Decimal::from(1350));
    for name in MONEY_FIGURES {
        assert_eq!(
            figure(&short, "in_force", name),
            figure(&short, "actual", name),
            "in_force.{name}: {short:#}"
        );
    }
}

#[test]
fn a_doubled_rate_doubles_the_points_issued() {
    let shop = Shop::with_program("sim-double", simple_program());
    let a = register(&shop, "Кузнецов Дмитрий", "+79161230001", "2025-01-05");
    let b = register(&shop, "Смирнова Елена", "+79161230002", "2025-01-05");
    visit(&shop, a, "А-1", "2025-02-03", "4500", None);
    visit(&shop, b, "А-2", "2025-02-28", "12000", None);
    visit(&shop, a, "А-3", "2025-03-15", "800", None);
    visit(&shop, b, "А-4", "2025-04-01", "999", None); // after the period
    let doubled = program_with(|p| p["accrual"]["rate_percent"] = json!("20"));
    let result = simulate(&shop, doubled, "2025-02-01", "2025-03-31");

    // 10% of 4500 + 12000 + 800 = 1730 issued; at 20%: 3460.
    assert_eq!(figure(&result, "actual", "issued"), Decimal::from(1730));
    assert_eq!(figure(&result, "in_force", "issued"), Decimal::from(1730));
    assert_eq!(figure(&result, "proposed", "issued"), Decimal::from(3460));
    assert_eq!(
        figure(&result, "proposed", "liability_end"),
        Decimal::from(3460)
    );
    assert_eq!(
        figure(&result, "proposed", "liability_start"),
        Decimal::ZERO
    );

    // Both customers changed; Смирнова more (1200 more points against 530).
    let changes = result["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0]["customer"], json!(b));
    assert_eq!(changes[0]["name"], json!("Смирнова Елена"));
    assert_eq!(dec(&changes[0]["in_force"]["issued"]), Decimal::from(1200));
    assert_eq!(dec(&changes[0]["proposed"]["issued"]), Decimal::from(2400));
    assert_eq!(dec(&changes[0]["change"]), Decimal::from(1200));
    assert_eq!(changes[1]["customer"], json!(a));
    assert_eq!(dec(&changes[1]["proposed"]["balance"]), Decimal::from(1060));
}

#[test]
fn a_shorter_expiry_burns_the_lots_it_should() {
    let shop = Shop::with_program("sim-expiry", simple_program());
    let a = register(&shop, "Волков Сергей", "+79161230011", "2025-01-05");
    let b = register(&shop, "Морозова Ольга", "+79161230012", "2025-01-05");
    visit(&shop, a, "Б-1", "2025-02-03", "4500", None); // 450, lasts to 2025-03-03 at one month
    visit(&shop, b, "Б-2", "2025-03-10", "2000", None); // 200, lasts to 2025-04-10
    visit(&shop, b, "Б-3", "2025-04-25", "1000", None); // 100, lasts to 2025-05-25: past the period
    let one_month = program_with(|p| p["expiry_months"] = json!(1));
    let result = simulate(&shop, one_month, "2025-02-01", "2025-04-30");

    assert_eq!(figure(&result, "actual", "expired"), Decimal::ZERO);
    assert_eq!(figure(&result, "proposed", "expired"), Decimal::from(650));
    assert_eq!(figure(&result, "proposed", "issued"), Decimal::from(750));
    assert_eq!(
        figure(&result, "proposed", "liability_end"),
        Decimal::from(100)
    );
    assert_eq!(
        figure(&result, "in_force", "liability_end"),
        Decimal::from(750)
    );
    // Волков loses 450, Морозова 200.
    let changes = result["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0]["customer"], json!(a));
    assert_eq!(dec(&changes[0]["proposed"]["expired"]), Decimal::from(450));
    assert_eq!(dec(&changes[0]["in_force"]["balance"]), Decimal::from(450));
    assert_eq!(dec(&changes[0]["proposed"]["balance"]), Decimal::ZERO);
    assert_eq!(changes[1]["customer"], json!(b));
    assert_eq!(dec(&changes[1]["change"]), Decimal::from(200));

    // Ending the period the day before Волков's lot burns keeps it.
    let early = simulate(
        &shop,
        program_with(|p| p["expiry_months"] = json!(1)),
        "2025-02-01",
        "2025-03-03",
    );
    assert_eq!(figure(&early, "proposed", "expired"), Decimal::ZERO);
    let late = simulate(
        &shop,
        program_with(|p| p["expiry_months"] = json!(1)),
        "2025-02-01",
        "2025-03-04",
    );
    assert_eq!(figure(&late, "proposed", "expired"), Decimal::from(450));
}

fn tiered(gold_spend: &str) -> Value {
    program_with(|p| {
        p["tiers"] = json!({
            "window_days": 365,
            "levels": [
                { "code": "silver", "name": "Серебро", "min_spend": "30000" },
                { "code": "gold", "name": "Золото", "min_spend": gold_spend }
            ]
        });
    })
}

fn tier_count(result: &Value, side: &str, tier: Option<&str>) -> u64 {
    result[side]["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["tier"] == json!(tier))
        .map_or(0, |row| row["customers"].as_u64().unwrap())
}

#[test]
fn a_lower_gold_threshold_moves_the_customers_between_it_and_the_old_one() {
    let shop = Shop::with_program("sim-tiers", tiered("80000"));
    let a = register(&shop, "Орлов Павел", "+79161230021", "2025-01-05");
    let b = register(&shop, "Лебедева Мария", "+79161230022", "2025-01-05");
    let c = register(&shop, "Соколов Игорь", "+79161230023", "2025-01-05");
    let d = register(&shop, "Зайцева Нина", "+79161230024", "2025-01-05");
    visit(&shop, a, "В-1", "2025-03-01", "35000", None); // silver either way
    visit(&shop, b, "В-2", "2025-03-02", "30000", None);
    visit(&shop, b, "В-3", "2025-04-02", "30000", None); // 60000: silver now, gold at 50000
    visit(&shop, c, "В-4", "2025-03-03", "90000", None); // gold either way
    visit(&shop, d, "В-5", "2025-03-04", "5000", None); // no tier either way
    let result = simulate(&shop, tiered("50000"), "2025-03-01", "2025-04-30");

    assert_eq!(tier_count(&result, "in_force", Some("silver")), 2);
    assert_eq!(tier_count(&result, "in_force", Some("gold")), 1);
    assert_eq!(tier_count(&result, "proposed", Some("silver")), 1);
    assert_eq!(tier_count(&result, "proposed", Some("gold")), 2);
    assert_eq!(tier_count(&result, "proposed", None), 1);
    assert!(result["actual"]["tiers"].is_null());
    let changes = result["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["customer"], json!(b));
    assert_eq!(changes[0]["in_force"]["tier"], json!("silver"));
    assert_eq!(changes[0]["proposed"]["tier"], json!("gold"));
    // A tier earned from visits before the period counts at its start: with the whole
    // history before `from`, Лебедева starts the period in gold under the proposal.
    let later = simulate(&shop, tiered("50000"), "2025-05-01", "2025-05-31");
    assert_eq!(tier_count(&later, "proposed", Some("gold")), 2);
    assert_eq!(tier_count(&later, "in_force", Some("gold")), 1);
}

#[test]
fn a_proposed_plugin_changes_the_discounts() {
    let shop = Shop::with_program("sim-plugin", simple_program());
    let a = register(&shop, "Никитин Артём", "+79161230031", "2025-01-05");
    visit(&shop, a, "Г-1", "2025-02-03", "4000", None);
    visit(&shop, a, "Г-2", "2025-02-17", "2500", None);
    let wasm = effects(json!([{ "type": "line_discount", "line": 0, "percent": "20" }]));
    let result = shop.ok(
        "program.simulate",
        json!({
            "program": simple_program(),
            "from": "2025-02-01",
            "to": "2025-02-28",
            "plugins": [{ "name": "spring", "wasm": b64(&wasm) }]
        }),
    );
    // 20% of 4000 and 2500 = 1300 of discount; points 10% of what is left (5200).
    assert_eq!(figure(&result, "actual", "discounts"), Decimal::ZERO);
    assert_eq!(figure(&result, "in_force", "discounts"), Decimal::ZERO);
    assert_eq!(
        figure(&result, "proposed", "discounts"),
        Decimal::from(1300)
    );
    assert_eq!(figure(&result, "proposed", "issued"), Decimal::from(520));
    assert_eq!(figure(&result, "in_force", "issued"), Decimal::from(650));
    // 130 fewer points, 1300 more discount.
    assert_eq!(dec(&result["changes"][0]["change"]), Decimal::from(1430));
    // The proposed plugin was never installed in the shop.
    assert_eq!(shop.ok("plugin.list", json!({})), json!([]));

    // A module that is not WebAssembly gets plugin.install's own error.
    let simulated = shop
        .engine()
        .execute(
            "program.simulate",
            json!({ "program": simple_program(), "from": "2025-02-01", "to": "2025-02-28",
                    "plugins": [{ "name": "broken", "wasm": b64(b"not wasm") }] }),
        )
        .expect_err("a broken proposed plugin is refused");
    let installed = shop
        .engine()
        .execute(
            "plugin.install",
            json!({ "name": "broken", "wasm": b64(b"not wasm") }),
        )
        .expect_err("a broken plugin is refused");
    assert_eq!(simulated.code, installed.code);
    assert_eq!(simulated.message, installed.message);
}

#[test]
fn an_invalid_programme_gets_program_set_s_error() {
    let shop = Shop::with_program("sim-invalid", simple_program());
    let bad = program_with(|p| p["accrual"]["rate_percent"] = json!("-5"));
    let simulated = shop.err(
        "program.simulate",
        json!({ "program": bad.clone(), "from": "2025-01-01", "to": "2025-01-31" }),
        ErrorCode::InvalidProgram,
    );
    let set = shop.err(
        "program.set",
        json!({ "program": bad }),
        ErrorCode::InvalidProgram,
    );
    assert_eq!(simulated.message, set.message);
    assert_eq!(simulated.details, set.details);
}

#[test]
fn periods_are_bounded_and_must_be_past() {
    let shop = Shop::with_program("sim-limits", simple_program());
    let program = simple_program();
    let err = shop.err(
        "program.simulate",
        json!({ "program": program.clone(), "from": "2020-01-01", "to": "2025-12-31" }),
        ErrorCode::InvalidArgument,
    );
    assert!(
        err.message.starts_with("to: a simulation covers at most"),
        "{}",
        err.message
    );
    let err = shop.err(
        "program.simulate",
        json!({ "program": program.clone(), "from": "2025-03-01", "to": "2025-02-01" }),
        ErrorCode::InvalidArgument,
    );
    assert!(err.message.starts_with("to:"), "{}", err.message);
    let err = shop.err(
        "program.simulate",
        json!({ "program": program.clone(), "from": "2025-03-01", "to": "2999-01-01" }),
        ErrorCode::InvalidArgument,
    );
    assert!(
        err.message.contains("only a past period"),
        "{}",
        err.message
    );
    let err = shop.err(
        "program.simulate",
        json!({ "program": program.clone(), "from": "1200-01-01", "to": "1200-01-31" }),
        ErrorCode::InvalidArgument,
    );
    assert!(
        err.message.starts_with("from: must be 1900-01-01"),
        "{}",
        err.message
    );
    let nine: Vec<Value> = (0..9)
        .map(|i| json!({ "name": format!("p{i}"), "wasm": "AA==" }))
        .collect();
    shop.err(
        "program.simulate",
        json!({ "program": program, "from": "2025-01-01", "to": "2025-01-31", "plugins": nine }),
        ErrorCode::TooLarge,
    );
}

#[test]
fn a_simulation_writes_nothing_whether_it_succeeds_or_fails() {
    let (shop, _, _) = busy_shop("sim-nothing");
    let before = everything(&shop);
    let doubled = program_with(|p| {
        p["expiry_months"] = json!(1);
        p["accrual"]["rate_percent"] = json!("20");
    });
    simulate(&shop, doubled, "2024-12-01", "2025-07-10");
    shop.err(
        "program.simulate",
        json!({ "program": { "name": "x", "accrual": "no" }, "from": "2025-01-01", "to": "2025-01-31" }),
        ErrorCode::InvalidProgram,
    );
    assert!(
        shop.engine()
            .execute(
                "program.simulate",
                json!({ "program": simple_program(), "from": "2025-01-01", "to": "2025-01-31",
                        "plugins": [{ "name": "broken", "wasm": b64(b"nope") }] }),
            )
            .is_err()
    );
    assert_eq!(everything(&shop), before);
    shop.assert_sound();
}

#[test]
fn an_empty_period_and_a_customer_without_visits() {
    let shop = Shop::with_program("sim-empty", simple_program());
    let a = register(&shop, "Белов Роман", "+79161230041", "2025-01-05");
    visit(&shop, a, "Д-1", "2025-01-10", "3000", None); // 300 points, before the period
    let result = simulate(
        &shop,
        program_with(|p| p["accrual"]["rate_percent"] = json!("50")),
        "2025-06-01",
        "2025-06-30",
    );
    // Nothing happens in June; the 300 points are carried through on every side.
    for side in ["actual", "in_force", "proposed"] {
        assert_eq!(figure(&result, side, "issued"), Decimal::ZERO, "{side}");
        assert_eq!(
            figure(&result, side, "liability_start"),
            Decimal::from(300),
            "{side}"
        );
        assert_eq!(
            figure(&result, side, "liability_end"),
            Decimal::from(300),
            "{side}"
        );
        assert_eq!(result[side]["visits"], json!(0));
    }
    assert_eq!(result["customers"], json!(1));
    assert_eq!(result["changes"], json!([]));
}

#[test]
fn visits_a_proposed_plugin_makes_fail_are_counted_and_named() {
    let shop = Shop::with_program("sim-skipped", simple_program());
    let a = register(&shop, "Фёдоров Глеб", "+79161230051", "2025-01-05");
    visit(&shop, a, "Е-1", "2025-02-03", "4000", None);
    visit(&shop, a, "Е-2", "2025-02-17", "2500", None);
    let trap = checkout_body("unreachable");
    let result = shop.ok(
        "program.simulate",
        json!({
            "program": simple_program(),
            "from": "2025-02-01",
            "to": "2025-02-28",
            "plugins": [{ "name": "broken-promo", "wasm": b64(&trap), "on_error": "fail" }]
        }),
    );
    // The programme in force replays both visits; the proposal, whose plugin traps and
    // must not be skipped, records neither.
    assert_eq!(result["in_force"]["visits"], json!(2));
    assert_eq!(result["skipped_in_force"], json!(0));
    assert_eq!(result["proposed"]["visits"], json!(0));
    assert_eq!(result["skipped_proposed"], json!(2));
    assert_eq!(figure(&result, "proposed", "issued"), Decimal::ZERO);
    let skipped = result["skipped"].as_array().unwrap();
    assert_eq!(
        skipped
            .iter()
            .map(|s| s["order_id"].clone())
            .collect::<Vec<_>>(),
        [json!("Е-1"), json!("Е-2")]
    );
    assert!(skipped.iter().all(|s| s["side"] == "proposed"));
    assert_eq!(skipped[0]["code"], json!("plugin_trap"), "{skipped:?}");
}
