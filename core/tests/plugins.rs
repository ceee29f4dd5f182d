//! Plugins through the real runtime: hostile WAT fixtures (each with its own error code,
//! the engine serving the next checkout, nothing written for a refused commit), effects
//! and their combination, quote == commit, persistence, enable/disable, registration.

mod common;

use base64::Engine as _;
use common::{Shop, simple_program};
use pitstop_core::{Engine, EngineOptions, ErrorCode};
use serde_json::{Value, json};

const AT: &str = "2025-03-10T10:00:00Z";

/// Escape bytes for a WAT string literal.
fn wat_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// The plumbing every fixture shares: memory, bump allocator, ABI marker.
fn module(abi: u32, memory_pages: u32, body: &str) -> Vec<u8> {
    let text = format!(
        r#"(module
  (memory (export "memory") {memory_pages})
  (global $next (mut i32) (i32.const 4096))
  (func (export "pitstop_abi_version_{abi}"))
  (func (export "pitstop_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $n)))
    (local.get $p))
  {body})"#
    );
    wat::parse_str(&text).unwrap_or_else(|err| panic!("bad fixture: {err}\n{text}"))
}

/// A plugin that returns `output` from the checkout (and registration) hook.
fn fixed(output: &str) -> Vec<u8> {
    let len = output.len();
    module(
        1,
        2,
        &format!(
            r#"(data (i32.const 16) "{data}")
  (func (export "pitstop_checkout") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const {len})))
  (func (export "pitstop_registration") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const {len})))"#,
            data = wat_bytes(output.as_bytes())
        ),
    )
}

/// A plugin whose checkout hook is `body` (a sequence of instructions ending in an i64).
fn checkout_body(body: &str) -> Vec<u8> {
    module(
        1,
        2,
        &format!(
            r#"(func (export "pitstop_checkout") (param $ptr i32) (param $len i32) (result i64)
    {body})"#
        ),
    )
}

