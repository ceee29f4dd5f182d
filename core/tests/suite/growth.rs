//! Growth scenarios: the exclusive catalogue and tier benefits, referrals (rewards,
//! cashback, fraud cases, refunds), segments and campaigns, personal data export and
//! erasure. Every step goes through the public operations with explicit dates.

use crate::common;

use common::{Shop, dec, labor, part};
use pitstop_core::{ErrorCode, Program};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn commit(shop: &Shop, customer: u64, order: &str, lines: Value, at: &str) -> Value {
    shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": customer }, "lines": lines, "order_id": order, "at": at }),
    )
}

fn register(shop: &Shop, args: Value) -> u64 {
    shop.ok("customer.register", args)["customer"]["id"]
        .as_u64()
        .expect("id")
}

// ---------------------------------------------------------------- exclusive catalogue

/// The example programme's tiers (base, silver, gold, platinum) with an exclusive
/// catalogue: a Motul line from gold, a category from platinum.
fn tiered_program() -> Value {
    let mut program = Program::example();
    program["pending_days"] = json!(0);
    program["exclusive"] = json!([
        { "sku": "MOTUL-300V*", "min_tier": "gold" },
        { "category": "эксклюзив", "min_tier": "platinum" },
        { "sku": "CERAMIC-KIT", "category": "кузов", "min_tier": "silver" }
    ]);
    program
}

#[test]
fn exclusive_lines_are_refused_below_their_tier_and_priority_follows_the_tier() {
    let shop = Shop::with_program("exclusive", tiered_program());
    let id = shop.customer("Эксклюзивов Егор", "+79160001001");
    let motul = json!({ "sku": "motul-300v-5w40", "name": "Motul 300V", "kind": "goods",
        "qty": "4", "unit_price": "2500" });
    let exclusive_cat = json!({ "sku": "X-1", "name": "Брызговики", "kind": "part",
        "category": "Эксклюзив", "qty": "1", "unit_price": "9000" });
    // Base customer: both exclusive lines refused, each named with the tier it needs.
    let err = shop.err(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [labor("1000"), motul.clone(), exclusive_cat.clone()],
                "at": "2025-02-01T10:00:00Z" }),
        ErrorCode::TierRequired,
    );
    let lines = err.details["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{}", err.details);
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[0]["min_tier"], "gold");
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["min_tier"], "platinum");
    assert!(err.message.contains("line 1"), "{}", err.message);
    // The rule with both sku and category needs both to match.
    let ceramic_other = json!({ "sku": "CERAMIC-KIT", "name": "Керамика", "kind": "labor",
        "category": "салон", "qty": "1", "unit_price": "5000" });
    let quote = shop.ok(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [ceramic_other], "at": "2025-02-01T10:00:00Z" }),
    );
    assert_eq!(quote["priority_service"], false);
    // Commit is refused the same way and changes nothing.
    shop.err(
        "checkout.commit",
        json!({ "customer": { "id": id }, "lines": [motul.clone()], "order_id": "EX-0",
                "at": "2025-02-01T10:00:00Z" }),
        ErrorCode::TierRequired,
    );
    shop.err(
        "visit.get",
        json!({ "order_id": "EX-0" }),
        ErrorCode::NotFound,
    );
    // Reach gold (80 000 and 4 visits in the window): Motul is sold, priority shows.
    for (n, day) in ["03", "04", "05", "06"].iter().enumerate() {
        commit(
            &shop,
            id,
            &format!("EX-{}", n + 1),
            json!([labor("25000")]),
            &format!("2025-02-{day}T10:00:00Z"),
        );
    }
    let view = shop.ok("customer.get", json!({ "customer": { "id": id } }));
    assert_eq!(view["customer"]["tier"], "gold");
    let quote = shop.ok(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [motul.clone()], "at": "2025-02-07T10:00:00Z" }),
    );
    assert_eq!(quote["priority_service"], true);
    assert!(
        quote["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["text"] == "priority_service")
    );
    // Platinum lines stay refused for gold.
    let err = shop.err(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [motul, exclusive_cat],
                "at": "2025-02-07T10:00:00Z" }),
        ErrorCode::TierRequired,
    );
    assert_eq!(err.details["lines"].as_array().unwrap().len(), 1);
    assert_eq!(err.details["tier"], "gold");
    shop.assert_sound();
}

#[test]
fn exclusive_rules_are_validated() {
    let mut program = tiered_program();
    program["exclusive"] = json!([{ "sku": "A*B", "min_tier": "diamond" }, { "min_tier": "gold" }]);
    let shop = Shop::new("exclusive-invalid");
    let err = shop.err(
        "program.set",
        json!({ "program": program }),
        ErrorCode::InvalidProgram,
    );
    assert_eq!(
        err.details["problems"].as_array().unwrap().len(),
        3,
        "{}",
        err.details
    );
}

// ---------------------------------------------------------------- referral

/// Simple arithmetic: 10% accrual, no pending, referral 500/300 from a bill of 3000,
/// cashback 5% and 2% for 90 days after registration, at most 200 a visit and 300 in
/// total per referee.
fn referral_program() -> Value {
    json!({
        "name": "referral", "timezone": "Europe/Moscow",
        "accrual": { "rate_percent": "10" },
        "redemption": { "cap_percent": "100" },
        "expiry_months": 12, "pending_days": 0,
        "referral": {
            "min_first_visit": "3000", "referrer_points": "500", "referee_points": "300",
            "cashback": { "levels": ["5", "2"], "per_visit_max": "200", "total_max": "300",
                          "period_days": 90 }
        }
    })
}

fn code_of(shop: &Shop, id: u64) -> String {
    shop.ok("referral.code", json!({ "customer": { "id": id } }))["code"]
        .as_str()
        .unwrap()
        .to_string()
}

fn points(shop: &Shop, id: u64) -> Decimal {
    dec(&shop.balance_at(id, "2025-06-30T10:00:00Z")["total"])
}

