//! The demo shop's work to bring customers back, migrated with the history and used on
//! the first day: declined recommendations on recent work orders (closed when the work
//! was done later), tyre sets on the storage racks, answers to quality-control calls
//! (some of them complaints), and, on the day, a special order, a referral and an SMS
//! campaign. Everything goes through the ordinary operations; this module only decides,
//! from a seeded generator, what a real shop would have recorded.

use super::data::Rng;
use super::{moscow, ok};
use crate::Failure;
use chrono::{Duration, NaiveDate};
use pitstop_core::Engine;
use serde_json::{Value, json};

/// Days before the first day from which declined recommendations were kept.
pub const RECOMMENDATIONS_DAYS: i64 = 150;
/// Days before the first day from which quality-control calls were answered.
pub const FEEDBACK_DAYS: i64 = 75;
/// Most pages of `campaign.notify` (a bound on the loop).
const NOTIFY_PAGES_MAX: usize = 1_000;

/// A recommendation to record once its visit is imported.
pub struct PendingRecommendation {
    pub order_id: String,
    pub work: &'static str,
    pub urgency: &'static str,
    pub price: i64,
    pub note: Option<&'static str>,
    pub at: String,
    /// When the work was later done here (the recommendation is closed then).
    pub done_at: Option<String>,
}

/// What the old system had beyond visits, recorded after the visits are imported.
#[derive(Default)]
pub struct Pending {
    pub recommendations: Vec<PendingRecommendation>,
    /// `feedback.add` arguments.
    pub feedback: Vec<Value>,
    /// Sets checked in (and out) during the history.
    pub sets_checked_in: u64,
    pub sets_checked_out: u64,
}

/// Works advisors recommend that customers often put off: (work, urgency, price, note).
const OTHER_WORKS: &[(&str, &str, i64, Option<&str>)] = &[
    (
        "Замена задних амортизаторов",
        "soon",
        14_500,
        Some("подтекает левый"),
    ),
    ("Замена салонного фильтра", "planned", 1_100, None),
    ("Развал-схождение", "soon", 2_500, Some("увод вправо")),
    (
        "Замена щёток стеклоочистителя",
        "planned",
        1_900,
        Some("оставляют полосы"),
    ),
    ("Промывка инжектора", "planned", 3_200, None),
    (
        "Замена ремня генератора",
        "soon",
        2_800,
        Some("трещины на ремне"),
    ),
];

const PRAISE: &[&str] = &[
    "Всё быстро и аккуратно, спасибо мастеру",
    "Объяснили, что делали, показали старые детали",
    "Записали на удобное время, машина готова в срок",
];
const REVIEWS: &[&str] = &[
    "Нормально, но пришлось подождать",
    "Хорошо, цены чуть выше, чем ожидал",
    "Всё сделали, но не перезвонили, когда машина была готова",
];
const COMPLAINTS: &[&str] = &[
    "Ждал машину три часа сверх обещанного",
    "После замены масла следы на капоте, машину не протёрли",
    "Навязывали лишние работы, в смете было другое",
    "Стук спереди остался после ремонта подвески",
];

/// Whether the order holds this article.
pub fn has_sku(lines: &[Value], prefix: &str) -> bool {
    lines
        .iter()
        .any(|l| l["sku"].as_str().is_some_and(|s| s.starts_with(prefix)))
}

