//! The report aggregates (day cells): random histories — checkouts at two branches and
//! none, whole and partial refunds, back-dated imports, expiry, adjustments, a merge —
//! leave cells that `store.check` finds equal to a recount from history, and
//! `report.activity` and `report.points` answer what the visits and accounts say,
//! recomputed here from `visit.export` and the customers, `report.referrals`' totals what
//! its rows and the referees' cards say; a rebuild changes no answer.

use crate::common;

use chrono::{Datelike, Duration, NaiveDate};
use common::{Shop, dec, labor, part};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

const BRANCHES: [Option<&str>; 3] = [None, Some("Центр"), Some("Север")];

#[derive(Debug, Clone)]
enum Event {
    /// A checkout: customer, labour price, pay with points, branch.
    Visit(usize, u32, bool, usize),
    /// Refund the customer's last checkout whole, or only its labour line.
    Refund(usize, bool),
    /// A historical visit `days` before today, at a branch.
    Import(usize, u16, usize),
    /// A manual adjustment.
    Adjust(usize, i32),
    /// Days pass; the daily job runs (expiry).
    Wait(u16),
    /// The third customer merged into the second (once).
    Merge,
    /// Feedback on the customer's last checkout: complaint or review, rating, employee.
    Feedback(usize, bool, Option<u8>, usize),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        6 => (0usize..3, 5u32..300, any::<bool>(), 0usize..3)
            .prop_map(|(c, p, r, b)| Event::Visit(c, p * 100, r, b)),
        2 => (0usize..3, any::<bool>()).prop_map(|(c, whole)| Event::Refund(c, whole)),
        2 => (0usize..3, 0u16..500, 0usize..3).prop_map(|(c, d, b)| Event::Import(c, d, b)),
        1 => (0usize..3, -200i32..400).prop_map(|(c, p)| Event::Adjust(c, p)),
        3 => (1u16..90).prop_map(Event::Wait),
        1 => Just(Event::Merge),
        2 => (0usize..3, any::<bool>(), prop::option::of(1u8..=5), 0usize..3)
            .prop_map(|(c, complaint, rating, e)| Event::Feedback(c, complaint, rating, e)),
    ]
}

fn instant(day: NaiveDate) -> String {
    format!("{day}T10:00:00Z")
}

