//! Bringing customers back: the defect sheet, tyre storage, special orders, feedback
//! and reminders, through the public operations over simulated months (every date is
//! passed explicitly).

use crate::common;

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
    // Each complaint says who to call back: name, phone, and the car of its visit.
    let latest = report["latest"].as_array().unwrap();
    assert_eq!(latest.len(), 2);
    assert_eq!(latest[0]["customer"], anna);
    assert_eq!(latest[0]["customer_name"], "Кузнецова Анна");
    assert_eq!(latest[0]["phone"], "+79161110001");
    assert_eq!(latest[0]["plate"], Value::Null, "no visit, no car");
    assert_eq!(latest[1]["text"], "Долго ждал");
    assert_eq!(latest[1]["visit"], second["visit"]);
    assert_eq!(latest[1]["customer_name"], "Кузнецова Анна");
    assert_eq!(latest[1]["plate"], "A001AA77");
    // A visit without a car: no plate. Another customer's complaint: their own name.
    let (boris, _) = driver(
        &shop,
        "Борисов Борис",
        "+79161110002",
        "В002ВВ77",
        json!({"sms": true}),
    );
    let carless = shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": boris }, "lines": [labor("500")], "order_id": "ЗН-3",
                "at": at("2024-06-01") }),
    );
    shop.ok(
        "feedback.add",
        json!({ "visit": carless["visit"], "rating": 1, "kind": "complaint",
                "text": "Не перезвонили", "at": at("2024-06-02") }),
    );
    let report = shop.ok(
        "report.complaints",
        json!({ "from": "2024-01-01", "to": "2024-12-31" }),
    );
    assert_eq!(report["latest"][0]["customer_name"], "Борисов Борис");
    assert_eq!(report["latest"][0]["phone"], "+79161110002");
    assert_eq!(report["latest"][0]["plate"], Value::Null);
    // Erased: the complaints stay, without a name, phone or plate.
    shop.ok(
        "customer.erase",
        json!({ "customer": { "id": anna }, "reason": "заявление", "at": at("2024-07-01") }),
    );
    let report = shop.ok(
        "report.complaints",
        json!({ "from": "2024-01-01", "to": "2024-12-31" }),
    );
    assert_eq!(report["complaints"], 3);
    for row in &report["latest"].as_array().unwrap()[1..] {
        assert_eq!(row["customer"], anna);
        for field in ["customer_name", "phone", "plate"] {
            assert_eq!(row[field], Value::Null, "{field} of {row}");
        }
    }
    assert_eq!(report["latest"][0]["customer_name"], "Борисов Борис");
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

// ---------------------------------------------------------------- reminders

fn reminder_program() -> Value {
    let mut program = simple_program();
    program["name"] = json!("Автосервис «Гараж»");
    program["reminders"] = json!({
        "window_days": 14,
        "services": [
            { "kind": "oil_change", "name": "замена масла", "months": 12, "km": 10000,
              "patterns": ["*замена масла*", "OIL-*"] },
            { "kind": "air_conditioning", "name": "обслуживание кондиционера", "months": 12,
              "patterns": ["AC-*"] }
        ],
        "service_days_before": 7,
        "points_expiring_days": 14,
        "birthday_days_before": 3,
        "recommendation_after_days": 30,
        "quality_call": { "after_days_min": 2, "after_days_max": 3 },
        "lapsed": { "min_visits": 4, "factor": "1.5", "min_car_visits": 3 },
        "templates": {
            "service_due": "{first_name}, для {car} пора: {service} (до {due_on}).",
            "birthday": "{first_name}, с днём рождения {birthday}!"
        }
    });
    program
}

