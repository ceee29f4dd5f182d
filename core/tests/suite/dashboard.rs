//! `report.dashboard`: the owner's page from a hand-built history whose figures are
//! worked out here by hand, checked in the HTML: every section with its chart, one bar per
//! month with revenue, the cohort triangle, the tier moves, the liability month by month
//! and what expires soon, the top customers in order, Russian numbers and money (no-break
//! spaces between thousands, a decimal comma), English ones under an English programme,
//! names from the store (a customer, an employee, a campaign, the shop itself) escaped,
//! an empty period, and the argument errors. Runs on PostgreSQL too (`make postgres-test`).

use crate::common;

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
        "pending_days": 0,
        "tiers": { "levels": [
            { "code": "base", "name": "Базовый" },
            { "code": "gold", "name": "Золото", "min_spend": "50000" }
        ] }
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
/// visits; average check 41 336,375 → 41 336,38. Gold takes 50 000 of spend: Иванов
/// reaches it in February (53 000), the third customer in April; Смирнова stays base.
/// Points (10 % a line, floored): 4 500 and 1 234 in January, 800 in February, 10 000 in
/// April, each for twelve months.
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
        if digits.len() > 4 && i > 0 && (digits.len() - i).is_multiple_of(3) {
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
    let sections = [
        "revenue",
        "customers",
        "cohorts",
        "tiers",
        "points",
        "campaigns",
        "complaints",
        "top-customers",
    ];
    for section in sections {
        assert!(
            html.contains(&format!(r#"data-section="{section}""#)),
            "section {section}"
        );
    }
    for chart_name in [
        "revenue",
        "customers",
        "cohorts",
        "tiers",
        "liability",
        "campaigns",
    ] {
        assert!(
            chart(&html, chart_name).contains("<svg"),
            "chart {chart_name}"
        );
    }
    // In order, as the issue lists them.
    let places: Vec<usize> = sections
        .iter()
        .map(|s| html.find(&format!(r#"data-section="{s}""#)).unwrap())
        .collect();
    assert!(places.windows(2).all(|w| w[0] < w[1]), "{places:?}");
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
    for section in [
        "revenue",
        "customers",
        "cohorts",
        "campaigns",
        "complaints",
        "top-customers",
    ] {
        assert!(html.contains(&format!(r#"data-section="{section}""#)));
        assert!(
            !html.contains(&format!(r#"data-chart="{section}""#)),
            "{section} drawn without data"
        );
    }
    assert!(html.matches("Нет данных за период").count() >= 6);
    // The tiers are the group's now, whatever the period.
    assert!(html.contains(r#"data-chart="tiers""#));
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

/// The page as of 1 December 2025, over January to April.
fn december_page(shop: &Shop) -> String {
    dashboard(
        shop,
        json!({ "from": "2025-01-01", "to": "2025-04-30", "at": "2025-12-01T09:00:00Z" }),
    )
}

/// `<tr><td>a</td><td>b</td>...` for a row that starts with these cells.
fn row_start(cells: &[&str]) -> String {
    let mut row = "<tr>".to_string();
    for cell in cells {
        row.push_str(&format!("<td>{cell}</td>"));
    }
    row
}

#[test]
fn cohorts_tiers_liability_and_top_customers() {
    let shop = history("ru");
    let html = december_page(&shop);
    for section in [
        "cohorts",
        "tiers",
        "tier-moves",
        "liability",
        "expiring",
        "top-customers",
    ] {
        assert!(chart(&html, section).contains("<svg"), "chart {section}");
    }
    let pct = |p: &str| format!("{p}{NBSP}%");
    // January's cohort: two customers, one of them back in February (50 %), nobody in
    // March or April; April's cohort is its only customer.
    let (hundred, half, none) = (pct("100,0"), pct("50,0"), pct("0,0"));
    let january = row_start(&[
        &format!("янв{NBSP}2025"),
        "2",
        &hundred,
        &half,
        &none,
        &none,
    ]);
    assert!(html.contains(&format!("{january}</tr>")), "{january}");
    let april = row_start(&[&format!("апр{NBSP}2025"), "1", &hundred]);
    assert!(html.contains(&format!("{april}</tr>")), "{april}");
    // Tiers now: two in gold, one in base. A customer has no tier until the first visit,
    // so the moves are: January, two from none to base; February, Иванов from base to
    // gold; April, the third customer from none straight to gold. All up, all by visits.
    assert!(html.contains(&format!("{}</tr>", row_start(&["Золото", "2"]))));
    assert!(html.contains(&format!("{}</tr>", row_start(&["Базовый", "1"]))));
    let moves = chart(&html, "tier-moves");
    assert_eq!(
        moves.matches(r##"fill="#2F9E6E""##).count(),
        3,
        "three months with moves up"
    );
    assert_eq!(
        moves.matches(r##"fill="#C83E3E""##).count(),
        0,
        "no move down"
    );
    let expected = [
        ("янв", "Без уровня", "Базовый", "2"),
        ("фев", "Базовый", "Золото", "1"),
        ("апр", "Без уровня", "Золото", "1"),
    ];
    for (month, from, to, count) in expected {
        let up = row_start(&[
            &format!("{month}{NBSP}2025"),
            from,
            to,
            "Вверх",
            "визит",
            count,
        ]);
        assert!(html.contains(&format!("{up}</tr>")), "{up}");
    }
    // The liability at each month's end, at 1 ₽ a point: March keeps February's.
    let liability: Vec<u64> = vec![4_500 + 1_234, 4_500 + 1_234 + 800, 6_534, 16_534];
    let mut at = html
        .find(r#"data-chart="liability""#)
        .expect("the liability chart");
    for (month, points) in ["янв", "фев", "мар", "апр"].iter().zip(&liability) {
        let row = format!("<tr><td>{month}{NBSP}2025</td>");
        let found = html[at..].find(&row).unwrap_or_else(|| panic!("{row}")) + at;
        let end = html[found..].find("</tr>").unwrap() + found;
        assert!(
            html[found..end].ends_with(&format!("<td>{}</td>", russian(*points, 0))),
            "{month}"
        );
        at = end;
    }
    assert_eq!(chart(&html, "liability").matches(REVENUE_FILL).count(), 4);
    // On 1 December 2025 nothing expires within 30 days; January's lots (5 734) within
    // 60, February's (800) too within 90; two customers hold them.
    for (within, points) in [("30", "0"), ("60", "5734"), ("90", "6534")] {
        let row = row_start(&[&format!("Сгорит за {within} дней"), points]);
        assert!(html.contains(&format!("{row}</tr>")), "{row}");
    }
    assert!(html.contains(&row_start(&[
        "Клиентов, у которых баллы сгорят за 90 дней",
        "2"
    ])));
    // The top customers by revenue, in order, the script-named one first and escaped.
    let script = "&lt;script&gt;alert(1)&lt;/script&gt;";
    let top = [
        row_start(&[script, "1", &russian(100_000, 0), "10.04.2025"]),
        row_start(&[
            "Иванов Иван Сергеевич",
            "2",
            &russian(53_000, 0),
            "03.02.2025",
        ]),
        row_start(&["Смирнова Ольга", "1", &russian(12_345, 50), "20.01.2025"]),
    ];
    let places: Vec<usize> = top
        .iter()
        .map(|row| html.find(row.as_str()).unwrap_or_else(|| panic!("{row}")))
        .collect();
    assert!(
        places.windows(2).all(|w| w[0] < w[1]),
        "by revenue: {places:?}"
    );
    assert!(chart(&html, "top-customers").contains(script));
}

#[test]
fn a_branch_filter_keeps_the_group_figures_and_says_so() {
    let shop = history("ru");
    let html = dashboard(
        &shop,
        json!({ "from": "2025-01-01", "to": "2025-04-30", "branch": "Химки" }),
    );
    // No visit was recorded at that branch: its own sections are empty, the group's are not.
    assert!(!html.contains(r#"data-chart="revenue""#));
    assert!(!html.contains(r#"data-chart="top-customers""#));
    assert!(html.contains(r#"data-chart="tiers""#));
    assert!(html.contains(r#"data-chart="liability""#));
    assert!(html.contains("Уровни, баллы и кампании — по всей сети"));
    assert!(html.contains("Филиал: Химки"));
}
