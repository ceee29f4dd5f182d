//! Plugin benchmark: the SPEC.md targets for promotions, measured in one run.
//!
//! ```text
//! make plugins && cargo run --release -p pitstop-core --example plugin_bench [-- --quick]
//! ```
//!
//! a. one plugin call on a fresh instance (pooling allocator, `InstancePre`) with a ~2 KB
//!    JSON input: the `combined-sale` plugin as shipped in `plugins/` (wasm32);
//! b. the same rule as native Rust: the very same crate compiled for the host, called
//!    on the same input bytes (JSON in, JSON out), so the ratio is the sandbox's cost;
//! c. their ratio (target ≤ 3×) and the absolute median (target ≤ 15 µs);
//! d. `checkout.quote` per second on one thread with no plugin and with two plugins
//!    (`combined-sale` and `birthday-week`, both producing effects).
//!
//! Rounds interleave the compared things so a noisy neighbour hits both alike; the
//! median round is reported. Besides the targets the table shows one call step by step
//! (timed inside the runtime through `call_with_steps`), one call right after a quote
//! (cold caches) and the plugins' share of a quote. `--profile call|native|quote|quote-none`
//! loops one phase for 5 s and prints nothing else, for `perf record -g`.
//!
//! Where the time goes (issue 15, measured on 2 shared cores at load 5-7; figures move
//! ±10% with the neighbours, the proportions do not):
//!
//! - One call, 18.7 µs: new store 0.2, instance from the pool and exports bound 1.3,
//!   alloc + copy the input 0.1, the guest's run 14.7-15.6, output checked and copied
//!   0.07, store dropped and the pool slot reset (pagemap scan + zeroing the dirty pages)
//!   1.8. The host side is 3.4-3.7 µs; the rest is the guest parsing 2.5 KB of JSON with
//!   serde_json (the rule itself is ~1%). Native, the same parse is 41% string scanning
//!   and UTF-8 checks.
//! - Metering, measured with a copy of the runtime's engine config run on the same module
//!   (not kept: it needs wasmtime outside `runtime.rs`): the guest's run is 16.3 µs with
//!   fuel and epoch, 12.6 without fuel, 14.8 without the epoch deadline, 10.2 with
//!   neither. Fuel (the instruction limit) costs ~30%, the epoch deadline (the wall-time
//!   limit) ~10%; both are sandbox guarantees and stay. Without them the guest is 1.7x
//!   native, which is serde_json on wasm32 (4-byte words for its scans, no SIMD).
//! - Tried, no gain: the plugins built with `+simd128` (same), `opt-level = "s"` (guest
//!   run +30%), `"z"` (+130%); `memory_may_move(false)` on the engine (same: with a
//!   4 GiB reservation the memory base is already fixed).
//! - Cut: the SDK checks the input's UTF-8 once and parses it as text (serde_json's
//!   `from_slice` checked every string again): guest run 17.8 -> 15.2 µs. The host reads
//!   the output in one pass into typed effects (no serde `Content` tree per effect).
//!   Main against this branch, 3 interleaved full runs, medians: call 21.08 -> 18.27 µs,
//!   native 6.98 -> 5.56 µs (the same SDK fix), ratio 3.01 -> 3.29x, pair of modules
//!   41.3 -> 36.2 µs, quotes/s with two plugins 6,770 -> 8,558 (no plugins 19,465 ->
//!   23,943 in the same runs: the machine, not this change), plugins' share of a quote
//!   ~96 -> ~78 µs.
//! - In a quote the call costs more than in a tight loop: one call right after a quote
//!   is ~30 µs against 18.7, as the quote's own work evicts the guest's ~150 KB of code
//!   and its data from the caches. perf over `--profile quote` (two plugins, host frames
//!   only; guest frames do not unwind): guest code 36% of a quote, the runtime's host
//!   side 11%, building the input 5%, reading the output 4%, the outcomes into the
//!   result 3%, the rest of the hook 3%; the quote without its plugins 41%.

use pitstop_core::plugin_runtime::{
    CallStep, CallSteps, Hook, Limits as PluginLimits, PluginModule, PluginRuntime,
};
use pitstop_core::{Engine, EngineOptions};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

fn wasm_dir() -> PathBuf {
    std::env::var_os("PITSTOP_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/wasm32-unknown-unknown/release")
        })
}

fn read_wasm(file: &str) -> Vec<u8> {
    let path = wasm_dir().join(file);
    std::fs::read(&path).unwrap_or_else(|err| {
        panic!(
            "{}: {err}; build the plugins first with `make plugins`",
            path.display()
        )
    })
}