fn due(shop: &Shop, date: &str, kinds: &[&str]) -> Vec<Value> {
    let mut args = json!({ "date": date, "limit": 500 });
    if !kinds.is_empty() {
        args["kinds"] = json!(kinds);
    }
    let page = shop.ok("reminders.due", args);
    assert_eq!(page["next"], Value::Null, "{page}");
    page["items"].as_array().unwrap().clone()
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn oil(price: &str) -> Value {
    json!({ "sku": "OIL-5W30", "name": "Замена масла", "kind": "labor", "qty": "1", "unit_price": price })
}

#[test]
fn service_due_by_mileage_and_by_time_respects_consent() {
    let shop = Shop::with_program("service-due", reminder_program());
    let (taxi, solaris) = driver(
        &shop,
        "Иванов Пётр Ильич",
        "+79161110001",
        "А001АА77",
        json!({"sms": true}),
    );
    let (calm, rio) = driver(
        &shop,
        "Смирнова Ольга",
        "+79161110002",
        "В002ВВ77",
        json!({"sms": true, "email": true}),
    );
    let (silent, polo) = driver(
        &shop,
        "Молчанов Олег",
        "+79161110003",
        "С003СС77",
        json!({}),
    );
    let (black, lada) = driver(
        &shop,
        "Чернов Денис",
        "+79161110004",
        "Е004ЕЕ77",
        json!({"sms": true}),
    );
    shop.ok(
        "customer.update",
        json!({ "customer": { "id": black }, "blacklisted": true,
        "blacklist_reason": "просил не звонить" }),
    );
    // The taxi drives 100 km a day: oil is due by mileage long before a year.
    visit(
        &shop,
        taxi,
        solaris,
        "ЗН-1",
        json!([oil("1500")]),
        Some(50000),
        "2024-01-15",
    );
    shop.ok(
        "vehicle.mileage",
        json!({ "vehicle": { "id": solaris }, "km": 53000, "at": at("2024-02-14") }),
    );
    // The others come once and drive little: due by time, a year on.
    visit(
        &shop,
        calm,
        rio,
        "ЗН-2",
        json!([oil("1500")]),
        Some(20000),
        "2024-01-20",
    );
    visit(
        &shop,
        silent,
        polo,
        "ЗН-3",
        json!([oil("1500")]),
        Some(20000),
        "2024-01-20",
    );
    visit(
        &shop,
        black,
        lada,
        "ЗН-4",
        json!([oil("1500")]),
        Some(20000),
        "2024-01-20",
    );
    // 53000 km on 14.02, 7000 km to go at 100 km/day: due 24.04, reminded a week before.
    assert!(due(&shop, "2024-04-16", &["service_due"]).is_empty());
    let items = due(&shop, "2024-04-17", &["service_due"]);
    assert_eq!(
        ids(&items),
        vec![format!("service_due:{solaris}:oil_change:2024-01-15")]
    );
    let reminder = &items[0];
    assert_eq!(reminder["due_on"], "2024-04-24");
    assert_eq!(reminder["details"]["due_km"], 60000);
    assert_eq!(reminder["channels"], json!(["sms"]));
    assert_eq!(
        reminder["text"],
        "Пётр, для Kia Rio (A001AA77) пора: замена масла (до 24.04.2024)."
    );
    // A new reading showing less driving moves the date on.
    shop.ok(
        "vehicle.mileage",
        json!({ "vehicle": { "id": solaris }, "km": 54000, "at": at("2024-03-15") }),
    );
    assert!(
        due(&shop, "2024-04-17", &["service_due"]).is_empty(),
        "now 60 days × ~66 km"
    );
    // 54000 km on 15.03 at 66.7 km/day: 6000 km in 90 days, due 13.06, reminded 06.06.
    assert!(due(&shop, "2024-06-05", &["service_due"]).is_empty());
    let later = due(&shop, "2024-06-06", &["service_due"]);
    assert_eq!(later.len(), 1, "{later:?}");
    assert_eq!(later[0]["due_on"], "2024-06-13");
    // Marked sent: never again for this service.
    shop.ok(
        "reminders.mark",
        json!({ "id": later[0]["id"], "status": "sent", "channel": "sms",
        "at": at("2024-06-06") }),
    );
    assert!(due(&shop, "2024-06-07", &["service_due"]).is_empty());
    // By time: only the customer who agreed to contact and is not blacklisted.
    assert!(due(&shop, "2025-01-12", &["service_due"]).is_empty());
    let yearly = due(&shop, "2025-01-13", &["service_due"]);
    assert_eq!(
        ids(&yearly),
        vec![format!("service_due:{rio}:oil_change:2024-01-20")]
    );
    assert_eq!(yearly[0]["channels"], json!(["sms", "email"]));
    let by_email = shop.ok(
        "reminders.due",
        json!({ "date": "2025-01-13", "kinds": ["service_due"], "channel": "call" }),
    );
    assert_eq!(by_email["items"], json!([]));
    // Still due within the window, gone after it.
    assert_eq!(due(&shop, "2025-01-27", &["service_due"]).len(), 1);
    assert!(due(&shop, "2025-01-28", &["service_due"]).is_empty());
    // The service done again starts a new reason.
    visit(
        &shop,
        taxi,
        solaris,
        "ЗН-5",
        json!([oil("1500")]),
        Some(61000),
        "2024-05-20",
    );
    // 11000 km in 126 days = 87.3 km/day: 10000 km in 115 days, due 12.09, reminded 05.09.
    assert!(due(&shop, "2024-09-04", &["service_due"]).is_empty());
    let next = due(&shop, "2024-09-05", &["service_due"]);
    assert!(
        ids(&next).contains(&format!("service_due:{solaris}:oil_change:2024-05-20")),
        "{next:?}"
    );
    let _ = (silent, polo, lada);
}

#[test]
fn points_birthday_and_once_per_reason() {
    let shop = Shop::with_program("points-birthday", reminder_program());
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": "Павлов Андрей", "phone": "+79161110001", "birthday": "1990-06-05",
                "consents": { "sms": true }, "at": at("2024-01-10") }),
    );
    let andrey = reply["customer"]["id"].as_u64().unwrap();
    let car = shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": andrey }, "plate": "А001АА77",
        "make": "Lada", "model": "Vesta", "at": at("2024-01-10") }),
    );
    let car = car["id"].as_u64().unwrap();
    visit(
        &shop,
        andrey,
        car,
        "ЗН-1",
        json!([labor("5000")]),
        None,
        "2024-01-15",
    );
    let balance = shop.balance_at(andrey, &at("2024-01-16"));
    let expires: chrono::NaiveDate = balance["next_expiries"][0]["date"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let day = |offset: i64| (expires + chrono::Duration::days(offset)).to_string();
    assert!(due(&shop, &day(-15), &["points_expiring"]).is_empty());
    let items = due(&shop, &day(-14), &["points_expiring"]);
    assert_eq!(
        ids(&items),
        vec![format!("points_expiring:{andrey}:{expires}")]
    );
    assert_eq!(items[0]["details"]["points"], "500");
    assert!(
        items[0]["text"].as_str().unwrap().contains("баллы: 500"),
        "{}",
        items[0]["text"]
    );
    // A failed delivery comes back, and says how often it failed.
    shop.ok(
        "reminders.mark",
        json!({ "id": items[0]["id"], "status": "failed", "channel": "sms" }),
    );
    let again = due(&shop, &day(-13), &["points_expiring"]);
    assert_eq!(again[0]["failed_attempts"], 1);
    shop.ok(
        "reminders.mark",
        json!({ "id": items[0]["id"], "status": "sent", "channel": "sms" }),
    );
    assert!(due(&shop, &day(-12), &["points_expiring"]).is_empty());
    shop.err(
        "reminders.mark",
        json!({ "id": items[0]["id"], "status": "declined" }),
        ErrorCode::AlreadyExists,
    );
    shop.err(
        "reminders.mark",
        json!({ "id": "nonsense", "status": "sent" }),
        ErrorCode::InvalidArgument,
    );
    // Birthday: from 3 days before to the day itself.
    assert!(due(&shop, "2024-06-01", &["birthday"]).is_empty());
    let birthday = due(&shop, "2024-06-02", &["birthday"]);
    assert_eq!(ids(&birthday), vec![format!("birthday:{andrey}:2024")]);
    assert_eq!(birthday[0]["text"], "Андрей, с днём рождения 05.06!");
    assert_eq!(due(&shop, "2024-06-05", &["birthday"]).len(), 1);
    assert!(due(&shop, "2024-06-06", &["birthday"]).is_empty());
    shop.ok(
        "reminders.mark",
        json!({ "id": birthday[0]["id"], "status": "declined" }),
    );
    assert!(due(&shop, "2024-06-04", &["birthday"]).is_empty());
    assert_eq!(
        due(&shop, "2025-06-03", &["birthday"]).len(),
        1,
        "next year is a new reason"
    );
    // Consent withdrawn: nothing at all.
    shop.ok(
        "customer.update",
        json!({ "customer": { "id": andrey }, "consents": { "sms": false },
        "at": at("2025-01-01") }),
    );
    assert!(due(&shop, "2025-06-03", &[]).is_empty());
}

