//! The Pitstop side's fixtures: customers with cars and back-dated history, and the
//! checkout and quote requests every measurement sends.

use super::*;

/// One customer the bench commits for.
#[derive(Clone)]
pub(crate) struct Client {
    pub(crate) id: u64,
    pub(crate) vehicle: u64,
}

pub(crate) fn commit_lines(n: usize) -> Value {
    // Labour, a part and goods, with prices that move a little from visit to visit.
    let labour = 1800 + (n % 7) * 150;
    json!([
        { "sku": "LAB-TO-1", "name": "ТО-1: замена масла и фильтра", "kind": "labor",
          "category": "maintenance", "qty": "1", "unit_price": format!("{labour}.00") },
        { "sku": "OF-W712", "name": "Фильтр масляный MANN W 712/95", "kind": "part",
          "category": "filters", "qty": "1", "unit_price": "690.00" },
        { "sku": "OIL-5W30-1L", "name": "Масло моторное 5W-30, л", "kind": "goods",
          "category": "oil", "qty": "4.5", "unit_price": "890.00" }
    ])
}

pub(crate) fn quote_lines() -> Value {
    json!([
        { "sku": "LAB-BRAKE-F", "name": "Замена передних тормозных колодок", "kind": "labor",
          "category": "brakes", "qty": "1", "unit_price": "2400.00" },
        { "sku": "LAB-DIAG", "name": "Диагностика ходовой части", "kind": "labor",
          "category": "diagnostics", "qty": "1", "unit_price": "1200.00" },
        { "sku": "BP-TRW-GDB", "name": "Колодки тормозные TRW GDB", "kind": "part",
          "category": "brakes", "qty": "1", "unit_price": "3650.00" },
        { "sku": "BF-DOT4", "name": "Тормозная жидкость DOT-4, 1 л", "kind": "goods",
          "category": "fluids", "qty": "1", "unit_price": "640.00", "discount": "40.00" },
        { "sku": "WW-20", "name": "Омыватель стекла зимний, 4 л", "kind": "goods",
          "category": "fluids", "qty": "2", "unit_price": "390.00", "promo": true }
    ])
}

pub(crate) fn commit_args(
    client: &Client,
    order_id: String,
    n: usize,
    at: Option<String>,
) -> Value {
    let mut args = json!({
        "customer": { "id": client.id },
        "vehicle": { "id": client.vehicle },
        "lines": commit_lines(n),
        "order_id": order_id,
    });
    if n % 4 == 3 {
        args["redeem"] = json!("max");
    }
    if let Some(at) = at {
        args["at"] = json!(at);
    }
    args
}

/// An instant `days` (and some minutes) before now, RFC 3339.
pub(crate) fn days_ago(days: i64, minutes: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days) + chrono::Duration::minutes(minutes))
        .to_rfc3339()
}

/// Register `count` customers (phone prefix `group`), each with a car and `history`
/// back-dated visits spread over the last `span_days` days.
pub(crate) fn register_clients(
    engine: &Engine,
    group: usize,
    count: usize,
    history: usize,
    span_days: i64,
) -> Vec<Client> {
    let mut clients = Vec::with_capacity(count);
    for i in 0..count {
        let registered = days_ago(span_days + 30 + (i % 30) as i64, 0);
        let reply = ok(
            engine,
            "customer.register",
            json!({
                "full_name": format!("Клиент {group}-{i}"),
                "phone": format!("+7916{group:03}{i:04}"),
                "consents": { "sms": true },
                "at": registered,
            }),
        );
        let id = reply["customer"]["id"].as_u64().expect("customer id");
        let number = group * 10_000 + i;
        let plate = format!("А{:03}ВС{}", number % 1000, 100 + number / 1000);
        let vehicle = ok(
            engine,
            "vehicle.add",
            json!({ "customer": { "id": id }, "plate": plate, "make": "Lada",
                    "model": "Vesta", "year": 2019, "at": registered }),
        );
        let client = Client {
            id,
            vehicle: vehicle["id"].as_u64().expect("vehicle id"),
        };
        for h in 0..history {
            // Oldest first, the last one at least a day ago.
            let back = span_days - span_days * h as i64 / history as i64;
            let at = days_ago(back.max(1), (i % 600) as i64);
            ok(
                engine,
                "checkout.commit",
                commit_args(&client, format!("H-{group}-{i}-{h}"), h, Some(at)),
            );
        }
        clients.push(client);
    }
    clients
}
