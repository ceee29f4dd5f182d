//! A small service station's eighteen months (July 2024 – December 2025), written by
//! hand, and a plain model of it: the owner's reports are checked against answers the
//! tests compute from this model by brute force, never from the core's own figures.
//!
//! Twelve customers: a regular every four weeks, a quarterly customer, one who came
//! once, one who stopped coming in April 2025 after a refund, two who tie in February
//! 2025, visits on both sides of a New Year, a branch "north", a partial refund, one
//! customer who never came, Feb 29 and year-end birthdays, sources written in
//! different cases and left blank.

use super::Shop;
use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// The day the reports are asked on (the daily job runs on it first).
pub const TODAY: &str = "2025-12-31";

pub fn d(text: &str) -> NaiveDate {
    text.parse().expect("date")
}

pub fn money(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

/// The programme: 10% on everything, 12 months expiry, three tiers by spend over 365
/// days, one reminder rule (oil change every 12 months).
pub fn program() -> Value {
    json!({
        "name": "Автосервис на Лесной",
        "locale": "ru-RU",
        "timezone": "Europe/Moscow",
        "accrual": { "rate_percent": "10" },
        "redemption": { "cap_percent": "50" },
        "expiry_months": 12,
        "pending_days": 0,
        "tiers": { "window_days": 365, "levels": [
            { "code": "base", "name": "Базовый" },
            { "code": "silver", "name": "Серебро", "min_spend": "20000" },
            { "code": "gold", "name": "Золото", "min_spend": "60000" }
        ] },
        "reminders": {
            "services": [
                { "kind": "oil_change", "name": "Замена масла", "months": 12, "km": 10000,
                  "patterns": ["OIL-*"] }
            ],
            "lapsed": { "factor": "1.5" }
        }
    })
}

#[derive(Clone, Debug)]
pub struct Person {
    pub name: &'static str,
    pub phone: &'static str,
    pub birthday: Option<&'static str>,
    pub source: Option<&'static str>,
    pub consents: &'static [&'static str],
}

#[derive(Clone, Debug)]
pub struct Line {
    pub sku: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub price: Decimal,
    /// Refunded (whole line) on the visit's refund date.
    pub refunded: bool,
}

#[derive(Clone, Debug)]
pub struct Visit {
    /// Index into the people.
    pub who: usize,
    pub date: NaiveDate,
    pub order: String,
    pub branch: Option<&'static str>,
    pub lines: Vec<Line>,
    /// When the refunded lines were refunded.
    pub refunded_on: Option<NaiveDate>,
}

impl Visit {
    /// Net kept after refunds (no discounts, no points paid in this history).
    pub fn net(&self) -> Decimal {
        self.lines
            .iter()
            .filter(|l| !l.refunded)
            .map(|l| l.price)
            .sum()
    }
    /// Net as of a day (refunds after it not yet made).
    pub fn net_on(&self, day: NaiveDate) -> Decimal {
        match self.refunded_on {
            Some(r) if r <= day => self.net(),
            _ => self.lines.iter().map(|l| l.price).sum(),
        }
    }
    /// Whether it still counts as a visit.
    pub fn counted(&self) -> bool {
        self.lines.iter().any(|l| !l.refunded)
    }
    /// Points earned (10%), and those a refund took back.
    pub fn accrual(&self) -> Decimal {
        self.lines.iter().map(|l| l.price / Decimal::TEN).sum()
    }
    pub fn reversed(&self) -> Decimal {
        self.lines
            .iter()
            .filter(|l| l.refunded)
            .map(|l| l.price / Decimal::TEN)
            .sum()
    }
    /// Last day its points may be used.
    pub fn expires_on(&self) -> NaiveDate {
        self.date.checked_add_months(Months::new(12)).expect("date")
    }
}

pub struct History {
    pub shop: Shop,
    pub people: Vec<Person>,
    /// Customer ids by person index.
    pub ids: Vec<u64>,
    pub visits: Vec<Visit>,
    /// Points adjustments: (person, date, points).
    pub adjustments: Vec<(usize, NaiveDate, Decimal)>,
}

const OIL: (&str, &str, &str) = ("OIL-5W30", "Замена масла 5W-30", "labor");
const DIAG: (&str, &str, &str) = ("DIAG", "Диагностика ходовой", "labor");
const PADS: (&str, &str, &str) = ("BRK-PAD", "Колодки тормозные передние", "part");
const TYRE: (&str, &str, &str) = ("TYRE-SW", "Шиномонтаж R16", "labor");

