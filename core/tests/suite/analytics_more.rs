//! The owner's reports on the hand-built history, continued: tiers and their moves,
//! birthdays (year end, 29 February), points by month with what expires soon, and
//! services with their real repeat interval. Answers come from the plain model in
//! `common/analytics_history.rs`.

use crate::common;

use chrono::{Datelike, NaiveDate};
use common::analytics_history::{History, TODAY, build, d, money};
use common::dec;
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

const FROM: &str = "2024-07-01";
const TO: &str = "2025-12-31";

/// Tier moves by (month, tier before, tier after, reason).
type Moves<'a> = BTreeMap<(String, Option<&'a str>, Option<&'a str>, &'a str), u64>;

/// The tier a spend earns: base, silver from 20 000, gold from 60 000.
fn tier_of(spend: Decimal) -> &'static str {
    if spend >= money("60000") {
        "gold"
    } else if spend >= money("20000") {
        "silver"
    } else {
        "base"
    }
}

/// A person's spend in the 365 days ending on `day`, refunds made by then.
fn window_spend(h: &History, who: usize, day: NaiveDate) -> Decimal {
    h.visits
        .iter()
        .filter(|v| v.who == who && v.date <= day && v.date > day - chrono::Duration::days(365))
        .map(|v| v.net_on(day))
        .sum()
}

fn level(tier: Option<&str>) -> i32 {
    match tier {
        None => -1,
        Some("base") => 0,
        Some("silver") => 1,
        Some(_) => 2,
    }
}

#[test]
fn tiers_now_and_moves_by_reason() {
    let h = build("an-tiers");
    // Replay the history: a checkout re-evaluates at its day, so does a refund; the
    // daily job on TODAY reviews everyone whose old visits left the window.
    let mut events: Vec<(NaiveDate, u8, usize)> = Vec::new();
    for (i, v) in h.visits.iter().enumerate() {
        events.push((v.date, 0, i));
        if let Some(r) = v.refunded_on {
            events.push((r, 1, i));
        }
    }
    events.sort();
    let mut tier: Vec<Option<&str>> = vec![None; h.people.len()];
    // (month, from, to, reason) → moves
    let mut moves: Moves<'_> = BTreeMap::new();
    let mut step =
        |who: usize, day: NaiveDate, reason: &'static str, tier: &mut Vec<Option<&'static str>>| {
            let after = Some(tier_of(window_spend(&h, who, day)));
            if after != tier[who] {
                *moves
                    .entry((day.format("%Y-%m").to_string(), tier[who], after, reason))
                    .or_default() += 1;
                tier[who] = after;
            }
        };
    for (day, kind, i) in events {
        let who = h.visits[i].who;
        step(
            who,
            day,
            if kind == 0 { "visit" } else { "refund" },
            &mut tier,
        );
    }
    for who in 0..h.people.len() {
        if tier[who].is_some() {
            step(who, d(TODAY), "review", &mut tier);
        }
    }
    let r = h.report("report.tiers", json!({ "from": FROM, "to": TO }));
    let got: Moves<'_> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                (
                    x["month"].as_str().unwrap().to_string(),
                    x["from_tier"].as_str(),
                    x["to_tier"].as_str(),
                    x["reason"].as_str().unwrap(),
                ),
                x["moves"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, moves, "{r}");
    let (mut up, mut down) = (0, 0);
    for ((_, from, to, _), n) in &moves {
        if level(*to) > level(*from) {
            up += n;
        } else {
            down += n;
        }
    }
    assert_eq!(
        (r["up"].as_u64(), r["down"].as_u64()),
        (Some(up), Some(down))
    );
    for row in r["rows"].as_array().unwrap() {
        let expected = if level(row["to_tier"].as_str()) > level(row["from_tier"].as_str()) {
            "up"
        } else {
            "down"
        };
        assert_eq!(row["direction"], expected, "{row}");
    }
    // The refund of Кузнецова's second visit took her from silver back to base.
    assert!(
        moves.contains_key(&("2024-09".into(), Some("silver"), Some("base"), "refund")),
        "{moves:?}"
    );
    // Петрова's spring 2024 visits left the window: the job moved her down on TODAY.
    assert!(
        moves.contains_key(&("2025-12".into(), Some("gold"), Some("silver"), "review")),
        "{moves:?}"
    );

    // Customers per tier now; Морозова, who never came, has none.
    let mut now: BTreeMap<Option<&str>, u64> = BTreeMap::new();
    for t in &tier {
        *now.entry(*t).or_default() += 1;
    }
    let counts: BTreeMap<Option<&str>, u64> = r["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["tier"].as_str(), x["customers"].as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(counts, now);
    assert_eq!(r["tiers"][0]["tier"], json!(null));
    assert_eq!(r["tiers"][3]["name"], "Золото");
    assert!(r["note"].as_str().unwrap().contains("refunds"));

    // A shorter period keeps only its moves.
    let q = h.report(
        "report.tiers",
        json!({ "from": "2024-09-01", "to": "2024-09-30" }),
    );
    let sept: u64 = moves
        .iter()
        .filter(|(k, _)| k.0 == "2024-09")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        q["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["moves"].as_u64().unwrap())
            .sum::<u64>(),
        sept
    );
}