struct Played {
    start: NaiveDate,
    end: NaiveDate,
    /// Feedback given: date, branch of its visit, complaint, employee.
    feedback: Vec<(NaiveDate, Option<&'static str>, bool, Option<String>)>,
}

fn play(shop: &Shop, ids: &[u64; 3], events: &[Event]) -> Played {
    let start = NaiveDate::from_ymd_opt(2025, 1, 20).unwrap();
    let mut day = start;
    let mut orders: Vec<Vec<(String, Option<&'static str>)>> = vec![Vec::new(); 3];
    let mut feedback = Vec::new();
    let mut earliest = start;
    let mut merged = false;
    for (n, event) in events.iter().enumerate() {
        let at = instant(day);
        match event {
            Event::Visit(c, price, redeem, branch) => {
                let order = format!("O-{n}");
                let mut args = json!({ "customer": { "id": ids[*c] }, "order_id": order,
                    "lines": [labor(&price.to_string()), part("1500")], "at": at });
                if *redeem {
                    args["redeem"] = json!("max");
                }
                if let Some(branch) = BRANCHES[*branch] {
                    args["branch"] = json!(branch);
                }
                shop.ok("checkout.commit", args);
                orders[*c].push((order, BRANCHES[*branch]));
            }
            Event::Refund(c, whole) => {
                if let Some((order, _)) = orders[*c].pop() {
                    let mut args = json!({ "order_id": order, "at": at });
                    if !whole {
                        args["lines"] = json!([{ "line": 0 }]);
                    }
                    shop.ok("checkout.refund", args);
                }
            }
            Event::Import(c, back, branch) => {
                let date = day - Duration::days(i64::from(*back));
                earliest = earliest.min(date);
                let mut visit = json!({ "order_id": format!("I-{n}"), "customer": { "id": ids[*c] },
                    "date": date.to_string(),
                    "lines": [{ "sku": "LAB", "name": "Работа", "kind": "labor", "qty": "1", "unit_price": "2500" }] });
                if let Some(branch) = BRANCHES[*branch] {
                    visit["branch"] = json!(branch);
                }
                shop.ok("visit.import", json!({ "visits": [visit], "at": at }));
            }
            Event::Adjust(c, points) => {
                let _ = shop.engine().execute(
                    "points.adjust",
                    json!({ "customer": { "id": ids[*c] }, "points": points.to_string(),
                            "reason": "сверка", "operator": "admin", "at": at }),
                );
            }
            Event::Wait(days) => {
                day += Duration::days(i64::from(*days));
                shop.ok("jobs.daily", json!({ "date": day.to_string() }));
            }
            Event::Feedback(c, complaint, rating, employee) => {
                if let Some((order, branch)) = orders[*c].last() {
                    let mut args = json!({ "order_id": order, "at": at, "text": "отзыв",
                        "kind": if *complaint { "complaint" } else { "review" } });
                    if let Some(rating) = rating {
                        args["rating"] = json!(rating);
                    }
                    let named = (*employee > 0).then(|| format!("Мастер {employee}"));
                    if let Some(named) = &named {
                        args["employee"] = json!(named);
                    }
                    shop.ok("feedback.add", args);
                    feedback.push((day, *branch, *complaint, named));
                }
            }
            Event::Merge => {
                if !merged {
                    merged = true;
                    shop.ok(
                        "customer.merge",
                        json!({ "keep": { "id": ids[1] }, "merge": { "id": ids[2] }, "at": at }),
                    );
                }
            }
        }
        day += Duration::days(1);
    }
    Played {
        start: earliest,
        end: day,
        feedback,
    }
}

/// What a visit counts for, from its exported record.
struct Seen {
    customer: u64,
    date: NaiveDate,
    branch: Option<String>,
    counted: bool,
    net: Decimal,
    points: Decimal,
    accrual: Decimal,
}

fn every_visit(shop: &Shop) -> Vec<Seen> {
    let mut out = Vec::new();
    let mut after: Option<u64> = None;
    loop {
        let mut args = json!({ "limit": 1000 });
        if let Some(after) = after {
            args["after"] = json!(after);
        }
        let page = shop.ok("visit.export", args);
        for v in page["items"].as_array().unwrap() {
            let lines = v["lines"].as_array().unwrap();
            let sum = |f: &str| lines.iter().map(|l| dec(&l[f])).sum::<Decimal>();
            out.push(Seen {
                customer: v["customer"].as_u64().unwrap(),
                date: v["date"].as_str().unwrap().parse().unwrap(),
                branch: v["branch"].as_str().map(str::to_string),
                counted: lines
                    .iter()
                    .any(|l| dec(&l["refunded_qty"]) != dec(&l["qty"])),
                net: sum("net") - sum("refunded_net"),
                points: dec(&v["totals"]["points"]) - sum("refunded_points"),
                accrual: dec(&v["totals"]["accrual"]) - sum("refunded_accrual"),
            });
        }
        match page["next_after"].as_u64() {
            Some(next) => after = Some(next),
            None => return out,
        }
    }
}

/// `report.activity` recomputed from the visits and the customers' first visits:
/// (label, visits, customers, returning, new, revenue, points, accrual) per row, total last.
type Row = (String, u64, u64, u64, u64, Decimal, Decimal, Decimal);

fn expected_activity(
    visits: &[Seen],
    first: &HashMap<u64, Option<NaiveDate>>,
    (from, to): (NaiveDate, NaiveDate),
    branch: Option<&str>,
) -> Vec<Row> {
    let kept: Vec<&Seen> = visits
        .iter()
        .filter(|v| v.counted && v.date >= from && v.date <= to)
        .filter(|v| branch.is_none() || v.branch.as_deref() == branch)
        .collect();
    let row = |label: String, span: (NaiveDate, NaiveDate), of: &[&Seen]| -> Row {
        let customers: BTreeSet<u64> = of.iter().map(|v| v.customer).collect();
        let first_of = |c: &u64| first.get(c).copied().flatten();
        let returning = customers
            .iter()
            .filter(|c| first_of(c).is_some_and(|d| d < span.0))
            .count();
        let new = customers
            .iter()
            .filter(|c| first_of(c).is_some_and(|d| d >= span.0 && d <= span.1))
            .count();
        (
            label,
            of.len() as u64,
            customers.len() as u64,
            returning as u64,
            new as u64,
            of.iter().map(|v| v.net).sum(),
            of.iter().map(|v| v.points).sum(),
            of.iter().map(|v| v.accrual).sum(),
        )
    };
    let mut months: BTreeMap<(i32, u32), Vec<&Seen>> = BTreeMap::new();
    for v in &kept {
        months
            .entry((v.date.year(), v.date.month()))
            .or_default()
            .push(v);
    }
    let mut rows = Vec::new();
    for ((y, m), of) in &months {
        let start = NaiveDate::from_ymd_opt(*y, *m, 1).unwrap();
        let end = (start + Duration::days(32)).with_day(1).unwrap() - Duration::days(1);
        rows.push(row(
            format!("{y:04}-{m:02}"),
            (start.max(from), end.min(to)),
            of,
        ));
    }
    rows.push(row(format!("{from}..{to}"), (from, to), &kept));
    rows
}

fn answered(report: &Value) -> Vec<Row> {
    let row = |r: &Value| -> Row {
        (
            r["month"].as_str().unwrap().to_string(),
            r["visits"].as_u64().unwrap(),
            r["customers"].as_u64().unwrap(),
            r["returning_customers"].as_u64().unwrap(),
            r["new_customers"].as_u64().unwrap(),
            dec(&r["revenue"]),
            dec(&r["points_redeemed"]),
            dec(&r["points_accrued"]),
        )
    };
    let mut rows: Vec<Row> = report["rows"].as_array().unwrap().iter().map(row).collect();
    rows.push(row(&report["total"]));
    rows
}

fn periods(played: &Played) -> Vec<(NaiveDate, NaiveDate)> {
    let (s, e) = (played.start, played.end);
    let third = (e - s).num_days() / 3;
    vec![
        (s, e),
        (s + Duration::days(third), e - Duration::days(third)),
        (s + Duration::days(17), s + Duration::days(17)),
    ]
}

fn check_reports(shop: &Shop, played: &Played) -> Result<Vec<Value>, TestCaseError> {
    let visits = every_visit(shop);
    let mut first = HashMap::new();
    for customer in visits.iter().map(|v| v.customer).collect::<BTreeSet<_>>() {
        let card = shop.ok("customer.get", json!({ "customer": { "id": customer } }));
        let date = card["customer"]["first_visit"]
            .as_str()
            .map(|d| d.parse().unwrap());
        first.insert(customer, date);
    }
    let mut reports = Vec::new();
    for (from, to) in periods(played) {
        for branch in BRANCHES {
            let mut args = json!({ "from": from.to_string(), "to": to.to_string() });
            if let Some(branch) = branch {
                args["branch"] = json!(branch);
            }
            let report = shop.ok("report.activity", args);
            prop_assert_eq!(
                answered(&report),
                expected_activity(&visits, &first, (from, to), branch),
                "{} .. {} at {:?}",
                from,
                to,
                branch
            );
            reports.push(report);
        }
    }
    reports.push(shop.ok("report.points", json!({})));
    for (from, to) in periods(played) {
        for branch in BRANCHES {
            let mut args = json!({ "from": from.to_string(), "to": to.to_string() });
            if let Some(branch) = branch {
                args["branch"] = json!(branch);
            }
            let report = shop.ok("report.complaints", args);
            let given: Vec<_> = played
                .feedback
                .iter()
                .filter(|(d, b, _, _)| *d >= from && *d <= to && (branch.is_none() || *b == branch))
                .collect();
            prop_assert_eq!(
                report["complaints"].as_u64().unwrap(),
                given.iter().filter(|f| f.2).count() as u64
            );
            let mut by_employee: BTreeMap<Option<String>, (u64, u64)> = BTreeMap::new();
            for (_, _, complaint, employee) in &given {
                let entry = by_employee.entry(employee.clone()).or_default();
                entry.0 += u64::from(*complaint);
                entry.1 += 1;
            }
            let answered: BTreeMap<Option<String>, (u64, u64)> = report["by_employee"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["employee"].as_str().map(str::to_string),
                        (
                            e["complaints"].as_u64().unwrap(),
                            e["feedback"].as_u64().unwrap(),
                        ),
                    )
                })
                .collect();
            prop_assert_eq!(answered, by_employee);
            prop_assert_eq!(
                report["latest"].as_array().unwrap().len(),
                given.iter().filter(|f| f.2).count().min(100)
            );
            reports.push(report);
        }
    }
    Ok(reports)
}

