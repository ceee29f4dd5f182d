//! Plugin fixtures shared by `plugins.rs` (the sandbox against hostile modules) and
//! `plugin_effects.rs` (effects, their combination, persistence): WAT modules built
//! around the plugin ABI, and a shop with one customer and a basket.

use super::{Shop, simple_program};
use base64::Engine as _;
use serde_json::{Value, json};

pub const AT: &str = "2025-03-10T10:00:00Z";

/// Escape bytes for a WAT string literal.
pub fn wat_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// The plumbing every fixture shares: memory, bump allocator, ABI marker.
pub fn module(abi: u32, memory_pages: u32, body: &str) -> Vec<u8> {
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
pub fn fixed(output: &str) -> Vec<u8> {
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
pub fn checkout_body(body: &str) -> Vec<u8> {
    module(
        1,
        2,
        &format!(
            r#"(func (export "pitstop_checkout") (param $ptr i32) (param $len i32) (result i64)
    {body})"#
        ),
    )
}

pub fn effects(effects: Value) -> Vec<u8> {
    fixed(&json!({ "effects": effects }).to_string())
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn install(shop: &Shop, name: &str, wasm: &[u8], extra: Value) -> Value {
    let mut args = json!({ "name": name, "wasm": b64(wasm) });
    for (key, value) in extra.as_object().unwrap() {
        args[key] = value.clone();
    }
    shop.ok("plugin.install", args)
}

pub fn shop_with_customer(name: &str) -> (Shop, u64) {
    let shop = Shop::with_program(name, simple_program());
    let id = shop.customer("Петров Пётр", "+79161112233");
    (shop, id)
}

pub fn basket(id: u64) -> Value {
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

pub fn commit_args(id: u64, order: &str) -> Value {
    let mut args = basket(id);
    args["order_id"] = json!(order);
    args
}

pub fn visits_of(shop: &Shop, id: u64) -> usize {
    shop.ok("visit.list", json!({ "customer": { "id": id } }))
        .as_array()
        .unwrap()
        .len()
}
