//! Duplicate customers and their merge (`customer.duplicates`, `customer.distinct`,
//! `customer.merge`) through the public operations: a seeded base of known duplicates
//! and known different people, a merge that moves everything and leaves a redirect, its
//! refusals, and a property test over random histories.

use crate::common;

use common::{Shop, dec, labor, part, simple_program};
use pitstop_core::ErrorCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const AT: &str = "2025-03-01T10:00:00Z";

fn register(shop: &Shop, args: Value) -> u64 {
    let mut args = args;
    args["at"] = json!(AT);
    shop.ok("customer.register", args)["customer"]["id"]
        .as_u64()
        .unwrap()
}

fn car(shop: &Shop, owner: u64, vin: Option<&str>, plate: &str, transfer: bool) -> u64 {
    let mut args = json!({ "customer": { "id": owner }, "plate": plate, "make": "Lada",
        "model": "Vesta", "at": AT });
    if let Some(vin) = vin {
        args["vin"] = json!(vin);
    }
    if transfer {
        args["transfer"] = json!(true);
    }
    shop.ok("vehicle.add", args)["id"].as_u64().unwrap()
}

/// Every pair proposed, as (low id, high id) → reason codes.
fn proposed(shop: &Shop) -> Vec<((u64, u64), Vec<String>, Decimal)> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut args = json!({ "limit": 3 });
        if let Some(after) = &after {
            args["after"] = json!(after);
        }
        let page = shop.ok("customer.duplicates", args);
        for c in page["candidates"].as_array().unwrap() {
            let codes = c["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    assert!(!r["evidence"].as_str().unwrap().is_empty());
                    r["code"].as_str().unwrap().to_string()
                })
                .collect();
            out.push((
                (c["a"].as_u64().unwrap(), c["b"].as_u64().unwrap()),
                codes,
                dec(&c["score"]),
            ));
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => return out,
        }
    }
}

fn pair(a: u64, b: u64) -> (u64, u64) {
    (a.min(b), a.max(b))
}