/// Three customers in a referral chain: the first brought the second, who brought the
/// third (the first gets level-2 cashback on the third's visits; merging the third into
/// the second drops a self-referral).
fn customers(shop: &Shop) -> [u64; 3] {
    let first = shop.customer("Иванов Иван", "+79161234567");
    let mut ids = [first, 0, 0];
    for (n, (name, phone)) in [
        ("Петров Пётр", "+79161234568"),
        ("Сидоров Сидор", "+79161234569"),
    ]
    .into_iter()
    .enumerate()
    {
        let code =
            shop.ok("referral.code", json!({ "customer": { "id": ids[n] } }))["code"].clone();
        ids[n + 1] = shop.ok(
            "customer.register",
            json!({ "full_name": name, "phone": phone, "referral_code": code,
                    "at": "2025-01-10T10:00:00Z" }),
        )["customer"]["id"]
            .as_u64()
            .expect("id");
    }
    ids
}

/// Every page of `report.referrals` (of one referrer, or of all): the rows, and the
/// first page.
fn referral_pages(shop: &Shop, referrer: Option<u64>) -> (Vec<Value>, Value) {
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    let mut first = None;
    loop {
        let mut args = json!({ "limit": 1 });
        if let Some(id) = referrer {
            args["referrer"] = json!({ "id": id });
        }
        if let Some(cursor) = &after {
            args["after"] = json!(cursor);
        }
        let page = shop.ok("report.referrals", args);
        rows.extend(page["rows"].as_array().unwrap().iter().cloned());
        first.get_or_insert_with(|| page.clone());
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => return (rows, first.unwrap()),
        }
    }
}