#[test]
fn recommendations_storage_orders_and_quality_calls_come_due() {
    let shop = Shop::with_program("due-kinds", reminder_program());
    let (anna, rio) = driver(
        &shop,
        "Кузнецова Анна",
        "+79161110001",
        "А001АА77",
        json!({"sms": true, "call": true}),
    );
    let first = visit(
        &shop,
        anna,
        rio,
        "ЗН-1",
        json!([labor("3000")]),
        None,
        "2024-03-01",
    );
    let rec = shop.ok(
        "recommendation.add",
        json!({ "visit": first["visit"], "work": "Замена колодок",
        "price": "4500", "at": at("2024-03-01") }),
    );
    // Quality call on days 2 and 3 after the visit, unless feedback is in.
    assert!(due(&shop, "2024-03-02", &["quality_call"]).is_empty());
    let calls = due(&shop, "2024-03-03", &["quality_call"]);
    assert_eq!(
        ids(&calls),
        vec![format!("quality_call:{}", first["visit"])]
    );
    assert!(calls[0]["text"].as_str().unwrap().contains("01.03.2024"));
    assert_eq!(due(&shop, "2024-03-04", &["quality_call"]).len(), 1);
    assert!(due(&shop, "2024-03-05", &["quality_call"]).is_empty());
    let second = visit(
        &shop,
        anna,
        rio,
        "ЗН-2",
        json!([labor("1000")]),
        None,
        "2024-03-10",
    );
    shop.ok(
        "feedback.add",
        json!({ "visit": second["visit"], "rating": 5, "at": at("2024-03-11") }),
    );
    assert!(
        due(&shop, "2024-03-12", &["quality_call"]).is_empty(),
        "feedback recorded"
    );
    // The declined work comes back after 30 days, until closed.
    assert!(due(&shop, "2024-03-30", &["recommendation"]).is_empty());
    let recs = due(&shop, "2024-03-31", &["recommendation"]);
    assert_eq!(ids(&recs), vec![format!("recommendation:{}", rec["id"])]);
    assert!(recs[0]["text"].as_str().unwrap().contains("Замена колодок"));
    shop.ok(
        "recommendation.close",
        json!({ "id": rec["id"], "outcome": "done_elsewhere" }),
    );
    assert!(due(&shop, "2024-04-01", &["recommendation"]).is_empty());
    // Tyre storage: the winter set is due in the autumn window, every year it stays.
    let set = shop.ok(
        "storage.checkin",
        json!({ "customer": { "id": anna }, "vehicle": { "id": rio },
        "items": ["Nokian ×4"], "location": "С-3", "season": "winter", "at": at("2024-04-10") }),
    );
    shop.ok(
        "storage.checkin",
        json!({ "customer": { "id": anna }, "items": ["Летние ×4"],
        "location": "С-4", "season": "summer", "at": at("2024-04-10") }),
    );
    assert!(due(&shop, "2024-09-30", &["tyre_season"]).is_empty());
    let autumn = due(&shop, "2024-10-01", &["tyre_season"]);
    assert_eq!(
        ids(&autumn),
        vec![format!("tyre_season:{}:2024-autumn", set["id"])]
    );
    assert!(autumn[0]["text"].as_str().unwrap().contains("зимние шины"));
    assert_eq!(due(&shop, "2024-11-15", &["tyre_season"]).len(), 1);
    assert!(due(&shop, "2024-11-16", &["tyre_season"]).is_empty());
    let spring = due(&shop, "2025-03-25", &["tyre_season"]);
    assert_eq!(spring.len(), 1, "the summer set in spring");
    assert_eq!(spring[0]["details"]["season"], "summer");
    shop.ok(
        "reminders.mark",
        json!({ "id": autumn[0]["id"], "status": "sent" }),
    );
    assert!(due(&shop, "2024-10-02", &["tyre_season"]).is_empty());
    assert_eq!(
        due(&shop, "2025-10-02", &["tyre_season"]).len(),
        1,
        "a new season"
    );
    shop.ok(
        "storage.checkout",
        json!({ "id": set["id"], "at": at("2025-10-05") }),
    );
    assert!(due(&shop, "2025-10-06", &["tyre_season"]).is_empty());
    // A special order is due from its arrival until handed over.
    let order = shop.ok(
        "order.create",
        json!({ "customer": { "id": anna }, "part": "Колодки TRW",
        "qty": "2", "at": at("2024-05-01") }),
    );
    assert!(due(&shop, "2024-05-05", &["order_arrived"]).is_empty());
    shop.ok(
        "order.arrived",
        json!({ "id": order["id"], "at": at("2024-05-06") }),
    );
    let arrived = due(&shop, "2024-05-06", &["order_arrived"]);
    assert_eq!(
        ids(&arrived),
        vec![format!("order_arrived:{}", order["id"])]
    );
    assert!(
        arrived[0]["text"]
            .as_str()
            .unwrap()
            .contains("Колодки TRW, 2 шт.")
    );
    shop.ok(
        "order.handed_over",
        json!({ "id": order["id"], "at": at("2024-05-07") }),
    );
    assert!(due(&shop, "2024-05-07", &["order_arrived"]).is_empty());
}

