//! Plugins through the real runtime against hostile modules: WAT fixtures that loop,
//! trap, grow memory, overflow the stack or lie in their output, each refused with its
//! own error code while the engine serves the next checkout and a refused commit writes
//! nothing; modules checked at install; the bounded log import. Effects, their
//! combination and persistence are in `plugin_effects.rs`.

use crate::common;

use common::plugin_fixtures::*;
use pitstop_core::ErrorCode;
use serde_json::{Value, json};

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