/// After a recent visit: the brake pads recommendation when the pads are wearing out and
/// the customer declined them (closed when a later visit changes them), now and then
/// another declined work. `brake_rec` is the car's open brake recommendation.
#[allow(clippy::too_many_arguments)]
pub fn recommend(
    rng: &mut Rng,
    pending: &mut Pending,
    brake_rec: &mut Option<usize>,
    lines: &[Value],
    order_id: &str,
    at: &str,
    brakes_worn: f64,
) {
    if has_sku(lines, "LAB-BRAKE-F") {
        if let Some(index) = brake_rec.take() {
            pending.recommendations[index].done_at = Some(at.to_string());
        }
        return;
    }
    if brake_rec.is_none() && brakes_worn >= 0.75 && rng.chance(0.7) {
        *brake_rec = Some(pending.recommendations.len());
        pending.recommendations.push(PendingRecommendation {
            order_id: order_id.to_string(),
            work: "Замена передних тормозных колодок",
            urgency: if brakes_worn >= 0.92 {
                "critical"
            } else {
                "soon"
            },
            price: rng.range(42, 65) * 100,
            note: Some(if brakes_worn >= 0.92 {
                "остаток накладок 2 мм"
            } else {
                "остаток накладок 4 мм"
            }),
            at: at.to_string(),
            done_at: None,
        });
    } else if rng.chance(0.05) {
        let (work, urgency, price, note) = *rng.pick(OTHER_WORKS);
        pending.recommendations.push(PendingRecommendation {
            order_id: order_id.to_string(),
            work,
            urgency,
            price,
            note,
            at: at.to_string(),
            done_at: None,
        });
    }
}

/// After a visit more than two days old: now and then the answer to the quality call.
pub fn feedback(rng: &mut Rng, pending: &mut Pending, order_id: &str, day: NaiveDate) {
    if !rng.chance(0.15) {
        return;
    }
    let n = pending.feedback.len();
    let (kind, rating, text) = if n % 6 == 2 {
        ("complaint", rng.range(1, 2), *rng.pick(COMPLAINTS))
    } else if rng.chance(0.4) {
        ("praise", 5, *rng.pick(PRAISE))
    } else {
        ("review", rng.range(3, 5), *rng.pick(REVIEWS))
    };
    pending.feedback.push(json!({
        "order_id": order_id, "kind": kind, "rating": rating, "text": text, "source": "call",
        "at": moscow(day + Duration::days(2), 12, rng.range(0, 59) as u32),
    }));
}

/// The tyre set taken off the car: `["Nokian Hakkapeliitta 10 205/55 R16 ×4", ...]`.
pub fn tyre_set(rng: &mut Rng, tyre: u32, winter: bool) -> Vec<String> {
    let size = match tyre {
        14 => "185/65 R14",
        15 => "195/65 R15",
        16 => "205/55 R16",
        17 => "225/45 R17",
        _ => "235/55 R18",
    };
    let brand = if winter {
        *rng.pick(&[
            "Nokian Hakkapeliitta 10",
            "Ikon Nordman 8",
            "Michelin X-Ice North 4",
            "Cordiant Snow Cross 2",
        ])
    } else {
        *rng.pick(&[
            "Michelin Primacy 4",
            "Nokian Hakka Blue 3",
            "Cordiant Comfort 2",
            "Continental PremiumContact 6",
        ])
    };
    let mut items = vec![format!("{brand} {size} ×4")];
    if rng.chance(0.4) {
        items.push("диски литые ×4".to_string());
    }
    items
}

/// A place on the racks.
pub fn rack(rng: &mut Rng) -> String {
    format!("Стеллаж {}, полка {}", rng.range(1, 12), rng.range(1, 4))
}

/// Check a set in (`winter` set or summer set) for a customer's car.
pub fn check_in(
    engine: &Engine,
    rng: &mut Rng,
    customer: u64,
    vehicle: u64,
    tyre: u32,
    winter: bool,
    at: &str,
) -> Result<u64, Failure> {
    let items = tyre_set(rng, tyre, winter);
    let reply = ok(
        engine,
        "storage.checkin",
        json!({ "customer": { "id": customer }, "vehicle": { "id": vehicle }, "items": items,
                "location": rack(rng), "season": if winter { "winter" } else { "summer" },
                "at": at }),
    )?;
    Ok(reply["id"].as_u64().unwrap_or_default())
}

/// Counts of what was recorded after the history.
pub struct Recorded {
    pub recommendations: u64,
    pub closed: u64,
    pub feedback: u64,
    pub complaints: u64,
}