#[test]
fn lapsed_valuable_cars_by_their_own_interval() {
    let shop = Shop::with_program("lapsed", reminder_program());
    let (regular, rio) = driver(
        &shop,
        "Постоянный Клиент",
        "+79161110001",
        "А001АА77",
        json!({"sms": true}),
    );
    let (rare, polo) = driver(
        &shop,
        "Редкий Гость",
        "+79161110002",
        "В002ВВ77",
        json!({"sms": true}),
    );
    // Every three months: usual interval 92 days, lapsed after 138.
    for (n, date) in ["2024-01-10", "2024-04-10", "2024-07-11", "2024-10-11"]
        .iter()
        .enumerate()
    {
        visit(
            &shop,
            regular,
            rio,
            &format!("R-{n}"),
            json!([labor("2000")]),
            None,
            date,
        );
    }
    // Only three visits: not valuable under min_visits 4.
    for (n, date) in ["2024-01-10", "2024-02-10", "2024-03-10"]
        .iter()
        .enumerate()
    {
        visit(
            &shop,
            rare,
            polo,
            &format!("P-{n}"),
            json!([labor("2000")]),
            None,
            date,
        );
    }
    assert!(due(&shop, "2025-02-25", &["lapsed"]).is_empty());
    let lapsed = due(&shop, "2025-02-26", &["lapsed"]);
    assert_eq!(ids(&lapsed), vec![format!("lapsed:{rio}:2024-10-11")]);
    assert_eq!(lapsed[0]["details"]["usual_days"], 92);
    assert!(lapsed[0]["text"].as_str().unwrap().contains("11.10.2024"));
    // The car comes back: no longer lapsed.
    visit(
        &shop,
        regular,
        rio,
        "R-9",
        json!([labor("2000")]),
        None,
        "2025-03-01",
    );
    assert!(due(&shop, "2025-03-02", &["lapsed"]).is_empty());
}

