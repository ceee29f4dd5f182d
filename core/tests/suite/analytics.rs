//! The owner's reports on a hand-built history (`common/analytics_history.rs`): who the
//! best customers are, the 80% core, the lapsed with RFM scores, cohorts and acquisition
//! sources, each against answers computed here from the plain model. Tiers, birthdays,
//! points by month and services are in `analytics_more.rs`; argument checks and empty
//! stores at the end of this file.

use crate::common;

use common::analytics_history::{History, build, d, money};
use common::{Shop, dec};
use pitstop_core::ErrorCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

const FROM: &str = "2024-07-01";
const TO: &str = "2025-12-31";

/// (visits, revenue, last visit) per person over some visits.
fn tallies(
    visits: &[&common::analytics_history::Visit],
) -> BTreeMap<usize, (u64, Decimal, chrono::NaiveDate)> {
    let mut out: BTreeMap<usize, (u64, Decimal, chrono::NaiveDate)> = BTreeMap::new();
    for v in visits {
        let t = out.entry(v.who).or_insert((0, Decimal::ZERO, v.date));
        t.0 += u64::from(v.counted());
        t.1 += v.net();
        t.2 = t.2.max(v.date);
    }
    out
}

fn names(h: &History, rows: &Value) -> Vec<&'static str> {
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| h.people[h.who(&r["customer"])].name)
        .collect()
}

/// The expected top list: `key` orders best first; ties go to the smaller id.
fn expected_top(
    h: &History,
    t: &BTreeMap<usize, (u64, Decimal, chrono::NaiveDate)>,
    n: usize,
    by_visits: bool,
) -> Vec<&'static str> {
    let mut all: Vec<(usize, (u64, Decimal, chrono::NaiveDate))> = t
        .iter()
        .map(|(w, x)| (*w, *x))
        .filter(|(_, x)| {
            if by_visits {
                x.0 > 0
            } else {
                x.1 > Decimal::ZERO
            }
        })
        .collect();
    all.sort_by(|a, b| {
        let primary = if by_visits {
            b.1.0.cmp(&a.1.0).then(b.1.1.cmp(&a.1.1))
        } else {
            b.1.1.cmp(&a.1.1).then(b.1.0.cmp(&a.1.0))
        };
        primary.then(h.ids[a.0].cmp(&h.ids[b.0]))
    });
    all.into_iter()
        .take(n)
        .map(|(w, _)| h.people[w].name)
        .collect()
}

#[test]
fn customers_best_of_each_month_and_top_by_spend_and_visits() {
    let h = build("an-customers");
    let r = h.report(
        "report.customers",
        json!({ "from": FROM, "to": TO, "top": 5 }),
    );
    let period = h.in_period(FROM, TO, None);
    let t = tallies(&period);
    assert_eq!(names(&h, &r["by_spend"]), expected_top(&h, &t, 5, false));
    assert_eq!(names(&h, &r["by_visits"]), expected_top(&h, &t, 5, true));
    assert_eq!(r["customers"], json!(t.len()));
    // The figures of the first of each list.
    let first = &r["by_spend"][0];
    let (visits, revenue, last) = t[&h.who(&first["customer"])];
    assert_eq!(first["visits"], json!(visits));
    assert_eq!(dec(&first["revenue"]), revenue);
    assert_eq!(first["last_visit"], json!(last.to_string()));
    assert_eq!(
        first["phone"],
        json!(h.people[h.who(&first["customer"])].phone)
    );

    // Month by month: most counted visits, then revenue, then the smaller id.
    let mut months: BTreeMap<String, Vec<&common::analytics_history::Visit>> = BTreeMap::new();
    for v in &period {
        months
            .entry(v.date.format("%Y-%m").to_string())
            .or_default()
            .push(v);
    }
    let rows = r["rows"].as_array().unwrap();
    let expected_months: Vec<&String> = months
        .iter()
        .filter(|(_, vs)| vs.iter().any(|v| v.counted()))
        .map(|(m, _)| m)
        .collect();
    assert_eq!(
        rows.iter()
            .map(|r| r["month"].as_str().unwrap())
            .collect::<Vec<_>>(),
        expected_months
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
    );
    for row in rows {
        let month = row["month"].as_str().unwrap();
        let mt = tallies(&months[month]);
        let best = expected_top(&h, &mt, 1, true);
        assert_eq!(
            vec![h.people[h.who(&row["customer"])].name],
            best,
            "{month}"
        );
        let (visits, revenue, _) = mt[&h.who(&row["customer"])];
        assert_eq!(
            (row["visits"].clone(), dec(&row["revenue"])),
            (json!(visits), revenue)
        );
    }
    // February 2025: Волкова and Соколов both came twice for 5 000; Волкова registered first.
    let feb = rows.iter().find(|r| r["month"] == "2025-02").unwrap();
    assert_eq!(feb["name"], "Волкова Елена Игоревна");
    assert_eq!(feb["visits"], 2);

    // One branch: only its visits.
    let north = h.report(
        "report.customers",
        json!({ "from": FROM, "to": TO, "branch": "north", "top": 10 }),
    );
    let tn = tallies(&h.in_period(FROM, TO, Some("north")));
    assert_eq!(
        names(&h, &north["by_spend"]),
        expected_top(&h, &tn, 10, false)
    );
    assert_eq!(north["by_spend"].as_array().unwrap().len(), 2);
}

