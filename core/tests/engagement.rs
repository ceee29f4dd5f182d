//! Bringing customers back: the defect sheet, tyre storage, special orders, feedback
//! and reminders, through the public operations over simulated months (every date is
//! passed explicitly).

mod common;

use common::{Shop, dec, labor, simple_program};
use pitstop_core::ErrorCode;
use serde_json::{Value, json};

fn at(date: &str) -> String {
    format!("{date}T09:00:00Z")
}

/// A customer with a car; returns (customer id, vehicle id).
fn driver(shop: &Shop, name: &str, phone: &str, plate: &str, consents: Value) -> (u64, u64) {
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": name, "phone": phone, "consents": consents,
                "at": at("2024-01-10") }),
    );
    let customer = reply["customer"]["id"].as_u64().unwrap();
    let car = shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": customer }, "plate": plate, "make": "Kia", "model": "Rio",
                "year": 2018, "at": at("2024-01-10") }),
    );
    (customer, car["id"].as_u64().unwrap())
}

fn visit(
    shop: &Shop,
    customer: u64,
    vehicle: u64,
    order: &str,
    lines: Value,
    mileage: Option<u32>,
    date: &str,
) -> Value {
    let mut args = json!({ "customer": { "id": customer }, "vehicle": { "id": vehicle },
        "lines": lines, "order_id": order, "advisor": "Петров", "at": at(date) });
    if let Some(km) = mileage {
        args["mileage"] = json!(km);
    }
    shop.ok("checkout.commit", args)
}

