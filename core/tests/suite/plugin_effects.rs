//! Plugins through the real runtime doing their job: effects and their combination,
//! quote == commit, refunds taking back a promotion's bonus, reminders a plugin asked
//! for, persistence, enable/disable, registration offers, the compiled-code cache,
//! threads. The sandbox against hostile modules is in `plugins.rs`.

use crate::common;

use common::plugin_fixtures::*;
use common::{Shop, simple_program};
use pitstop_core::{Engine, EngineOptions, ErrorCode};
use serde_json::json;

#[test]
fn line_discount_bonus_and_messages_quote_equals_commit() {
    let (shop, id) = shop_with_customer("effects");
    let wasm = effects(json!([
        { "type": "line_discount", "line": 1, "percent": "20", "reason": "комплект" },
        { "type": "bonus_points", "points": "50", "reason": "масло+присадка", "expires_in_days": 30 },
        { "type": "message", "to": "cashier", "text": "Предложите промывку" },
        { "type": "message", "to": "customer", "text": "Спасибо!" },
        { "type": "add_tags", "tags": ["Oil-Club"] },
        { "type": "reminder", "kind": "oil_change", "in_days": 180, "text": "Пора менять масло" }
    ]));
    let installed = install(
        &shop,
        "combo",
        &wasm,
        json!({ "config": { "percent": "20" } }),
    );
    assert_eq!(installed["hooks"], json!(["checkout", "registration"]));
    let quote = shop.ok("checkout.quote", basket(id));
    // Line 1: 1000.00 − 20% = 800.00; accrual 10% of 2800 = 280.
    assert_eq!(quote["lines"][1]["discount"], "200.00");
    assert_eq!(quote["lines"][1]["discount_source"], "plugin:combo");
    assert_eq!(quote["lines"][1]["net"], "800.00");
    assert_eq!(quote["totals"]["net"], "2800.00");
    assert_eq!(quote["totals"]["accrual"], "280");
    assert_eq!(quote["totals"]["bonus"], "50");
    let kinds: Vec<&str> = quote["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"promotion") && kinds.contains(&"promotion_customer"));
    assert_eq!(quote["plugins"][0]["sha256"], installed["sha256"]);

    let receipt = shop.ok("checkout.commit", commit_args(id, "A-1"));
    for field in ["lines", "totals", "messages", "redemption", "accrual_note"] {
        assert_eq!(
            quote[field], receipt[field],
            "{field} differs between quote and commit"
        );
    }
    // Welcome 0 + accrual 280 + bonus 50.
    assert_eq!(receipt["balance"], "330");
    let visit = shop.ok("visit.get", json!({ "order_id": "A-1" }));
    let outcome = &visit["plugins"][0];
    assert_eq!(outcome["plugin"], "combo");
    assert_eq!(outcome["sha256"], installed["sha256"]);
    let applied = outcome["effects"].as_array().unwrap();
    assert_eq!(applied[0]["line_discount"]["applied"], "200.00");
    let lot = applied[1]["bonus_points"]["lot"]
        .as_u64()
        .expect("bonus lot");
    assert_eq!(visit["bonus_lot"], lot);
    assert_eq!(applied[5]["reminder"]["due_on"], "2025-09-06");
    let customer = shop.ok("customer.get", json!({ "customer": { "id": id } }));
    assert_eq!(customer["customer"]["tags"], json!(["oil-club"]));
    let statement = shop.ok("points.statement", json!({ "customer": { "id": id } }));
    let bonus = statement["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "bonus")
        .expect("a bonus entry");
    assert_eq!(bonus["amount"], "50");
    assert!(bonus["reason"].as_str().unwrap().starts_with("combo:"));
    shop.assert_sound();
}

/// A refund reverses what its visit did, promotion bonus included: each refund takes
/// back its share of the bonus (by net), the last one the rest, and bonus already spent
/// is settled in money like earned points.
#[test]
fn refund_takes_back_the_promotion_bonus_it_gave() {
    let (shop, id) = shop_with_customer("bonus-refund");
    let wasm = effects(json!([
        { "type": "bonus_points", "points": "50", "reason": "масло+присадка", "expires_in_days": 30 }
    ]));
    install(&shop, "combo", &wasm, json!({}));
    let receipt = shop.ok("checkout.commit", commit_args(id, "B-1"));
    // Accrual 10% of 3000 = 300, bonus 50.
    assert_eq!(receipt["balance"], "350");

    // One of the two additives: net 500 of 3000 → accrual 50, bonus ⌊50·500/3000⌋ = 8.
    let part = shop.ok(
        "checkout.refund",
        json!({ "order_id": "B-1", "lines": [{ "line": 1, "qty": "1" }], "at": AT }),
    );
    assert_eq!(part["refund"]["accrual_taken"], "50");
    assert_eq!(part["refund"]["bonus_back"], "8");
    assert_eq!(part["refund"]["bonus_taken"], "8");
    assert_eq!(part["balance"], "292");
    let rest = shop.ok("checkout.refund", json!({ "order_id": "B-1", "at": AT }));
    assert_eq!(rest["refund"]["bonus_back"], "42");
    assert_eq!(rest["refund"]["bonus_taken"], "42");
    assert_eq!(rest["balance"], "0");
    shop.err(
        "checkout.refund",
        json!({ "order_id": "B-1", "at": AT }),
        ErrorCode::RefundExceedsVisit,
    );
    let statement = shop.ok("points.statement", json!({ "customer": { "id": id } }));
    let reversed: Vec<&str> = statement["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "bonus_reversal")
        .map(|e| e["amount"].as_str().unwrap())
        .collect();
    assert_eq!(reversed, ["-42", "-8"]);

    // Spent before the refund: the bonus is charged in money, never a negative balance.
    shop.ok("checkout.commit", commit_args(id, "B-2"));
    let mut spend = commit_args(id, "B-3");
    spend["redeem"] = json!("max");
    let spent = shop.ok("checkout.commit", spend);
    assert_eq!(spent["totals"]["points"], "350");
    let back = shop.ok("checkout.refund", json!({ "order_id": "B-2", "at": AT }));
    assert_eq!(back["refund"]["bonus_back"], "50");
    let figure = |field: &str| {
        back["refund"][field]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    // B-3's own accrual and bonus are there to take from; the rest is charged in money.
    assert!(figure("shortfall_points") > 0, "{back}");
    assert_eq!(
        figure("accrual_taken") + figure("bonus_taken") + figure("shortfall_points"),
        300 + 50,
        "{back}"
    );
    assert!(back["balance"].as_str().unwrap().parse::<i64>().unwrap() >= 0);
    shop.assert_sound();
}

/// A promotion's `reminder` effect becomes a due reminder on its day (kind `promotion`,
/// the plugin's text), once: marked sent it never comes back, and a refunded visit takes
/// its promise back.
#[test]
fn a_reminder_a_plugin_asked_for_comes_due_once() {
    let shop = Shop::with_program("plugin-reminder", simple_program());
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": "Петров Пётр", "phone": "+79161112233", "consents": { "sms": true },
                "at": "2025-01-10T10:00:00Z" }),
    );
    let id = reply["customer"]["id"].as_u64().unwrap();
    let wasm = effects(json!([
        { "type": "reminder", "kind": "oil_change", "in_days": 180, "text": "пора менять масло" }
    ]));
    install(&shop, "oil-club", &wasm, json!({}));
    shop.ok("checkout.commit", commit_args(id, "R-1"));
    let mut second = commit_args(id, "R-2");
    second["at"] = json!("2025-03-11T10:00:00Z");
    shop.ok("checkout.commit", second);
    let due = |date: &str| {
        shop.ok(
            "reminders.due",
            json!({ "date": date, "kinds": ["promotion"] }),
        )["items"]
            .as_array()
            .unwrap()
            .clone()
    };
    assert!(due("2025-09-05").is_empty(), "not before its day");
    let items = due("2025-09-06");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["kind"], "promotion");
    assert_eq!(items[0]["text"], "Пётр, пора менять масло");
    assert_eq!(items[0]["details"]["plugin"], "oil-club");
    assert_eq!(items[0]["details"]["order_id"], "R-1");
    shop.ok(
        "reminders.mark",
        json!({ "id": items[0]["id"], "status": "sent", "channel": "sms" }),
    );
    let next_day = due("2025-09-07");
    assert_eq!(next_day.len(), 1, "only R-2's is left: {next_day:?}");
    assert_eq!(next_day[0]["details"]["order_id"], "R-2");
    shop.ok(
        "checkout.refund",
        json!({ "order_id": "R-2", "at": "2025-03-12T10:00:00Z" }),
    );
    assert!(
        due("2025-09-07").is_empty(),
        "a refunded visit promises nothing"
    );
    shop.assert_sound();
}