#[test]
fn pareto_core_is_the_shortest_head_reaching_80_percent() {
    let h = build("an-pareto");
    for (from, to) in [
        (FROM, TO),
        ("2025-01-01", "2025-12-31"),
        ("2025-02-01", "2025-02-28"),
    ] {
        let r = h.report("report.pareto", json!({ "from": from, "to": to }));
        let t = tallies(&h.in_period(from, to, None));
        let mut ranking: Vec<(u64, Decimal)> = t
            .iter()
            .filter(|(_, x)| x.1 > Decimal::ZERO)
            .map(|(w, x)| (h.ids[*w], x.1))
            .collect();
        ranking.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let total: Decimal = ranking.iter().map(|x| x.1).sum();
        let mut core = 0;
        let mut sum = Decimal::ZERO;
        while sum * Decimal::from(100) < total * Decimal::from(80) {
            sum += ranking[core].1;
            core += 1;
        }
        assert_eq!(r["customers"], json!(ranking.len()), "{from}");
        assert_eq!(dec(&r["revenue"]), total);
        assert_eq!(r["core_customers"], json!(core), "{from}: {r}");
        assert_eq!(dec(&r["core_revenue"]), sum);
        let share =
            (Decimal::from(core as u64 * 100) / Decimal::from(ranking.len() as u64)).round_dp(1);
        assert_eq!(dec(&r["core_customer_share"]), share);
        let listed: Vec<u64> = r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["customer"].as_u64().unwrap())
            .collect();
        assert_eq!(
            listed,
            ranking.iter().take(core).map(|x| x.0).collect::<Vec<_>>()
        );
        let last = r["rows"].as_array().unwrap().last().unwrap();
        assert_eq!(
            dec(&last["cumulative_share"]),
            (sum * Decimal::from(100) / total).round_dp(1)
        );
        assert_eq!(r["truncated"], false);
    }
    // February: the tie (two customers with 5 000 each) goes to the smaller id.
    let feb = h.report(
        "report.pareto",
        json!({ "from": "2025-02-01", "to": "2025-02-28", "top": 1 }),
    );
    assert_eq!(feb["rows"].as_array().unwrap().len(), 1);
    assert_eq!(
        feb["truncated"],
        feb["core_customers"].as_u64().unwrap() > 1
    );
}

/// 1 + ⌊5 × (strictly worse) / n⌋, computed by counting.
fn score<T: PartialOrd>(all: &[T], mine: &T) -> u64 {
    let worse = all.iter().filter(|x| *x < mine).count() as u64;
    (1 + 5 * worse / all.len() as u64).min(5)
}