fn kinds(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------- defect sheet

#[test]
fn recommendations_live_and_close_with_history() {
    let shop = Shop::with_program("recommend", simple_program());
    let (anna, rio) = driver(
        &shop,
        "Кузнецова Анна",
        "+79161110001",
        "А001АА77",
        json!({"sms": true}),
    );
    let receipt = visit(
        &shop,
        anna,
        rio,
        "ЗН-1",
        json!([labor("3000")]),
        Some(40000),
        "2024-03-01",
    );
    let visit_id = receipt["visit"].as_u64().unwrap();
    let pads = shop.ok(
        "recommendation.add",
        json!({ "visit": visit_id, "work": "Замена передних колодок", "urgency": "critical",
                "price": "4500", "at": at("2024-03-01") }),
    );
    assert_eq!(pads["customer"], anna);
    assert_eq!(pads["vehicle"], rio);
    assert_eq!(pads["advisor"], "Петров", "the visit's advisor by default");
    assert_eq!(pads["status"], "open");
    let belt = shop.ok(
        "recommendation.add",
        json!({ "order_id": "ЗН-1", "work": "Ремень ГРМ", "urgency": "planned",
                "at": at("2024-03-01") }),
    );
    // Another customer's recommendation must not leak into Anna's quote.
    let (boris, solaris) = driver(
        &shop,
        "Борисов Борис",
        "+79161110002",
        "В002ВВ77",
        json!({}),
    );
    shop.ok(
        "recommendation.add",
        json!({ "customer": { "id": boris }, "vehicle": { "id": solaris }, "work": "Шаровые опоры",
                "at": at("2024-03-02") }),
    );
    // The next quote for the car shows both open works to the cashier.
    let quote = shop.ok(
        "checkout.quote",
        json!({ "customer": { "id": anna }, "vehicle": { "id": rio }, "lines": [labor("1000")],
                "at": at("2024-04-01") }),
    );
    let texts: Vec<&str> = quote["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "recommendation")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 2, "{quote}");
    assert!(
        texts
            .iter()
            .any(|t| t.contains("колодок") && t.contains("срочно")),
        "{texts:?}"
    );
    assert!(!texts.iter().any(|t| t.contains("Шаровые")));
    // The card shows them too.
    let card = shop.ok("customer.get", json!({ "customer": { "id": anna } }));
    assert_eq!(card["open_recommendations"].as_array().unwrap().len(), 2);
    // Pads done here at the next visit: the receipt no longer mentions them.
    let second = visit(
        &shop,
        anna,
        rio,
        "ЗН-2",
        json!([labor("4500")]),
        Some(42000),
        "2024-04-02",
    );
    assert_eq!(
        kinds(&second["messages"])
            .iter()
            .filter(|k| *k == "recommendation")
            .count(),
        2,
        "the receipt is priced before the close"
    );
    shop.ok(
        "recommendation.close",
        json!({ "id": pads["id"], "outcome": "done_here", "visit": second["visit"],
                "at": at("2024-04-02") }),
    );
    shop.err(
        "recommendation.close",
        json!({ "id": pads["id"], "outcome": "cancelled" }),
        ErrorCode::InvalidArgument,
    );
    shop.ok(
        "recommendation.close",
        json!({ "id": belt["id"], "outcome": "done_elsewhere", "note": "сделал у дилера",
                "at": at("2024-05-01") }),
    );
    let quote = shop.ok(
        "checkout.quote",
        json!({ "customer": { "id": anna }, "vehicle": { "id": rio }, "lines": [labor("1000")],
                "at": at("2024-06-01") }),
    );
    assert!(!kinds(&quote["messages"]).contains(&"recommendation".to_string()));
    // History is kept: both closed, with their dates and outcomes.
    let all = shop.ok(
        "recommendation.list",
        json!({ "vehicle": { "plate": "А001АА77" } }),
    );
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["status"], "done_elsewhere");
    assert_eq!(all[0]["closed_on"], "2024-05-01");
    assert_eq!(all[1]["status"], "done_here");
    assert_eq!(all[1]["closed_on"], "2024-04-02");
    let open = shop.ok(
        "recommendation.list",
        json!({ "customer": { "id": anna }, "open_only": true }),
    );
    assert_eq!(open, json!([]));
    // Bad input changes nothing.
    shop.err(
        "recommendation.add",
        json!({ "visit": visit_id, "work": "", "at": at("2024-03-01") }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "recommendation.add",
        json!({ "visit": visit_id, "customer": { "id": anna }, "work": "x" }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "recommendation.add",
        json!({ "customer": { "id": anna }, "vehicle": { "id": solaris }, "work": "x" }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "recommendation.add",
        json!({ "visit": 999, "work": "x" }),
        ErrorCode::NotFound,
    );
    shop.err(
        "recommendation.add",
        json!({ "visit": visit_id, "work": "x", "price": "-1" }),
        ErrorCode::InvalidArgument,
    );
    shop.assert_sound();
}

// ---------------------------------------------------------------- tyre storage

#[test]
fn tyre_storage_checkin_list_checkout() {
    let shop = Shop::with_program("storage", simple_program());
    let (anna, rio) = driver(
        &shop,
        "Кузнецова Анна",
        "+79161110001",
        "А001АА77",
        json!({"sms": true}),
    );
    let (boris, _) = driver(
        &shop,
        "Борисов Борис",
        "+79161110002",
        "В002ВВ77",
        json!({}),
    );
    let winter = shop.ok(
        "storage.checkin",
        json!({ "customer": { "id": anna }, "vehicle": { "id": rio },
                "items": ["Nokian Hakkapeliitta 9 185/65 R15 ×4", "диски штампованные ×4"],
                "location": "Стеллаж 3, полка 2", "season": "winter", "at": at("2024-04-10") }),
    );
    assert_eq!(winter["checked_in"], "2024-04-10");
    assert_eq!(winter["checked_out"], Value::Null);
    shop.ok(
        "storage.checkin",
        json!({ "customer": { "id": boris }, "items": ["Michelin X-Ice ×4"], "location": "С-1",
                "season": "winter", "at": at("2024-04-11") }),
    );
    let every = shop.ok("storage.list", json!({ "limit": 1 }));
    assert_eq!(every["items"].as_array().unwrap().len(), 1);
    let rest = shop.ok(
        "storage.list",
        json!({ "limit": 1, "after": every["next"] }),
    );
    assert_eq!(rest["items"][0]["customer"], boris);
    let card = shop.ok("customer.get", json!({ "customer": { "id": anna } }));
    assert_eq!(card["tyre_storage"][0]["location"], "Стеллаж 3, полка 2");
    let out = shop.ok(
        "storage.checkout",
        json!({ "id": winter["id"], "at": at("2024-10-20") }),
    );
    assert_eq!(out["checked_out"], "2024-10-20");
    shop.err(
        "storage.checkout",
        json!({ "id": winter["id"] }),
        ErrorCode::InvalidArgument,
    );
    let anna_sets = shop.ok("storage.list", json!({ "customer": { "id": anna } }));
    assert_eq!(
        anna_sets["items"].as_array().unwrap().len(),
        1,
        "history kept"
    );
    let anna_active = shop.ok(
        "storage.list",
        json!({ "customer": { "id": anna }, "active_only": true }),
    );
    assert_eq!(anna_active["items"], json!([]));
    let every = shop.ok("storage.list", json!({}));
    assert_eq!(every["items"].as_array().unwrap().len(), 1);
    shop.err(
        "storage.checkin",
        json!({ "customer": { "id": anna }, "items": [], "location": "x", "season": "winter" }),
        ErrorCode::InvalidArgument,
    );
    let many: Vec<String> = (0..17).map(|i| format!("item {i}")).collect();
    shop.err(
        "storage.checkin",
        json!({ "customer": { "id": anna }, "items": many, "location": "x", "season": "winter" }),
        ErrorCode::TooLarge,
    );
}

// ---------------------------------------------------------------- special orders

#[test]
fn special_orders_move_through_their_states() {
    let shop = Shop::with_program("orders", simple_program());
    let (anna, rio) = driver(
        &shop,
        "Кузнецова Анна",
        "+79161110001",
        "А001АА77",
        json!({"sms": true}),
    );
    let order = shop.ok(
        "order.create",
        json!({ "customer": { "id": anna }, "vehicle": { "id": rio },
                "part": "Колодки TRW GDB1550", "sku": "GDB1550", "qty": "2",
                "expected": "2024-05-20", "at": at("2024-05-10") }),
    );
    assert_eq!(order["status"], "ordered");
    let id = order["id"].clone();
    shop.err(
        "order.handed_over",
        json!({ "id": 99 }),
        ErrorCode::NotFound,
    );
    let arrived = shop.ok("order.arrived", json!({ "id": id, "at": at("2024-05-18") }));
    assert_eq!(arrived["arrived_on"], "2024-05-18");
    shop.err(
        "order.arrived",
        json!({ "id": id }),
        ErrorCode::InvalidArgument,
    );
    let waiting = shop.ok("order.list", json!({ "status": "arrived" }));
    assert_eq!(waiting["items"][0]["id"], id);
    let card = shop.ok("customer.get", json!({ "customer": { "id": anna } }));
    assert_eq!(card["special_orders"][0]["part"], "Колодки TRW GDB1550");
    let done = shop.ok(
        "order.handed_over",
        json!({ "id": id, "at": at("2024-05-19") }),
    );
    assert_eq!(done["status"], "handed_over");
    shop.err(
        "order.handed_over",
        json!({ "id": id }),
        ErrorCode::InvalidArgument,
    );
    let mine = shop.ok("order.list", json!({ "customer": { "id": anna } }));
    assert_eq!(mine["items"][0]["handed_over_on"], "2024-05-19");
    let waiting = shop.ok("order.list", json!({ "status": "arrived" }));
    assert_eq!(waiting["items"], json!([]));
    shop.err(
        "order.create",
        json!({ "customer": { "id": anna }, "part": "x", "qty": "0" }),
        ErrorCode::InvalidArgument,
    );
}

// ---------------------------------------------------------------- feedback

#[test]
fn feedback_bonus_once_per_visit_and_complaints_report() {
    let mut program = simple_program();
    program["feedback"] = json!({ "bonus_points": "50", "bonus_kinds": ["review", "praise"] });
    let shop = Shop::with_program("feedback", program);
    let (anna, rio) = driver(
        &shop,
        "Кузнецова Анна",
        "+79161110001",
        "А001АА77",
        json!({"sms": true}),
    );
    let first = visit(
        &shop,
        anna,
        rio,
        "ЗН-1",
        json!([labor("1000")]),
        None,
        "2024-03-01",
    );
    let before = dec(&shop.balance_at(anna, &at("2024-03-04"))["available"]);
    let review = shop.ok(
        "feedback.add",
        json!({ "visit": first["visit"], "rating": 5, "text": "Всё отлично", "kind": "praise",
                "source": "call", "at": at("2024-03-04") }),
    );
    assert_eq!(review["bonus"], "50");
    assert_eq!(review["feedback"]["employee"], "Петров");
    let after = dec(&shop.balance_at(anna, &at("2024-03-04"))["available"]);
    assert_eq!(after - before, rust_decimal::Decimal::from(50));
    // A second answer about the same visit earns nothing more.
    let again = shop.ok(
        "feedback.add",
        json!({ "order_id": "ЗН-1", "rating": 4, "at": at("2024-03-05") }),
    );
    assert_eq!(again["bonus"], "0");
    assert_eq!(
        dec(&shop.balance_at(anna, &at("2024-03-05"))["available"]),
        after
    );
    // A complaint does not earn under this programme; it is reported.
    let second = visit(
        &shop,
        anna,
        rio,
        "ЗН-2",
        json!([labor("1000")]),
        None,
        "2024-04-01",
    );
    let complaint = shop.ok(
        "feedback.add",
        json!({ "visit": second["visit"], "rating": 2, "kind": "complaint",
                "text": "Долго ждал", "at": at("2024-04-03") }),
    );
    assert_eq!(complaint["bonus"], "0");
    shop.ok(
        "feedback.add",
        json!({ "customer": { "id": anna }, "rating": 1, "kind": "complaint",
                "employee": "Сидоров", "text": "Грубость", "at": at("2024-05-03") }),
    );
    let report = shop.ok(
        "report.complaints",
        json!({ "from": "2024-01-01", "to": "2024-12-31" }),
    );
    assert_eq!(report["complaints"], 2);
    let by_employee = report["by_employee"].as_array().unwrap();
    let petrov = by_employee
        .iter()
        .find(|e| e["employee"] == "Петров")
        .unwrap();
    assert_eq!(petrov["complaints"], 1);
    assert_eq!(petrov["feedback"], 3);
    assert_eq!(petrov["average_rating"], "3.67");
    let months: Vec<(&str, u64)> = report["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["month"].as_str().unwrap(),
                m["complaints"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(months, vec![("2024-03", 0), ("2024-04", 1), ("2024-05", 1)]);
    assert_eq!(report["latest"][0]["text"], "Грубость");
    let march = shop.ok(
        "report.complaints",
        json!({ "from": "2024-03-01", "to": "2024-03-31" }),
    );
    assert_eq!(march["complaints"], 0);
    shop.err(
        "feedback.add",
        json!({ "visit": first["visit"], "rating": 6 }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "feedback.add",
        json!({ "visit": first["visit"] }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "program.set",
        json!({ "program": { "feedback": { "bonus_points": "-5" } } }),
        ErrorCode::InvalidProgram,
    );
    shop.assert_sound();
}
