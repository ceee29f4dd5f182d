//! Times `customer.duplicates` on a generated base (default 20 000 customers with cars,
//! a known number of planted duplicates among them) and one `customer.merge`, and
//! checks the planted duplicates are all found.
//!
//! `cargo run --release -p pitstop-core --example dedup_bench [-- CUSTOMERS]`

use pitstop_core::{DurabilityOption, Engine, EngineOptions, Program};
use serde_json::json;
use std::time::Instant;

const SURNAMES: [&str; 12] = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
];
const NAMES: [&str; 10] = [
    "Иван",
    "Сергей",
    "Андрей",
    "Дмитрий",
    "Алексей",
    "Максим",
    "Олег",
    "Павел",
    "Юрий",
    "Артём",
];
const LETTERS: [char; 12] = ['А', 'В', 'Е', 'К', 'М', 'Н', 'О', 'Р', 'С', 'Т', 'У', 'Х'];

/// A plate of its own for every n below 144 000 (`А123ВА77`).
fn plate(n: usize) -> String {
    format!(
        "{}{:03}{}{}77",
        LETTERS[(n / 1000) % 12],
        n % 1000,
        LETTERS[(n / 12_000) % 12],
        LETTERS[0]
    )
}

fn main() {
    let customers: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let dir = std::env::temp_dir().join(format!("pitstop-dedup-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let engine = Engine::open(
        &dir,
        EngineOptions {
            durability: DurabilityOption::Import,
            ..EngineOptions::default()
        },
    )
    .expect("open");
    engine
        .execute("program.set", json!({ "program": Program::example() }))
        .expect("program");
    let started = Instant::now();
    let mut planted = 0;
    for n in 0..customers {
        let surname = SURNAMES[n % 12];
        let name = NAMES[(n / 12) % 10];
        let phone = format!("+7916{:07}", n);
        let birthday = format!("19{:02}-{:02}-{:02}", 50 + n % 50, 1 + n % 12, 1 + n % 28);
        let args = json!({ "full_name": format!("{surname} {name} {n}"), "phone": phone,
            "birthday": birthday, "import": true });
        // Every 100th customer has a duplicate: its phone written in the notes, the
        // name with ё/е and without the number.
        if n % 100 == 99 {
            let twin = json!({ "full_name": format!("{} {name} {n}", surname.replace('ё', "е")),
                "notes": format!("тел. 8(916){:07}", n), "import": true });
            engine.execute("customer.register", twin).expect("twin");
            planted += 1;
        }
        // Every 100th (offset 50): registered twice with the same name and birthday.
        if n % 100 == 50 {
            engine
                .execute("customer.register", json!({ "full_name": format!("{} {} {n}", surname.to_lowercase(), name), "birthday": birthday, "import": true }))
                .expect("namesake");
            planted += 1;
        }
        let reply = engine.execute("customer.register", args).expect("register");
        let id = reply["customer"]["id"].as_u64().unwrap();
        engine
            .execute(
                "vehicle.add",
                json!({ "customer": { "id": id }, "plate": plate(n), "make": "Lada", "model": "Vesta" }),
            )
            .expect("car");
    }
    engine.close().expect("close");
    let load = started.elapsed();
    let engine = Engine::open(&dir, EngineOptions::default()).expect("reopen");
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let mut after: Option<String> = None;
        found = 0;
        loop {
            let mut args = json!({ "limit": 1000 });
            if let Some(after) = &after {
                args["after"] = json!(after);
            }
            let page = engine
                .execute("customer.duplicates", args)
                .expect("duplicates");
            found += page["candidates"].as_array().unwrap().len();
            match page["next"].as_str() {
                Some(next) => after = Some(next.to_string()),
                None => break,
            }
        }
        times.push(t.elapsed());
    }
    times.sort();
    let page = engine
        .execute("customer.duplicates", json!({ "limit": 1 }))
        .expect("duplicates");
    let pair = &page["candidates"][0];
    let t = Instant::now();
    let merged = engine
        .execute(
            "customer.merge",
            json!({ "keep": { "id": pair["a"] }, "merge": { "id": pair["b"] } }),
        )
        .expect("merge");
    let merge_time = t.elapsed();
    println!(
        "customers {} (+{planted} planted duplicates), load {:.1} s",
        customers + planted,
        load.as_secs_f64()
    );
    println!(
        "customer.duplicates, every page: median {:.0} ms of 3 ({} pairs found, {planted} planted)",
        times[1].as_secs_f64() * 1000.0,
        found
    );
    println!(
        "customer.merge of the best pair (durable commit): {:.1} ms, moved {} cards, {} points",
        merge_time.as_secs_f64() * 1000.0,
        merged["cards"],
        merged["points"]["points"]
    );
    assert!(found >= planted, "planted {planted}, found {found}");
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
}
