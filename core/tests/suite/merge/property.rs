//! The property test of `customer.merge`: random histories of two customers, merged,
//! keep their totals, balances, expiries, tiers and report figures.

use super::*;
use chrono::{Duration, NaiveDate};
use proptest::prelude::*;

#[derive(Debug, Clone)]
pub enum Event {
    /// A visit: labour price in roubles, and whether to pay with points.
    Visit(u32, bool),
    /// Refund the customer's last visit not yet refunded.
    Refund,
    /// A manual adjustment (negative ones may be refused for lack of points).
    Adjust(i32),
    /// Days pass (lots expire, pending points release).
    Wait(u16),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (5u32..400, any::<bool>()).prop_map(|(p, r)| Event::Visit(p * 100, r)),
        1 => Just(Event::Refund),
        1 => (-300i32..600).prop_map(Event::Adjust),
        2 => (1u16..250).prop_map(Event::Wait),
    ]
}

fn instant(day: NaiveDate) -> String {
    format!("{day}T10:00:00Z")
}

/// Play one customer's history from `start`; returns the day after its last event.
fn play(shop: &Shop, id: u64, tag: &str, start: NaiveDate, events: &[Event]) -> NaiveDate {
    let mut day = start;
    let mut orders: Vec<String> = Vec::new();
    for (n, event) in events.iter().enumerate() {
        let at = instant(day);
        match event {
            Event::Visit(price, redeem) => {
                let order = format!("{tag}-{n}");
                let mut args = json!({ "customer": { "id": id }, "order_id": order,
                    "lines": [labor(&price.to_string()), part("1500")], "at": at });
                if *redeem {
                    args["redeem"] = json!("max");
                }
                shop.ok("checkout.commit", args);
                orders.push(order);
            }
            Event::Refund => {
                if let Some(order) = orders.pop() {
                    shop.ok("checkout.refund", json!({ "order_id": order, "at": at }));
                }
            }
            Event::Adjust(points) => {
                let reply = shop.engine().execute(
                    "points.adjust",
                    json!({ "customer": { "id": id }, "points": points.to_string(),
                            "reason": "сверка", "operator": "admin", "at": at }),
                );
                if let Err(err) = reply {
                    assert!(
                        *points <= 0
                            && matches!(
                                err.code,
                                ErrorCode::InsufficientPoints | ErrorCode::InvalidArgument
                            ),
                        "{err:?}"
                    );
                }
            }
            Event::Wait(days) => day += Duration::days(i64::from(*days)),
        }
        day += Duration::days(1);
    }
    day
}

/// (spend, counted visits) of a customer's visits dated in `[from, to]`.
fn window(shop: &Shop, id: u64, from: NaiveDate, to: NaiveDate) -> (Decimal, u32) {
    let visits = shop.ok(
        "visit.list",
        json!({ "customer": { "id": id }, "limit": 200 }),
    );
    let mut spend = Decimal::ZERO;
    let mut count = 0;
    for visit in visits.as_array().unwrap() {
        let date: NaiveDate = visit["date"].as_str().unwrap().parse().unwrap();
        // Refunds here are whole visits: a refunded visit keeps nothing and counts no visit.
        let net = if visit["refunds"] == 0 {
            dec(&visit["net"])
        } else {
            Decimal::ZERO
        };
        if date >= from && date <= to && net > Decimal::ZERO {
            spend += net;
            count += 1;
        }
    }
    (spend, count)
}

