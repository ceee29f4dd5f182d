//! The demo's second chapter: the first day on Pitstop, durable, the way a till runs. The
//! daily job, a recommendation and a special order for the first customer's car, a
//! referral, an SMS campaign, and a day of checkouts through `checkout.commit`; then what
//! the cashier saw.

use super::data::*;
use super::{ADVISORS, BRANCHES, Client, Shop, add_car, care, moscow, ok};
use crate::Failure;
use crate::engage;
use crate::output::cell;
use chrono::{Datelike, Duration, NaiveDate};
use pitstop_core::Engine;
use serde_json::{Value, json};

/// Last minute after 09:00 a checkout of the day is rung up (18:59).
const LAST_MINUTE: u32 = 10 * 60 - 1;
/// Minutes between two checkouts at the till.
const MINUTES_BETWEEN: u32 = 17;

/// What happened at the till, for the summary.
pub(super) struct Day {
    pub receipts: Vec<Value>,
    /// The quote the cashier showed the first customer.
    pub first_quote: Option<Value>,
    pub first_receipt: Option<Value>,
    /// The first customer's card after the day.
    pub card: Value,
    pub first_due: Vec<Value>,
    /// Recommendation messages on the receipts, and how many receipts had one.
    pub advised: Vec<String>,
    pub advised_receipts: usize,
    pub campaign_id: u64,
}

/// The receipts of the day and the clock of the till.
struct Till {
    today: NaiveDate,
    receipts: Vec<Value>,
    /// Minutes after 09:00 of the next checkout.
    minute: u32,
}

impl Till {
    /// The next receipt's order id.
    fn order_id(&self) -> String {
        format!(
            "POS-{}-{:04}",
            self.today.format("%Y%m%d"),
            self.receipts.len() + 1
        )
    }

    /// When the next checkout happens.
    fn next_time(&mut self) -> String {
        let at = moscow(self.today, 9 + self.minute / 60, self.minute % 60);
        self.minute = (self.minute + MINUTES_BETWEEN).min(LAST_MINUTE);
        at
    }

    fn commit(&mut self, engine: &Engine, args: Value) -> Result<(), Failure> {
        self.receipts.push(ok(engine, "checkout.commit", args)?);
        Ok(())
    }
}

/// Run the first day on the migrated shop.
pub(super) fn run(engine: &Engine, shop: &mut Shop, today: NaiveDate) -> Result<Day, Failure> {
    ok(
        engine,
        "jobs.daily",
        json!({ "date": today.to_string(), "at": moscow(today, 0, 5) }),
    )?;
    let first = first_customer(&shop.clients, today);
    prepare_first_car(engine, shop, first, today)?;
    // Before opening: the referral code of last year's best customer after the first, and
    // the SMS campaign to those who have not come for four months.
    let code = referral_code(engine, &shop.clients, first, today)?;
    let (campaign_id, notified) = care::campaign(engine, today)?;
    let mut till = Till {
        today,
        receipts: Vec::new(),
        minute: 0,
    };
    friend_visit(engine, shop, &code, &mut till)?;
    let first_quote = regulars(engine, shop, first, &mut till)?;
    campaign_returns(engine, shop, &notified, &mut till)?;
    cashier_view(
        engine,
        till.receipts,
        first,
        today,
        campaign_id,
        first_quote,
    )
}

/// The first customer at the till: the best customer of last year among those with a
/// birthday this week (the screen shows it), else the best customer of last year.
fn first_customer(clients: &[Client], today: NaiveDate) -> u64 {
    let birthday_soon = |c: &Client| {
        c.birthday.is_some_and(|b| {
            (0..4).any(|d| {
                let day = today + Duration::days(d);
                (b.month(), b.day()) == (day.month(), day.day())
            })
        })
    };
    let best = |candidates: &mut dyn Iterator<Item = &Client>| {
        candidates
            .filter(|c| !c.taxi && c.last_year_spend > 0.0)
            .max_by(|a, b| {
                a.last_year_spend
                    .total_cmp(&b.last_year_spend)
                    .then(b.id.cmp(&a.id))
            })
            .map(|c| c.id)
    };
    best(&mut clients.iter().filter(|c| birthday_soon(c)))
        .or_else(|| best(&mut clients.iter()))
        .or_else(|| clients.first().map(|c| c.id))
        .unwrap_or_default()
}