fn effects(effects: Value) -> Vec<u8> {
    fixed(&json!({ "effects": effects }).to_string())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn install(shop: &Shop, name: &str, wasm: &[u8], extra: Value) -> Value {
    let mut args = json!({ "name": name, "wasm": b64(wasm) });
    for (key, value) in extra.as_object().unwrap() {
        args[key] = value.clone();
    }
    shop.ok("plugin.install", args)
}

fn shop_with_customer(name: &str) -> (Shop, u64) {
    let shop = Shop::with_program(name, simple_program());
    let id = shop.customer("Петров Пётр", "+79161112233");
    (shop, id)
}

fn basket(id: u64) -> Value {
    json!({
        "customer": { "id": id },
        "lines": [
            { "sku": "TO-1", "name": "Замена масла", "kind": "labor", "category": "oil_change",
              "qty": "1", "unit_price": "2000" },
            { "sku": "ADD-1", "name": "Присадка", "kind": "goods", "category": "additives",
              "qty": "2", "unit_price": "500" }
        ],
        "at": AT
    })
}

fn commit_args(id: u64, order: &str) -> Value {
    let mut args = basket(id);
    args["order_id"] = json!(order);
    args
}

fn visits_of(shop: &Shop, id: u64) -> usize {
    shop.ok("visit.list", json!({ "customer": { "id": id } }))
        .as_array()
        .unwrap()
        .len()
}

/// Install `wasm` with `fail`, check the commit is refused with `code` and writes nothing,
/// then the same plugin with `skip`: the quote goes on and says so. The engine keeps
/// serving in between.
fn hostile(name: &str, wasm: &[u8], limits: Value, code: ErrorCode) {
    let (shop, id) = shop_with_customer(name);
    install(
        &shop,
        "hostile",
        wasm,
        json!({ "on_error": "fail", "limits": limits }),
    );
    let seq_before = shop.engine().applied_seq().unwrap();
    let err = shop.err("checkout.commit", commit_args(id, "Z-1"), code);
    assert_eq!(err.details["plugin"], "hostile", "{err:?}");
    assert_eq!(
        shop.engine().applied_seq().unwrap(),
        seq_before,
        "a refused commit wrote"
    );
    assert_eq!(visits_of(&shop, id), 0);
    shop.err("checkout.quote", basket(id), code);

    shop.ok(
        "plugin.install",
        json!({ "name": "hostile", "wasm": b64(wasm), "on_error": "skip", "limits": limits,
                "replace": true }),
    );
    let quote = shop.ok("checkout.quote", basket(id));
    assert_eq!(quote["plugins"][0]["status"], "skipped", "{quote}");
    assert_eq!(quote["plugins"][0]["error"]["code"], code.as_str());
    assert!(
        quote["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["kind"] == "plugin_skipped")
    );
    assert_eq!(quote["totals"]["discount"], "0.00");
    let receipt = shop.ok("checkout.commit", commit_args(id, "Z-1"));
    assert_eq!(receipt["plugins"][0]["status"], "skipped");
    assert_eq!(visits_of(&shop, id), 1);
    shop.assert_sound();
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    hostile(
        "loop",
        &checkout_body("(loop $l (br $l)) (i64.const 0)"),
        json!({}),
        ErrorCode::PluginFuelExhausted,
    );
}

#[test]
fn infinite_loop_with_huge_fuel_hits_the_deadline() {
    let started = std::time::Instant::now();
    hostile(
        "deadline",
        &checkout_body("(loop $l (br $l)) (i64.const 0)"),
        json!({ "fuel": 2_000_000_000u64, "time_ms": 20 }),
        ErrorCode::PluginTimeout,
    );
    // Four calls, each stopped by a 20 ms deadline (2 ms ticks).
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn memory_growth_bomb_hits_the_memory_limit() {
    hostile(
        "bomb",
        &checkout_body("(loop $l (drop (memory.grow (i32.const 16))) (br $l)) (i64.const 0)"),
        json!({ "memory_bytes": 1048576 }),
        ErrorCode::PluginMemoryLimit,
    );
}

#[test]
fn initial_memory_above_the_limit_is_a_memory_limit() {
    let wasm = wat::parse_str(
        r#"(module (memory (export "memory") 400)
  (func (export "pitstop_abi_version_1"))
  (func (export "pitstop_alloc") (param i32) (result i32) (i32.const 8))
  (func (export "pitstop_checkout") (param i32 i32) (result i64) (i64.const 0)))"#,
    )
    .unwrap();
    hostile("bigmem", &wasm, json!({}), ErrorCode::PluginMemoryLimit);
}

#[test]
fn unreachable_is_a_trap() {
    hostile(
        "unreachable",
        &checkout_body("unreachable"),
        json!({}),
        ErrorCode::PluginTrap,
    );
}

#[test]
fn stack_overflow_is_a_trap() {
    let wasm = module(
        1,
        1,
        r#"(func $deep (param i32) (result i32) (call $deep (i32.add (local.get 0) (i32.const 1))))
  (func (export "pitstop_checkout") (param i32 i32) (result i64)
    (i64.extend_i32_u (call $deep (i32.const 0))))"#,
    );
    hostile("stack", &wasm, json!({}), ErrorCode::PluginTrap);
}

#[test]
fn huge_output_is_refused() {
    hostile(
        "huge",
        &checkout_body("(i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 100000))"),
        json!({}),
        ErrorCode::PluginOutputTooLarge,
    );
}

#[test]
fn output_outside_memory_is_bad_output() {
    hostile(
        "outside",
        &checkout_body("(i64.or (i64.shl (i64.const 131000) (i64.const 32)) (i64.const 100))"),
        json!({}),
        ErrorCode::PluginBadOutput,
    );
}

#[test]
fn invalid_json_is_bad_output() {
    hostile(
        "json",
        &fixed("{\"effects\": [ this is not json"),
        json!({}),
        ErrorCode::PluginBadOutput,
    );
}

#[test]
fn discount_above_the_price_is_an_invalid_effect() {
    hostile(
        "greedy",
        &effects(json!([{ "type": "line_discount", "line": 0, "amount": "2000.01" }])),
        json!({}),
        ErrorCode::PluginInvalidEffect,
    );
}

#[test]
fn invalid_effects_are_refused_each_with_a_reason() {
    let cases = [
        json!({ "type": "line_discount", "line": 7, "percent": "10" }),
        json!({ "type": "line_discount", "line": 0, "percent": "101" }),
        json!({ "type": "line_discount", "line": 0, "percent": "10", "amount": "5" }),
        json!({ "type": "basket_discount", "amount": "3000.01" }),
        json!({ "type": "bonus_points", "points": "-5", "reason": "x" }),
        json!({ "type": "bonus_points", "points": "10001", "reason": "x" }),
        json!({ "type": "bonus_points", "points": "1.5", "reason": "x" }),
        json!({ "type": "accrual", "multiplier": "11" }),
        json!({ "type": "message", "to": "cashier", "text": "" }),
        json!({ "type": "message", "to": "cashier", "text": "hi", "colour": "red" }),
        json!({ "type": "teleport" }),
        json!({ "type": "reminder", "kind": "tyres", "due_on": "2020-01-01" }),
    ];
    let (shop, id) = shop_with_customer("invalid-effects");
    for (i, effect) in cases.iter().enumerate() {
        install(
            &shop,
            "bad",
            &effects(json!([effect])),
            json!({ "on_error": "fail", "replace": true }),
        );
        let err = shop.err("checkout.quote", basket(id), ErrorCode::PluginInvalidEffect);
        assert!(err.message.contains("effect 0"), "case {i}: {err:?}");
    }
}

/// Effect amounts follow the one decimal grammar: rust_decimal alone read `"1e3"` as
/// 1000 points.
#[test]
fn effect_amounts_outside_the_grammar_are_invalid_effects() {
    let (shop, id) = shop_with_customer("effect-grammar");
    for bad in [
        json!("1e3"),
        json!("1_0"),
        json!("+5"),
        json!(".5"),
        json!(" 5"),
        json!(5),
    ] {
        for effect in [
            json!({ "type": "bonus_points", "points": bad, "reason": "x" }),
            json!({ "type": "line_discount", "line": 0, "amount": bad }),
            json!({ "type": "accrual", "multiplier": bad }),
        ] {
            install(
                &shop,
                "loose",
                &effects(json!([effect])),
                json!({ "on_error": "fail", "replace": true }),
            );
            let err = shop.err("checkout.quote", basket(id), ErrorCode::PluginInvalidEffect);
            assert!(err.message.contains("effect 0"), "{effect}: {err:?}");
        }
    }
}

/// A repeated key in a plugin's output is refused, not read last-wins.
#[test]
fn a_repeated_key_in_a_plugin_output_is_bad_output() {
    for (name, output) in [
        (
            "dup-points",
            r#"{"effects":[{"type":"bonus_points","points":"5","points":"900","reason":"x"}]}"#,
        ),
        (
            "dup-effects",
            r#"{"effects":[],"effects":[{"type":"bonus_points","points":"900","reason":"x"}]}"#,
        ),
    ] {
        hostile(name, &fixed(output), json!({}), ErrorCode::PluginBadOutput);
    }
}

#[test]
fn guest_error_object_is_plugin_failed() {
    hostile(
        "guest-error",
        &fixed(r#"{"error": {"code": "bad_config", "message": "percent missing"}}"#),
        json!({}),
        ErrorCode::PluginFailed,
    );
}

#[test]
fn input_above_the_limit_is_too_large() {
    hostile(
        "input",
        &effects(json!([])),
        json!({ "input_bytes": 1024 }),
        ErrorCode::TooLarge,
    );
}

#[test]
fn modules_are_checked_at_install() {
    let (shop, _) = shop_with_customer("install-checks");
    let missing = module(1, 1, "");
    let err = shop.err(
        "plugin.install",
        json!({ "name": "missing", "wasm": b64(&missing) }),
        ErrorCode::PluginInvalid,
    );
    assert!(err.message.contains("pitstop_checkout"), "{err:?}");

    let v2 = module(
        2,
        1,
        r#"(func (export "pitstop_checkout") (param i32 i32) (result i64) (i64.const 0))"#,
    );
    let err = shop.err(
        "plugin.install",
        json!({ "name": "v2", "wasm": b64(&v2) }),
        ErrorCode::PluginAbiMismatch,
    );
    assert_eq!(err.details["found"], "2");

    let wasi = wat::parse_str(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "pitstop_abi_version_1"))
  (func (export "pitstop_alloc") (param i32) (result i32) (i32.const 8))
  (func (export "pitstop_checkout") (param i32 i32) (result i64) (i64.const 0)))"#,
    )
    .unwrap();
    let err = shop.err(
        "plugin.install",
        json!({ "name": "wasi", "wasm": b64(&wasi) }),
        ErrorCode::PluginForbiddenImport,
    );
    assert!(err.message.contains("WASI"), "{err:?}");

    let clock = wat::parse_str(
        r#"(module (import "env" "now" (func (result i64))) (memory (export "memory") 1)
  (func (export "pitstop_abi_version_1"))
  (func (export "pitstop_alloc") (param i32) (result i32) (i32.const 8))
  (func (export "pitstop_checkout") (param i32 i32) (result i64) (i64.const 0)))"#,
    )
    .unwrap();
    shop.err(
        "plugin.install",
        json!({ "name": "clock", "wasm": b64(&clock) }),
        ErrorCode::PluginForbiddenImport,
    );

    let wrong_sig = module(
        1,
        1,
        r#"(func (export "pitstop_checkout") (param i32) (result i32) (i32.const 0))"#,
    );
    shop.err(
        "plugin.install",
        json!({ "name": "sig", "wasm": b64(&wrong_sig) }),
        ErrorCode::PluginInvalid,
    );
    shop.err(
        "plugin.install",
        json!({ "name": "garbage", "wasm": b64(b"\0asm\x01\0\0\0garbage") }),
        ErrorCode::PluginInvalid,
    );
    shop.err(
        "plugin.install",
        json!({ "name": "Bad Name", "wasm": b64(&effects(json!([]))) }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "plugin.install",
        json!({ "name": "limits", "wasm": b64(&effects(json!([]))), "limits": { "fuel": 0 } }),
        ErrorCode::InvalidArgument,
    );
    assert_eq!(shop.ok("plugin.list", json!({})), json!([]));
}

