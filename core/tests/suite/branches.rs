//! A dealer group's branches: an engine opened for a branch records it on its visits;
//! `visit.export`, `report.activity`, `report.complaints` and `reminders.due` take a
//! `branch` filter; the programme and every balance are the group's. Runs on sled and,
//! with `PITSTOP_TEST_POSTGRES`, on PostgreSQL, where the second branch is a second
//! engine on the same store (on sled, one engine serves both, the second branch named
//! in each request).

use crate::common;

use pitstop_core::{Engine, EngineOptions, ErrorCode};
use serde_json::{Value, json};

fn options(branch: &str) -> EngineOptions {
    EngineOptions {
        branch: Some(branch.to_string()),
        ..EngineOptions::default()
    }
}

fn commit(engine: &Engine, customer: u64, order: &str, at: &str, branch: Option<&str>) -> Value {
    let mut args = json!({ "customer": { "id": customer }, "order_id": order, "at": at,
        "lines": [{ "sku": "TO-1", "name": "ТО-1", "kind": "labor", "qty": "1", "unit_price": "3000" }] });
    if let Some(branch) = branch {
        args["branch"] = json!(branch);
    }
    engine.execute("checkout.commit", args).unwrap()
}

#[test]
fn branches_share_balances_and_filter_their_reports() {
    let store = common::store_location("branches");
    let centre = Engine::open(&store, options("Москва-Центр")).unwrap();
    let mut program = common::simple_program();
    program["reminders"] = json!({ "quality_call": { "after_days_min": 2, "after_days_max": 3 } });
    centre
        .execute("program.set", json!({ "program": program }))
        .unwrap();
    // On PostgreSQL the northern branch is its own engine (its own process, in a shop);
    // a sled store serves one engine, which then names the branch in each request.
    let shared = std::env::var("PITSTOP_TEST_POSTGRES").is_ok();
    let north_engine = shared.then(|| Engine::open(&store, options("Химки")).unwrap());
    let (north, north_branch) = match &north_engine {
        Some(engine) => (engine, None),
        None => (&centre, Some("Химки")),
    };
    let customer = centre
        .execute("customer.register", json!({ "full_name": "Ольга Викторовна Зайцева",
                  "phone": "+79035550011", "consents": { "sms": true, "call": true }, "at": "2025-01-10T10:00:00Z" }))
        .unwrap()["customer"]["id"]
        .as_u64()
        .unwrap();
    commit(&centre, customer, "Ц-1", "2025-02-03T10:00:00Z", None);
    commit(north, customer, "Х-1", "2025-02-05T10:00:00Z", north_branch);
    commit(north, customer, "Х-2", "2025-03-05T10:00:00Z", north_branch);

    // One balance: 10 % of 9000 earned at two branches, spent at the centre.
    let balance = north
        .execute(
            "points.balance",
            json!({ "customer": { "id": customer }, "at": "2025-03-06T10:00:00Z" }),
        )
        .unwrap();
    assert_eq!(balance["available"], "900");
    let paid = centre
        .execute("checkout.commit", json!({ "customer": { "id": customer }, "order_id": "Ц-2",
            "at": "2025-03-07T10:00:00Z", "redeem": "500",
            "lines": [{ "sku": "TO-2", "name": "ТО-2", "kind": "labor", "qty": "1", "unit_price": "2000" }] }))
        .unwrap();
    assert_eq!(paid["totals"]["points"], "500");
    let recorded = north
        .execute("visit.get", json!({ "order_id": "Ц-2" }))
        .unwrap();
    assert_eq!(
        recorded["branch"], "Москва-Центр",
        "the engine's branch: {recorded}"
    );

    // visit.export: the branch's visits only, paged.
    let export = |branch: &str, limit: u64| {
        let mut orders = Vec::new();
        let mut after = Value::Null;
        loop {
            let page = centre
                .execute(
                    "visit.export",
                    json!({ "branch": branch, "limit": limit, "after": after }),
                )
                .unwrap();
            for visit in page["items"].as_array().unwrap() {
                assert_eq!(visit["branch"], branch);
                orders.push(visit["order_id"].as_str().unwrap().to_string());
            }
            after = page["next_after"].clone();
            if after.is_null() {
                return orders;
            }
        }
    };
    assert_eq!(export("Москва-Центр", 1), ["Ц-1", "Ц-2"]);
    assert_eq!(export("Химки", 1), ["Х-1", "Х-2"]);
    assert!(export("Тверь", 10).is_empty());

    // report.activity: the branch's visits and revenue, the group's in the total.
    let activity = |branch: Option<&str>| {
        let mut args = json!({ "from": "2025-02-01", "to": "2025-03-31" });
        if let Some(branch) = branch {
            args["branch"] = json!(branch);
        }
        north.execute("report.activity", args).unwrap()["total"].clone()
    };
    assert_eq!(activity(None)["visits"], 4);
    assert_eq!(activity(Some("Химки"))["visits"], 2);
    assert_eq!(activity(Some("Химки"))["revenue"], "6000.00");
    assert_eq!(activity(Some("Москва-Центр"))["visits"], 2);
    assert_eq!(activity(Some("Москва-Центр"))["points_redeemed"], "500");

    // report.complaints: feedback about a branch's visits.
    for (order, kind) in [("Х-2", "complaint"), ("Ц-1", "complaint")] {
        centre
            .execute(
                "feedback.add",
                json!({ "order_id": order, "kind": kind,
                "text": "долго ждали", "at": "2025-03-08T10:00:00Z" }),
            )
            .unwrap();
    }
    let complaints = |branch: &str| {
        centre
            .execute(
                "report.complaints",
                json!({ "from": "2025-03-01", "to": "2025-03-31", "branch": branch }),
            )
            .unwrap()["complaints"]
            .clone()
    };
    assert_eq!(complaints("Химки"), 1);
    assert_eq!(complaints("Москва-Центр"), 1);

    // reminders.due: the quality call after Ц-2; a customer is the branch's where they
    // came last (the centre).
    let due = |branch: &str| {
        centre
            .execute(
                "reminders.due",
                json!({ "date": "2025-03-09", "branch": branch }),
            )
            .unwrap()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|item| item["customer"] == customer)
            .count()
    };
    let everyone = centre
        .execute("reminders.due", json!({ "date": "2025-03-09" }))
        .unwrap()["items"]
        .as_array()
        .unwrap()
        .len();
    assert!(everyone > 0, "the quality call after Ц-2 is due");
    assert_eq!(due("Москва-Центр"), everyone);
    assert_eq!(due("Химки"), 0);

    // Group-wide figures say so instead of filtering silently.
    let err = centre
        .execute("report.points", json!({ "branch": "Химки" }))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(err.message.contains("whole group"), "{}", err.message);
    let err = centre
        .execute("visit.export", json!({ "branch": "  " }))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    let err = EngineOptions::from_json(r#"{"branch": "\u0007"}"#).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
}