#[test]
fn every_kind_pages_and_templates_are_validated() {
    let shop = Shop::with_program("paging", reminder_program());
    let mut expected = Vec::new();
    for n in 0..5 {
        let (c, car) = driver(
            &shop,
            &format!("Клиент Номер{n}"),
            &format!("+7916111000{n}"),
            &format!("А00{n}АА77"),
            json!({"sms": true, "call": true}),
        );
        let v = visit(
            &shop,
            c,
            car,
            &format!("ЗН-{n}"),
            json!([oil("1000")]),
            None,
            "2024-03-01",
        );
        let rec = shop.ok(
            "recommendation.add",
            json!({ "visit": v["visit"], "work": "Развал-схождение",
            "at": at("2024-02-03") }),
        );
        expected.push(format!("recommendation:{}", rec["id"]));
        expected.push(format!("quality_call:{}", v["visit"]));
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = json!({ "date": "2024-03-04", "limit": 3 });
        if let Some(cursor) = &after {
            args["after"] = json!(cursor);
        }
        let page = shop.ok("reminders.due", args);
        seen.extend(ids(page["items"].as_array().unwrap()));
        pages += 1;
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
        assert!(pages < 20);
    }
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
    assert!(pages >= 4);
    shop.err(
        "reminders.due",
        json!({ "limit": 0 }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "reminders.due",
        json!({ "after": "zz" }),
        ErrorCode::InvalidArgument,
    );
    let mut bad = reminder_program();
    bad["reminders"]["templates"]["lapsed"] = json!("{first_name}, {points} баллов");
    let err = shop.err(
        "program.set",
        json!({ "program": bad }),
        ErrorCode::InvalidProgram,
    );
    assert!(err.message.contains("{points}"), "{}", err.message);
    let mut bad = reminder_program();
    bad["reminders"]["templates"]["birthday"] = json!("{first_name");
    shop.err(
        "program.set",
        json!({ "program": bad }),
        ErrorCode::InvalidProgram,
    );
    let mut bad = reminder_program();
    bad["reminders"]["services"][0]["months"] = Value::Null;
    bad["reminders"]["services"][0]["km"] = Value::Null;
    shop.err(
        "program.set",
        json!({ "program": bad }),
        ErrorCode::InvalidProgram,
    );
    shop.assert_sound();
}

/// A 29 February birthday is kept on the 28th in a common year: the reminder window
/// that ends on the 28th takes it in, and a leap year reminds on the 29th.
#[test]
fn a_leap_day_birthday_is_reminded_in_common_years() {
    let shop = Shop::with_program("leap-birthday", reminder_program());
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": "Високосов Касьян", "phone": "+79161110029", "birthday": "1996-02-29",
                "consents": { "sms": true }, "at": at("2024-01-10") }),
    );
    let kasyan = reply["customer"]["id"].as_u64().unwrap();
    // birthday_days_before = 3: 2025-02-25 is the first day of the window ending on the 28th.
    assert!(due(&shop, "2025-02-24", &["birthday"]).is_empty());
    let common = due(&shop, "2025-02-25", &["birthday"]);
    assert_eq!(ids(&common), vec![format!("birthday:{kasyan}:2025")]);
    assert_eq!(common[0]["due_on"], "2025-02-28");
    assert!(due(&shop, "2024-02-25", &["birthday"]).is_empty());
    let leap = due(&shop, "2024-02-26", &["birthday"]);
    assert_eq!(leap[0]["due_on"], "2024-02-29");
}