fn line((sku, name, kind): (&'static str, &'static str, &'static str), price: &str) -> Line {
    Line {
        sku,
        name,
        kind,
        price: money(price),
        refunded: false,
    }
}

pub fn people() -> Vec<Person> {
    let p = |name, phone, birthday, source, consents| Person {
        name,
        phone,
        birthday,
        source,
        consents,
    };
    vec![
        p(
            "Иванов Иван Петрович",
            "+79160000001",
            Some("1980-12-25"),
            Some("Яндекс.Карты"),
            &["sms", "email"],
        ),
        p(
            "Петрова Анна Сергеевна",
            "+79160000002",
            Some("1992-01-05"),
            Some("по рекомендации"),
            &["sms"],
        ),
        p(
            "Сидоров Алексей Викторович",
            "+79160000003",
            Some("1976-02-29"),
            Some("яндекс.карты"),
            &[],
        ),
        p(
            "Кузнецова Мария Андреевна",
            "+79160000004",
            Some("1988-03-10"),
            Some("Авито"),
            &["call"],
        ),
        p(
            "Смирнов Дмитрий Олегович",
            "+79160000005",
            Some("1990-07-07"),
            None,
            &["sms"],
        ),
        p(
            "Попов Сергей Николаевич",
            "+79160000006",
            Some("1985-12-31"),
            Some("  "),
            &["sms", "messenger"],
        ),
        p(
            "Волкова Елена Игоревна",
            "+79160000007",
            Some("1995-01-01"),
            Some("Авито"),
            &["email"],
        ),
        p(
            "Соколов Андрей Павлович",
            "+79160000008",
            None,
            Some("по рекомендации"),
            &["sms"],
        ),
        p(
            "Михайлов Павел Юрьевич",
            "+79160000009",
            Some("1970-06-15"),
            Some("вывеска"),
            &[],
        ),
        p(
            "Новикова Ольга Дмитриевна",
            "+79160000010",
            Some("2000-02-28"),
            None,
            &["push"],
        ),
        p(
            "Фёдоров Николай Ильич",
            "+79160000011",
            Some("1983-11-11"),
            Some("вывеска"),
            &["sms"],
        ),
        p(
            "Морозова Татьяна Александровна",
            "+79160000012",
            Some("1979-01-10"),
            None,
            &["sms", "call"],
        ),
    ]
}

/// The visits, in date order.
pub fn visits() -> Vec<Visit> {
    let mut out: Vec<Visit> = Vec::new();
    let mut add = |who: usize, date: &str, branch: Option<&'static str>, lines: Vec<Line>| {
        out.push(Visit {
            who,
            date: d(date),
            order: String::new(),
            branch,
            lines,
            refunded_on: None,
        });
    };
    let every = |start: &str, step: i64, count: i64| -> Vec<String> {
        (0..count)
            .map(|k| (d(start) + chrono::Duration::days(step * k)).to_string())
            .collect()
    };
    // 0 Иванов: every four weeks, oil and diagnostics.
    for day in every("2024-07-05", 28, 19) {
        add(0, &day, None, vec![line(OIL, "4000"), line(DIAG, "1000")]);
    }
    // 1 Петрова: quarterly pads.
    for day in every("2024-07-10", 91, 6) {
        add(1, &day, None, vec![line(PADS, "12000")]);
    }
    // 2 Сидоров: once.
    add(2, "2025-03-15", None, vec![line(DIAG, "3000")]);
    // 3 Кузнецова: every 45 days until April 2025 (her second visit refunded).
    for day in every("2024-08-01", 45, 7) {
        add(3, &day, None, vec![line(OIL, "6000"), line(PADS, "4000")]);
    }
    // 4 Смирнов: every 60 days in 2025, at the northern branch.
    for day in every("2025-01-20", 60, 6) {
        add(4, &day, Some("north"), vec![line(TYRE, "3000")]);
    }
    // 5 Попов: around the New Year; the second visit refunded.
    add(5, "2024-12-28", None, vec![line(OIL, "5000")]);
    add(5, "2025-01-03", None, vec![line(DIAG, "2000")]);
    add(5, "2025-06-01", None, vec![line(TYRE, "3000")]);
    // 6 Волкова and 7 Соколов: two visits of 2 500 each in February 2025 (a tie).
    add(6, "2025-02-10", None, vec![line(DIAG, "2500")]);
    add(6, "2025-02-20", None, vec![line(DIAG, "2500")]);
    add(7, "2025-02-11", None, vec![line(DIAG, "2500")]);
    add(7, "2025-02-21", None, vec![line(DIAG, "2500")]);
    // Соколов's pads and a diagnostics line he returned.
    add(
        7,
        "2025-08-15",
        None,
        vec![line(PADS, "8000"), line(DIAG, "2000")],
    );
    // 8 Михайлов: every 120 days, at the northern branch.
    for day in every("2024-07-20", 120, 5) {
        add(8, &day, Some("north"), vec![line(OIL, "4500")]);
    }
    // 9 Новикова: new on the period's last days.
    add(9, "2025-12-30", None, vec![line(OIL, "4000")]);
    // 10 Фёдоров: both sides of the New Year, and in July.
    add(10, "2024-12-31", None, vec![line(TYRE, "2000")]);
    add(10, "2025-01-01", None, vec![line(TYRE, "2000")]);
    add(10, "2025-07-01", None, vec![line(TYRE, "2000")]);
    // 11 Морозова never came.
    out.sort_by_key(|v| (v.date, v.who));
    for (n, v) in out.iter_mut().enumerate() {
        v.order = format!("ЗН-{:04}", n + 1);
    }
    // Refunds: Кузнецова's second visit whole, Попов's second whole, Соколов's diagnostics.
    let refund = |out: &mut Vec<Visit>, who: usize, date: &str, on: &str, lines: &[usize]| {
        let v = out
            .iter_mut()
            .find(|v| v.who == who && v.date == d(date))
            .expect("visit to refund");
        v.refunded_on = Some(d(on));
        for &i in lines {
            v.lines[i].refunded = true;
        }
    };
    refund(&mut out, 3, "2024-09-15", "2024-09-20", &[0, 1]);
    refund(&mut out, 5, "2025-01-03", "2025-01-05", &[0]);
    refund(&mut out, 7, "2025-08-15", "2025-08-20", &[1]);
    out
}

