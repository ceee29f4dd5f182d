//! `report.dashboard`: the owner's page from a hand-built history whose figures are
//! worked out here by hand, checked in the HTML: every section with its chart, one bar per
//! month with revenue, Russian numbers and money (no-break spaces between thousands, a
//! decimal comma), English ones under an English programme, names from the store
//! (a customer, an employee, a campaign, the shop itself) escaped, an empty period, and
//! the argument errors. Runs on PostgreSQL too (`make postgres-test`).

mod common;

use common::{Shop, labor, part};
use pitstop_core::ErrorCode;
use serde_json::{Value, json};

const NBSP: char = '\u{a0}';
/// plotters writes colours in upper-case hex; the revenue series is the palette's blue.
const REVENUE_FILL: &str = r##"fill="#2E6DB4""##;

fn program(locale: &str) -> Value {
    json!({
        "name": "Автосервис «Колесо» & партнёры",
        "timezone": "Europe/Moscow",
        "locale": locale,
        "accrual": { "rate_percent": "10" },
        "redemption": { "cap_percent": "50" },
        "expiry_months": 12,
        "pending_days": 0
    })
}

fn register(shop: &Shop, name: &str, phone: &str) -> u64 {
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": name, "phone": phone, "consents": { "sms": true },
                "at": "2025-01-05T09:00:00Z" }),
    );
    reply["customer"]["id"].as_u64().expect("id")
}

fn commit(shop: &Shop, customer: u64, order: &str, lines: Value, at: &str) {
    shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": customer }, "order_id": order, "lines": lines, "at": at }),
    );
}

fn complaint(shop: &Shop, order: &str, kind: &str, employee: &str, at: &str) {
    shop.ok(
        "feedback.add",
        json!({ "order_id": order, "rating": if kind == "complaint" { 2 } else { 5 },
                "kind": kind, "employee": employee, "text": "Звонок контроля качества",
                "at": at }),
    );
}

/// The history: three customers, one of them named like a script tag, four visits in
/// January, February and April 2025 (none in March), a campaign, three complaints.
///
/// By hand: January 45 000 + 12 345,50 = 57 345,50 (two new customers); February 8 000
/// (Иванов returns); April 100 000 (the third customer, new). Total 165 345,50 over four
/// visits; average check 41 336,375 → 41 336,38.
fn history(locale: &str) -> Shop {
    let shop = Shop::with_program("dashboard", program(locale));
    let ivanov = register(&shop, "Иванов Иван Сергеевич", "+79161110001");
    let smirnova = register(&shop, "Смирнова Ольга", "+79161110002");
    let script = register(&shop, "<script>alert(1)</script>", "+79161110003");
    commit(
        &shop,
        ivanov,
        "ЗН-1",
        json!([labor("30000"), part("15000")]),
        "2025-01-14T10:00:00Z",
    );
    commit(
        &shop,
        smirnova,
        "ЗН-2",
        json!([labor("12345.50")]),
        "2025-01-20T10:00:00Z",
    );
    commit(
        &shop,
        ivanov,
        "ЗН-3",
        json!([labor("8000")]),
        "2025-02-03T10:00:00Z",
    );
    let campaign = shop.ok(
        "campaign.create",
        json!({ "name": "Весна <script>", "period": { "from": "2025-04-01", "to": "2025-04-30" },
                "channel": "sms", "budget": "5000",
                "customers": [{ "id": script }, { "id": smirnova }],
                "offer": { "text": "Скидка на шиномонтаж" }, "at": "2025-03-25T10:00:00Z" }),
    );
    shop.ok(
        "campaign.notify",
        json!({ "campaign": campaign["id"], "at": "2025-04-01T07:00:00Z" }),
    );
    commit(
        &shop,
        script,
        "ЗН-4",
        json!([part("100000")]),
        "2025-04-10T10:00:00Z",
    );
    complaint(
        &shop,
        "ЗН-1",
        "complaint",
        "Кравцов Д.",
        "2025-01-15T10:00:00Z",
    );
    complaint(
        &shop,
        "ЗН-3",
        "complaint",
        "Кравцов Д.",
        "2025-02-04T10:00:00Z",
    );
    complaint(
        &shop,
        "ЗН-2",
        "complaint",
        "<b>Петров</b>",
        "2025-01-21T10:00:00Z",
    );
    complaint(
        &shop,
        "ЗН-4",
        "praise",
        "<b>Петров</b>",
        "2025-04-11T10:00:00Z",
    );
    shop
}

fn dashboard(shop: &Shop, args: Value) -> String {
    let result = shop.ok("report.dashboard", args);
    result["html"]
        .as_str()
        .expect("the page is a string")
        .to_string()
}

/// The part of the page inside `<figure data-chart="name">`.
fn chart<'a>(html: &'a str, name: &str) -> &'a str {
    let open = format!(r#"<figure class="chart" data-chart="{name}">"#);
    let start = html
        .find(&open)
        .unwrap_or_else(|| panic!("chart {name} is missing"));
    let end = html[start..].find("</figure>").expect("a closed figure") + start;
    &html[start..end]
}

/// Digits grouped the Russian way, written here independently of the core: a no-break
/// space between thousands from five digits on, a decimal comma.
fn russian(whole: u64, cents: u64) -> String {
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if digits.len() > 4 && i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(NBSP);
        }
        grouped.push(c);
    }
    format!("{grouped},{cents:02}{NBSP}₽")
}