fn referral_row(shop: &Shop, referee: u64) -> Value {
    let report = shop.ok("report.referrals", json!({ "limit": 1000 }));
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["referee"] == referee)
        .cloned()
        .unwrap_or_else(|| panic!("no row for {referee}: {report}"))
}

#[test]
fn referral_code_is_stable_short_and_unambiguous() {
    let shop = Shop::with_program("ref-code", referral_program());
    let a = shop.customer("Рефереров Андрей", "+79160002001");
    let first = shop.ok("referral.code", json!({ "customer": { "id": a } }));
    assert_eq!(first["created"], true);
    let code = first["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 7);
    assert!(
        code.chars()
            .all(|c| c.is_ascii_alphanumeric() && !"ILO01".contains(c)),
        "{code}"
    );
    assert!(code.chars().next().unwrap().is_ascii_alphabetic());
    let again = shop.ok(
        "referral.code",
        json!({ "customer": { "phone": "+79160002001" } }),
    );
    assert_eq!(again["code"], code.as_str());
    assert_eq!(again["created"], false);
    let b = shop.customer("Второй Борис", "+79160002002");
    assert_ne!(code_of(&shop, b), code, "codes are unique");
    // Typed in lower case with a dash, the code still links.
    let typed = format!("{}-{}", &code[..3], &code[3..]).to_lowercase();
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": "Новиков Никита", "phone": "+79160002003", "referral_code": typed,
                "at": "2025-02-01T10:00:00Z" }),
    );
    assert_eq!(reply["referral"]["referrer"], a);
    shop.err(
        "customer.register",
        json!({ "full_name": "Опечаткин", "phone": "+79160002004", "referral_code": "ZZZZZZZ" }),
        ErrorCode::NotFound,
    );
    // Nothing was written by the failed registration.
    shop.err(
        "customer.get",
        json!({ "customer": { "phone": "+79160002004" } }),
        ErrorCode::NotFound,
    );
}

#[test]
fn two_sided_reward_on_the_first_visit_reaching_the_minimum_and_its_refund() {
    let shop = Shop::with_program("ref-signup", referral_program());
    let a = shop.customer("Рефереров Андрей", "+79160003001");
    let code = code_of(&shop, a);
    let b = register(
        &shop,
        json!({ "full_name": "Приведённый Борис", "phone": "+79160003002", "referral_code": code,
                "at": "2025-03-01T10:00:00Z" }),
    );
    // A small first visit: no signup reward yet, but 5% cashback to A (100 of 2000).
    let receipt = commit(
        &shop,
        b,
        "R-1",
        json!([labor("2000")]),
        "2025-03-02T10:00:00Z",
    );
    assert_eq!(
        receipt["referral"].as_array().unwrap().len(),
        1,
        "{receipt}"
    );
    assert_eq!(points(&shop, a), Decimal::from(100));
    assert_eq!(referral_row(&shop, b)["signup"], "waiting");
    // The visit that reaches 3000: 500 to A, 300 to B, cashback capped at 200 a visit
    // and at 300 per referee in total (100 already paid).
    commit(
        &shop,
        b,
        "R-2",
        json!([labor("6000")]),
        "2025-03-05T10:00:00Z",
    );
    assert_eq!(points(&shop, a), Decimal::from(100 + 500 + 200));
    assert_eq!(points(&shop, b), Decimal::from(200 + 600 + 300));
    let row = referral_row(&shop, b);
    assert_eq!(row["signup"], "rewarded");
    assert_eq!(row["rewarded_referrer"], "500");
    assert_eq!(row["rewarded_referee"], "300");
    assert_eq!(row["cashback"], json!(["300"]));
    assert_eq!(row["referee_revenue"], "8000.00");
    // A spends most of the points before the refund.
    shop.ok(
        "points.adjust",
        json!({ "customer": { "id": a }, "points": "-700", "reason": "списание", "operator": "admin",
                "at": "2025-03-06T10:00:00Z" }),
    );
    // The qualifying visit is refunded: the signup rewards and its cashback are
    // reversed; what A already spent is recorded as not taken back.
    let refund = shop.ok(
        "checkout.refund",
        json!({ "order_id": "R-2", "at": "2025-03-07T10:00:00Z" }),
    );
    let reversals = refund["referral"].as_array().unwrap();
    assert_eq!(reversals.len(), 3, "{refund}");
    let to_a: Decimal = reversals
        .iter()
        .filter(|r| r["customer"] == a)
        .map(|r| dec(&r["points"]))
        .sum();
    assert_eq!(to_a, Decimal::from(700));
    let missed: Decimal = reversals.iter().map(|r| dec(&r["not_taken_back"])).sum();
    assert_eq!(missed, Decimal::from(600), "A had 100 left of 800");
    assert_eq!(points(&shop, a), Decimal::ZERO);
    assert_eq!(points(&shop, b), Decimal::from(200));
    let row = referral_row(&shop, b);
    assert_eq!(row["signup"], "reversed");
    assert_eq!(row["rewarded_referrer"], "0");
    assert_eq!(row["cashback"], json!(["100"]));
    assert_eq!(row["not_taken_back"], "600");
    // A reversed signup is not paid again by the next big visit; cashback goes on.
    let receipt = commit(
        &shop,
        b,
        "R-3",
        json!([labor("4000")]),
        "2025-03-10T10:00:00Z",
    );
    let grants = receipt["referral"].as_array().unwrap();
    assert_eq!(grants.len(), 1, "{receipt}");
    assert_eq!(grants[0]["role"], "cashback1");
    assert_eq!(grants[0]["points"], "200");
    assert_eq!(referral_row(&shop, b)["signup"], "reversed");
    let report = shop.ok("report.points", json!({}));
    assert_eq!(
        dec(&report["outstanding"]),
        points(&shop, a) + points(&shop, b)
    );
    shop.assert_sound();
}