#[test]
fn lapsed_rfm_and_usual_interval() {
    let h = build("an-lapsed");
    let r = h.report("report.lapsed", json!({ "from": FROM, "to": TO }));
    let to = d(TO);
    let t: Vec<(usize, (u64, Decimal, chrono::NaiveDate))> = {
        // Last visit counts counted visits only.
        let mut m: BTreeMap<usize, (u64, Decimal, Option<chrono::NaiveDate>)> = BTreeMap::new();
        for v in h.in_period(FROM, TO, None) {
            let e = m.entry(v.who).or_insert((0, Decimal::ZERO, None));
            e.1 += v.net();
            if v.counted() {
                e.0 += 1;
                e.2 = Some(e.2.map_or(v.date, |x: chrono::NaiveDate| x.max(v.date)));
            }
        }
        m.into_iter()
            .filter(|(_, x)| x.0 > 0)
            .map(|(w, x)| (w, (x.0, x.1, x.2.unwrap())))
            .collect()
    };
    let recency: Vec<i64> = t.iter().map(|(_, x)| -(to - x.2).num_days()).collect();
    let freq: Vec<u64> = t.iter().map(|(_, x)| x.0).collect();
    let money_: Vec<Decimal> = t.iter().map(|(_, x)| x.1).collect();
    let mut expected: Vec<(Decimal, u64, String, i64)> = Vec::new();
    let mut valuable = 0;
    for (i, (w, x)) in t.iter().enumerate() {
        let m = score(&money_, &money_[i]);
        if m < 4 {
            continue;
        }
        valuable += 1;
        let mut days: Vec<chrono::NaiveDate> = h
            .visits
            .iter()
            .filter(|v| v.who == *w && v.counted())
            .map(|v| v.date)
            .collect();
        days.sort();
        days.dedup();
        if days.len() < 2 {
            continue;
        }
        let mut gaps: Vec<i64> = days.windows(2).map(|p| (p[1] - p[0]).num_days()).collect();
        gaps.sort();
        let n = gaps.len();
        let usual = if n % 2 == 1 {
            gaps[n / 2]
        } else {
            (gaps[n / 2 - 1] + gaps[n / 2]) / 2
        };
        let since = (to - x.2).num_days();
        if Decimal::from(since) > Decimal::from(usual) * money("1.5") {
            let rfm = format!(
                "{}{}{}",
                score(&recency, &recency[i]),
                score(&freq, &freq[i]),
                m
            );
            expected.push((x.1, h.ids[*w], rfm, usual));
        }
    }
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let rows = r["rows"].as_array().unwrap();
    let got: Vec<(Decimal, u64, String, i64)> = rows
        .iter()
        .map(|x| {
            (
                dec(&x["revenue"]),
                x["customer"].as_u64().unwrap(),
                x["rfm"].as_str().unwrap().to_string(),
                x["usual_interval_days"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected, "{r}");
    assert_eq!(r["customers"], json!(t.len()));
    assert_eq!(r["valuable"], json!(valuable));
    assert_eq!(r["factor"], "1.5");
    assert!(r["rule"].as_str().unwrap().contains("1.5"), "{}", r["rule"]);
    // Кузнецова stopped in April 2025 after coming every 45 days: she is on the list,
    // with her usual interval and last visit.
    let maria = rows
        .iter()
        .find(|x| x["name"] == "Кузнецова Мария Андреевна")
        .expect("Кузнецова is lapsed");
    assert_eq!(maria["last_visit"], "2025-04-28");
    assert_eq!(maria["usual_interval_days"], 45);
    // The regular every four weeks is not.
    assert!(rows.iter().all(|x| x["name"] != "Иванов Иван Петрович"));
}

#[test]
fn cohorts_triangle_by_month_of_first_visit() {
    let h = build("an-cohorts");
    for (from, to, branch) in [
        (FROM, TO, None),
        ("2025-01-01", "2025-12-31", None),
        (FROM, TO, Some("north")),
    ] {
        let mut args = json!({ "from": from, "to": to });
        if let Some(b) = branch {
            args["branch"] = json!(b);
        }
        let r = h.report("report.cohorts", args);
        let month = |x: chrono::NaiveDate| x.format("%Y-%m").to_string();
        let months_between = |a: chrono::NaiveDate, b: chrono::NaiveDate| {
            (b.year_ce().1 as i64 * 12 + b.month0() as i64)
                - (a.year_ce().1 as i64 * 12 + a.month0() as i64)
        };
        use chrono::Datelike;
        // cohort → offset → people.
        let mut cells: BTreeMap<String, BTreeMap<i64, BTreeSet<usize>>> = BTreeMap::new();
        for v in h
            .in_period(from, to, branch)
            .into_iter()
            .filter(|v| v.counted())
        {
            let first = h.first_visit(v.who).unwrap();
            if first < d(from) || first > d(to) {
                continue;
            }
            cells
                .entry(month(first))
                .or_default()
                .entry(months_between(first, v.date))
                .or_default()
                .insert(v.who);
        }
        let rows = r["rows"].as_array().unwrap();
        assert_eq!(
            rows.iter()
                .map(|x| x["cohort"].as_str().unwrap().to_string())
                .collect::<Vec<_>>(),
            cells.keys().cloned().collect::<Vec<_>>(),
            "{from} {branch:?}"
        );
        for row in rows {
            let cohort = row["cohort"].as_str().unwrap();
            let c = &cells[cohort];
            let start = d(&format!("{cohort}-01"));
            let span = months_between(start, d(to));
            let retained: Vec<u64> = (0..=span)
                .map(|k| c.get(&k).map_or(0, |s| s.len() as u64))
                .collect();
            assert_eq!(row["retained"], json!(retained), "{cohort}");
            let size = retained[0];
            assert_eq!(row["size"], json!(size));
            let percent: Vec<Decimal> =
                row["percent"].as_array().unwrap().iter().map(dec).collect();
            let want: Vec<Decimal> = retained
                .iter()
                .map(|n| {
                    if size == 0 {
                        Decimal::ZERO
                    } else {
                        (Decimal::from(*n * 100) / Decimal::from(size)).round_dp(1)
                    }
                })
                .collect();
            assert_eq!(percent, want, "{cohort}");
        }
    }
    // July 2024: Иванов, Петрова, Михайлов; Иванов came every month after.
    let r = h.report("report.cohorts", json!({ "from": FROM, "to": TO }));
    let july = &r["rows"][0];
    assert_eq!(
        (july["cohort"].as_str(), july["size"].as_u64()),
        (Some("2024-07"), Some(3))
    );
    assert_eq!(july["retained"].as_array().unwrap().len(), 18);
}

#[test]
fn sources_of_new_customers_with_a_row_for_no_source() {
    let h = build("an-sources");
    let (from, to) = ("2025-01-01", "2025-12-31");
    let r = h.report("report.sources", json!({ "from": from, "to": to }));
    // key (lower-cased, trimmed; None for blank) → (people, visits, revenue)
    let mut want: HashMap<Option<String>, (BTreeSet<usize>, u64, Decimal)> = HashMap::new();
    for v in h.in_period(from, to, None) {
        let first = h.first_visit(v.who).unwrap();
        if first < d(from) {
            continue;
        }
        let key = h.people[v.who]
            .source
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        let e = want.entry(key).or_default();
        e.0.insert(v.who);
        e.1 += u64::from(v.counted());
        e.2 += v.net();
    }
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), want.len(), "{r}");
    let mut last_revenue = None;
    for row in rows {
        let key = row["source"].as_str().map(|s| s.trim().to_lowercase());
        let (people, visits, revenue) = &want[&key];
        assert_eq!(row["new_customers"], json!(people.len()), "{key:?}");
        assert_eq!(row["visits"], json!(visits));
        assert_eq!(dec(&row["revenue"]), *revenue);
        assert!(
            last_revenue.is_none_or(|l| l >= *revenue),
            "rows by revenue"
        );
        last_revenue = Some(*revenue);
    }
    // Сидоров wrote "яндекс.карты", but Иванов (not new in 2025) "Яндекс.Карты": one row.
    // Смирнов and Новикова gave no source; Попов a blank one, but he is not new in 2025.
    let none = rows
        .iter()
        .find(|x| x["source"].is_null())
        .expect("row without a source");
    assert_eq!(none["new_customers"], 2);
    assert_eq!(
        r["new_customers"],
        json!(want.values().map(|x| x.0.len()).sum::<usize>())
    );
    // Фёдоров came on 31.12.2024 and 01.01.2025: not new in 2025.
    let sign = rows.iter().find(|x| x["source"] == "вывеска");
    assert!(sign.is_none(), "{r}");

    // A saved segment (customers with SMS consent) narrows it.
    h.shop.ok(
        "segment.save",
        json!({ "name": "с SMS", "filter": { "consent": "sms" } }),
    );
    let sms = h.report(
        "report.sources",
        json!({ "from": from, "to": to, "segment": "с SMS" }),
    );
    let expected: usize = want
        .values()
        .map(|x| {
            x.0.iter()
                .filter(|w| h.people[**w].consents.contains(&"sms"))
                .count()
        })
        .sum();
    assert_eq!(sms["new_customers"], json!(expected));
}

#[test]
fn reports_refuse_bad_arguments_naming_the_field() {
    let shop = Shop::with_program("an-args", common::analytics_history::program());
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "report.customers",
            json!({ "from": "2025-02-01", "to": "2025-01-01" }),
            "to",
        ),
        (
            "report.pareto",
            json!({ "from": "2010-01-01", "to": "2025-01-01" }),
            "to",
        ),
        (
            "report.customers",
            json!({ "from": "2025-01-01", "to": "2025-02-01", "top": 0 }),
            "top",
        ),
        (
            "report.services",
            json!({ "from": "2025-01-01", "to": "2025-02-01", "top": 1001 }),
            "top",
        ),
        (
            "report.cohorts",
            json!({ "from": "2025-01-01", "to": "2025-02-01", "top": 5 }),
            "top",
        ),
        (
            "report.lapsed",
            json!({ "from": "2025-01-01", "to": "2025-02-01", "branch": "north" }),
            "branch",
        ),
        (
            "report.tiers",
            json!({ "from": "2025-01-01", "to": "2025-02-01", "branch": "north" }),
            "branch",
        ),
        (
            "report.birthdays",
            json!({ "from": "2025-01-01", "to": "2025-02-01", "branch": "north" }),
            "branch",
        ),
        (
            "report.points_monthly",
            json!({ "from": "2025-01-01", "to": "2025-02-01", "branch": "north" }),
            "branch",
        ),
        (
            "report.birthdays",
            json!({ "from": "2025-01-01", "to": "2026-01-05" }),
            "to",
        ),
        (
            "report.sources",
            json!({ "from": "2025-01-01", "to": "2025-02-01", "segment": "нет такого" }),
            "segment",
        ),
        (
            "report.customers",
            json!({ "from": "2025-01-01", "to": "2025-02-01", "branch": " " }),
            "branch",
        ),
    ];
    for (op, args, field) in cases {
        let err = shop.err(op, args.clone(), ErrorCode::InvalidArgument);
        assert_eq!(err.details["field"], field, "{op} {args}: {err:?}");
    }
    // An unknown argument is a request error, as everywhere.
    let err = shop
        .engine()
        .execute(
            "report.pareto",
            json!({ "from": "2025-01-01", "to": "2025-02-01", "share": 70 }),
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument, "{err:?}");
    // The reason is told, not only the field.
    let err = shop.err(
        "report.tiers",
        json!({ "from": "2025-01-01", "to": "2025-02-01", "branch": "north" }),
        ErrorCode::InvalidArgument,
    );
    assert!(err.message.contains("one tier across"), "{}", err.message);
}