/// Every page of `reminders.due` for `args` (with `limit` set by the caller), as ids.
fn due_pages(shop: &Shop, mut args: Value) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..100 {
        let page = shop.ok("reminders.due", args.clone());
        seen.extend(ids(page["items"].as_array().unwrap()));
        match page["next"].as_str() {
            Some(next) => args["after"] = json!(next),
            None => return seen,
        }
    }
    panic!("reminders.due did not end: {args}");
}

/// With `customer`, `reminders.due` reads the customer's own records instead of the
/// day's list, and gives exactly the day's list for that customer: every kind, a car
/// moved to a new owner (its recommendation follows it), consent, paging.
#[test]
fn a_customer_s_reminders_are_the_day_s_list_for_that_customer() {
    let shop = Shop::with_program("due-customer", reminder_program());
    let (anna, rio) = driver(
        &shop,
        "Кузнецова Анна",
        "+79161120001",
        "А001АА77",
        json!({"sms": true}),
    );
    let (boris, _) = driver(
        &shop,
        "Борисов Борис",
        "+79161120002",
        "В002ВВ77",
        json!({"sms": true, "call": true}),
    );
    let polo = shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": boris }, "vin": "XW8ZZZ61ZHG012345", "plate": "М005ММ77",
                "make": "VW", "model": "Polo", "year": 2017, "at": at("2024-01-10") }),
    )["id"]
        .as_u64()
        .unwrap();
    let (vlad, _) = driver(
        &shop,
        "Владимиров Влад",
        "+79161120003",
        "Е003ЕЕ77",
        json!({"sms": true}),
    );
    // Gleb agreed to nothing: never listed, with or without the filter.
    let (gleb, lada) = driver(&shop, "Глебов Глеб", "+79161120004", "К004КК77", json!({}));
    for (id, birthday) in [
        (anna, "1990-06-15"),
        (boris, "1985-11-20"),
        (gleb, "1980-06-16"),
    ] {
        shop.ok(
            "customer.update",
            json!({ "customer": { "id": id }, "birthday": birthday, "at": at("2024-01-10") }),
        );
    }
    // Anna: four visits of her car (service, lapse, quality calls, expiring points),
    // a declined work, a winter set in storage, an order that arrives.
    for (n, (date, km)) in [
        ("2024-01-10", 10_000),
        ("2024-04-10", 14_000),
        ("2024-07-11", 18_000),
        ("2024-10-11", 22_000),
    ]
    .into_iter()
    .enumerate()
    {
        let v = visit(
            &shop,
            anna,
            rio,
            &format!("A-{n}"),
            json!([oil("2000")]),
            Some(km),
            date,
        );
        if n == 0 {
            shop.ok(
                "recommendation.add",
                json!({ "visit": v["visit"], "work": "Замена колодок", "at": at(date) }),
            );
        }
    }
    shop.ok(
        "storage.checkin",
        json!({ "customer": { "id": anna }, "vehicle": { "id": rio }, "items": ["Nokian ×4"],
                "location": "С-3", "season": "winter", "at": at("2024-04-10") }),
    );
    let order = shop.ok(
        "order.create",
        json!({ "customer": { "id": anna }, "part": "Колодки TRW", "qty": "1",
                "at": at("2024-05-01") }),
    );
    shop.ok(
        "order.arrived",
        json!({ "id": order["id"], "at": at("2024-05-06") }),
    );
    // Boris: air conditioning and a declined work on his car, which then goes to Vlad.
    let v = visit(
        &shop,
        boris,
        polo,
        "B-1",
        json!([{ "sku": "AC-1", "name": "Заправка кондиционера", "kind": "labor", "qty": "1",
                 "unit_price": "3000" }]),
        Some(50_000),
        "2024-02-01",
    );
    shop.ok(
        "recommendation.add",
        json!({ "visit": v["visit"], "work": "Замена салонного фильтра", "at": at("2024-02-01") }),
    );
    shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": vlad }, "vin": "XW8ZZZ61ZHG012345", "plate": "М005ММ77",
                "make": "VW", "model": "Polo", "transfer": true, "at": at("2024-02-15") }),
    );
    // Gleb has a visit too (a quality call he is not asked for).
    visit(
        &shop,
        gleb,
        lada,
        "G-1",
        json!([labor("1000")]),
        None,
        "2024-03-01",
    );

    let customers = [anna, boris, vlad, gleb];
    let mut kinds_seen = std::collections::BTreeSet::new();
    let mut date = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let last = chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    while date <= last {
        let day = date.to_string();
        let all = due(&shop, &day, &[]);
        for item in &all {
            kinds_seen.insert(item["kind"].as_str().unwrap().to_string());
        }
        for customer in customers {
            let theirs: Vec<String> = all
                .iter()
                .filter(|item| item["customer"] == customer)
                .map(|item| item["id"].as_str().unwrap().to_string())
                .collect();
            let page = shop.ok(
                "reminders.due",
                json!({ "date": day, "customer": { "id": customer }, "limit": 500 }),
            );
            assert_eq!(page["next"], Value::Null, "{page}");
            assert_eq!(
                ids(page["items"].as_array().unwrap()),
                theirs,
                "customer {customer} on {day}"
            );
        }
        date += chrono::Duration::days(3);
    }
    for kind in [
        "service_due",
        "points_expiring",
        "birthday",
        "recommendation",
        "tyre_season",
        "order_arrived",
        "quality_call",
        "lapsed",
    ] {
        assert!(
            kinds_seen.contains(kind),
            "{kind} never due: {kinds_seen:?}"
        );
    }

    // Boris's declined work follows the car to Vlad.
    let vlad_due = due_pages(
        &shop,
        json!({ "date": "2024-03-05", "customer": { "phone": "+79161120003" }, "limit": 10 }),
    );
    assert_eq!(vlad_due.len(), 1, "{vlad_due:?}");
    assert!(vlad_due[0].starts_with("recommendation:"), "{vlad_due:?}");
    assert!(
        due_pages(
            &shop,
            json!({ "date": "2024-03-05", "customer": { "id": boris }, "limit": 10 })
        )
        .is_empty()
    );
    // Paged one at a time, with kinds and a channel, by plate.
    let one_by_one = due_pages(
        &shop,
        json!({ "date": "2024-10-14", "customer": { "plate": "А001АА77" }, "limit": 1,
                "kinds": ["quality_call", "tyre_season", "order_arrived"], "channel": "sms" }),
    );
    let mut expected: Vec<String> = due(
        &shop,
        "2024-10-14",
        &["quality_call", "tyre_season", "order_arrived"],
    )
    .iter()
    .filter(|item| item["customer"] == anna)
    .map(|item| item["id"].as_str().unwrap().to_string())
    .collect();
    assert_eq!(one_by_one, expected);
    // Her quality call is a task for staff, due in the call channel only, which Anna did
    // not agree to: the tyre season is all she is sent.
    assert_eq!(one_by_one.len(), 1, "{one_by_one:?}");
    assert!(one_by_one[0].starts_with("tyre_season:"), "{one_by_one:?}");
    expected.clear();
    // A marked reminder is gone from the customer's list too.
    shop.ok(
        "reminders.mark",
        json!({ "id": one_by_one[0], "status": "sent", "at": at("2024-10-14") }),
    );
    let after_mark = due_pages(
        &shop,
        json!({ "date": "2024-10-14", "customer": { "id": anna }, "limit": 100,
                "kinds": ["quality_call", "tyre_season", "order_arrived"] }),
    );
    assert_eq!(after_mark, one_by_one[1..].to_vec());
    // An unknown customer is an error naming them; a call channel Anna did not agree to
    // gives nothing.
    let err = shop.err(
        "reminders.due",
        json!({ "customer": { "phone": "+79990000000" } }),
        ErrorCode::NotFound,
    );
    assert!(err.message.contains("+79990000000"), "{}", err.message);
    assert!(
        due_pages(
            &shop,
            json!({ "date": "2024-10-14", "customer": { "id": anna }, "channel": "call",
                    "limit": 100 })
        )
        .is_empty()
    );
    shop.err(
        "reminders.due",
        json!({ "customer": { "id": anna, "phone": "+79161120001" } }),
        ErrorCode::InvalidArgument,
    );
}