#[test]
fn referral_fraud_cases_pay_nothing() {
    let shop = Shop::with_program("ref-fraud", referral_program());
    let a = shop.customer("Хитров Антон", "+79160004001");
    let code = code_of(&shop, a);
    // Self-referral with the referrer's own email is refused at registration (the
    // phone and email indexes already make a second record with them impossible).
    shop.ok(
        "customer.update",
        json!({ "customer": { "id": a }, "email": "hitrov@mail.ru" }),
    );
    shop.err(
        "customer.register",
        json!({ "full_name": "Хитров Антон", "email": "HITROV@mail.ru", "referral_code": code }),
        ErrorCode::AlreadyExists,
    );
    // An existing customer cannot be linked afterwards.
    let existing = shop.customer("Старый Клиент", "+79160004002");
    shop.err(
        "customer.update",
        json!({ "customer": { "id": existing }, "referral_code": code }),
        ErrorCode::InvalidArgument,
    );
    // Self-referral by car: the referee brings the referrer's car.
    let b = register(
        &shop,
        json!({ "full_name": "Подставной Борис", "phone": "+79160004003", "referral_code": code,
                "at": "2025-03-01T10:00:00Z" }),
    );
    shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": a }, "vin": "XTA21900000000001", "plate": "А001АА77", "make": "Lada", "model": "Vesta",
                "at": "2025-02-01T10:00:00Z" }),
    );
    shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": b }, "vin": "XTA21900000000001", "plate": "А001АА77", "make": "Lada", "model": "Vesta",
                "transfer": true, "at": "2025-03-01T11:00:00Z" }),
    );
    let receipt = shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": b }, "vehicle": { "plate": "А001АА77" }, "order_id": "F-1",
                "lines": [labor("5000")], "at": "2025-03-02T10:00:00Z" }),
    );
    assert!(receipt.get("referral").is_none(), "{receipt}");
    assert_eq!(points(&shop, a), Decimal::ZERO);
    let row = referral_row(&shop, b);
    assert_eq!(row["signup"], "refused");
    assert_eq!(row["signup_note"], "referrer_vehicle");
    // A blocked referrer cannot refer; a blacklisted one is not paid at the visit.
    let c = shop.customer("Блокированный Кирилл", "+79160004004");
    let c_code = code_of(&shop, c);
    let d = register(
        &shop,
        json!({ "full_name": "Дмитриев Дмитрий", "phone": "+79160004005", "referral_code": c_code,
                "at": "2025-03-01T10:00:00Z" }),
    );
    shop.ok(
        "customer.update",
        json!({ "customer": { "id": c }, "status": "blocked" }),
    );
    shop.err(
        "customer.register",
        json!({ "full_name": "Ещё Один", "phone": "+79160004006", "referral_code": c_code }),
        ErrorCode::Blocked,
    );
    shop.ok(
        "customer.update",
        json!({ "customer": { "id": c }, "status": "active", "blacklisted": true }),
    );
    let receipt = commit(
        &shop,
        d,
        "F-2",
        json!([labor("5000")]),
        "2025-03-03T10:00:00Z",
    );
    assert!(receipt.get("referral").is_none(), "{receipt}");
    assert_eq!(points(&shop, c), Decimal::ZERO);
    assert_eq!(referral_row(&shop, d)["signup_note"], "referrer_blocked");
    shop.assert_sound();
}

#[test]
fn two_level_cashback_within_its_limits_and_period() {
    let shop = Shop::with_program("ref-levels", referral_program());
    let a = shop.customer("Верхний Аркадий", "+79160005001");
    let b = register(
        &shop,
        json!({ "full_name": "Средний Борис", "phone": "+79160005002",
                "referral_code": code_of(&shop, a), "at": "2025-01-05T10:00:00Z" }),
    );
    let c = register(
        &shop,
        json!({ "full_name": "Нижний Константин", "phone": "+79160005003",
                "referral_code": code_of(&shop, b), "at": "2025-01-10T10:00:00Z" }),
    );
    // 1000 paid by C: 5% = 50 to B, 2% = 20 to A (no signup: below 3000).
    let receipt = commit(
        &shop,
        c,
        "L-1",
        json!([labor("1000")]),
        "2025-01-11T10:00:00Z",
    );
    let grants = receipt["referral"].as_array().unwrap();
    assert_eq!(grants.len(), 2, "{receipt}");
    assert_eq!(
        (grants[0]["customer"].as_u64(), &grants[0]["points"]),
        (Some(b), &json!("50"))
    );
    assert_eq!(
        (grants[1]["customer"].as_u64(), &grants[1]["points"]),
        (Some(a), &json!("20"))
    );
    // 2000 paid partly with points (points do not earn cashback); the money part is
    // 2000 - 100 = 1900 → B 95 (under 200 a visit), A 38. Signup is not reached: the
    // bill is below 3000.
    let receipt = shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": c }, "order_id": "L-2", "lines": [labor("2000")],
                "redeem": "100", "at": "2025-01-12T10:00:00Z" }),
    );
    assert_eq!(receipt["referral"][0]["points"], "95");
    assert_eq!(receipt["referral"][1]["points"], "38");
    // 9000 paid: B would get 450 → 200 per visit; A 180 → 180, then total cap 300:
    // B has 145, so 155 more; A has 58, so 180 fits (238).
    let receipt = commit(
        &shop,
        c,
        "L-3",
        json!([part("2000"), labor("7000")]),
        "2025-01-13T10:00:00Z",
    );
    let grants = receipt["referral"].as_array().unwrap();
    let b_cash = grants
        .iter()
        .find(|g| g["customer"] == b && g["role"] == "cashback1")
        .unwrap();
    assert_eq!(b_cash["points"], "155");
    let a_cash = grants.iter().find(|g| g["customer"] == a).unwrap();
    assert_eq!(a_cash["role"], "cashback2");
    assert_eq!(a_cash["points"], "180");
    // Signup rewards for C's first 3000+ visit: 500 to B, 300 to C.
    assert!(
        grants
            .iter()
            .any(|g| g["customer"] == b && g["role"] == "referrer" && g["points"] == "500")
    );
    // Refund a third of the money of L-3 (the part line): cashback reverses by share.
    let refund = shop.ok(
        "checkout.refund",
        json!({ "order_id": "L-3", "lines": [{ "line": 0 }], "at": "2025-01-14T10:00:00Z" }),
    );
    let reversals = refund["referral"].as_array().unwrap();
    let b_back = reversals
        .iter()
        .find(|r| r["customer"] == b && r["role"] == "cashback1")
        .unwrap();
    // 155 × 7000/9000 = 120.55 → 120 kept, 35 reversed.
    assert_eq!(b_back["points"], "35");
    assert!(
        !reversals.iter().any(|r| r["role"] == "referrer"),
        "7000 kept is still above the minimum: {refund}"
    );
    // After 90 days from C's registration there is no cashback.
    let receipt = commit(
        &shop,
        c,
        "L-4",
        json!([labor("1000")]),
        "2025-04-10T10:00:00Z",
    );
    assert!(receipt.get("referral").is_none(), "{receipt}");
    let row = referral_row(&shop, c);
    assert_eq!(row["referrer"], b);
    assert_eq!(row["cashback"], json!(["265", "198"]));
    let only_b = shop.ok("report.referrals", json!({ "referrer": { "id": b } }));
    assert_eq!(only_b["rows"].as_array().unwrap().len(), 1);
    assert_eq!(only_b["referees"], 1);
    shop.assert_sound();
}