/// A base with known duplicates (each written the way a real migrated base writes them)
/// and known different people (namesakes, relatives, look-alike names with nothing
/// shared): every duplicate is found with its reason, no pair of different people is.
#[test]
fn known_duplicates_are_found_and_different_people_are_not() {
    let shop = Shop::with_program("dup-seeded", simple_program());
    // 1. One phone written two ways: the second record has it only in its notes.
    let semenov = register(
        &shop,
        json!({ "full_name": "Семёнов Андрей Викторович", "phone": "+7 916 123-45-67" }),
    );
    let semenov2 = register(
        &shop,
        json!({ "full_name": "Семенов Андрей", "notes": "тел. 8(916)1234567, звонить после 18" }),
    );
    // 2. Transliterated name, car moved to the new record (ownership history).
    let ivanov = register(
        &shop,
        json!({ "full_name": "Иванов Сергей", "phone": "+79031112233" }),
    );
    let ivanov_lat = register(
        &shop,
        json!({ "full_name": "Ivanov Sergey", "phone": "+79035556677" }),
    );
    car(&shop, ivanov, Some("XTA21703080123456"), "А123ВС77", false);
    car(
        &shop,
        ivanov_lat,
        Some("XTA21703080123456"),
        "A123BC77",
        true,
    );
    // 3. A plate in Latin letters in the notes of a second record with a typo in the name.
    let kuznetsova = register(
        &shop,
        json!({ "full_name": "Кузнецова Марина", "phone": "+79167778899" }),
    );
    car(&shop, kuznetsova, None, "О777ОО99", false);
    let kuznetsova2 = register(
        &shop,
        json!({ "full_name": "Кузнецова Марна", "notes": "авто O777OO99 (латиница в 1С)" }),
    );
    // 4. Same name and birthday, nothing else shared (a second card issued).
    let orlov = register(
        &shop,
        json!({ "full_name": "Орлов Дмитрий Ильич", "birthday": "1980-02-29", "phone": "+79260001111" }),
    );
    let orlov2 = register(
        &shop,
        json!({ "full_name": "орлов дмитрий ильич", "birthday": "1980-02-29", "email": "orlov@mail.ru" }),
    );
    // 5. One Gmail mailbox with dots and a +tag.
    let belova = register(
        &shop,
        json!({ "full_name": "Белова Ольга", "email": "olga.belova@gmail.com" }),
    );
    let belova2 = register(
        &shop,
        json!({ "full_name": "Белова О.", "email": "olgabelova+service@gmail.com" }),
    );

    // Known different people.
    let namesake = register(
        &shop,
        json!({ "full_name": "Орлов Дмитрий Ильич", "birthday": "1992-07-14", "phone": "+79260002222" }),
    );
    let wife = register(
        &shop,
        json!({ "full_name": "Иванова Мария", "phone": "+79031110000" }),
    );
    let father = register(
        &shop,
        json!({ "full_name": "Петров Пётр", "birthday": "1960-05-05", "phone": "+79161230000" }),
    );
    let son = register(
        &shop,
        json!({ "full_name": "Петров Павел", "birthday": "1990-05-05", "phone": "+79161230001" }),
    );
    let alike = register(
        &shop,
        json!({ "full_name": "Семенова Анна", "email": "anna.s@mail.ru" }),
    );
    let other_mail = register(
        &shop,
        json!({ "full_name": "Смирнов Олег", "email": "anna.s+1@mail.ru" }),
    );
    car(&shop, wife, None, "Р001РР77", false);
    car(&shop, father, Some("WVWZZZ1JZXW000001"), "Т555ТТ50", false);
    car(&shop, son, Some("WVWZZZ1JZXW000002"), "Т556ТТ50", false);

    let found = proposed(&shop);
    let expected = [
        (pair(semenov, semenov2), "similar_name_shared_phone"),
        (pair(ivanov, ivanov_lat), "similar_name_shared_car"),
        (pair(kuznetsova, kuznetsova2), "similar_name_shared_car"),
        (pair(orlov, orlov2), "same_name_birthday"),
        (pair(belova, belova2), "same_email"),
    ];
    for (pair, code) in expected {
        let hit = found.iter().find(|(p, _, _)| *p == pair);
        let (_, codes, _) = hit.unwrap_or_else(|| panic!("{pair:?} not proposed: {found:?}"));
        assert!(codes.iter().any(|c| c == code), "{pair:?}: {codes:?}");
    }
    // `anna.s+1@mail.ru` and `anna.s@mail.ru` are one mailbox (the +tag); that pair is
    // a true duplicate by the address, so it is the only other pair allowed.
    let allowed: BTreeSet<(u64, u64)> = expected
        .iter()
        .map(|(p, _)| *p)
        .chain([pair(alike, other_mail)])
        .collect();
    for (p, codes, _) in &found {
        assert!(
            allowed.contains(p),
            "different people proposed: {p:?} {codes:?}"
        );
    }
    let distinct_people = [namesake, wife, father, son];
    for person in distinct_people {
        assert!(
            found.iter().all(|(p, _, _)| p.0 != person && p.1 != person),
            "customer {person} is someone else"
        );
    }
    // Best first: a similar name with a shared phone outranks the email alone.
    let scores: Vec<Decimal> = found.iter().map(|(_, _, s)| *s).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    // A shop dismisses the e-mail pair: it is not proposed again.
    shop.ok(
        "customer.distinct",
        json!({ "a": { "id": alike }, "b": { "id": other_mail } }),
    );
    assert!(
        proposed(&shop)
            .iter()
            .all(|(p, _, _)| *p != pair(alike, other_mail))
    );
    // min_score filters; limits are checked.
    let strong = shop.ok("customer.duplicates", json!({ "min_score": "0.9" }));
    for c in strong["candidates"].as_array().unwrap() {
        assert!(dec(&c["score"]) >= Decimal::new(9, 1));
    }
    shop.err(
        "customer.duplicates",
        json!({ "limit": 0 }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "customer.duplicates",
        json!({ "limit": 1001 }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "customer.duplicates",
        json!({ "min_score": "1.5" }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "customer.duplicates",
        json!({ "after": "x" }),
        ErrorCode::InvalidArgument,
    );
}

/// A full history on both sides; the merge moves all of it, the old id, card and phone
/// lead to the kept customer, a refund of a merged visit after the merge still works,
/// the store checks clean, and merging again returns the first result.
#[test]
fn merge_moves_everything_and_the_old_identifiers_lead_to_the_kept_customer() {
    let shop = Shop::with_program("merge-all", simple_program());
    let keep = register(
        &shop,
        json!({ "full_name": "Семёнов Андрей", "phone": "+79161234567", "consents": { "sms": true, "email": true },
                "tags": ["vip"] }),
    );
    let gone = register(
        &shop,
        json!({ "full_name": "Семенов Андрей", "email": "semenov@mail.ru", "birthday": "1984-02-29",
                "consents": { "sms": false, "email": true }, "tags": ["такси"], "issue_card": true,
                "notes": "тел. 8(916)1234567" }),
    );
    let card = shop.ok("customer.get", json!({ "customer": { "id": gone } }))["customer"]["card"]
        .as_str()
        .unwrap()
        .to_string();
    let gone_car = car(&shop, gone, Some("XTA21703080123456"), "А123ВС77", false);
    let commit = |who: u64, order: &str, price: &str, redeem: Option<&str>, at: &str| {
        let mut args = json!({ "customer": { "id": who }, "order_id": order,
            "lines": [labor(price), part("1000")], "at": at });
        if let Some(r) = redeem {
            args["redeem"] = json!(r);
        }
        shop.ok("checkout.commit", args)
    };
    commit(keep, "K-1", "4000", None, "2025-03-02T10:00:00Z");
    commit(gone, "G-1", "9000", None, "2025-03-03T10:00:00Z");
    commit(gone, "G-2", "3000", Some("200"), "2025-03-10T10:00:00Z");
    shop.ok(
        "storage.checkin",
        json!({ "customer": { "id": gone }, "season": "winter", "items": ["Nokian 205/55 R16 ×4"], "location": "С-1", "at": "2025-03-10T11:00:00Z" }),
    );
    let before_keep = shop.balance_at(keep, "2025-03-20T10:00:00Z");
    let before_gone = shop.balance_at(gone, "2025-03-20T10:00:00Z");
    let stats_before = shop.ok("report.points", json!({}));
    let preview = shop.ok(
        "customer.merge",
        json!({ "keep": { "id": keep }, "merge": { "id": gone }, "dry_run": true, "at": "2025-03-20T10:00:00Z" }),
    );
    assert_eq!(preview["dry_run"], true);
    assert_eq!(preview["visits"], 2);
    assert_eq!(preview["vehicles"], 1);
    assert_eq!(preview["cards"], 1);
    assert_eq!(preview["tyre_storage"], 1);
    // The preview wrote nothing: the merged customer is still there.
    shop.ok("customer.get", json!({ "customer": { "card": card } }))["customer"]["id"]
        .as_u64()
        .filter(|id| *id == gone)
        .expect("still the merged customer's card");

    let merged = shop.ok(
        "customer.merge",
        json!({ "keep": { "id": keep }, "merge": { "id": gone }, "at": "2025-03-20T10:00:00Z" }),
    );
    assert_eq!(merged["visits"], 2);
    assert_eq!(merged["vehicles"], 1);
    assert_eq!(merged["tyre_storage"], 1);
    let after = shop.balance_at(keep, "2025-03-20T10:00:00Z");
    assert_eq!(
        dec(&after["total"]),
        dec(&before_keep["total"]) + dec(&before_gone["total"])
    );
    assert_eq!(dec(&merged["points"]["points"]), dec(&before_gone["total"]));
    let customer = &merged["customer"];
    assert_eq!(
        customer["email"], "semenov@mail.ru",
        "blank filled from the merged record"
    );
    assert_eq!(customer["birthday"], "1984-02-29");
    assert_eq!(customer["tags"], json!(["vip", "такси"]));
    // Most restrictive consent: sms was withdrawn on one side.
    let consent = |ch: &str| {
        customer["consents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["channel"] == ch)
            .map(|c| c["granted"].as_bool().unwrap())
    };
    assert_eq!(consent("sms"), Some(false));
    assert_eq!(consent("email"), Some(true));
    assert_eq!(customer["visits"], 3);

    // Every old identifier leads to the kept customer.
    for reference in [
        json!({ "id": gone }),
        json!({ "card": card }),
        json!({ "email": "semenov@mail.ru" }),
        json!({ "plate": "A123BC77" }),
    ] {
        let got = shop.ok("customer.get", json!({ "customer": reference }));
        assert_eq!(got["customer"]["id"], keep, "{reference}");
    }
    let visits = shop.ok("visit.list", json!({ "customer": { "id": keep } }));
    assert_eq!(visits.as_array().map(Vec::len), Some(3), "{visits}");
    // A checkout by the merged card lands on the kept customer.
    let receipt = shop.ok(
        "checkout.commit",
        json!({ "customer": { "card": card }, "order_id": "C-1", "lines": [labor("1000")], "at": "2025-03-21T10:00:00Z" }),
    );
    assert_eq!(receipt["customer"], keep, "{receipt}");
    // Refund of a merged visit after the merge: points come off the kept account.
    let refund = shop.ok(
        "checkout.refund",
        json!({ "order_id": "G-1", "at": "2025-03-22T10:00:00Z" }),
    );
    assert!(
        dec(&refund["refund"]["accrual_taken"]) > Decimal::ZERO,
        "{refund}"
    );
    // G-2 paid 200 points from the merged account's lots: a refund puts them back into
    // the kept account (the visit names the lots by their new ids).
    let before_g2 = dec(&shop.balance_at(keep, "2025-03-22T11:00:00Z")["total"]);
    let refund_g2 = shop.ok(
        "checkout.refund",
        json!({ "order_id": "G-2", "at": "2025-03-22T11:00:00Z" }),
    );
    assert_eq!(refund_g2["refund"]["points_returned"], "200", "{refund_g2}");
    let after_g2 = dec(&shop.balance_at(keep, "2025-03-22T11:00:00Z")["total"]);
    assert_eq!(
        after_g2,
        before_g2 + Decimal::from(200) - dec(&refund_g2["refund"]["accrual_taken"])
    );
    shop.assert_sound();
    let stats_after = shop.ok("report.points", json!({}));
    assert_eq!(stats_after["issued"], {
        // Issued grows by what C-1 earned and shrinks by the refund's take-back only.
        let issued = dec(&stats_before["issued"]) + dec(&receipt["totals"]["accrual"])
            - dec(&refund["refund"]["accrual_taken"])
            - dec(&refund_g2["refund"]["accrual_taken"]);
        json!(issued.to_string())
    });

    // Idempotent by id: the first result again, nothing new written.
    let again = shop.ok(
        "customer.merge",
        json!({ "keep": { "id": keep }, "merge": { "id": gone }, "at": "2025-03-23T10:00:00Z" }),
    );
    assert_eq!(again, merged);
    // Named by its card, the merged customer is the kept one: refused as the same.
    shop.err(
        "customer.merge",
        json!({ "keep": { "id": keep }, "merge": { "card": card } }),
        ErrorCode::InvalidArgument,
    );
    // The car's owner is the kept customer.
    let vehicle = shop.ok("vehicle.get", json!({ "vehicle": { "id": gone_car } }));
    assert_eq!(vehicle["vehicle"]["customer"], keep, "{vehicle}");
    // The pair is no duplicate any more.
    assert!(proposed(&shop).is_empty());
}

/// Refused while either side has an active hold, naming the hold; a refused merge
/// changes nothing (the store's sequence stays where it was).
#[test]
fn a_merge_waits_for_active_holds_and_a_refused_merge_changes_nothing() {
    let shop = Shop::with_program("merge-hold", simple_program());
    let keep = register(
        &shop,
        json!({ "full_name": "Козлов Иван", "phone": "+79160000001" }),
    );
    let gone = register(
        &shop,
        json!({ "full_name": "Козлов Иван", "phone": "+79160000002" }),
    );
    shop.ok(
        "points.adjust",
        json!({ "customer": { "id": gone }, "points": "500", "reason": "перенос", "operator": "admin", "at": AT }),
    );
    let hold = shop.ok(
        "points.hold",
        json!({ "customer": { "id": gone }, "points": "100", "at": AT }),
    );
    let seq = shop.ok("store.stats", json!({}))["seq"].clone();
    let err = shop.err(
        "customer.merge",
        json!({ "keep": { "id": keep }, "merge": { "id": gone }, "at": AT }),
        ErrorCode::Blocked,
    );
    assert_eq!(err.details["reason"], "active_hold");
    assert_eq!(err.details["holds"], json!([hold["hold"]["id"]]));
    assert_eq!(shop.ok("store.stats", json!({}))["seq"], seq);
    shop.err(
        "customer.merge",
        json!({ "keep": { "id": keep }, "merge": { "id": keep } }),
        ErrorCode::InvalidArgument,
    );
    shop.ok(
        "points.release",
        json!({ "hold": hold["hold"]["id"], "at": AT }),
    );
    let merged = shop.ok(
        "customer.merge",
        json!({ "keep": { "id": keep }, "merge": { "id": gone }, "at": AT }),
    );
    assert_eq!(merged["points"]["points"], "500");
    assert_eq!(shop.balance_at(keep, AT)["available"], "500");
    // Merging into a merged id follows its redirect.
    let third = register(
        &shop,
        json!({ "full_name": "Козлов И.", "phone": "+79160000003" }),
    );
    let into_old = shop.ok(
        "customer.merge",
        json!({ "keep": { "id": gone }, "merge": { "id": third }, "at": AT }),
    );
    assert_eq!(into_old["keep"], keep);
    shop.assert_sound();
    // Erasing the kept customer's personal data takes the merged customers' phones with
    // it: they lead nowhere, and a new customer may have them.
    shop.ok(
        "customer.erase",
        json!({ "customer": { "id": keep }, "reason": "заявление № 7", "at": AT }),
    );
    for phone in ["+79160000001", "+79160000002", "+79160000003"] {
        shop.err(
            "customer.get",
            json!({ "customer": { "phone": phone } }),
            ErrorCode::NotFound,
        );
    }
    shop.err(
        "customer.get",
        json!({ "customer": { "id": gone } }),
        ErrorCode::NotFound,
    );
    register(
        &shop,
        json!({ "full_name": "Новый Клиент", "phone": "+79160000002" }),
    );
    shop.assert_sound();
}

/// Referrals: the merged customer's referee becomes the kept customer's; a link between
/// the two is dropped rather than becoming a self-referral.
#[test]
fn referrals_move_and_no_one_refers_themselves() {
    let shop = Shop::new("merge-referral");
    let keep = register(
        &shop,
        json!({ "full_name": "Новиков Олег", "phone": "+79160000011" }),
    );
    let code = shop.ok(
        "referral.code",
        json!({ "customer": { "id": keep }, "at": AT }),
    )["code"]
        .as_str()
        .unwrap()
        .to_string();
    // The duplicate was brought by the kept customer's own code.
    let gone = register(
        &shop,
        json!({ "full_name": "Новиков Олег Иванович", "phone": "+79160000012", "referral_code": code }),
    );
    let gone_code = shop.ok(
        "referral.code",
        json!({ "customer": { "id": gone }, "at": AT }),
    )["code"]
        .as_str()
        .unwrap()
        .to_string();
    let friend = register(
        &shop,
        json!({ "full_name": "Зайцев Пётр", "phone": "+79160000013", "referral_code": gone_code }),
    );
    let merged = shop.ok(
        "customer.merge",
        json!({ "keep": { "id": keep }, "merge": { "id": gone }, "at": AT }),
    );
    assert_eq!(merged["referrals"]["referees"], 1);
    assert_eq!(merged["referrals"]["self_referrals_dropped"], 1);
    let report = shop.ok("report.referrals", json!({ "referrer": { "id": keep } }));
    let text = report.to_string();
    assert!(
        text.contains(&format!("\"referee\":{friend}")) || text.contains(&friend.to_string()),
        "{report}"
    );
    let export = shop.ok("customer.export", json!({ "customer": { "id": keep } }));
    assert_ne!(
        export["referral"]["referrer"],
        json!(keep),
        "{}",
        export["referral"]
    );
    shop.assert_sound();
}

mod property;

/// Campaign history: a campaign that told both customers counts the kept one once, one
/// that told only the merged customer now names the kept one and counts their visit, and
/// the offers' points keep their campaign expiry.
#[test]
fn campaign_history_moves_and_a_campaign_that_told_both_counts_one() {
    let shop = Shop::with_program("merge-campaign", simple_program());
    let keep = register(
        &shop,
        json!({ "full_name": "Лебедева Анна", "phone": "+79160007001", "consents": { "sms": true } }),
    );
    let gone = register(
        &shop,
        json!({ "full_name": "Лебедева Анна Сергеевна", "phone": "+79160007002", "consents": { "sms": true } }),
    );
    let campaign = |name: &str, customers: Value| {
        let id = shop.ok(
            "campaign.create",
            json!({ "name": name, "period": { "from": "2025-04-01", "to": "2025-04-30" }, "channel": "sms",
                    "customers": customers, "offer": { "text": "Скидка", "points": "100" }, "at": "2025-03-25T10:00:00Z" }),
        )["id"]
            .as_u64()
            .unwrap();
        shop.ok(
            "campaign.notify",
            json!({ "campaign": id, "at": "2025-04-01T07:00:00Z" }),
        );
        id
    };
    let both = campaign("Весна: шины", json!([{ "id": keep }, { "id": gone }]));
    let only_gone = campaign("Весна: масло", json!([{ "id": gone }]));
    assert_eq!(
        shop.ok("campaign.report", json!({ "campaign": both }))["notified"],
        2
    );
    let merged = shop.ok(
        "customer.merge",
        json!({ "keep": { "id": keep }, "merge": { "id": gone }, "at": "2025-04-02T10:00:00Z" }),
    );
    assert_eq!(merged["notifications"], 1, "{merged}");
    assert_eq!(
        shop.ok("campaign.report", json!({ "campaign": both }))["notified"],
        1
    );
    shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": keep }, "order_id": "M-1", "lines": [labor("3000")], "at": "2025-04-10T10:00:00Z" }),
    );
    let report = shop.ok("campaign.report", json!({ "campaign": only_gone }));
    assert_eq!(report["notified"], 1);
    assert_eq!(report["came"], 1, "{report}");
    let balance = shop.balance_at(keep, "2025-04-02T10:00:00Z");
    assert_eq!(balance["next_expiries"][0]["date"], "2025-04-30");
    assert_eq!(balance["next_expiries"][0]["points"], "300", "{balance}");
    shop.assert_sound();
}

/// A visit of the merged customer whose points had partly expired before the merge is
/// refunded after it: the expired part is not charged again, only the part that was
/// spent is taken back, as it would have been without the merge.
#[test]
fn a_refund_after_the_merge_does_not_charge_points_that_expired_before_it() {
    let shop = Shop::with_program("merge-refund-expired", simple_program());
    let kept = register(
        &shop,
        json!({ "full_name": "Семёнов Игорь", "phone": "+79161112233" }),
    );
    let gone = register(
        &shop,
        json!({ "full_name": "Семенов Игорь", "phone": "+79164445566" }),
    );
    let sell = |customer: u64, order: &str, price: &str, redeem: &str, at: &str| {
        shop.ok(
            "checkout.commit",
            json!({ "customer": { "id": customer }, "order_id": order, "lines": [labor(price)],
                    "redeem": redeem, "at": at }),
        )
    };
    // 1000 points on ЗН-1; 400 of them spent on ЗН-2 (which earns 40 of its own).
    let first = sell(gone, "ЗН-1", "10000", "0", "2025-01-10T10:00:00Z");
    println!("{first}");
    assert_eq!(
        dec(&first["totals"]["accrual"]),
        Decimal::from(1000),
        "{first}"
    );
    sell(gone, "ЗН-2", "800", "400", "2025-02-01T10:00:00Z");
    sell(kept, "ЗН-3", "5000", "0", "2025-12-01T10:00:00Z");
    // The other 600 of ЗН-1's lot expire on 2026-01-10; the merge comes after.
    shop.ok("jobs.daily", json!({ "at": "2026-01-15T03:00:00Z" }));
    let balance = |at: &str| {
        dec(&shop.ok(
            "points.balance",
            json!({ "customer": { "id": kept }, "at": at }),
        )["total"])
    };
    shop.ok(
        "customer.merge",
        json!({ "keep": { "id": kept }, "merge": { "id": gone }, "at": "2026-01-20T10:00:00Z" }),
    );
    let before = balance("2026-01-20T10:01:00Z");
    assert_eq!(before, Decimal::from(540), "500 of ЗН-3 and 40 of ЗН-2");
    let refund = shop.ok(
        "checkout.refund",
        json!({ "order_id": "ЗН-1", "at": "2026-01-25T10:00:00Z" }),
    );
    let refunded = &refund["refund"];
    assert_eq!(
        dec(&refunded["accrual_expired"]),
        Decimal::from(600),
        "{refund}"
    );
    assert_eq!(
        dec(&refunded["accrual_taken"]),
        Decimal::from(400),
        "{refund}"
    );
    assert_eq!(
        dec(&refunded["shortfall_points"]),
        Decimal::ZERO,
        "{refund}"
    );
    assert_eq!(balance("2026-01-25T10:01:00Z"), before - Decimal::from(400));
}