#[test]
fn birthdays_across_the_year_end_and_on_29_february() {
    let h = build("an-birthdays");
    let expected = |from: &str, to: &str| -> Vec<(NaiveDate, &'static str, i32)> {
        let (from, to) = (d(from), d(to));
        let mut out = Vec::new();
        for p in &h.people {
            let Some(b) = p.birthday.map(d) else { continue };
            for year in from.year()..=to.year() {
                let day = NaiveDate::from_ymd_opt(year, b.month(), b.day())
                    .unwrap_or_else(|| NaiveDate::from_ymd_opt(year, 2, 28).unwrap());
                if day >= from && day <= to {
                    out.push((day, p.name, year - b.year()));
                }
            }
        }
        // Date order, then id (the people are registered in order), except that in a
        // year without 29 February those born on it come after the others of the 28th.
        out.sort_by_key(|(day, name, _)| {
            let p = h.people.iter().position(|p| p.name == *name).unwrap();
            let born_29 = h.people[p].birthday.is_some_and(|b| b.ends_with("02-29"));
            (*day, born_29, p)
        });
        out
    };
    for (from, to) in [
        ("2025-12-20", "2026-01-10"),
        ("2025-02-25", "2025-03-05"),
        ("2028-02-25", "2028-03-01"),
        ("2025-01-01", "2025-12-31"),
    ] {
        let r = h.report("report.birthdays", json!({ "from": from, "to": to }));
        let got: Vec<(NaiveDate, &str, i32)> = r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                let name = h.people[h.who(&x["customer"])].name;
                (
                    d(x["date"].as_str().unwrap()),
                    name,
                    x["age"].as_i64().unwrap() as i32,
                )
            })
            .collect();
        assert_eq!(got, expected(from, to), "{from}..{to}");
        assert_eq!(r["customers"], json!(got.len()));
    }
    // Consent per channel as given at registration.
    let r = h.report(
        "report.birthdays",
        json!({ "from": "2025-12-20", "to": "2026-01-10" }),
    );
    for row in r["rows"].as_array().unwrap() {
        let p = &h.people[h.who(&row["customer"])];
        for channel in ["sms", "email", "call", "messenger", "push"] {
            assert_eq!(
                row["consents"][channel],
                json!(p.consents.contains(&channel)),
                "{} {channel}",
                p.name
            );
        }
    }
    let reachable = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| {
            x["consents"]
                .as_object()
                .unwrap()
                .values()
                .any(|v| v == true)
        })
        .count();
    assert_eq!(r["reachable"], json!(reachable));
    // top bounds the rows, not the count.
    let two = h.report(
        "report.birthdays",
        json!({ "from": "2025-12-20", "to": "2026-01-10", "top": 2 }),
    );
    assert_eq!(two["rows"].as_array().unwrap().len(), 2);
    assert_eq!(two["customers"], r["customers"]);
}