/// `report.referrals`' totals (all, and per referrer) against a recount of its rows.
fn check_referrals(shop: &Shop, ids: &[u64; 3]) -> Result<Vec<Value>, TestCaseError> {
    let mut reports = Vec::new();
    for referrer in [None, Some(ids[0]), Some(ids[1]), Some(ids[2])] {
        let (rows, report) = referral_pages(shop, referrer);
        let mut points = Decimal::ZERO;
        let mut revenue = Decimal::ZERO;
        for row in &rows {
            points += dec(&row["rewarded_referrer"]) + dec(&row["rewarded_referee"]);
            for cashback in row["cashback"].as_array().unwrap() {
                points += dec(cashback);
            }
            revenue += dec(&row["referee_revenue"]);
            let card = shop.ok(
                "customer.get",
                json!({ "customer": { "id": row["referee"] } }),
            );
            prop_assert_eq!(
                dec(&row["referee_revenue"]),
                dec(&card["customer"]["total_spend"])
            );
        }
        prop_assert_eq!(
            report["referees"].as_u64().unwrap(),
            rows.len() as u64,
            "{}",
            report
        );
        let rewarded = rows.iter().filter(|r| r["signup"] == "rewarded").count() as u64;
        prop_assert_eq!(report["rewarded"].as_u64().unwrap(), rewarded, "{}", report);
        prop_assert_eq!(dec(&report["points"]), points, "{}", report);
        prop_assert_eq!(dec(&report["revenue"]), revenue, "{}", report);
        reports.push(report);
    }
    Ok(reports)
}

fn assert_checked(shop: &Shop) -> Result<(), TestCaseError> {
    let report = shop.ok("store.check", json!({}));
    prop_assert_eq!(&report["problems"], &json!([]));
    prop_assert_eq!(&report["aggregates"], &json!("verified"));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24),
        max_shrink_iters: 200,
        .. ProptestConfig::default()
    })]

    #[test]
    fn cells_follow_every_history_and_reports_answer_from_them(
        events in prop::collection::vec(event(), 1..40),
    ) {
        let shop = Shop::new("aggregates");
        let ids = customers(&shop);
        let played = play(&shop, &ids, &events);
        assert_checked(&shop)?;
        let before = (check_reports(&shop, &played)?, check_referrals(&shop, &ids)?);
        let rebuilt = shop.ok("store.rebuild_aggregates", json!({}));
        prop_assert!(rebuilt["cells"].as_u64().is_some(), "{}", rebuilt);
        assert_checked(&shop)?;
        let after = (check_reports(&shop, &played)?, check_referrals(&shop, &ids)?);
        prop_assert_eq!(before, after);
    }
}