/// One bound for a branch code wherever it is given: the longest code a visit may record
/// is also accepted by the engine option and every filter, and one character more is
/// refused by all of them as `too_large`, naming `branch`.
#[test]
fn the_longest_branch_code_is_recorded_and_found() {
    let store = common::store_location("branch_limit");
    let longest = "Филиал ".repeat(28) + "Юг-2"; // 196 + 4 = 200 characters
    assert_eq!(longest.chars().count(), 200);
    let too_long = format!("{longest}!");
    let engine = Engine::open(&store, options(&longest)).unwrap();
    engine
        .execute(
            "program.set",
            json!({ "program": common::simple_program() }),
        )
        .unwrap();
    let customer = engine
        .execute(
            "customer.register",
            json!({ "full_name": "Игорь Лаптев", "phone": "+79161112233" }),
        )
        .unwrap()["customer"]["id"]
        .as_u64()
        .unwrap();
    commit(&engine, customer, "Д-1", "2025-02-05T10:00:00Z", None);
    let page = engine
        .execute("visit.export", json!({ "branch": longest }))
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["items"][0]["branch"], longest.as_str());

    for (op, args) in [
        ("visit.export", json!({ "branch": too_long })),
        (
            "report.activity",
            json!({ "from": "2025-01-01", "to": "2025-12-31", "branch": too_long }),
        ),
        (
            "reminders.due",
            json!({ "date": "2025-03-09", "branch": too_long }),
        ),
        (
            "checkout.quote",
            json!({ "customer": { "id": customer }, "branch": too_long,
            "lines": [{ "sku": "M-1", "name": "Замена масла", "kind": "labor", "qty": "1", "unit_price": "1500" }] }),
        ),
    ] {
        let err = engine.execute(op, args).unwrap_err();
        assert_eq!(err.code, ErrorCode::TooLarge, "{op}: {err:?}");
        assert_eq!(err.details["field"], "branch", "{op}: {err:?}");
        assert_eq!(err.details["limit"], 200, "{op}: {err:?}");
    }
    let err = EngineOptions::from_json(&json!({ "branch": too_long }).to_string()).unwrap_err();
    assert_eq!(err.code, ErrorCode::TooLarge, "{err:?}");
}
