//! End-to-end tests of the engagement commands: `pitstop reminders` (table, CSV, JSON,
//! marking one id or a gateway's CSV), the customer card's engagement sections, and the
//! complaints, referrals and campaign reports as tables.

use crate::common;

use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Смирнов (SMS allowed) with a Skoda, and Петрова (no consent) with a Kia: both with
/// a visit two days before 15.04.2025, an arrived order, and an old declined
/// recommendation. Only Смирнов may be contacted.
fn shop_with_reminders(dir: &Path) -> PathBuf {
    let store = new_store(dir);
    for (name, phone, sms, plate, make, model) in [
        (
            "Смирнов Алексей Петрович",
            "8 916 555-12-34",
            true,
            "о777оо77",
            "Skoda",
            "Octavia",
        ),
        (
            "Петрова Анна Сергеевна",
            "8 903 111-22-33",
            false,
            "а123вс77",
            "Kia",
            "Rio",
        ),
    ] {
        let id = exec(
            &store,
            "customer.register",
            // Calls too: the quality call is a task for staff, due in the call channel.
            json!({"full_name": name, "phone": phone, "consents": {"sms": sms, "call": sms},
                "import": true, "at": "2025-03-01T09:00:00Z"}),
        )["customer"]["id"]
            .clone();
        exec(
            &store,
            "vehicle.add",
            json!({"customer": {"id": id}, "plate": plate, "make": make, "model": model,
                "year": 2017, "mileage": 98000, "at": "2025-03-01T09:05:00Z"}),
        );
        exec(
            &store,
            "recommendation.add",
            json!({"customer": {"id": id}, "vehicle": {"plate": plate},
                "work": "Замена передних тормозных колодок", "urgency": "critical",
                "price": "4200", "at": "2025-03-14T10:00:00Z"}),
        );
        exec(
            &store,
            "checkout.commit",
            json!({"customer": {"id": id}, "vehicle": {"plate": plate},
                "order_id": format!("ЗН-{plate}"), "advisor": "Кравцов Д.",
                "lines": [{"sku": "LAB-DIAG", "name": "Диагностика ходовой", "kind": "labor",
                    "qty": "1", "unit_price": "1200"}],
                "at": "2025-04-13T10:00:00Z"}),
        );
        let order = exec(
            &store,
            "order.create",
            json!({"customer": {"id": id}, "vehicle": {"plate": plate},
                "part": "Колодки TRW GDB1550", "qty": "1",
                "expected": "2025-04-14", "at": "2025-04-10T10:00:00Z"}),
        )["id"]
            .clone();
        exec(
            &store,
            "order.arrived",
            json!({"id": order, "at": "2025-04-14T08:00:00Z"}),
        );
    }
    store
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn reminders_as_a_table_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let store = shop_with_reminders(dir.path());
    let date = ["--date", "2025-04-15"];

    // JSON: every page, only the customer who agreed to be contacted.
    let out = ok(&[&["--json", "reminders", s(&store)][..], &date[..]].concat());
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["date"], "2025-04-15");
    assert_eq!(
        ids(&list["items"]),
        ["recommendation:1", "order_arrived:1", "quality_call:1"],
        "{list}"
    );
    for item in list["items"].as_array().unwrap() {
        assert_eq!(item["customer_name"], "Смирнов Алексей Петрович");
    }
    // `--format json` is the same document.
    let same = ok(&[&["reminders", s(&store), "--format", "json"][..], &date[..]].concat());
    assert_eq!(serde_json::from_str::<Value>(&same).unwrap(), list);

    // The table for a person: counts by kind, then one row each.
    let text = ok(&[&["reminders", s(&store)][..], &date[..]].concat());
    let mut lines = text.lines();
    // The example programme speaks Russian: «3 напоминания», kinds by name, dates.
    assert_eq!(lines.next(), Some("3 напоминания на 15.04.2025"));
    assert_eq!(
        lines.next(),
        Some("рекомендация 1, заказ прибыл 1, звонок о качестве 1")
    );
    assert_eq!(lines.next(), Some(""));
    let header = lines.next().unwrap();
    for column in [
        "id",
        "вид",
        "клиент",
        "телефон",
        "автомобиль",
        "срок",
        "текст",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let row = lines
        .find(|l| l.starts_with("order_arrived:1"))
        .unwrap_or_else(|| panic!("{text}"));
    for expected in [
        "заказ прибыл",
        "Смирнов Алексей Петрович",
        "+79165551234",
        "O777OO77",
        "14.04.2025",
        "Алексей, ваш заказ прибыл: Колодки TRW GDB1550, 1 шт.",
    ] {
        assert!(row.contains(expected), "{expected} in {row}");
    }
    assert!(!text.contains("Петрова"), "{text}");
    assert!(
        text.contains("мы рекомендовали для Skoda Octavia (O777OO77): Замена передних"),
        "{text}"
    );

    // Narrowed by kind.
    let text = ok(&[
        "reminders",
        s(&store),
        "--date",
        "2025-04-15",
        "--kind",
        "order_arrived",
        "--kind",
        "quality_call",
    ]);
    assert!(
        text.starts_with("2 напоминания на 15.04.2025\nзаказ прибыл 1, звонок о качестве 1\n"),
        "{text}"
    );
    // A channel nobody agreed to: nothing.
    let text = ok(&[
        "reminders",
        s(&store),
        "--date",
        "2025-04-15",
        "--channel",
        "email",
    ]);
    assert_eq!(text, "0 напоминаний на 15.04.2025\n");
    // A kind the contract does not know is the operation's error.
    let out = pitstop(&["reminders", s(&store), "--kind", "horoscope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error[invalid_argument]"),
        "{}",
        stderr(&out)
    );

    // CSV for an SMS gateway: a header and one row per reminder, text quoted as needed.
    let csv_text = ok(&[&["reminders", s(&store), "--format", "csv"][..], &date[..]].concat());
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        [
            "id",
            "kind",
            "customer",
            "customer_name",
            "phone",
            "email",
            "plate",
            "due_on",
            "channels",
            "failed_attempts",
            "text"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let arrived = &rows[1];
    assert_eq!(&arrived[0], "order_arrived:1");
    assert_eq!(&arrived[2], "1");
    assert_eq!(&arrived[4], "+79165551234");
    assert_eq!(&arrived[6], "O777OO77");
    assert_eq!(&arrived[7], "2025-04-14");
    assert_eq!(&arrived[8], "sms");
    assert_eq!(&arrived[9], "0");
    assert!(arrived[10].contains("Колодки TRW GDB1550, 1 шт."));
}

#[test]
fn marking_reminders_one_by_one_and_from_a_gateway_report() {
    let dir = tempfile::tempdir().unwrap();
    let store = shop_with_reminders(dir.path());
    let due = |store: &Path| -> Vec<String> {
        let out = ok(&["--json", "reminders", s(store), "--date", "2025-04-15"]);
        ids(&serde_json::from_str::<Value>(&out).unwrap()["items"])
    };
    // One id.
    let text = ok(&[
        "reminders",
        s(&store),
        "mark",
        "order_arrived:1",
        "--status",
        "sent",
        "--channel",
        "sms",
    ]);
    assert_eq!(text, "order_arrived:1: отмечено «отправлено» (SMS)\n");
    assert_eq!(due(&store), ["recommendation:1", "quality_call:1"]);
    // Again with the same status: harmless; with another: refused with the code.
    ok(&[
        "reminders",
        s(&store),
        "mark",
        "order_arrived:1",
        "--channel",
        "sms",
    ]);
    let out = pitstop(&[
        "reminders",
        s(&store),
        "mark",
        "order_arrived:1",
        "--status",
        "declined",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error[already_exists]"),
        "{}",
        stderr(&out)
    );
    // Nothing named.
    let out = pitstop(&["reminders", s(&store), "mark"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("invalid_argument"));

    // A gateway's delivery report: `;` separated, a status per row, one bad id.
    let report = dir.path().join("delivery.csv");
    std::fs::write(
        &report,
        "id;status;channel\nrecommendation:1;failed;sms\nquality_call:1;sent;call\nnonsense;sent;sms\n",
    )
    .unwrap();
    let out = pitstop(&["reminders", s(&store), "mark", "--file", s(&report)]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.ends_with("отмечено: 2, с ошибкой: 1\n"), "{text}");
    let bad = text.lines().find(|l| l.contains("nonsense")).unwrap();
    let cells: Vec<&str> = bad.split_whitespace().collect();
    assert_eq!(
        cells[..4],
        ["4", "nonsense", "ошибка", "invalid_argument"],
        "{text}"
    );
    // The failed one stays due and says so; the sent one is gone.
    let out = ok(&[
        "reminders",
        s(&store),
        "--date",
        "2025-04-15",
        "--format",
        "csv",
    ]);
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(out.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], "recommendation:1");
    assert_eq!(&rows[0][9], "1");

    // The list as written, fed back: every row marked with the options' status.
    let list = dir.path().join("today.csv");
    std::fs::write(&list, &out).unwrap();
    let out = pitstop(&[
        "--json",
        "reminders",
        s(&store),
        "mark",
        "--file",
        s(&list),
        "--status",
        "declined",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let result = json_out(&out);
    assert_eq!(result["marked"], 1);
    assert_eq!(result["results"][0]["outcome"], "declined");
    assert_eq!(result["results"][0]["row"], 2);
    assert!(due(&store).is_empty());
    // Fed twice: nothing changes, nothing fails.
    let out = pitstop(&[
        "reminders",
        s(&store),
        "mark",
        "--file",
        s(&list),
        "--status",
        "declined",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // A file without an id column.
    let junk = dir.path().join("junk.csv");
    std::fs::write(&junk, "phone,text\n+79165551234,hi\n").unwrap();
    let out = pitstop(&["reminders", s(&store), "mark", "--file", s(&junk)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no `id` column"), "{}", stderr(&out));
}

#[test]
fn customer_card_shows_recommendations_storage_orders_and_reminders() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    // Today (no `at`): the order arrives today, so it is due today.
    exec(
        &store,
        "customer.register",
        json!({"full_name": "Смирнов Алексей Петрович", "phone": "8 916 555-12-34",
            "consents": {"sms": true}, "card": "2000000000015"}),
    );
    exec(
        &store,
        "vehicle.add",
        json!({"customer": {"card": "2000000000015"}, "plate": "о777оо77", "make": "Skoda",
            "model": "Octavia", "year": 2017, "mileage": 98000}),
    );
    exec(
        &store,
        "checkout.commit",
        json!({"customer": {"card": "2000000000015"}, "vehicle": {"plate": "O777OO77"},
            "order_id": "ЗН-1", "advisor": "Кравцов Д.",
            "lines": [{"sku": "TO-2", "name": "ТО-2", "kind": "labor", "qty": "1",
                "unit_price": "4500"}]}),
    );
    exec(
        &store,
        "recommendation.add",
        json!({"order_id": "ЗН-1", "work": "Замена передних тормозных колодок",
            "urgency": "critical", "price": "4200"}),
    );
    exec(
        &store,
        "storage.checkin",
        json!({"customer": {"plate": "O777OO77"}, "vehicle": {"plate": "O777OO77"},
            "items": ["Nokian Hakkapeliitta 9 205/55 R16 ×4", "диски литые ×4"],
            "location": "Стеллаж 3, полка 2", "season": "winter"}),
    );
    exec(
        &store,
        "order.create",
        json!({"customer": {"plate": "O777OO77"}, "part": "Колодки TRW GDB1550", "qty": "1"}),
    );
    exec(&store, "order.arrived", json!({"id": 1}));
    // Another customer's order arrives today too: not on this card.
    exec(
        &store,
        "customer.register",
        json!({"full_name": "Петрова Ольга", "phone": "+7 916 555-00-01",
            "consents": {"sms": true}}),
    );
    exec(
        &store,
        "order.create",
        json!({"customer": {"phone": "+79165550001"}, "part": "Фильтр салона", "qty": "1"}),
    );
    exec(&store, "order.arrived", json!({"id": 2}));
    let theirs = ok(&["--json", "customer", s(&store), "+79165550001"]);
    let theirs: Value = serde_json::from_str(&theirs).unwrap();
    assert_eq!(ids(&theirs["due_reminders"]), ["order_arrived:2"]);

    let card = ok(&["customer", s(&store), "2000000000015"]);
    let section = |title: &str| -> Vec<String> {
        let mut lines = card.lines().skip_while(|l| *l != title);
        assert_eq!(lines.next(), Some(title), "{card}");
        lines
            .take_while(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    let recommendations = section("Открытые рекомендации");
    assert!(recommendations[0].starts_with("работа "), "{card}");
    let row = &recommendations[1];
    for expected in [
        "Замена передних тормозных колодок",
        "срочно",
        "4200,00\u{a0}₽",
        "O777OO77",
        "Кравцов Д.",
    ] {
        assert!(row.contains(expected), "{expected} in {row}");
    }
    let storage = section("Шины на хранении");
    assert!(
        storage[1].starts_with("зимние  Nokian Hakkapeliitta 9 205/55 R16 ×4, диски литые ×4"),
        "{card}"
    );
    assert!(storage[1].contains("Стеллаж 3, полка 2"), "{card}");
    assert!(storage[1].ends_with("O777OO77"), "{card}");
    let orders = section("Заказные запчасти");
    assert!(
        orders[1].starts_with("Колодки TRW GDB1550")
            && orders[1].split("  ").filter(|c| !c.is_empty()).nth(2) == Some("прибыло"),
        "{card}"
    );
    let reminders = section("Напоминания на сегодня");
    assert_eq!(reminders.len(), 2, "{card}");
    assert!(
        reminders[1].starts_with("order_arrived:1  заказ прибыл"),
        "{card}"
    );
    let cells: Vec<&str> = reminders[1].split("  ").filter(|c| !c.is_empty()).collect();
    assert_eq!(cells[3].trim(), "SMS", "{card}");
    assert!(
        cells[4]
            .trim()
            .starts_with("Алексей, ваш заказ прибыл: Колодки TRW GDB1550")
    );

    // JSON: the card with the customer's due reminders.
    let out = ok(&["--json", "customer", s(&store), "O777OO77"]);
    let view: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        view["open_recommendations"][0]["work"],
        "Замена передних тормозных колодок"
    );
    assert_eq!(view["tyre_storage"][0]["location"], "Стеллаж 3, полка 2");
    assert_eq!(view["special_orders"][0]["status"], "arrived");
    assert_eq!(ids(&view["due_reminders"]), ["order_arrived:1"]);

    // Once handed over and closed, the sections go.
    exec(&store, "order.handed_over", json!({"id": 1}));
    exec(
        &store,
        "recommendation.close",
        json!({"id": 1, "outcome": "done_elsewhere"}),
    );
    exec(&store, "storage.checkout", json!({"id": 1}));
    let card = ok(&["customer", s(&store), "2000000000015"]);
    for title in [
        "Open recommendations",
        "Tyres in storage",
        "Special orders",
        "Reminders due today",
    ] {
        assert!(!card.contains(title), "{title} in {card}");
    }
}

#[test]
fn complaints_referrals_and_campaign_reports_as_tables() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    exec(
        &store,
        "customer.register",
        json!({"full_name": "Смирнов Алексей Петрович", "phone": "8 916 555-12-34",
            "consents": {"sms": true}, "at": "2025-03-01T09:00:00Z"}),
    );
    let code = exec(
        &store,
        "referral.code",
        json!({"customer": {"phone": "+79165551234"}}),
    )["code"]
        .as_str()
        .unwrap()
        .to_string();
    exec(
        &store,
        "customer.register",
        json!({"full_name": "Кузнецова Мария Игоревна", "phone": "+7 903 555-01-02",
            "consents": {"sms": true}, "referral_code": code, "at": "2025-03-20T09:00:00Z"}),
    );
    exec(
        &store,
        "checkout.commit",
        json!({"customer": {"phone": "+79035550102"}, "order_id": "ЗН-200",
            "advisor": "Кравцов Д.",
            "lines": [{"sku": "TO-1", "name": "ТО-1", "kind": "labor", "qty": "1",
                "unit_price": "3500"}],
            "at": "2025-03-21T10:00:00Z"}),
    );
    exec(
        &store,
        "feedback.add",
        json!({"order_id": "ЗН-200", "rating": 2, "kind": "complaint",
            "text": "Долго ждал, машину не помыли", "source": "call",
            "at": "2025-03-23T12:00:00Z"}),
    );
    exec(
        &store,
        "feedback.add",
        json!({"customer": {"phone": "+79165551234"}, "rating": 5, "kind": "praise",
            "employee": "Садыков Р.", "text": "Спасибо!", "at": "2025-04-02T12:00:00Z"}),
    );

    // Complaints: totals, by employee, by month, the latest.
    let text = ok(&[
        "report",
        s(&store),
        "complaints",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
    ]);
    assert!(
        text.starts_with("период  01.01.2025 – 31.12.2025\nжалобы  1\n"),
        "{text}"
    );
    let by_employee: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "По сотрудникам")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(by_employee[0].starts_with("сотрудник"), "{text}");
    let row = |name: &str| {
        by_employee
            .iter()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .split_whitespace()
            .skip(2)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(row("Кравцов Д.")[..3], ["1", "1", "2"], "{text}");
    assert_eq!(row("Садыков Р.")[..3], ["0", "1", "5"], "{text}");
    assert!(text.contains("\nПо месяцам\n"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("03.2025") && l.contains(" 1 ")),
        "{text}"
    );
    let latest = text.split("Последние жалобы\n").nth(1).unwrap();
    assert!(
        latest.lines().nth(1).unwrap().starts_with("23.03.2025"),
        "{text}"
    );
    assert!(latest.contains("Кравцов Д.") && latest.contains("Долго ждал, машину не помыли"));
    // Who to call back: the customer's name and phone.
    let row = latest.lines().nth(1).unwrap();
    assert!(
        row.contains("Кузнецова Мария Игоревна") && row.contains("+79035550102"),
        "{row}"
    );
    assert!(
        latest.lines().next().unwrap().contains("телефон"),
        "{latest}"
    );
    let out = pitstop(&[
        "--json",
        "report",
        s(&store),
        "complaints",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
    ]);
    assert_eq!(json_out(&out)["complaints"], 1);

    // Referrals: who brought whom, rewards, the referee's revenue, totals.
    let text = ok(&["report", s(&store), "referrals"]);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("пригласил  "), "{text}");
    let row = lines.next().unwrap();
    assert!(
        row.starts_with(
            "Смирнов Алексей Петрович  Кузнецова Мария Игоревна  20.03.2025  начислена"
        ),
        "{text}"
    );
    assert!(
        row.contains("500") && row.contains("300") && row.ends_with("3500,00\u{a0}₽"),
        "{row}"
    );
    // One referee: the singular, not "1 referees"; money with its sign.
    assert_eq!(
        lines.next().unwrap(),
        "1 реферал, награждено: 1, начислено: 905, выручка: 3500,00\u{a0}₽"
    );
    let by_referrer = ok(&[
        "report",
        s(&store),
        "referrals",
        "--referrer",
        "+79165551234",
    ]);
    assert_eq!(by_referrer, text);
    let nobody = ok(&[
        "report",
        s(&store),
        "referrals",
        "--referrer",
        "+79035550102",
    ]);
    assert!(nobody.contains("0 рефералов, награждено: 0"), "{nobody}");
    let out = pitstop(&["report", s(&store), "referrals", "--referrer", "Сидоров"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not_found"));

    // A campaign to everyone with SMS consent; one of two came.
    exec(
        &store,
        "segment.save",
        json!({"name": "SMS", "filter": {"consent": "sms"}}),
    );
    exec(
        &store,
        "campaign.create",
        json!({"name": "Весенний шиномонтаж", "period": {"from": "2025-04-01", "to": "2025-04-30"},
            "channel": "sms", "budget": "5000", "segment": "SMS",
            "offer": {"text": "Шиномонтаж со скидкой 15 %", "points": "100"},
            "at": "2025-03-25T10:00:00Z"}),
    );
    let notified = exec(
        &store,
        "campaign.notify",
        json!({"campaign": 1, "at": "2025-04-01T07:00:00Z"}),
    );
    assert_eq!(notified["notified"], json!([1, 2]));
    exec(
        &store,
        "checkout.commit",
        json!({"customer": {"phone": "+79165551234"}, "order_id": "ЗН-300",
            "lines": [{"sku": "TYRE-FIT", "name": "Шиномонтаж", "kind": "labor", "qty": "1",
                "unit_price": "2400"}],
            "at": "2025-04-10T10:00:00Z"}),
    );
    let text = ok(&["report", s(&store), "campaign", "1"]);
    let value = |label: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(label).filter(|rest| rest.starts_with("  ")))
            .map(|rest| rest.trim().to_string())
            .unwrap_or_else(|| panic!("{label} in\n{text}"))
    };
    assert_eq!(value("кампания"), "#1 «Весенний шиномонтаж»");
    assert_eq!(value("период"), "01.04.2025 – 30.04.2025");
    assert_eq!(value("канал"), "SMS, сегмент «SMS»");
    assert_eq!(value("предложение"), "Шиномонтаж со скидкой 15 %");
    assert_eq!(value("уведомлено"), "2");
    assert_eq!(value("визиты"), "1");
    assert_eq!(value("выручка"), "2400,00\u{a0}₽");
    assert_eq!(value("бюджет"), "5000,00\u{a0}₽");
    assert!(value("стоимость клиента").starts_with("5000"), "{text}");
    assert_eq!(value("баллов выдано"), "200");
    assert!(value("пришли").starts_with("1 (50"), "{text}");
    // By name, in any case: the same report.
    assert_eq!(
        ok(&["report", s(&store), "campaign", "весенний ШИНОМОНТАЖ"]),
        text
    );
    let out = pitstop(&["report", s(&store), "campaign", "9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not_found"));
    assert!(stderr(&out).contains("campaign 9"), "{}", stderr(&out));
    let out = pitstop(&["report", s(&store), "campaign", "Летний"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not_found"));
    assert!(stderr(&out).contains("Летний"), "{}", stderr(&out));
    // A campaign named with digits is found by its name when no id matches.
    exec(
        &store,
        "campaign.create",
        json!({"name": "2026", "period": {"from": "2026-01-01", "to": "2026-01-31"},
            "channel": "sms", "customers": [{"phone": "+79165551234"}],
            "offer": {"text": "С Новым годом"}, "at": "2025-03-25T10:00:00Z"}),
    );
    let text = ok(&["report", s(&store), "campaign", "2026"]);
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.starts_with("кампания ") && l.ends_with(" #2 «2026»")),
        "{text}"
    );
}