#[test]
fn points_by_month_liability_and_what_expires_soon() {
    let h = build("an-points");
    let today = d(TODAY);
    // Month → (issued, expired, adjusted, change).
    let mut months: BTreeMap<String, (Decimal, Decimal, Decimal)> = BTreeMap::new();
    let key = |day: NaiveDate| day.format("%Y-%m").to_string();
    for v in &h.visits {
        months.entry(key(v.date)).or_default().0 += v.accrual();
        if let Some(r) = v.refunded_on {
            months.entry(key(r)).or_default().0 -= v.reversed();
        }
    }
    for (_, day, points) in &h.adjustments {
        months.entry(key(*day)).or_default().2 += *points;
    }
    // A lot whose last day has passed burns when the ledger next settles the account:
    // at the customer's next checkout, refund or adjustment after that day, or by the
    // daily job on TODAY; the burn is dated then.
    let mut touches: Vec<(usize, NaiveDate)> = Vec::new();
    for v in &h.visits {
        touches.push((v.who, v.date));
        if let Some(r) = v.refunded_on {
            touches.push((v.who, r));
        }
    }
    touches.extend(h.adjustments.iter().map(|(who, day, _)| (*who, *day)));
    let mut burned = Decimal::ZERO;
    for v in h.visits.iter().filter(|v| v.expires_on() < today) {
        let left = v.accrual() - v.reversed();
        let settled = touches
            .iter()
            .filter(|(who, day)| *who == v.who && *day > v.expires_on())
            .map(|(_, day)| *day)
            .min()
            .unwrap_or(today);
        months.entry(key(settled)).or_default().1 += left;
        burned += left;
    }
    let r = h.report("report.points_monthly", json!({ "from": FROM, "to": TO }));
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 18, "every month of the period");
    let mut outstanding = Decimal::ZERO;
    for row in rows {
        let m = row["month"].as_str().unwrap();
        let (issued, expired, adjusted) = months.get(m).copied().unwrap_or_default();
        outstanding += issued - expired + adjusted;
        assert_eq!(dec(&row["issued"]), issued, "{m}");
        assert_eq!(dec(&row["redeemed"]), Decimal::ZERO, "{m}");
        assert_eq!(dec(&row["expired"]), expired, "{m}");
        assert_eq!(dec(&row["adjusted"]), adjusted, "{m}");
        assert_eq!(dec(&row["outstanding"]), outstanding, "{m}");
        assert_eq!(
            dec(&row["liability"]),
            outstanding,
            "{m}: a point is worth 1 ₽"
        );
    }
    assert!(burned > Decimal::ZERO);
    assert_eq!(dec(&r["opening"]), Decimal::ZERO);
    // The ledger agrees: outstanding at the end is the sum of balances.
    let total = h.shop.ok("report.points", json!({}));
    assert_eq!(dec(&total["outstanding"]), outstanding);

    // A later start: the opening is everything before it.
    let late = h.report(
        "report.points_monthly",
        json!({ "from": "2025-06-01", "to": TO }),
    );
    let before: Decimal = months
        .iter()
        .filter(|(m, _)| m.as_str() < "2025-06")
        .map(|(_, x)| x.0 - x.1 + x.2)
        .sum();
    assert_eq!(dec(&late["opening"]), before);

    // What expires within 30/60/90 days of TODAY: what is left on lots whose last day
    // falls then (the adjustment's lot too, when it does).
    let within = |days: i64| -> Decimal {
        h.visits
            .iter()
            .filter(|v| v.expires_on() >= today && (v.expires_on() - today).num_days() < days)
            .map(|v| v.accrual() - v.reversed())
            .sum()
    };
    let e = &r["expiring"];
    assert_eq!(e["from"], TODAY);
    assert_eq!(dec(&e["days_30"]), within(30), "{e}");
    assert_eq!(dec(&e["days_60"]), within(60), "{e}");
    assert_eq!(dec(&e["days_90"]), within(90), "{e}");
    let people: BTreeSet<usize> = h
        .visits
        .iter()
        .filter(|v| {
            v.expires_on() >= today
                && (v.expires_on() - today).num_days() < 90
                && v.accrual() > v.reversed()
        })
        .map(|v| v.who)
        .collect();
    assert_eq!(e["customers_90"], json!(people.len()));
    assert!(
        within(30) > Decimal::ZERO,
        "Фёдоров's lot of 31.12.2024 lasts until today"
    );
}