#[test]
fn referral_report_totals_cover_every_page() {
    let shop = Shop::with_program("ref-totals", referral_program());
    let a = shop.customer("Первый Аркадий", "+79160006001");
    let c = shop.customer("Второй Кирилл", "+79160006002");
    let (code_a, code_c) = (code_of(&shop, a), code_of(&shop, c));
    let mut referees = Vec::new();
    for (n, code) in [&code_a, &code_a, &code_a, &code_c].into_iter().enumerate() {
        referees.push(register(
            &shop,
            json!({ "full_name": format!("Приведённый {n}"), "phone": format!("+7916000610{n}"),
                    "referral_code": code, "at": "2025-02-01T10:00:00Z" }),
        ));
    }
    // One referee of A reaches the minimum (500 + 300 signup, cashback capped at 200),
    // one of C spends a little (cashback 5% of 1000 = 50).
    commit(
        &shop,
        referees[0],
        "T-1",
        json!([labor("4000")]),
        "2025-02-02T10:00:00Z",
    );
    commit(
        &shop,
        referees[3],
        "T-2",
        json!([labor("1000")]),
        "2025-02-02T11:00:00Z",
    );
    // Every page carries the totals of the whole report, whatever its size.
    let mut after = Value::Null;
    let mut rows = 0;
    let mut pages = 0;
    loop {
        let page = shop.ok("report.referrals", json!({ "limit": 1, "after": after }));
        pages += 1;
        rows += page["rows"].as_array().unwrap().len();
        assert_eq!(page["referees"], 4, "{page}");
        assert_eq!(page["rewarded"], 1, "{page}");
        assert_eq!(page["points"], "1050", "{page}");
        assert_eq!(page["revenue"], "5000.00", "{page}");
        if page["next"].is_null() {
            break;
        }
        after = page["next"].clone();
    }
    assert_eq!((rows, pages), (4, 4));
    // One referrer's report totals that referrer's referees only, on every page.
    let only_a = shop.ok(
        "report.referrals",
        json!({ "referrer": { "id": a }, "limit": 2 }),
    );
    assert_eq!(only_a["rows"].as_array().unwrap().len(), 2);
    assert!(!only_a["next"].is_null());
    assert_eq!(only_a["referees"], 3);
    assert_eq!(only_a["rewarded"], 1);
    assert_eq!(only_a["points"], "1000");
    assert_eq!(only_a["revenue"], "4000.00");
    let only_a_last = shop.ok(
        "report.referrals",
        json!({ "referrer": { "id": a }, "limit": 2, "after": only_a["next"] }),
    );
    assert_eq!(only_a_last["rows"].as_array().unwrap().len(), 1);
    assert_eq!(only_a_last["referees"], 3);
    assert_eq!(only_a_last["points"], "1000");
}

// ---------------------------------------------------------------- segments and campaigns

fn simple() -> Value {
    common::simple_program()
}

fn ids(items: &Value) -> Vec<u64> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_u64().unwrap())
        .collect()
}

fn preview(shop: &Shop, filter: Value) -> Vec<u64> {
    let page = shop.ok(
        "segment.preview",
        json!({ "filter": filter, "at": "2025-06-01T10:00:00Z" }),
    );
    ids(&page["items"])
}

