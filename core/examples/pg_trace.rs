use pitstop_core::{Engine, EngineOptions, Program};
use serde_json::json;
fn main() {
    let base = std::env::var("PITSTOP_TEST_POSTGRES").unwrap();
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    admin.batch_execute("DROP SCHEMA IF EXISTS tr CASCADE; CREATE SCHEMA tr").unwrap();
    let store = format!("{base} options='-c search_path=tr'");
    let engine = Engine::open(&store, EngineOptions::default()).unwrap();
    engine.execute("program.set", json!({ "program": Program::example() })).unwrap();
    let r = engine.execute("customer.register", json!({"full_name": "Иван Петров", "phone": "+79165550001"})).unwrap();
    let id = r["customer"]["id"].as_u64().unwrap();
    let lines = json!([{ "sku": "LAB-TO-1", "name": "ТО-1", "kind": "labor", "category": "maintenance", "qty": "1", "unit_price": "1800.00" },
        { "sku": "OF-W712", "name": "Фильтр", "kind": "part", "category": "filters", "qty": "1", "unit_price": "690.00" }]);
    engine.execute("checkout.commit", json!({"customer": {"id": id}, "lines": lines, "order_id": "o-1"})).unwrap();
    unsafe { std::env::set_var("PG_TRACE", "1") };
    eprintln!("=== second checkout");
    engine.execute("checkout.commit", json!({"customer": {"id": id}, "lines": lines, "order_id": "o-2"})).unwrap();
    eprintln!("=== quote");
    engine.execute("checkout.quote", json!({"customer": {"id": id}, "lines": lines, "redeem": "max"})).unwrap();
}