#[test]
fn the_log_import_is_offered_and_bounded() {
    let (shop, id) = shop_with_customer("log");
    let output = r#"{"effects":[]}"#;
    let wasm = wat::parse_str(format!(
        r#"(module
  (import "pitstop" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{data}")
  (data (i32.const 200) "hello from the plugin")
  (func (export "pitstop_abi_version_1"))
  (func (export "pitstop_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "pitstop_checkout") (param i32 i32) (result i64)
    (local $i i32)
    (loop $l
      (call $log (i32.const 1) (i32.const 200) (i32.const 21))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100))))
    (call $log (i32.const 1) (i32.const 65000) (i32.const 100000))
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const {len}))))"#,
        data = wat_bytes(output.as_bytes()),
        len = output.len()
    ))
    .unwrap();
    install(&shop, "logger", &wasm, json!({}));
    let quote = shop.ok("checkout.quote", basket(id));
    let log = quote["plugins"][0]["log"].as_array().unwrap();
    assert_eq!(log.len(), 17, "{log:?}");
    assert_eq!(log[0], "info: hello from the plugin");
    assert!(log[16].as_str().unwrap().contains("85 more"));
}

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
    let runtime = pitstop_core::PluginRuntime::with_cache(Some(dir.clone())).unwrap();
    let wasm = effects(json!([]));
    let module = runtime.compile(&wasm).unwrap();
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1);
    let path = files[0].as_ref().unwrap().path();
    // A second runtime loads it; a damaged file is recompiled.
    let again = pitstop_core::PluginRuntime::with_cache(Some(dir.clone())).unwrap();
    assert_eq!(again.compile(&wasm).unwrap().sha256(), module.sha256());
    std::fs::write(&path, b"garbage").unwrap();
    let third = pitstop_core::PluginRuntime::with_cache(Some(dir.clone())).unwrap();
    let module = third.compile(&wasm).unwrap();
    let out = module
        .call(
            &third,
            pitstop_core::Hook::Checkout,
            b"{}",
            &pitstop_core::PluginLimits::default(),
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