fn config(dir: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins")
        .join(dir)
        .join("config.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("plugin config")).unwrap()
}

/// A realistic ~2 KB checkout input, as the host builds it.
fn input_2kb() -> Vec<u8> {
    let line = |index: u32, sku: &str, name: &str, kind: &str, category: &str, price: &str| {
        json!({ "index": index, "sku": sku, "name": name, "kind": kind, "category": category,
                "qty": "1", "unit_price": price, "gross": price, "host_discount": "0.00",
                "promo": false, "discount": "0.00", "discount_source": null, "net": price })
    };
    let input = json!({
        "abi": 1, "hook": "checkout", "plugin": "combined-sale",
        "config": config("combined-sale"),
        "date": "2025-03-10", "weekday": 1, "at": "2025-03-10T10:00:00Z", "currency": "RUB",
        "points": { "value": "1", "scale": 0 },
        "customer": { "id": 1042, "name": "Смирнов Алексей Петрович", "kind": "private",
            "gender": "male", "tier": "silver", "tags": ["oil-club", "newsletter"], "vip": false,
            "agreement": null, "company": null, "source": "referral", "birthday": "1984-05-17",
            "days_to_birthday": 68, "days_since_birthday": 297, "balance": "1250",
            "available": "1250", "visits": 7, "first_visit": false, "days_since_last_visit": 92,
            "total_spend": "48250.00", "registered_on": "2023-04-02" },
        "vehicle": { "id": 77, "make": "Skoda", "model": "Octavia", "year": 2017,
            "age_years": 8, "mileage_km": 105200, "usage": "personal" },
        "basket": { "lines": [
            line(0, "TO-2", "ТО-2: замена масла (работа)", "labor", "oil_change", "4500.00"),
            line(1, "OIL-5W30", "Масло 5W-30, 4,5 л", "goods", "oil", "4005.00"),
            line(2, "FLT-01", "Фильтр масляный MANN", "part", "filters", "650.00"),
            line(3, "ADD-ENG", "Присадка в масло", "goods", "additives", "890.00"),
            line(4, "FLT-AIR", "Фильтр воздушный", "part", "filters", "1200.00"),
            line(5, "WIPER", "Щётки стеклоочистителя", "goods", "accessories", "1500.00")
        ], "gross": "12745.00", "net": "12745.00" }
    });
    serde_json::to_vec(&input).unwrap()
}

/// Median µs per call of `f` over `calls` calls, in `rounds` interleaved rounds.
fn time_calls(calls: usize, f: &mut dyn FnMut()) -> f64 {
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        f();
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    median(&mut samples)
}

/// Times the steps of a call (see [`CallStep`]): µs per step, in order.
struct StepTimer {
    last: Instant,
    spent: [f64; STEPS],
}

const STEPS: usize = 6;

impl CallSteps for StepTimer {
    fn ended(&mut self, step: CallStep) {
        let now = Instant::now();
        let index = match step {
            CallStep::Store => 0,
            CallStep::Instantiate => 1,
            CallStep::Input => 2,
            CallStep::Run => 3,
            CallStep::Output => 4,
            CallStep::Release => 5,
        };
        self.spent[index] = (now - self.last).as_secs_f64() * 1e6;
        self.last = now;
    }
}

/// Median µs of each step of a call, over `calls` calls.
fn step_medians(
    module: &PluginModule,
    runtime: &PluginRuntime,
    input: &[u8],
    limits: &PluginLimits,
    calls: usize,
) -> [f64; STEPS] {
    let mut samples: Vec<Vec<f64>> = (0..STEPS).map(|_| Vec::with_capacity(calls)).collect();
    for _ in 0..calls {
        let mut timer = StepTimer {
            last: Instant::now(),
            spent: [0.0; STEPS],
        };
        let out = module
            .call_with_steps(runtime, Hook::Checkout, input, limits, &mut timer)
            .expect("call");
        std::hint::black_box(out);
        for (step, spent) in timer.spent.iter().enumerate() {
            samples[step].push(*spent);
        }
    }
    let mut medians = [0.0; STEPS];
    for (median_of, samples) in medians.iter_mut().zip(samples.iter_mut()) {
        *median_of = median(samples);
    }
    medians
}

fn quote_rate(engine: &Engine, args: &Value, time: Duration) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < time {
        engine
            .execute("checkout.quote", args.clone())
            .expect("quote");
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // `--profile call|quote`: loop one phase for a profiler (`perf record -g`), no table.
    let profile = std::env::args().skip_while(|a| a != "--profile").nth(1);
    let (rounds, calls, quote_time) = if quick {
        (3, 500, Duration::from_millis(150))
    } else {
        (7, 4_000, Duration::from_millis(700))
    };

    // a–c. One call: sandboxed vs native, same rule, same bytes.
    let runtime = PluginRuntime::new().expect("runtime");
    let module = runtime
        .compile(&read_wasm("combined_sale.wasm"))
        .expect("compile");
    let input = input_2kb();
    let limits = PluginLimits::default();
    let sandboxed_out = module
        .call(&runtime, Hook::Checkout, &input, &limits)
        .expect("call");
    let native_out = pitstop_plugin::run_bytes(&input, combined_sale::checkout);
    assert_eq!(
        sandboxed_out.output, native_out,
        "the sandboxed and native rule must agree"
    );
    let effects: Value = serde_json::from_slice(&native_out).unwrap();
    assert!(effects["effects"].as_array().is_some_and(|e| e.len() >= 3));
    if profile.as_deref() == Some("native") {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            std::hint::black_box(pitstop_plugin::run_bytes(
                std::hint::black_box(&input),
                combined_sale::checkout,
            ));
        }
        return;
    }
    if profile.as_deref() == Some("call") {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            let out = module.call(&runtime, Hook::Checkout, &input, &limits);
            std::hint::black_box(out.expect("call"));
        }
        return;
    }
    let mut sandboxed_rounds = Vec::new();
    let mut native_rounds = Vec::new();
    let call_rounds = if profile.is_some() { 1 } else { rounds };
    for _ in 0..call_rounds {
        sandboxed_rounds.push(time_calls(calls, &mut || {
            let out = module
                .call(&runtime, Hook::Checkout, &input, &limits)
                .expect("call");
            std::hint::black_box(out);
        }));
        native_rounds.push(time_calls(calls, &mut || {
            std::hint::black_box(pitstop_plugin::run_bytes(
                std::hint::black_box(&input),
                combined_sale::checkout,
            ));
        }));
    }
    // The same, alternating with a second module (what a checkout with two plugins does).
    let second = runtime
        .compile(&read_wasm("birthday_week.wasm"))
        .expect("compile");
    let mut alternating_rounds = Vec::new();
    for _ in 0..call_rounds {
        alternating_rounds.push(time_calls(calls, &mut || {
            let a = module.call(&runtime, Hook::Checkout, &input, &limits);
            let b = second.call(&runtime, Hook::Checkout, &input, &limits);
            std::hint::black_box((a.expect("call"), b.expect("call")));
        }));
    }
    // The steps of one call, timed inside the runtime (`call_with_steps`).
    let mut step_rounds: Vec<Vec<f64>> = vec![Vec::new(); STEPS];
    for _ in 0..call_rounds {
        let medians = step_medians(&module, &runtime, &input, &limits, calls);
        for (rounds_of, median_of) in step_rounds.iter_mut().zip(medians) {
            rounds_of.push(median_of);
        }
    }
    let steps: Vec<f64> = step_rounds.iter_mut().map(|r| median(r)).collect();
    let alternating = median(&mut alternating_rounds);
    let sandboxed = median(&mut sandboxed_rounds);
    let native = median(&mut native_rounds);
    let ratio = sandboxed / native;

    // d. checkout.quote per second, none vs two plugins, on the same customer.
    let dir = std::env::temp_dir().join(format!("pitstop-plugin-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let engine = Engine::open(&dir, EngineOptions::default()).expect("open");
    engine
        .execute(
            "program.set",
            json!({ "program": { "name": "bench", "accrual": { "rate_percent": "5" },
                                 "expiry_months": 12 } }),
        )
        .unwrap();
    let customer = engine
        .execute(
            "customer.register",
            json!({ "full_name": "Смирнов Алексей", "phone": "+79165551234",
                    "birthday": "1984-03-12", "at": "2025-01-10T10:00:00Z" }),
        )
        .unwrap()["customer"]["id"]
        .as_u64()
        .unwrap();
    let lines = json!([
        { "sku": "TO-2", "name": "ТО-2", "kind": "labor", "category": "oil_change", "qty": "1", "unit_price": "4500" },
        { "sku": "OIL", "name": "Масло", "kind": "goods", "category": "oil", "qty": "4.5", "unit_price": "890" },
        { "sku": "FLT", "name": "Фильтр", "kind": "part", "category": "filters", "qty": "1", "unit_price": "650" },
        { "sku": "ADD", "name": "Присадка", "kind": "goods", "category": "additives", "qty": "1", "unit_price": "890" },
        { "sku": "WIP", "name": "Щётки", "kind": "goods", "category": "accessories", "qty": "1", "unit_price": "1500" }
    ]);
    for i in 0..3 {
        engine
            .execute(
                "checkout.commit",
                json!({ "customer": { "id": customer }, "order_id": format!("H-{i}"),
                        "lines": lines, "at": format!("2025-02-0{}T10:00:00Z", i + 1) }),
            )
            .unwrap();
    }
    let args = json!({ "customer": { "id": customer }, "lines": lines, "redeem": "max",
                       "at": "2025-03-10T10:00:00Z" });
    let install = |name: &str, file: &str, dir: &str, enabled: bool| {
        engine
            .execute(
                "plugin.install",
                json!({ "name": name, "path": wasm_dir().join(file).display().to_string(),
                        "config": config(dir), "enabled": enabled }),
            )
            .expect("install");
    };
    install(
        "combined-sale",
        "combined_sale.wasm",
        "combined-sale",
        false,
    );
    install(
        "birthday-week",
        "birthday_week.wasm",
        "birthday-week",
        false,
    );
    let set = |enabled: bool| {
        for name in ["combined-sale", "birthday-week"] {
            let op = if enabled {
                "plugin.enable"
            } else {
                "plugin.disable"
            };
            engine.execute(op, json!({ "name": name })).unwrap();
        }
    };
    set(true);
    let with = engine.execute("checkout.quote", args.clone()).unwrap();
    let applied: usize = with["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["effects"].as_array().unwrap().len())
        .sum();
    assert!(applied >= 4, "both plugins give effects: {with}");
    if let Some(which @ ("quote" | "quote-none")) = profile.as_deref() {
        set(which == "quote");
        let rate = quote_rate(&engine, &args, Duration::from_secs(5));
        println!("{which}: {rate:.0} quotes/s");
        return;
    }
    let mut none_rounds = Vec::new();
    let mut two_rounds = Vec::new();
    for _ in 0..rounds {
        set(false);
        none_rounds.push(quote_rate(&engine, &args, quote_time));
        set(true);
        two_rounds.push(quote_rate(&engine, &args, quote_time));
    }
    // One call right after a quote without plugins: what a call costs when the quote's
    // own work has pushed the guest's code and data out of the caches.
    set(false);
    let mut cold_rounds = Vec::new();
    for _ in 0..rounds {
        let mut samples = Vec::with_capacity(calls / 4);
        for _ in 0..calls / 4 {
            std::hint::black_box(
                engine
                    .execute("checkout.quote", args.clone())
                    .expect("quote"),
            );
            let start = Instant::now();
            let out = module.call(&runtime, Hook::Checkout, &input, &limits);
            samples.push(start.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(out.expect("call"));
        }
        cold_rounds.push(median(&mut samples));
    }
    let cold = median(&mut cold_rounds);
    let none = median(&mut none_rounds);
    let two = median(&mut two_rounds);
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);

    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!("Pitstop plugin benchmark ({rounds} rounds, median round)");
    println!(
        "  input: {} bytes of JSON; output: {} bytes",
        input.len(),
        native_out.len()
    );
    println!(
        "  a. plugin call, fresh instance (wasm)   {sandboxed:8.2} µs   target ≤ 15 µs: {}",
        verdict(sandboxed <= 15.0)
    );
    println!("  b. same rule, native Rust              {native:8.2} µs");
    println!(
        "  c. ratio sandboxed / native            {ratio:8.2} ×    target ≤ 3×: {}",
        verdict(ratio <= 3.0)
    );
    println!("     two modules alternating, per pair  {alternating:8.2} µs");
    println!("     one call right after a quote       {cold:8.2} µs   (caches cold)");
    let names = [
        "new store (limiter, fuel, deadline)",
        "instance from the pool, exports bound",
        "pitstop_alloc + copy the input in",
        "guest run (parse input, rule, encode)",
        "check + copy the output out",
        "drop the store (pool slot reset)",
    ];
    println!("     one call, step by step (median µs):");
    for (name, spent) in names.iter().zip(&steps) {
        println!("       {name:38} {spent:6.2}");
    }
    let host: f64 = steps.iter().sum::<f64>() - steps[3];
    println!(
        "       {:38} {host:6.2}",
        "host side (all but the guest run)"
    );
    println!("  d. checkout.quote, no plugins          {none:8.0} /s");
    println!(
        "     checkout.quote, two plugins         {two:8.0} /s   target ≥ 20000/s: {}",
        verdict(two >= 20_000.0)
    );
    let plugin_part = 1e6 / two - 1e6 / none;
    println!(
        "     plugins' share of a quote          {plugin_part:8.2} µs (the two calls alone: {alternating:.2} µs)"
    );
}