#[test]
fn discounts_combine_by_priority_and_exclusivity() {
    let (shop, id) = shop_with_customer("combine");
    // Two stacking plugins on line 0 (2000.00): 60% then 60% → 1200 then the 800 left.
    install(
        &shop,
        "first",
        &effects(json!([{ "type": "line_discount", "line": 0, "percent": "60" }])),
        json!({ "priority": 10 }),
    );
    install(
        &shop,
        "second",
        &effects(json!([{ "type": "line_discount", "line": 0, "percent": "60" }])),
        json!({ "priority": 5 }),
    );
    let quote = shop.ok("checkout.quote", basket(id));
    assert_eq!(quote["plugins"][0]["plugin"], "first");
    assert_eq!(quote["lines"][0]["discount"], "2000.00");
    assert_eq!(quote["lines"][0]["net"], "0.00");
    assert_eq!(
        quote["plugins"][1]["effects"][0]["line_discount"]["applied"],
        "800.00"
    );
    assert_eq!(
        quote["lines"][0]["discount_source"],
        "plugin:first+plugin:second"
    );

    // An exclusive 70% (1400.00) beats the 60% stack (1200.00) and stands alone.
    shop.ok("plugin.disable", json!({ "name": "second" }));
    install(
        &shop,
        "solo",
        &effects(
            json!([{ "type": "line_discount", "line": 0, "percent": "70", "exclusive": true }]),
        ),
        json!({ "priority": 1 }),
    );
    let quote = shop.ok("checkout.quote", basket(id));
    assert_eq!(quote["lines"][0]["discount"], "1400.00");
    assert_eq!(quote["lines"][0]["discount_source"], "plugin:solo");
    assert_eq!(
        quote["plugins"][0]["effects"][0]["line_discount"]["applied"],
        "0.00"
    );

    // Basket discount: 10% of what is left after line discounts (600 + 1000).
    shop.ok("plugin.remove", json!({ "name": "first" }));
    shop.ok("plugin.remove", json!({ "name": "solo" }));
    install(
        &shop,
        "basket",
        &effects(json!([{ "type": "basket_discount", "percent": "10" }])),
        json!({}),
    );
    let quote = shop.ok("checkout.quote", basket(id));
    assert_eq!(quote["totals"]["discount"], "300.00");
    assert_eq!(quote["lines"][0]["discount"], "200.00");
    assert_eq!(quote["lines"][1]["discount"], "100.00");
    assert_eq!(quote["lines"][1]["discount_percent"], "10");
    shop.assert_sound();
}