#[test]
fn segment_filters_over_customer_car_and_history() {
    let shop = Shop::with_program("segments", simple());
    let reg = |name: &str, phone: &str, extra: Value| {
        let mut args = json!({ "full_name": name, "phone": phone, "consents": { "sms": true },
                               "at": "2024-01-01T10:00:00Z" });
        for (k, v) in extra.as_object().unwrap() {
            args[k] = v.clone();
        }
        register(&shop, args)
    };
    let taxi = reg(
        "Таксист Тимур",
        "+79160006001",
        json!({ "tags": ["Такси"] }),
    );
    let lapsed = reg("Пропавший Павел", "+79160006002", json!({}));
    let black = reg("Чёрный Чингиз", "+79160006003", json!({}));
    let silent = reg(
        "Молчун Михаил",
        "+79160006004",
        json!({ "consents": { "sms": false } }),
    );
    shop.ok(
        "customer.update",
        json!({ "customer": { "id": black }, "blacklisted": true, "blacklist_reason": "жалобы" }),
    );
    for (id, vin, make, year) in [
        (taxi, "TMBJJ7NE0A0000001", "Skoda", 2010),
        (lapsed, "KNAB0000000000002", "Kia", 2022),
        (black, "TMBJJ7NE0A0000003", "Skoda", 2012),
        (silent, "TMBJJ7NE0A0000004", "SKODA", 2020),
    ] {
        shop.ok(
            "vehicle.add",
            json!({ "customer": { "id": id }, "vin": vin, "make": make, "model": "X", "year": year,
                    "at": "2024-01-01T11:00:00Z" }),
        );
    }
    commit(
        &shop,
        lapsed,
        "S-1",
        json!([labor("3000")]),
        "2024-02-01T10:00:00Z",
    );
    commit(
        &shop,
        taxi,
        "S-2",
        json!([labor("4000")]),
        "2025-04-01T10:00:00Z",
    );
    commit(
        &shop,
        taxi,
        "S-3",
        json!([labor("6000")]),
        "2025-05-01T10:00:00Z",
    );
    commit(
        &shop,
        silent,
        "S-4",
        json!([labor("1000")]),
        "2025-05-02T10:00:00Z",
    );
    // Blacklisted customers never match, even with no condition at all.
    assert_eq!(preview(&shop, json!({})), vec![taxi, lapsed, silent]);
    assert_eq!(
        preview(&shop, json!({ "makes": ["skoda"] })),
        vec![taxi, silent]
    );
    assert_eq!(preview(&shop, json!({ "car_age_min": 10 })), vec![taxi]);
    assert_eq!(
        preview(&shop, json!({ "car_age_max": 5 })),
        vec![lapsed, silent]
    );
    assert_eq!(preview(&shop, json!({ "tags": ["ТАКСИ"] })), vec![taxi]);
    assert_eq!(
        preview(&shop, json!({ "last_visit_before": "2024-12-31" })),
        vec![lapsed]
    );
    assert_eq!(
        preview(&shop, json!({ "last_visit_after": "2025-05-02" })),
        vec![silent]
    );
    assert_eq!(
        preview(&shop, json!({ "window_days": 90, "spend_min": "5000" })),
        vec![taxi]
    );
    assert_eq!(
        preview(
            &shop,
            json!({ "window_days": 90, "visits_min": 1, "visits_max": 1 })
        ),
        vec![silent]
    );
    assert_eq!(
        preview(&shop, json!({ "spend_max": "3000", "visits_min": 1 })),
        vec![lapsed, silent]
    );
    assert_eq!(
        preview(&shop, json!({ "consent": "sms", "makes": ["Skoda"] })),
        vec![taxi]
    );
    shop.ok(
        "segment.save",
        json!({ "name": "Шкоды", "filter": { "makes": ["Skoda"] } }),
    );
    let saved = shop.ok(
        "segment.save",
        json!({ "name": "Шкоды", "filter": { "makes": ["Skoda"], "consent": "sms" } }),
    );
    assert_eq!(saved["created"], false);
    assert_eq!(
        shop.ok("segment.list", json!({})).as_array().unwrap().len(),
        1
    );
    let page = shop.ok("segment.preview", json!({ "name": "Шкоды", "limit": 1 }));
    assert_eq!(ids(&page["items"]), vec![taxi]);
    // Paging over everybody: one at a time.
    let first = shop.ok("segment.preview", json!({ "filter": {}, "limit": 1 }));
    let next = first["next"].as_u64().unwrap();
    let second = shop.ok(
        "segment.preview",
        json!({ "filter": {}, "limit": 1, "after": next }),
    );
    assert_eq!(ids(&second["items"]), vec![lapsed]);
    shop.err(
        "segment.preview",
        json!({ "name": "нет такого" }),
        ErrorCode::NotFound,
    );
    shop.err(
        "segment.preview",
        json!({ "filter": {}, "name": "Шкоды" }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "segment.save",
        json!({ "name": "x", "filter": { "make": ["Kia"] } }),
        ErrorCode::InvalidArgument,
    );
}

#[test]
fn campaign_notifies_once_with_consent_and_attributes_visits_in_its_window() {
    let shop = Shop::with_program("campaign", simple());
    let reg = |name: &str, phone: &str, consent: bool| {
        register(
            &shop,
            json!({ "full_name": name, "phone": phone, "consents": { "sms": consent },
                    "at": "2025-01-01T10:00:00Z" }),
        )
    };
    let a = reg("Анна", "+79160007001", true);
    let b = reg("Борис", "+79160007002", true);
    let c = reg("Вера", "+79160007003", false);
    let d = reg("Глеб", "+79160007004", true);
    shop.ok(
        "customer.update",
        json!({ "customer": { "id": d }, "blacklisted": true }),
    );
    let campaign = shop.ok(
        "campaign.create",
        json!({ "name": "Шиномонтаж весной", "period": { "from": "2025-04-01", "to": "2025-04-30" },
                "channel": "sms", "budget": "10000",
                "customers": [{ "id": a }, { "phone": "+79160007002" }, { "id": c }, { "id": d }],
                "offer": { "text": "Скидка на шиномонтаж", "points": "100", "discount_code": "TYRES25" },
                "at": "2025-03-25T10:00:00Z" }),
    );
    let id = campaign["id"].as_u64().unwrap();
    shop.err(
        "campaign.create",
        json!({ "name": "Шиномонтаж весной", "period": { "from": "2025-04-01", "to": "2025-04-30" },
                "channel": "sms", "offer": { "text": "x" } }),
        ErrorCode::AlreadyExists,
    );
    // A visit before the notification does not count.
    commit(
        &shop,
        a,
        "C-0",
        json!([labor("7000")]),
        "2025-04-01T06:00:00Z",
    );
    let told = shop.ok(
        "campaign.notify",
        json!({ "campaign": id, "at": "2025-04-01T07:00:00Z" }),
    );
    assert_eq!(told["notified"], json!([a, b]));
    let skipped: Vec<(u64, &str)> = told["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["customer"].as_u64().unwrap(),
                s["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(skipped, vec![(c, "no_consent"), (d, "blacklisted")]);
    // Told once: a second call tells nobody and grants nothing.
    let again = shop.ok(
        "campaign.notify",
        json!({ "campaign": id, "customers": [{ "id": a }], "at": "2025-04-02T07:00:00Z" }),
    );
    assert_eq!(again["notified"], json!([]));
    assert_eq!(again["skipped"][0]["reason"], "already_notified");
    // The offer's points were granted once to each and burn after the period.
    let balance = shop.balance_at(b, "2025-04-02T10:00:00Z");
    assert_eq!(balance["available"], "100");
    assert_eq!(balance["next_expiries"][0]["date"], "2025-04-30");
    // Inside the window: counts. After the window: does not. Refunded: does not.
    commit(
        &shop,
        a,
        "C-1",
        json!([labor("5000"), part("1000")]),
        "2025-04-10T10:00:00Z",
    );
    commit(
        &shop,
        b,
        "C-2",
        json!([labor("3000")]),
        "2025-04-20T10:00:00Z",
    );
    shop.ok(
        "checkout.refund",
        json!({ "order_id": "C-2", "at": "2025-04-21T10:00:00Z" }),
    );
    commit(
        &shop,
        b,
        "C-3",
        json!([labor("8000")]),
        "2025-05-01T10:00:00Z",
    );
    let report = shop.ok("campaign.report", json!({ "campaign": id }));
    assert_eq!(report["notified"], 2);
    assert_eq!(report["came"], 1);
    assert_eq!(report["conversion"], "50.0");
    assert_eq!(report["visits"], 1);
    assert_eq!(report["revenue"], "6000.00");
    assert_eq!(report["budget"], "10000.00");
    assert_eq!(report["cost_per_customer"], "10000.00");
    assert_eq!(report["points_spent"], "200");
    // A partial refund lowers the revenue.
    shop.ok(
        "checkout.refund",
        json!({ "order_id": "C-1", "lines": [{ "line": 1 }], "at": "2025-04-11T10:00:00Z" }),
    );
    let report = shop.ok("campaign.report", json!({ "campaign": id }));
    assert_eq!(report["revenue"], "5000.00");
    // A later campaign that told A takes A's visits after its notification.
    let second = shop.ok(
        "campaign.create",
        json!({ "name": "Кондиционер", "period": { "from": "2025-04-15", "to": "2025-04-25" },
                "channel": "sms", "budget": "3000", "offer": { "text": "Заправка кондиционера" },
                "at": "2025-04-14T10:00:00Z" }),
    )["id"]
        .as_u64()
        .unwrap();
    shop.ok(
        "campaign.notify",
        json!({ "campaign": second, "customers": [{ "id": a }], "at": "2025-04-15T10:00:00Z" }),
    );
    commit(
        &shop,
        a,
        "C-4",
        json!([labor("2000")]),
        "2025-04-20T10:00:00Z",
    );
    commit(
        &shop,
        a,
        "C-5",
        json!([labor("1500")]),
        "2025-04-28T10:00:00Z",
    );
    let first_report = shop.ok("campaign.report", json!({ "campaign": id }));
    assert_eq!(
        first_report["visits"], 2,
        "C-1 and C-5 (after the second's window)"
    );
    assert_eq!(first_report["revenue"], "6500.00");
    let second_report = shop.ok("campaign.report", json!({ "campaign": second }));
    assert_eq!(second_report["visits"], 1);
    assert_eq!(second_report["revenue"], "2000.00");
    assert_eq!(second_report["cost_per_customer"], "3000.00");
    // A finished campaign notifies nobody.
    shop.err(
        "campaign.notify",
        json!({ "campaign": second, "customers": [{ "id": b }], "at": "2025-05-01T10:00:00Z" }),
        ErrorCode::InvalidArgument,
    );
    shop.assert_sound();
}

#[test]
fn campaign_notifies_a_segment_page_by_page() {
    let shop = Shop::with_program("campaign-segment", simple());
    let mut all = Vec::new();
    for n in 0..5 {
        all.push(register(
            &shop,
            json!({ "full_name": format!("Клиент {n}"), "phone": format!("+7916000800{n}"),
                    "consents": { "email": n != 2 }, "email": format!("c{n}@mail.ru"),
                    "at": "2025-01-01T10:00:00Z" }),
        ));
    }
    shop.ok("segment.save", json!({ "name": "все", "filter": {} }));
    let id = shop.ok(
        "campaign.create",
        json!({ "name": "Письмо", "period": { "from": "2025-02-01", "to": "2025-02-28" },
                "channel": "email", "segment": "все", "offer": { "text": "Новости" },
                "at": "2025-02-01T08:00:00Z" }),
    )["id"]
        .as_u64()
        .unwrap();
    let mut told = Vec::new();
    let mut after: Option<u64> = None;
    let mut calls = 0;
    loop {
        let mut args = json!({ "campaign": id, "limit": 2, "at": "2025-02-01T09:00:00Z" });
        if let Some(after) = after {
            args["after"] = json!(after);
        }
        let reply = shop.ok("campaign.notify", args);
        told.extend(
            reply["notified"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap()),
        );
        calls += 1;
        match reply["next"].as_u64() {
            Some(next) => after = Some(next),
            None => break,
        }
        assert!(calls < 10);
    }
    let expected: Vec<u64> = all.iter().copied().filter(|c| *c != all[2]).collect();
    assert_eq!(told, expected, "no consent for email: the third is skipped");
    assert_eq!(
        shop.ok("campaign.report", json!({ "campaign": id }))["notified"],
        4
    );
}

#[test]
fn campaigns_are_listed_newest_first_and_named_by_name_in_any_case() {
    let shop = Shop::with_program("campaign-names", simple());
    let anna = register(
        &shop,
        json!({ "full_name": "Кузнецова Анна", "phone": "+79160009001", "consents": { "sms": true },
                "at": "2025-01-01T10:00:00Z" }),
    );
    let create = |name: &str, from: &str, to: &str, budget: &str| {
        shop.ok(
            "campaign.create",
            json!({ "name": name, "period": { "from": from, "to": to }, "channel": "sms",
                    "budget": budget, "customers": [{ "id": anna }],
                    "offer": { "text": format!("Предложение: {name}") },
                    "at": "2025-01-15T10:00:00Z" }),
        )["id"]
            .as_u64()
            .unwrap()
    };
    let spring = create("Весенний шиномонтаж", "2025-04-01", "2025-04-30", "5000");
    let autumn = create("Осенний шиномонтаж", "2025-10-01", "2025-10-31", "7000");
    let winter = create("Зимняя ёлка", "2025-12-01", "2025-12-31", "0");
    // The same name in another case (or spacing, or е for ё) is taken: the error names
    // the campaign that has it, and nothing is created.
    for taken in ["весенний  ШИНОМОНТАЖ", "Зимняя елка"] {
        let err = shop.err(
            "campaign.create",
            json!({ "name": taken, "period": { "from": "2025-05-01", "to": "2025-05-31" },
                    "channel": "sms", "offer": { "text": "x" } }),
            ErrorCode::AlreadyExists,
        );
        assert!(err.message.contains(taken), "{}", err.message);
        let other = if taken.starts_with('в') {
            spring
        } else {
            winter
        };
        assert_eq!(err.details["campaign"], other, "{}", err.details);
        assert!(
            err.message.contains(&format!("campaign {other}")),
            "{}",
            err.message
        );
    }
    // Newest first, with name, period, channel and budget; paged by `after`.
    let page = shop.ok("campaign.list", json!({ "limit": 2 }));
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{page}");
    assert_eq!(
        (items[0]["id"].as_u64(), items[1]["id"].as_u64()),
        (Some(winter), Some(autumn))
    );
    assert_eq!(items[1]["name"], "Осенний шиномонтаж");
    assert_eq!(
        items[1]["period"],
        json!({ "from": "2025-10-01", "to": "2025-10-31" })
    );
    assert_eq!(items[1]["channel"], "sms");
    assert_eq!(items[1]["budget"], "7000.00");
    assert_eq!(items[1]["named_customers"], 1);
    assert_eq!(page["next"], autumn);
    let last = shop.ok(
        "campaign.list",
        json!({ "limit": 2, "after": page["next"] }),
    );
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert_eq!(last["items"][0]["id"], spring);
    assert_eq!(last["next"], Value::Null);
    let all = shop.ok("campaign.list", json!({}));
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    shop.err(
        "campaign.list",
        json!({ "limit": 0 }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "campaign.list",
        json!({ "limit": 1001 }),
        ErrorCode::InvalidArgument,
    );
    // Notify and report by name, in any case; the same as by id.
    let told = shop.ok(
        "campaign.notify",
        json!({ "name": "ВЕСЕННИЙ шиномонтаж", "at": "2025-04-01T07:00:00Z" }),
    );
    assert_eq!(told["campaign"], spring);
    assert_eq!(told["notified"], json!([anna]));
    let by_name = shop.ok("campaign.report", json!({ "name": "весенний шиномонтаж" }));
    let by_id = shop.ok("campaign.report", json!({ "campaign": spring }));
    assert_eq!(by_name, by_id);
    assert_eq!(by_name["notified"], 1);
    // Exactly one of the two; an unknown name is not found, naming it.
    for args in [
        json!({}),
        json!({ "campaign": spring, "name": "Весенний шиномонтаж" }),
    ] {
        shop.err("campaign.report", args.clone(), ErrorCode::InvalidArgument);
        shop.err("campaign.notify", args, ErrorCode::InvalidArgument);
    }
    let err = shop.err(
        "campaign.report",
        json!({ "name": "Летний" }),
        ErrorCode::NotFound,
    );
    assert!(err.message.contains("Летний"), "{}", err.message);
    shop.err(
        "campaign.notify",
        json!({ "name": "Летний", "at": "2025-04-01T07:00:00Z" }),
        ErrorCode::NotFound,
    );
    assert_eq!(
        shop.ok("campaign.report", json!({ "name": "Осенний шиномонтаж" }))["notified"],
        0
    );
}

// ---------------------------------------------------------------- personal data

#[test]
fn export_returns_everything_and_consents_keep_their_history() {
    let shop = Shop::with_program("export", referral_program());
    let a = shop.customer("Пригласивший Павел", "+79160009001");
    let code = code_of(&shop, a);
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": "Экспортова Эльвира", "phone": "+79160009002", "email": "elv@mail.ru",
                "birthday": "1990-02-03", "consents": { "sms": true, "email": true },
                "consent_source": "анкета №12", "referral_code": code, "card": "5000000001",
                "at": "2025-01-10T10:00:00Z" }),
    );
    let id = reply["customer"]["id"].as_u64().unwrap();
    shop.ok(
        "customer.update",
        json!({ "customer": { "id": id }, "consents": { "sms": false, "email": true },
                "consent_source": "звонок", "at": "2025-02-01T10:00:00Z" }),
    );
    shop.ok(
        "card.block",
        json!({ "card": "5000000001", "reason": "утеряна", "reissue": true, "new_number": "5000000002" }),
    );
    shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": id }, "vin": "WVWZZZ1KZ8W000001", "plate": "В123ВВ77",
                "make": "VW", "model": "Golf", "year": 2008, "at": "2025-01-10T11:00:00Z" }),
    );
    commit(
        &shop,
        id,
        "E-1",
        json!([labor("4000")]),
        "2025-02-05T10:00:00Z",
    );
    let campaign = shop.ok(
        "campaign.create",
        json!({ "name": "Письмо", "period": { "from": "2025-02-01", "to": "2025-02-28" },
                "channel": "email", "customers": [{ "id": id }], "offer": { "text": "Привет" },
                "at": "2025-02-06T10:00:00Z" }),
    )["id"]
        .as_u64()
        .unwrap();
    shop.ok(
        "campaign.notify",
        json!({ "campaign": campaign, "at": "2025-02-06T10:00:00Z" }),
    );
    let export = shop.ok(
        "customer.export",
        json!({ "customer": { "card": "5000000002" } }),
    );
    assert_eq!(export["customer"]["email"], "elv@mail.ru");
    let history = export["consent_history"].as_array().unwrap();
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(history[0]["source"], "анкета №12");
    assert_eq!(history[2]["channel"], "sms");
    assert_eq!(history[2]["granted"], false);
    assert_eq!(history[2]["source"], "звонок");
    assert_eq!(history[2]["at"], "2025-02-01T10:00:00Z");
    let cards: Vec<&str> = export["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap())
        .collect();
    assert_eq!(cards, vec!["5000000001", "5000000002"]);
    assert_eq!(export["vehicles"][0]["vin"], "WVWZZZ1KZ8W000001");
    assert_eq!(export["visits"][0]["order_id"], "E-1");
    assert!(
        export["entries"].as_array().unwrap().len() >= 2,
        "signup reward and accrual"
    );
    assert_eq!(export["referral"]["referrer"], a);
    assert_eq!(export["campaigns"][0]["campaign"], campaign);
    let referrer = shop.ok("customer.export", json!({ "customer": { "id": a } }));
    assert_eq!(referrer["referees"], json!([id]));
    assert_eq!(referrer["referral"]["code"], code.as_str());
}