#[test]
fn empty_store_and_empty_period_give_empty_reports() {
    let shop = Shop::with_program("an-empty", common::analytics_history::program());
    let args = json!({ "from": "2025-01-01", "to": "2025-03-31" });
    for op in [
        "report.customers",
        "report.pareto",
        "report.lapsed",
        "report.cohorts",
        "report.sources",
        "report.services",
        "report.birthdays",
    ] {
        let r = shop.ok(op, args.clone());
        assert_eq!(r["rows"], json!([]), "{op}: {r}");
    }
    let r = shop.ok("report.tiers", args.clone());
    assert_eq!(r["rows"], json!([]));
    assert!(
        r["tiers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["customers"] == 0),
        "{r}"
    );
    let r = shop.ok("report.points_monthly", args.clone());
    assert_eq!(
        r["rows"].as_array().unwrap().len(),
        3,
        "one row per month, empty or not"
    );
    assert!(
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| dec(&m["outstanding"]).is_zero())
    );

    // A period before the history: nothing, and no error.
    let h = build("an-empty-period");
    let before = json!({ "from": "2023-01-01", "to": "2023-12-31" });
    for op in [
        "report.customers",
        "report.pareto",
        "report.lapsed",
        "report.cohorts",
        "report.sources",
        "report.services",
        "report.tiers",
    ] {
        let r = h.report(op, before.clone());
        assert_eq!(r["rows"], json!([]), "{op}: {r}");
    }
    let p = h.report("report.pareto", before);
    assert_eq!(
        (p["customers"].as_u64(), dec(&p["revenue"])),
        (Some(0), Decimal::ZERO)
    );
    // One customer, one day: Сидоров's single visit.
    let one = h.report(
        "report.pareto",
        json!({ "from": "2025-03-15", "to": "2025-03-15" }),
    );
    assert_eq!(one["core_customers"], 1);
    assert_eq!(dec(&one["core_customer_share"]), money("100.0"));
    let lapsed = h.report(
        "report.lapsed",
        json!({ "from": "2025-03-15", "to": "2025-03-15" }),
    );
    assert_eq!(lapsed["customers"], 1);
    assert_eq!(
        lapsed["rows"],
        json!([]),
        "one visit: no usual interval, never lapsed"
    );
}