#[test]
fn services_sold_repeats_and_real_interval_against_the_rule() {
    let h = build("an-services");
    for (from, to, branch) in [
        (FROM, TO, None),
        ("2025-01-01", "2025-06-30", None),
        (FROM, TO, Some("north")),
    ] {
        let mut args = json!({ "from": from, "to": to, "top": 50 });
        if let Some(b) = branch {
            args["branch"] = json!(b);
        }
        let r = h.report("report.services", args);
        // service → (lines, revenue, people, days per person, intervals)
        struct S {
            lines: u64,
            revenue: Decimal,
            people: BTreeSet<usize>,
            days: BTreeMap<usize, BTreeSet<NaiveDate>>,
        }
        let mut want: BTreeMap<String, S> = BTreeMap::new();
        for v in h.in_period(from, to, branch) {
            for l in v.lines.iter().filter(|l| !l.refunded) {
                let service = if l.sku.starts_with("OIL-") {
                    "oil_change".to_string()
                } else {
                    l.sku.to_string()
                };
                let s = want.entry(service).or_insert_with(|| S {
                    lines: 0,
                    revenue: Decimal::ZERO,
                    people: BTreeSet::new(),
                    days: BTreeMap::new(),
                });
                s.lines += 1;
                s.revenue += l.price;
                s.people.insert(v.who);
                s.days.entry(v.who).or_default().insert(v.date);
            }
        }
        let rows = r["rows"].as_array().unwrap();
        assert_eq!(rows.len(), want.len(), "{from} {branch:?}: {r}");
        assert_eq!(r["services"], json!(want.len()));
        for row in rows {
            let s = &want[row["service"].as_str().unwrap()];
            assert_eq!(row["lines"], json!(s.lines), "{row}");
            assert_eq!(dec(&row["revenue"]), s.revenue);
            assert_eq!(row["customers"], json!(s.people.len()));
            let mut gaps: Vec<i64> = Vec::new();
            let mut repeaters = 0;
            for days in s.days.values() {
                let days: Vec<&NaiveDate> = days.iter().collect();
                if days.len() > 1 {
                    repeaters += 1;
                }
                gaps.extend(days.windows(2).map(|p| (*p[1] - *p[0]).num_days()));
            }
            gaps.sort();
            assert_eq!(row["repeats"], json!(gaps.len()), "{row}");
            assert_eq!(row["repeat_customers"], json!(repeaters));
            let n = gaps.len();
            let median = match n {
                0 => None,
                _ if n % 2 == 1 => Some(gaps[n / 2]),
                _ => Some((gaps[n / 2 - 1] + gaps[n / 2]) / 2),
            };
            assert_eq!(row["median_interval_days"], json!(median), "{row}");
        }
        // Rows by revenue.
        let revenues: Vec<Decimal> = rows.iter().map(|x| dec(&x["revenue"])).collect();
        assert!(revenues.windows(2).all(|p| p[0] >= p[1]), "{revenues:?}");
    }
    // The oil change is the programme's rule: its 12-month interval stands next to the
    // real one (Иванов every 28 days, Кузнецова every 45 or 90).
    let r = h.report("report.services", json!({ "from": FROM, "to": TO }));
    let oil = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service"] == "oil_change")
        .unwrap();
    assert_eq!(oil["rule"], true);
    assert_eq!(oil["name"], "Замена масла");
    assert_eq!(oil["reminder_months"], 12);
    assert_eq!(oil["median_interval_days"], 28);
    let pads = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service"] == "BRK-PAD")
        .unwrap();
    assert_eq!(
        (pads["rule"].as_bool(), pads["reminder_months"].is_null()),
        (Some(false), true)
    );
    // Соколов's returned diagnostics line is not a sale.
    let top1 = h.report(
        "report.services",
        json!({ "from": FROM, "to": TO, "top": 1 }),
    );
    assert_eq!(top1["rows"].as_array().unwrap().len(), 1);
    assert_eq!(top1["rows"][0]["service"], r["rows"][0]["service"]);
}

#[test]
fn tier_moves_of_an_import_are_recorded_with_its_date_once() {
    let shop = common::Shop::with_program("an-tier-import", common::analytics_history::program());
    let id = shop.ok(
        "customer.register",
        json!({ "full_name": "Лебедев Олег Иванович", "phone": "+79160000099", "external_id": "1C-42",
                "import": true, "at": "2025-05-01T09:00:00Z" }),
    )["customer"]["id"]
        .as_u64()
        .unwrap();
    // 25 000 over the last year makes silver (from 20 000); imported visits carry no
    // tier of their own, so the move is the import's.
    let visits = json!([
        { "order_id": "1С-1", "customer": { "external_id": "1C-42" }, "date": "2025-01-15",
          "lines": [{ "sku": "BRK-PAD", "name": "Колодки", "kind": "part", "qty": "1", "unit_price": "15000" }] },
        { "order_id": "1С-2", "customer": { "external_id": "1C-42" }, "date": "2025-04-20",
          "lines": [{ "sku": "DIAG", "name": "Диагностика", "kind": "labor", "qty": "1", "unit_price": "10000" }] },
    ]);
    let import = |visits: &serde_json::Value| {
        shop.ok(
            "visit.import",
            json!({ "visits": visits, "at": "2025-06-01T09:00:00Z" }),
        )
    };
    assert_eq!(import(&visits)["tiers_changed"], 1);
    let args = json!({ "from": "2025-01-01", "to": "2025-12-31", "at": "2025-06-01T09:00:00Z" });
    let r = shop.ok("report.tiers", args.clone());
    assert_eq!(
        r["rows"],
        json!([{ "month": "2025-06", "from_tier": null, "to_tier": "silver", "direction": "up",
                 "reason": "import", "moves": 1 }]),
        "dated the import's day, not the visits'"
    );
    // Running the same file again imports nothing and records no second move.
    assert_eq!(import(&visits)["imported"], 0);
    assert_eq!(shop.ok("report.tiers", args)["rows"], r["rows"]);
    let card = shop.ok("customer.get", json!({ "customer": { "id": id } }));
    assert_eq!(card["customer"]["tier"], "silver");
}