/// The first customer's car: the advisor's last recommendation (unless the pads one is
/// open already), the pads ordered for it, arrived yesterday, and the summer set brought
/// to leave on the racks for the winter.
fn prepare_first_car(
    engine: &Engine,
    shop: &mut Shop,
    first: u64,
    today: NaiveDate,
) -> Result<(), Failure> {
    if let Some(client) = shop.clients.iter().find(|c| c.id == first) {
        if client.brake_rec.is_none() {
            recommend_pads(engine, client, today)?;
        }
        let other = shop
            .clients
            .iter()
            .find(|c| c.id != first && !c.taxi)
            .map(|c| (c.id, c.car.id));
        care::special_orders(engine, today, (client.id, client.car.id), other)?;
    }
    if let Some(client) = shop.clients.iter_mut().find(|c| c.id == first)
        && client.stored_set.is_none()
        && client.car.winter_on
        && !client.taxi
    {
        client.stored_set = Some(care::check_in(
            engine,
            &mut shop.care_rng,
            client.id,
            client.car.id,
            client.car.tyre,
            false,
            &moscow(today, 8, 55),
        )?);
    }
    Ok(())
}

/// The brake pads recommendation on the client's last work order (or on the car, 40 days
/// ago, when the history has none).
fn recommend_pads(engine: &Engine, client: &Client, today: NaiveDate) -> Result<(), Failure> {
    let mut args = json!({ "work": "Замена передних тормозных колодок",
        "urgency": "soon", "price": "5200", "note": "остаток накладок 4 мм" });
    match &client.last_order {
        Some((order, day)) => {
            args["order_id"] = json!(order);
            args["at"] = json!(moscow(*day, 18, 10));
        }
        None => {
            args["customer"] = json!({ "id": client.id });
            args["vehicle"] = json!({ "id": client.car.id });
            args["at"] = json!(moscow(today - Duration::days(40), 18, 10));
        }
    }
    ok(engine, "recommendation.add", args)?;
    Ok(())
}

/// The referral code of last year's best customer other than the first.
fn referral_code(
    engine: &Engine,
    clients: &[Client],
    first: u64,
    today: NaiveDate,
) -> Result<Value, Failure> {
    let referrer = clients
        .iter()
        .filter(|c| !c.taxi && c.id != first)
        .max_by(|a, b| {
            a.last_year_spend
                .total_cmp(&b.last_year_spend)
                .then(b.id.cmp(&a.id))
        })
        .map(|c| c.id)
        .unwrap_or(first);
    Ok(ok(
        engine,
        "referral.code",
        json!({ "customer": { "id": referrer }, "at": moscow(today, 7, 55) }),
    )?["code"]
        .clone())
}

/// 08:40: a friend of the referrer comes with the code, registers, and books a ТО-2.
fn friend_visit(
    engine: &Engine,
    shop: &mut Shop,
    code: &Value,
    till: &mut Till,
) -> Result<(), Failure> {
    let today = till.today;
    let rng = &mut shop.care_rng;
    let friend_phone = loop {
        let phone = format!("+7985{:07}", rng.below(10_000_000));
        if shop.phones.insert(phone.clone()) {
            break phone;
        }
    };
    let surname = *rng.pick(SURNAMES);
    let friend = ok(
        engine,
        "customer.register",
        json!({ "full_name": format!("{} {} {}", feminine(surname),
                    rng.pick(FEMALE_NAMES), rng.pick(PATRONYMICS).1),
                "phone": friend_phone, "gender": "female", "source": "Рекомендация друга",
                "consents": { "sms": true }, "issue_card": true, "referral_code": code,
                "at": moscow(today, 8, 40) }),
    )?["customer"]["id"]
        .as_u64()
        .unwrap_or_default();
    let friend_car = add_car(engine, rng, friend, today, &moscow(today, 8, 42), false)?;
    let mut lines = Vec::new();
    big_service(rng, &mut lines);
    let args = json!({ "customer": { "id": friend }, "vehicle": { "id": friend_car.id },
            "mileage": friend_car.km.round() as u32, "lines": lines,
            "order_id": till.order_id(), "branch": BRANCHES[0],
            "advisor": ADVISORS[1], "at": moscow(today, 8, 50) });
    till.commit(engine, args)
}

/// The day's regular customers: the first one and about thirty others, spread over the
/// base. Returns the quote the cashier showed the first one.
fn regulars(
    engine: &Engine,
    shop: &mut Shop,
    first: u64,
    till: &mut Till,
) -> Result<Option<Value>, Failure> {
    let every = (shop.clients.len() / 30).max(1);
    let mut first_quote = None;
    for (i, client) in shop.clients.iter_mut().enumerate() {
        if client.id != first && i % every != every / 2 {
            continue;
        }
        let rngs = (&mut shop.shop_rng, &mut shop.care_rng);
        let quote = serve_regular(engine, rngs, client, client.id == first, till)?;
        if quote.is_some() {
            first_quote = quote;
        }
    }
    Ok(first_quote)
}