#[test]
fn accrual_multiplier_zero_means_no_points() {
    let (shop, id) = shop_with_customer("accrual");
    install(
        &shop,
        "fleet",
        &effects(json!([{ "type": "accrual", "multiplier": "0", "reason": "fleet" }])),
        json!({}),
    );
    install(
        &shop,
        "double",
        &effects(json!([{ "type": "accrual", "multiplier": "2" }])),
        json!({}),
    );
    let quote = shop.ok("checkout.quote", basket(id));
    assert_eq!(quote["totals"]["accrual"], "0");
    assert_eq!(quote["accrual_note"], "plugin:double,fleet");
    shop.ok("plugin.disable", json!({ "name": "fleet" }));
    let quote = shop.ok("checkout.quote", basket(id));
    assert_eq!(quote["totals"]["accrual"], "600");
}

#[test]
fn disabled_plugin_is_not_called_and_plugins_survive_reopen() {
    let (mut shop, id) = shop_with_customer("reopen");
    install(
        &shop,
        "loop",
        &checkout_body("(loop $l (br $l)) (i64.const 0)"),
        json!({ "on_error": "fail", "enabled": false }),
    );
    let installed = install(
        &shop,
        "discount",
        &effects(json!([{ "type": "line_discount", "line": 0, "amount": "100" }])),
        json!({ "config": { "any": ["thing", 1] }, "priority": 3 }),
    );
    let quote = shop.ok("checkout.quote", basket(id));
    assert_eq!(quote["plugins"].as_array().unwrap().len(), 1);
    assert_eq!(quote["lines"][0]["discount"], "100.00");

    // Reopen: the store carries its plugins.
    shop.engine.take();
    shop.engine = Some(Engine::open(&shop.path, EngineOptions::default()).unwrap());
    let list = shop.ok("plugin.list", json!({}));
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["name"], "discount");
    assert_eq!(list[0]["config"], json!({ "any": ["thing", 1] }));
    assert_eq!(list[0]["sha256"], installed["sha256"]);
    assert_eq!(list[1]["enabled"], false);
    let again = shop.ok("checkout.quote", basket(id));
    assert_eq!(quote["lines"], again["lines"]);

    shop.ok("plugin.enable", json!({ "name": "loop" }));
    shop.err("checkout.quote", basket(id), ErrorCode::PluginFuelExhausted);
    shop.ok("plugin.disable", json!({ "name": "loop" }));
    shop.ok("checkout.quote", basket(id));
    shop.ok("plugin.remove", json!({ "name": "loop" }));
    shop.err(
        "plugin.remove",
        json!({ "name": "loop" }),
        ErrorCode::NotFound,
    );
    shop.assert_sound();
}

