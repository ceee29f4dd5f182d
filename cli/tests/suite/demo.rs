//! `pitstop demo`, run small: deterministic, and everything it prints holds together.

use crate::common;

use common::*;
use serde_json::{Value, json};

#[test]
fn demo_runs_small_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| -> Value {
        let store = dir.path().join(name);
        let out = pitstop(&[
            "--json",
            "demo",
            s(&store),
            "--customers",
            "150",
            "--years",
            "1",
            "--plugins",
            s(&dir.path().join("no-plugins")),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        json_out(&out)
    };
    let first = run("a");
    assert_eq!(first["check"]["problems"], 0);
    assert!(
        first["history"]["visits"].as_u64().unwrap() > 100,
        "{first}"
    );
    assert!(first["opening_balances"].as_u64().unwrap() > 0);
    assert!(first["today"]["checkouts"].as_u64().unwrap() >= 5);
    assert_eq!(first["plugins"], json!([]));
    assert!(
        first["plugins_note"]
            .as_str()
            .unwrap()
            .contains("make plugins")
    );
    assert!(first["first_receipt"]["visit"].is_u64());
    assert!(first["customer"]["customer"]["visits"].as_u64().unwrap() >= 2);
    // Imported history made tiers, and reports see it.
    let tiers = first["tiers"].as_object().unwrap();
    assert!(tiers.len() >= 2, "{tiers:?}");
    let months = first["activity"]["rows"].as_array().unwrap();
    assert!(months.len() >= 12);
    // The tools that bring customers back, migrated and used on the day.
    let engagement = &first["engagement"];
    for key in [
        "recommendations",
        "recommendations_closed",
        "feedback",
        "complaints",
        "sets_checked_in",
    ] {
        assert!(engagement[key].as_u64().unwrap() > 0, "{key}: {engagement}");
    }
    // The cashier sees the first customer's open recommendation at the till, and others'
    // over the day.
    let messages = first["cashier_messages"].as_array().unwrap();
    assert!(
        messages.iter().any(|m| m["kind"] == "recommendation"
            && m["text"].as_str().unwrap().starts_with("Рекомендовано ")),
        "{messages:?}"
    );
    assert!(
        first["recommendation_messages"]["receipts"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // The first customer's card: recommendation, the summer set, the arrived pads, and
    // the reminders due for them.
    let card = &first["customer"];
    assert_eq!(
        card["open_recommendations"][0]["work"],
        "Замена передних тормозных колодок"
    );
    assert_eq!(card["tyre_storage"][0]["season"], "summer");
    assert_eq!(card["special_orders"][0]["status"], "arrived");
    let own: Vec<&str> = first["customer_reminders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(own.contains(&"order_arrived:1"), "{own:?}");
    // The owner: today's reminders by kind with an example of each.
    let reminders = &first["reminders"];
    assert_eq!(reminders["date"], "2025-12-01");
    let by_kind = reminders["by_kind"].as_object().unwrap();
    assert_eq!(by_kind["order_arrived"], 1, "{reminders}");
    for kind in ["recommendation", "quality_call"] {
        assert!(by_kind[kind].as_u64().unwrap() >= 1, "{kind}: {reminders}");
    }
    let counted: u64 = by_kind.values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(reminders["total"], counted);
    let examples = reminders["examples"].as_array().unwrap();
    assert_eq!(examples.len(), by_kind.len());
    assert!(
        examples
            .iter()
            .all(|r| !r["text"].as_str().unwrap().is_empty())
    );
    // The campaign reached some and brought some; the complaints; the referral pair.
    let campaign = &first["campaign"];
    assert!(campaign["notified"].as_u64().unwrap() >= 1, "{campaign}");
    assert!(campaign["came"].as_u64().unwrap() >= 1, "{campaign}");
    assert!(first["complaints"]["complaints"].as_u64().unwrap() >= 1);
    let referrals = first["referrals"]["rows"].as_array().unwrap();
    assert_eq!(referrals.len(), 1);
    assert_eq!(referrals[0]["signup"], "rewarded");
    assert_eq!(referrals[0]["rewarded_referrer"], "500");

    // Deterministic: the same seed gives the same shop.
    let second = run("b");
    for key in [
        "history",
        "today",
        "tiers",
        "activity",
        "points",
        "engagement",
        "reminders",
        "campaign",
        "complaints",
        "referrals",
    ] {
        let (a, b) = (&first[key], &second[key]);
        if key == "history" {
            assert_eq!(a["visits"], b["visits"]);
        } else {
            assert_eq!(a, b, "{key}");
        }
    }
    // The owner's dashboard beside each store: every section drawn, the same page for the
    // same shop.
    let page = |name: &str| {
        std::fs::read_to_string(dir.path().join(format!("{name}-dashboard.html"))).unwrap()
    };
    assert_eq!(
        first["dashboard"]["file"],
        s(&dir.path().join("a-dashboard.html"))
    );
    let (a, b) = (page("a"), page("b"));
    assert!(a.starts_with("<!DOCTYPE html>"));
    for chart in [
        "revenue",
        "customers",
        "cohorts",
        "tiers",
        "liability",
        "campaigns",
        "complaints",
        "top-customers",
    ] {
        assert!(a.contains(&format!("data-chart=\"{chart}\"")), "{chart}");
    }
    assert_eq!(a, b);
    // What a person reads: the cashier's recommendation messages, the card's sections,
    // the owner's reminders, campaign, complaints and referrals.
    let out = pitstop(&[
        "demo",
        s(&dir.path().join("c")),
        "--customers",
        "150",
        "--years",
        "1",
        "--plugins",
        s(&dir.path().join("no-plugins")),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        "\n  • Рекомендовано ",
        "за день касса показала ",
        "\nОткрытые рекомендации\n",
        "\nШины на хранении\nсезон ",
        "\nЗаказные запчасти\n",
        "\nНапоминания на сегодня\n",
        "С кем связаться сегодня (pitstop reminders): ",
        "\nSMS-кампания (pitstop report ",
        "SMS, сегмент «Не были 4 месяца»",
        "\nЖалобы за 90 дней (pitstop report complaints)\n",
        "\nПоследние жалобы\n",
        "\nРекомендации друзьям (pitstop report referrals)\n",
        // One referee: the Russian singular, not "1 referees".
        "\n1 реферал, награждено: 1",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("Колодки тормозные передние TRW GDB1550")
                && l.contains("прибыло")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("заказ прибыл ") && l.split_whitespace().nth(2) == Some("1")),
        "{text}"
    );
    // The shop's language throughout: no tier codes, no ISO dates, no English labels.
    for word in text.split(|c: char| !c.is_alphanumeric() && c != '_') {
        assert!(
            !["base", "silver", "gold", "platinum"].contains(&word),
            "tier code {word:?} in\n{text}"
        );
    }
    assert!(!has_iso_date(&text), "{text}");
    for english in [
        "Migration",
        "customers",
        "The day",
        "Last visits",
        "referees",
    ] {
        assert!(!text.contains(english), "{english:?} in\n{text}");
    }

    // The store is an ordinary store: the other commands work on it.
    let store = dir.path().join("a");
    let phone = first["customer"]["customer"]["phone"].as_str().unwrap();
    let out = pitstop(&["customer", s(&store), phone]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Последние визиты"));
    assert!(stdout(&out).contains("Открытые рекомендации"));
    let out = pitstop(&["--json", "reminders", s(&store), "--date", "2025-12-01"]);
    assert_eq!(
        json_out(&out)["items"].as_array().unwrap().len() as u64,
        first["reminders"]["total"].as_u64().unwrap()
    );
    let out = pitstop(&["report", s(&store), "campaign", "1"]);
    let first_line = stdout(&out).lines().next().unwrap_or_default().to_string();
    assert!(
        first_line.starts_with("кампания ") && first_line.ends_with(" #1 «Подготовка к зиме»"),
        "{first_line}"
    );
    assert!(pitstop(&["check", s(&store)]).status.success());
    // A directory that is not a store is never removed.
    let precious = dir.path().join("precious");
    std::fs::create_dir_all(&precious).unwrap();
    std::fs::write(precious.join("thesis.txt"), "x").unwrap();
    let out = pitstop(&["demo", s(&precious), "--customers", "10", "--years", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(precious.join("thesis.txt").exists());
}