/// One regular customer's checkout (quoted first when it is the first customer, whose
/// quote is returned). Draws the basket from `shop_rng`, the tyre set from `care_rng`.
fn serve_regular(
    engine: &Engine,
    (shop_rng, care_rng): (&mut Rng, &mut Rng),
    client: &mut Client,
    is_first: bool,
    till: &mut Till,
) -> Result<Option<Value>, Failure> {
    let mut lines = Vec::new();
    if is_first {
        oil_change(shop_rng, &mut lines);
        small_job(shop_rng, &mut lines);
    } else if client.car.winter_on {
        small_job(shop_rng, &mut lines);
    } else {
        tyre_change(shop_rng, client.car.tyre, &mut lines, true);
        client.car.winter_on = true;
    }
    let at = till.next_time();
    // The winter set comes off the racks; the summer set goes on when paid for.
    if care::has_sku(&lines, "LAB-TYRE") && !client.taxi {
        if let Some(set) = client.stored_set.take() {
            ok(engine, "storage.checkout", json!({ "id": set, "at": at }))?;
        }
        if care::has_sku(&lines, "TYRE-STORE") {
            client.stored_set = Some(care::check_in(
                engine,
                care_rng,
                client.id,
                client.car.id,
                client.car.tyre,
                false,
                &at,
            )?);
        }
    }
    let mut args = json!({
        "customer": { "id": client.id }, "vehicle": { "id": client.car.id },
        "mileage": client.car.km.round() as u32 + 120, "lines": lines,
        "order_id": till.order_id(),
        "branch": BRANCHES[0], "advisor": *shop_rng.pick(ADVISORS), "at": at,
    });
    if is_first || (client.redeems && shop_rng.chance(0.7)) {
        args["redeem"] = json!("max");
    }
    let mut quote = None;
    if is_first {
        let mut quote_args = args.clone();
        if let Some(map) = quote_args.as_object_mut() {
            map.remove("order_id");
        }
        quote = Some(ok(engine, "checkout.quote", quote_args)?);
    }
    till.commit(engine, args)?;
    Ok(quote)
}

/// Late afternoon: a few of those the campaign reached come for an oil change.
fn campaign_returns(
    engine: &Engine,
    shop: &mut Shop,
    notified: &[u64],
    till: &mut Till,
) -> Result<(), Failure> {
    for id in notified.iter().take(3) {
        let Some(client) = shop.clients.iter().find(|c| c.id == *id) else {
            continue;
        };
        let rng = &mut shop.care_rng;
        let mut lines = Vec::new();
        oil_change(rng, &mut lines);
        let at = till.next_time();
        let args = json!({ "customer": { "id": client.id }, "vehicle": { "id": client.car.id },
                "mileage": client.car.km.round() as u32 + 200, "lines": lines,
                "order_id": till.order_id(), "branch": BRANCHES[0],
                "advisor": *rng.pick(ADVISORS), "at": at });
        till.commit(engine, args)?;
    }
    Ok(())
}

/// What the cashier saw: the first customer's receipt, card and reminders, and the
/// recommendations shown at the till.
fn cashier_view(
    engine: &Engine,
    receipts: Vec<Value>,
    first: u64,
    today: NaiveDate,
    campaign_id: u64,
    first_quote: Option<Value>,
) -> Result<Day, Failure> {
    let first_receipt = receipts
        .iter()
        .find(|r| r["customer"].as_u64() == Some(first))
        .cloned();
    let card = ok(
        engine,
        "customer.get",
        json!({ "customer": { "id": first }, "at": moscow(today, 21, 0) }),
    )?;
    let first_due = engage::due_of_customer(engine, first, Some(today.to_string()))?;
    // The cashier saw the open recommendations for each car at the till.
    let advised: Vec<String> = receipts
        .iter()
        .flat_map(|r| r["messages"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["kind"] == "recommendation")
        .map(|m| cell(&m["text"]))
        .collect();
    let advised_receipts = receipts
        .iter()
        .filter(|r| {
            r["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["kind"] == "recommendation"))
        })
        .count();
    Ok(Day {
        receipts,
        first_quote,
        first_receipt,
        card,
        first_due,
        advised,
        advised_receipts,
        campaign_id,
    })
}