#[test]
fn every_section_is_drawn_with_russian_figures() {
    let shop = history("ru-RU");
    let html = dashboard(&shop, json!({ "from": "2025-01-01", "to": "2025-04-30" }));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(r#"<html lang="ru">"#));
    for section in ["revenue", "customers", "points", "campaigns", "complaints"] {
        assert!(
            html.contains(&format!(r#"data-section="{section}""#)),
            "section {section}"
        );
        assert!(chart(&html, section).contains("<svg"), "chart {section}");
    }
    // One revenue bar per month that had revenue: January, February, April.
    assert_eq!(chart(&html, "revenue").matches(REVENUE_FILL).count(), 3);
    // The axis and the table speak Russian months.
    for month in ["янв", "фев", "апр"] {
        assert!(html.contains(&format!("{month}{NBSP}2025")), "{month}");
    }
    // Figures worked out by hand, written by this test's own formatter.
    let (january, total, average) = (
        russian(57_345, 50),
        russian(165_345, 50),
        russian(41_336, 38),
    );
    assert!(
        html.contains(&format!("<td>{january}</td>")),
        "january {january}"
    );
    assert!(html.contains(&format!("<td>{total}</td>")), "total {total}");
    assert!(
        html.contains(&format!("<td>{average}</td>")),
        "average {average}"
    );
    assert!(
        html.contains(&format!("<td>{}</td>", russian(8000, 0))),
        "no grouping at 4 digits"
    );
    // Points: 10 % of each line, floored to whole points; none spent, so all of them are
    // the liability at 1 ₽ a point.
    let lines_kopecks = [3_000_000_u64, 1_500_000, 1_234_550, 800_000, 10_000_000];
    let issued: u64 = lines_kopecks.iter().map(|k| k * 10 / 100 / 100).sum();
    let issued_text = russian(issued, 0);
    let issued_points = issued_text.trim_end_matches(&format!(",00{NBSP}₽")[..]);
    assert!(
        html.contains(&format!("<td>{issued_points}</td>")),
        "points issued {issued_points}"
    );
    assert!(
        html.contains(&format!("<td>{issued_text}</td>")),
        "liability {issued_text}"
    );
    // The header names the period in Russian dates.
    assert!(html.contains("01.01.2025 — 30.04.2025"));
    assert!(html.contains("Выручка и визиты по месяцам"));
}

#[test]
fn names_from_the_store_are_escaped() {
    let shop = history("ru");
    let html = dashboard(&shop, json!({ "from": "2025-01-01", "to": "2025-04-30" }));
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "a raw script tag in the page");
    assert!(!lower.contains("<b>"), "a raw tag from an employee's name");
    // The campaign and the employee are in the tables, escaped, and on the charts
    // (plotters escapes its SVG text).
    assert!(html.contains("<td>Весна &lt;script&gt;</td>"));
    assert!(html.contains("<td>&lt;b&gt;Петров&lt;/b&gt;</td>"));
    assert!(chart(&html, "complaints").contains("&lt;b&gt;Петров&lt;/b&gt;"));
    assert!(html.contains("<title>Панель владельца — Автосервис «Колесо» &amp; партнёры</title>"));
    // Complaints by employee: Кравцов two, Петров one of two feedback.
    let row = |name: &str, complaints: u64, feedback: u64| {
        format!("<tr><td>{name}</td><td>{complaints}</td><td>{feedback}</td>")
    };
    assert!(html.contains(&row("Кравцов Д.", 2, 2)));
    assert!(html.contains(&row("&lt;b&gt;Петров&lt;/b&gt;", 1, 2)));
}

#[test]
fn an_english_programme_gets_english_labels_and_numbers() {
    let shop = history("en");
    let html = dashboard(&shop, json!({ "from": "2025-01-01", "to": "2025-04-30" }));
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains("Revenue and visits by month"));
    assert!(html.contains(&format!("<td>165,345.50{NBSP}₽</td>")));
    assert!(html.contains(&format!("Jan{NBSP}2025")));
    assert!(html.contains("2025-01-01 — 2025-04-30"));
    assert!(!html.contains("Выручка"));
}

#[test]
fn an_empty_period_says_so_instead_of_drawing() {
    let shop = history("ru");
    let html = dashboard(&shop, json!({ "from": "2023-01-01", "to": "2023-12-31" }));
    for section in ["revenue", "customers", "campaigns", "complaints"] {
        assert!(html.contains(&format!(r#"data-section="{section}""#)));
        assert!(
            !html.contains(&format!(r#"data-chart="{section}""#)),
            "{section} drawn without data"
        );
    }
    assert!(html.matches("Нет данных за период").count() >= 4);
    // The points are the group's now, whatever the period.
    assert!(html.contains(r#"data-chart="points""#));
}

#[test]
fn the_default_period_is_the_last_twelve_months() {
    let shop = history("ru");
    let result = shop.ok("report.dashboard", json!({ "at": "2025-04-20T10:00:00Z" }));
    assert_eq!(result["from"], "2024-05-01");
    assert_eq!(result["to"], "2025-04-20");
    let html = result["html"].as_str().expect("html");
    assert!(html.contains("01.05.2024 — 20.04.2025"), "default period");
    assert_eq!(chart(html, "revenue").matches(REVENUE_FILL).count(), 3);
}

#[test]
fn bad_arguments_are_refused() {
    let shop = history("ru");
    let err = shop.err(
        "report.dashboard",
        json!({ "from": "2025-05-01", "to": "2025-04-01" }),
        ErrorCode::InvalidArgument,
    );
    assert!(err.message.starts_with("to:"), "{}", err.message);
    shop.err(
        "report.dashboard",
        json!({ "from": "2000-01-01", "to": "2025-04-01" }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "report.dashboard",
        json!({ "from": "2025-01-01", "html": true }),
        ErrorCode::InvalidArgument,
    );
}