fn at(day: NaiveDate) -> String {
    format!("{day}T09:00:00Z")
}

/// The store with the history written through the operations (checkouts, refunds, an
/// adjustment, the daily job on [`TODAY`]).
pub fn build(name: &str) -> History {
    let shop = Shop::with_program(name, program());
    let people = people();
    let mut ids = Vec::new();
    for p in &people {
        let consents: serde_json::Map<String, Value> = p
            .consents
            .iter()
            .map(|c| (c.to_string(), json!(true)))
            .collect();
        let mut args = json!({ "full_name": p.name, "phone": p.phone,
                               "consents": consents, "at": "2024-06-01T09:00:00Z" });
        if let Some(b) = p.birthday {
            args["birthday"] = json!(b);
        }
        if let Some(s) = p.source {
            args["source"] = json!(s);
        }
        let reply = shop.ok("customer.register", args);
        ids.push(reply["customer"]["id"].as_u64().expect("id"));
    }
    let visits = visits();
    let adjustments = vec![(0usize, d("2025-05-10"), money("300"))];
    // Events in time order: checkouts, then refunds and the adjustment on their days.
    let mut events: Vec<(NaiveDate, u8, usize)> = Vec::new();
    for (i, v) in visits.iter().enumerate() {
        events.push((v.date, 0, i));
        if let Some(r) = v.refunded_on {
            events.push((r, 1, i));
        }
    }
    for (i, (_, day, _)) in adjustments.iter().enumerate() {
        events.push((*day, 2, i));
    }
    events.sort();
    for (day, kind, i) in events {
        match kind {
            0 => {
                let v = &visits[i];
                let lines: Vec<Value> = v
                    .lines
                    .iter()
                    .map(|l| {
                        json!({ "sku": l.sku, "name": l.name, "kind": l.kind,
                                     "qty": "1", "unit_price": l.price.to_string() })
                    })
                    .collect();
                let mut args = json!({ "customer": { "id": ids[v.who] }, "order_id": v.order,
                                       "lines": lines, "at": at(day) });
                if let Some(b) = v.branch {
                    args["branch"] = json!(b);
                }
                shop.ok("checkout.commit", args);
            }
            1 => {
                let v = &visits[i];
                let mut args = json!({ "order_id": v.order, "at": at(day) });
                if !v.lines.iter().all(|l| l.refunded) {
                    let lines: Vec<Value> = v
                        .lines
                        .iter()
                        .enumerate()
                        .filter(|(_, l)| l.refunded)
                        .map(|(n, _)| json!({ "line": n }))
                        .collect();
                    args["lines"] = json!(lines);
                }
                shop.ok("checkout.refund", args);
            }
            _ => {
                let (who, _, points) = adjustments[i];
                shop.ok(
                    "points.adjust",
                    json!({ "customer": { "id": ids[who] }, "points": points.to_string(),
                            "reason": "компенсация за ожидание", "operator": "Администратор",
                            "at": at(day) }),
                );
            }
        }
    }
    shop.ok("jobs.daily", json!({ "date": TODAY, "at": at(d(TODAY)) }));
    History {
        shop,
        people,
        ids,
        visits,
        adjustments,
    }
}

impl History {
    /// A report as of [`TODAY`].
    pub fn report(&self, op: &str, mut args: Value) -> Value {
        args["at"] = json!(at(d(TODAY)));
        self.shop.ok(op, args)
    }

    /// Visits of a period (optionally one branch's).
    pub fn in_period(&self, from: &str, to: &str, branch: Option<&str>) -> Vec<&Visit> {
        self.visits
            .iter()
            .filter(|v| v.date >= d(from) && v.date <= d(to))
            .filter(|v| branch.is_none() || v.branch == branch)
            .collect()
    }

    /// A customer's first visit (any, refunded or not: the card keeps it).
    pub fn first_visit(&self, who: usize) -> Option<NaiveDate> {
        self.visits
            .iter()
            .filter(|v| v.who == who)
            .map(|v| v.date)
            .min()
    }

    /// Person index of a customer id.
    pub fn who(&self, id: &Value) -> usize {
        let id = id.as_u64().expect("customer id");
        self.ids
            .iter()
            .position(|x| *x == id)
            .expect("known customer")
    }
}