/// Record the recommendations (closing those done later) and the feedback.
pub fn record(engine: &Engine, pending: &Pending) -> Result<Recorded, Failure> {
    let mut recorded = Recorded {
        recommendations: 0,
        closed: 0,
        feedback: 0,
        complaints: 0,
    };
    for rec in &pending.recommendations {
        let mut args = json!({ "order_id": rec.order_id, "work": rec.work,
            "urgency": rec.urgency, "price": format!("{}", rec.price), "at": rec.at });
        if let Some(note) = rec.note {
            args["note"] = json!(note);
        }
        let id = ok(engine, "recommendation.add", args)?["id"].clone();
        recorded.recommendations += 1;
        if let Some(done_at) = &rec.done_at {
            ok(
                engine,
                "recommendation.close",
                json!({ "id": id, "outcome": "done_here", "at": done_at }),
            )?;
            recorded.closed += 1;
        }
    }
    for args in &pending.feedback {
        ok(engine, "feedback.add", args.clone())?;
        recorded.feedback += 1;
        if args["kind"] == "complaint" {
            recorded.complaints += 1;
        }
    }
    Ok(recorded)
}

/// A special order for a customer's car that arrived yesterday, and one still on its way.
pub fn special_orders(
    engine: &Engine,
    today: NaiveDate,
    arrived_for: (u64, u64),
    ordered_for: Option<(u64, u64)>,
) -> Result<(), Failure> {
    let id = ok(
        engine,
        "order.create",
        json!({ "customer": { "id": arrived_for.0 }, "vehicle": { "id": arrived_for.1 },
                "part": "Колодки тормозные передние TRW GDB1550", "sku": "GDB1550", "qty": "1",
                "expected": (today - Duration::days(1)).to_string(),
                "at": moscow(today - Duration::days(6), 11, 20) }),
    )?["id"]
        .clone();
    ok(
        engine,
        "order.arrived",
        json!({ "id": id, "at": moscow(today - Duration::days(1), 16, 45) }),
    )?;
    if let Some((customer, vehicle)) = ordered_for {
        ok(
            engine,
            "order.create",
            json!({ "customer": { "id": customer }, "vehicle": { "id": vehicle },
                    "part": "Фара передняя левая (оригинал)", "qty": "1",
                    "expected": (today + Duration::days(4)).to_string(),
                    "note": "предоплата 50 %", "at": moscow(today - Duration::days(3), 14, 5) }),
        )?;
    }
    Ok(())
}

/// The SMS campaign to customers who have not come for four months: created and sent on
/// the morning of the first day. Returns the campaign id and who was told.
pub fn campaign(engine: &Engine, today: NaiveDate) -> Result<(u64, Vec<u64>), Failure> {
    let segment = "Не были 4 месяца";
    ok(
        engine,
        "segment.save",
        json!({ "name": segment, "filter": {
                    "last_visit_before": (today - Duration::days(120)).to_string(),
                    "consent": "sms" },
                "at": moscow(today, 8, 0) }),
    )?;
    let id = ok(
        engine,
        "campaign.create",
        json!({ "name": "Подготовка к зиме", "channel": "sms", "budget": "1500",
                "period": { "from": today.to_string(),
                            "to": (today + Duration::days(30)).to_string() },
                "segment": segment,
                "offer": { "text": "Бесплатная проверка перед зимой и 300 баллов на ТО",
                           "points": "300" },
                "at": moscow(today, 8, 5) }),
    )?["id"]
        .as_u64()
        .unwrap_or_default();
    let mut notified = Vec::new();
    let mut after = Value::Null;
    for _ in 0..NOTIFY_PAGES_MAX {
        let mut args = json!({ "campaign": id, "limit": 500, "at": moscow(today, 8, 10) });
        if !after.is_null() {
            args["after"] = after.clone();
        }
        let page = ok(engine, "campaign.notify", args)?;
        notified.extend(
            page["notified"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_u64),
        );
        after = page["next"].clone();
        if after.is_null() {
            break;
        }
    }
    Ok((id, notified))
}