#[test]
fn install_is_idempotent_and_replace_is_explicit() {
    let (shop, id) = shop_with_customer("idempotent");
    let wasm = effects(json!([]));
    let args = json!({ "name": "p", "wasm": b64(&wasm), "idempotency_key": "install-p" });
    let first = shop.ok("plugin.install", args.clone());
    let second = shop.ok("plugin.install", args);
    assert_eq!(first, second);
    shop.err(
        "plugin.install",
        json!({ "name": "p", "wasm": b64(&wasm) }),
        ErrorCode::AlreadyExists,
    );
    // The same module under two names is stored once and survives removing one of them.
    install(&shop, "q", &wasm, json!({}));
    shop.ok("plugin.remove", json!({ "name": "p" }));
    shop.ok("checkout.quote", basket(id));
    assert_eq!(
        shop.ok("plugin.list", json!({}))[0]["size_bytes"],
        json!(wasm.len())
    );
}

#[test]
fn registration_plugins_give_welcome_offers() {
    let shop = Shop::with_program("registration", simple_program());
    install(
        &shop,
        "welcome",
        &effects(json!([
            { "type": "bonus_points", "points": "100", "reason": "приветственный бонус" },
            { "type": "add_tags", "tags": ["welcome"] },
            { "type": "message", "to": "customer", "text": "Добро пожаловать!" }
        ])),
        json!({}),
    );
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": "Сидоров Сидор", "phone": "+79165554433", "at": AT }),
    );
    assert_eq!(reply["balance"]["available"], "100");
    assert_eq!(reply["customer"]["tags"], json!(["welcome"]));
    assert_eq!(reply["messages"][0]["text"], "Добро пожаловать!");
    assert_eq!(reply["plugins"][0]["plugin"], "welcome");

    // Discounts make no sense at registration: refused as invalid effects.
    install(
        &shop,
        "welcome",
        &effects(json!([{ "type": "basket_discount", "percent": "5" }])),
        json!({ "replace": true, "on_error": "fail" }),
    );
    shop.err(
        "customer.register",
        json!({ "full_name": "Другой", "phone": "+79165554434", "at": AT }),
        ErrorCode::PluginInvalidEffect,
    );
    shop.assert_sound();
}

#[test]
fn install_from_a_path() {
    let (shop, id) = shop_with_customer("path");
    let file = common::temp_path("module.wasm");
    std::fs::write(
        &file,
        effects(json!([{ "type": "line_discount", "line": 0, "percent": "5" }])),
    )
    .unwrap();
    shop.ok(
        "plugin.install",
        json!({ "name": "from-file", "path": file.display().to_string() }),
    );
    let quote = shop.ok("checkout.quote", basket(id));
    assert_eq!(quote["lines"][0]["discount"], "100.00");
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn compiled_code_cache_on_disk_is_used_and_damage_is_a_miss() {
    let dir = common::temp_path("plugin-cache");
    let runtime =
        pitstop_core::plugin_runtime::PluginRuntime::with_cache(Some(dir.clone())).unwrap();
    let wasm = effects(json!([]));
    let module = runtime.compile(&wasm).unwrap();
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1);
    let path = files[0].as_ref().unwrap().path();
    // A second runtime loads it; a damaged file is recompiled.
    let again = pitstop_core::plugin_runtime::PluginRuntime::with_cache(Some(dir.clone())).unwrap();
    assert_eq!(again.compile(&wasm).unwrap().sha256(), module.sha256());
    std::fs::write(&path, b"garbage").unwrap();
    let third = pitstop_core::plugin_runtime::PluginRuntime::with_cache(Some(dir.clone())).unwrap();
    let module = third.compile(&wasm).unwrap();
    let out = module
        .call(
            &third,
            pitstop_core::plugin_runtime::Hook::Checkout,
            b"{}",
            &pitstop_core::plugin_runtime::Limits::default(),
        )
        .unwrap();
    assert_eq!(out.output, br#"{"effects":[]}"#);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn many_threads_share_the_runtime() {
    let (shop, id) = shop_with_customer("threads");
    install(
        &shop,
        "discount",
        &effects(json!([{ "type": "line_discount", "line": 0, "percent": "10" }])),
        json!({}),
    );
    install(&shop, "trap", &checkout_body("unreachable"), json!({}));
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..50 {
                    let quote = shop.ok("checkout.quote", basket(id));
                    assert_eq!(quote["lines"][0]["discount"], "200.00");
                }
            });
        }
    });
}