/// A new store keeps its cells from the first visit; a rebuild writes the same ones.
#[test]
fn a_new_store_has_cells_and_a_rebuild_writes_the_same() {
    let shop = Shop::new("aggregates-fresh");
    let id = shop.customer("Иванов Иван", "+79161234567");
    shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": id }, "order_id": "A-1", "lines": [labor("3000")],
                "at": "2025-03-01T10:00:00Z" }),
    );
    let good = shop.ok(
        "report.activity",
        json!({ "from": "2025-03-01", "to": "2025-03-31" }),
    );
    assert_eq!(good["total"]["visits"], 1);
    assert_eq!(good["total"]["new_customers"], 1);
    assert_eq!(shop.ok("store.check", json!({}))["aggregates"], "verified");
    let rebuilt = shop.ok("store.rebuild_aggregates", json!({}));
    assert_eq!(rebuilt["customers"], 1, "{rebuilt}");
    assert_eq!(
        shop.ok(
            "report.activity",
            json!({ "from": "2025-03-01", "to": "2025-03-31" })
        ),
        good
    );
}

/// Every aggregate report of a played history, as JSON.
fn aggregate_reports(shop: &Shop, played: &Played) -> Vec<Value> {
    let mut out = vec![shop.ok("report.points", json!({}))];
    out.push(shop.ok("report.referrals", json!({})));
    for referrer in shop.ok("report.referrals", json!({}))["rows"]
        .as_array()
        .unwrap()
    {
        out.push(shop.ok(
            "report.referrals",
            json!({ "referrer": { "id": referrer["referrer"] } }),
        ));
    }
    for (from, to) in periods(played) {
        for branch in BRANCHES {
            let mut args = json!({ "from": from.to_string(), "to": to.to_string() });
            if let Some(branch) = branch {
                args["branch"] = json!(branch);
            }
            out.push(shop.ok("report.activity", args.clone()));
            out.push(shop.ok("report.complaints", args));
        }
    }
    out
}

/// Take the aggregates' mark out of a closed sled store, as a store written before them
/// has none. There is no public API for it, by design.
fn forget_aggregates(store: &std::path::Path) {
    let db = sled::Config::new()
        .path(store)
        .mode(sled::Mode::LowSpace)
        .flush_every_ms(None)
        .open()
        .expect("open with sled");
    db.remove(b"*v").expect("remove");
    db.flush().expect("flush");
}

/// A store without aggregates (written before them) answers by scanning history: the
/// same answers, byte for byte, as the cells gave; writes go on without cells; a rebuild
/// brings them back and the answers stay.
#[test]
fn a_store_without_aggregates_scans_and_answers_the_same_until_rebuilt() {
    if std::env::var("PITSTOP_TEST_POSTGRES").is_ok() {
        return; // sled surgery
    }
    let mut shop = Shop::new("aggregates-old");
    let ids = customers(&shop);
    let events = [
        Event::Visit(0, 4500, false, 1),
        Event::Visit(1, 12000, false, 0),
        Event::Wait(20),
        Event::Visit(0, 3000, true, 2),
        Event::Feedback(0, true, Some(2), 1),
        Event::Import(2, 300, 1),
        Event::Visit(2, 8000, false, 1),
        Event::Refund(1, false),
        Event::Wait(45),
        Event::Visit(1, 700, true, 2),
        Event::Feedback(1, false, Some(5), 2),
        Event::Refund(0, true),
        Event::Merge,
        Event::Visit(2, 2500, false, 0),
        Event::Adjust(0, 150),
        Event::Wait(30),
        Event::Visit(0, 9900, true, 1),
    ];
    let played = play(&shop, &ids, &events);
    let from_cells = aggregate_reports(&shop, &played);
    shop.engine.take();
    forget_aggregates(&shop.path);
    shop.engine = Some(
        pitstop_core::Engine::open(&shop.path, pitstop_core::EngineOptions::default())
            .expect("reopen"),
    );
    assert_eq!(shop.ok("store.check", json!({}))["aggregates"], "not_built");
    assert_eq!(aggregate_reports(&shop, &played), from_cells);
    // Without cells, checkouts and refunds of old visits go on.
    let at = instant(played.end);
    shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": ids[0] }, "order_id": "late", "lines": [labor("6000")], "at": at }),
    );
    shop.ok("checkout.refund", json!({ "order_id": "O-0", "at": at }));
    let scanned = aggregate_reports(&shop, &played);
    shop.ok("store.rebuild_aggregates", json!({}));
    let check = shop.ok("store.check", json!({}));
    assert_eq!(check["aggregates"], "verified");
    assert_eq!(check["problems"], json!([]));
    assert_eq!(aggregate_reports(&shop, &played), scanned);
}