/// The example programme's tiers, written out here: the highest whose spend and
/// visits the window reaches.
fn expected_tier(spend: Decimal, visits: u32) -> &'static str {
    let levels = [
        ("platinum", 200_000, 6),
        ("gold", 80_000, 4),
        ("silver", 30_000, 2),
    ];
    levels
        .iter()
        .find(|(_, s, v)| spend >= Decimal::from(*s) && visits >= *v)
        .map_or("base", |(code, _, _)| code)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24),
        max_shrink_iters: 200,
        .. ProptestConfig::default()
    })]

    /// Two random histories merged: points (now and at later dates, so every lot
    /// kept its expiry), the owner's points totals, the tier of the combined window,
    /// the visits and both old ids are what the two customers had between them.
    #[test]
    fn a_merge_preserves_totals_balances_expiries_and_tiers(
        first in prop::collection::vec(event(), 1..10),
        second in prop::collection::vec(event(), 1..10),
        keep_first in any::<bool>(),
    ) {
        let shop = Shop::new("merge-prop");
        let start = NaiveDate::from_ymd_opt(2024, 1, 10).unwrap();
        let a = register(&shop, json!({ "full_name": "Семёнов Игорь", "phone": "+79161234567", "issue_card": true }));
        let b = register(&shop, json!({ "full_name": "Семенов Игорь", "notes": "8(916)1234567", "issue_card": true }));
        let end_a = play(&shop, a, "A", start, &first);
        let end_b = play(&shop, b, "B", start, &second);
        let merge_day = end_a.max(end_b);
        let at = instant(merge_day);
        let (keep, gone) = if keep_first { (a, b) } else { (b, a) };
        let gone_card = shop.ok("customer.get", json!({ "customer": { "id": gone } }))["customer"]["card"].clone();

        let later = [merge_day, merge_day + Duration::days(45), merge_day + Duration::days(200), merge_day + Duration::days(400)];
        let totals_before: Vec<Decimal> = later
            .iter()
            .map(|d| dec(&shop.balance_at(a, &instant(*d))["total"]) + dec(&shop.balance_at(b, &instant(*d))["total"]))
            .collect();
        let expiries = |id: u64| shop.balance_at(id, &at)["next_expiries"].as_array().unwrap().clone();
        let (exp_a, exp_b) = (expiries(a), expiries(b));
        let points_before = shop.ok("report.points", json!({}));
        let period = json!({ "from": "2024-01-01", "to": merge_day.to_string() });
        let activity_before = shop.ok("report.activity", period.clone())["total"].clone();
        let from = merge_day - Duration::days(364);
        let (spend_a, visits_a) = window(&shop, a, from, merge_day);
        let (spend_b, visits_b) = window(&shop, b, from, merge_day);
        let all_visits = shop.ok("visit.list", json!({ "customer": { "id": a }, "limit": 200 })).as_array().unwrap().len()
            + shop.ok("visit.list", json!({ "customer": { "id": b }, "limit": 200 })).as_array().unwrap().len();

        let merged = shop.ok("customer.merge", json!({ "keep": { "id": keep }, "merge": { "id": gone }, "at": at }));

        for (d, total) in later.iter().zip(&totals_before) {
            prop_assert_eq!(dec(&shop.balance_at(keep, &instant(*d))["total"]), *total, "total on {}", d);
        }
        // Every expiry date of the first five of the combined account holds what the
        // two accounts held on that date.
        for e in shop.balance_at(keep, &at)["next_expiries"].as_array().unwrap() {
            let on = |list: &Vec<Value>| list.iter().filter(|x| x["date"] == e["date"]).map(|x| dec(&x["points"])).sum::<Decimal>();
            prop_assert_eq!(dec(&e["points"]), on(&exp_a) + on(&exp_b), "expiring on {}", e["date"]);
        }
        let points_after = shop.ok("report.points", json!({}));
        // The shop's activity is the same visits, revenue and points.
        let activity_after = shop.ok("report.activity", period)["total"].clone();
        for figure in ["visits", "revenue", "points_redeemed", "points_accrued"] {
            prop_assert_eq!(&activity_after[figure], &activity_before[figure], "activity {}", figure);
        }
        for figure in ["issued", "redeemed"] {
            prop_assert_eq!(&points_after[figure], &points_before[figure], "{}", figure);
        }
        // Settling at the merge only burns: what left `outstanding` went to `expired`.
        prop_assert_eq!(dec(&points_after["outstanding"]), totals_before[0]);
        prop_assert_eq!(
            dec(&points_after["expired"]) - dec(&points_before["expired"]),
            dec(&points_before["outstanding"]) - dec(&points_after["outstanding"])
        );
        let tier = expected_tier(spend_a + spend_b, visits_a + visits_b);
        prop_assert_eq!(merged["customer"]["tier"].as_str(), Some(tier), "spend {} visits {}", spend_a + spend_b, visits_a + visits_b);
        let visits_after = shop.ok("visit.list", json!({ "customer": { "id": keep }, "limit": 200 })).as_array().unwrap().len();
        prop_assert_eq!(visits_after, all_visits);
        for reference in [json!({ "id": a }), json!({ "id": b }), json!({ "card": gone_card })] {
            let got = shop.ok("customer.get", json!({ "customer": reference }));
            prop_assert_eq!(&got["customer"]["id"], &json!(keep));
        }
        let report = shop.ok("store.check", json!({}));
        prop_assert_eq!(&report["problems"], &json!([]));
    }
}