#[test]
fn erase_removes_personal_fields_frees_identifiers_and_keeps_totals() {
    let shop = Shop::with_program("erase", referral_program());
    let keep = shop.customer("Остающийся Олег", "+79160010001");
    let code = code_of(&shop, keep);
    let id = register(
        &shop,
        json!({ "full_name": "Удаляемый Ульян Петрович", "phone": "+79160010002",
                "email": "ul@mail.ru", "birthday": "1980-01-01", "external_id": "1C-900",
                "tags": ["vip"], "notes": "любит кофе", "consents": { "sms": true },
                "card": "6000000001", "at": "2025-01-10T10:00:00Z" }),
    );
    shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": id }, "vin": "XW8ZZZ61ZHG000009", "plate": "Е555ЕЕ77",
                "make": "Skoda", "model": "Rapid", "at": "2025-01-10T11:00:00Z" }),
    );
    commit(
        &shop,
        id,
        "U-1",
        json!([labor("5000")]),
        "2025-02-01T10:00:00Z",
    );
    commit(
        &shop,
        keep,
        "U-2",
        json!([labor("3000")]),
        "2025-02-02T10:00:00Z",
    );
    let referee = register(
        &shop,
        json!({ "full_name": "Друг Остающегося", "phone": "+79160010003", "referral_code": code,
                "at": "2025-02-03T10:00:00Z" }),
    );
    commit(
        &shop,
        referee,
        "U-3",
        json!([labor("3000")]),
        "2025-02-04T10:00:00Z",
    );
    let points_before = shop.ok("report.points", json!({}));
    let activity_args = json!({ "from": "2025-01-01", "to": "2025-03-31" });
    let activity_before = shop.ok("report.activity", activity_args.clone());
    let erased = shop.ok(
        "customer.erase",
        json!({ "customer": { "phone": "+79160010002" }, "reason": "заявление №7 от 05.02.2025",
                "at": "2025-02-05T10:00:00Z" }),
    );
    assert_eq!(erased["cards"], 1);
    assert_eq!(erased["vehicles"], 1);
    // Totals and the ledger still balance.
    assert_eq!(shop.ok("report.points", json!({})), points_before);
    assert_eq!(shop.ok("report.activity", activity_args), activity_before);
    shop.assert_sound();
    // Found by nothing; cannot check out.
    for reference in [
        json!({ "id": id }),
        json!({ "phone": "+79160010002" }),
        json!({ "email": "ul@mail.ru" }),
        json!({ "external_id": "1C-900" }),
        json!({ "card": "6000000001" }),
        json!({ "plate": "Е555ЕЕ77" }),
        json!({ "vin": "XW8ZZZ61ZHG000009" }),
    ] {
        shop.err(
            "customer.get",
            json!({ "customer": reference }),
            ErrorCode::NotFound,
        );
    }
    assert_eq!(
        shop.ok("customer.find", json!({ "query": "Удаляемый" }))["items"],
        json!([])
    );
    shop.err(
        "checkout.commit",
        json!({ "customer": { "id": id }, "order_id": "U-9", "lines": [labor("100")] }),
        ErrorCode::NotFound,
    );
    shop.err(
        "customer.erase",
        json!({ "customer": { "id": id }, "reason": "ещё раз" }),
        ErrorCode::NotFound,
    );
    // The identifiers are free for someone else.
    let again = register(
        &shop,
        json!({ "full_name": "Новый Владелец", "phone": "+79160010002", "email": "ul@mail.ru",
                "external_id": "1C-900", "card": "6000000001" }),
    );
    shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": again }, "vin": "XW8ZZZ61ZHG000009", "plate": "Е555ЕЕ77",
                "make": "Skoda", "model": "Rapid" }),
    );
    // Segments never pick the erased customer; the referral report still counts others.
    let everybody = preview(&shop, json!({}));
    assert!(!everybody.contains(&id), "{everybody:?}");
    assert_eq!(referral_row(&shop, referee)["referrer"], keep);
    shop.assert_sound();
}
