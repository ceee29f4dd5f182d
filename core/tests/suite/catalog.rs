//! Service names that mean the same (`catalog.duplicates`, `catalog.alias`,
//! `catalog.aliases`, `catalog.unalias`), and the reminders and `report.services`
//! treating confirmed names as one service. The names are the kind a migrated shop's
//! work orders carry; which of them are one service is written down by hand below, and
//! every expectation is computed from that list, not from the code under test.

use crate::common;

use common::{Shop, simple_program};
use pitstop_core::ErrorCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

fn at(date: &str) -> String {
    format!("{date}T09:00:00Z")
}

/// Names a person reading a work order would call one service, group by group.
const SAME: &[&[&str]] = &[
    &[
        "Замена масла в двигателе",
        "Замена моторного масла",
        "Масло моторное замена",
        "Масло в двигателе — замена",
        "ЗАМЕНА МАСЛА ДВС",
        "Зам. масла двиг.",
        "замена масла ДВС.",
        "Замена масла в моторе",
    ],
    &[
        "Замена масла в АКПП",
        "Замена масла АКПП",
        "АКПП замена масла",
    ],
    &["Замена масла в МКПП", "Масло МКПП — замена"],
    &[
        "Замена передних колодок",
        "Замена колодок передних",
        "Пер. колодки — замена",
        "замена передних колодок",
    ],
    &[
        "Замена задних колодок",
        "Замена колодок задних",
        "Зад. колодки замена",
    ],
    &[
        "Компьютерная диагностика",
        "Диагностика компьютерная",
        "Комп. диагностика",
        "Диагност. компьютерная",
    ],
    &[
        "Техническое обслуживание",
        "ТО",
        "Тех. обслуживание",
        "Т.О.",
    ],
    &[
        "Развал-схождение",
        "Схождение развал",
        "Сход-развал",
        "развал схождение",
    ],
    &[
        "Балансировка колес",
        "Балансировка колёс",
        "Колеса балансировка",
        "Балансирвка колес",
    ],
    &[
        "Комплект ГРМ замена",
        "Замена к-та ГРМ",
        "Замена комплекта ГРМ",
    ],
    &[
        "Заправка кондиционера",
        "Кондиционер заправка",
        "Заправка конд.",
    ],
    &[
        "Замена салонного фильтра",
        "Салонный фильтр замена",
        "Замена фильтра салонного",
    ],
    &[
        "Замена антифриза",
        "Замена охлаждающей жидкости",
        "Замена ОЖ",
    ],
];

/// Names that look close to a group above (or to each other) but are other services.
const APART: &[&str] = &[
    "Замена масла",
    "Замена масла в редукторе",
    "Замена воздушного фильтра",
    "Замена топливного фильтра",
    "ТО-1",
    "ТО-2",
    "Замена тормозной жидкости",
    "Диагностика ходовой",
    "Замена передних амортизаторов",
    "Замена задних амортизаторов",
    "Шиномонтаж R15",
    "Шиномонтаж R16",
    "Замена свечей зажигания",
    "Масло моторное 5W-30 4л",
];

/// How many visit lines carry a name: 1 to 4, varied so the groups have clear leaders
/// and ties.
fn uses(i: usize) -> u64 {
    [3, 1, 2, 1, 4, 2][i % 6]
}

fn every_name() -> Vec<&'static str> {
    SAME.iter()
        .flat_map(|g| g.iter().copied())
        .chain(APART.iter().copied())
        .collect()
}

/// A customer with a car; returns (customer, vehicle).
fn driver(shop: &Shop, name: &str, phone: &str, plate: &str) -> (u64, u64) {
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": name, "phone": phone, "consents": { "sms": true },
                "at": at("2024-01-10") }),
    );
    let customer = reply["customer"]["id"].as_u64().unwrap();
    let car = shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": customer }, "plate": plate, "make": "Lada",
                "model": "Vesta", "year": 2019, "at": at("2024-01-10") }),
    );
    (customer, car["id"].as_u64().unwrap())
}

fn line(sku: &str, name: &str, price: &str) -> Value {
    json!({ "sku": sku, "name": name, "kind": "labor", "qty": "1", "unit_price": price })
}

/// Every name of the lists on visit lines, `uses(i)` times each, spread over visits of
/// three cars in 2024 (a few lines per visit).
fn history(shop: &Shop) {
    let cars = [
        driver(shop, "Соколов Андрей", "+79161230001", "А123ВС77"),
        driver(shop, "Лебедева Мария", "+79161230002", "В456ОР77"),
        driver(shop, "Козлов Дмитрий", "+79161230003", "Е789КХ199"),
    ];
    let mut lines: Vec<Value> = Vec::new();
    for (i, name) in every_name().into_iter().enumerate() {
        for _ in 0..uses(i) {
            lines.push(line(&format!("W-{i}"), name, "1000"));
        }
    }
    for (n, chunk) in lines.chunks(5).enumerate() {
        let (customer, car) = cars[n % 3];
        let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 15).unwrap()
            + chrono::Duration::days(n as i64 * 3);
        shop.ok(
            "checkout.commit",
            json!({ "customer": { "id": customer }, "vehicle": { "id": car },
                    "lines": chunk, "order_id": format!("ЗН-{n}"),
                    "at": at(&day.to_string()) }),
        );
    }
}

/// The groups of a `catalog.duplicates` answer, as sets of names.
fn groups_of(reply: &Value) -> BTreeSet<BTreeSet<String>> {
    reply["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row["names"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["name"].as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

/// Asserts two sets of groups are equal, naming the groups only one side has.
fn assert_groups(found: &BTreeSet<BTreeSet<String>>, expected: &BTreeSet<BTreeSet<String>>) {
    let extra: Vec<_> = found.difference(expected).collect();
    let missing: Vec<_> = expected.difference(found).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "proposed but not expected: {extra:?}\nexpected but not proposed: {missing:?}"
    );
}

fn expected_groups(groups: &[&[&str]]) -> BTreeSet<BTreeSet<String>> {
    groups
        .iter()
        .map(|g| g.iter().map(|n| n.to_string()).collect())
        .collect()
}

/// The lines of each name, as `history` wrote them.
fn line_counts() -> BTreeMap<&'static str, u64> {
    every_name()
        .into_iter()
        .enumerate()
        .map(|(i, name)| (name, uses(i)))
        .collect()
}

#[test]
fn duplicates_find_every_known_group_and_nothing_else() {
    let shop = Shop::with_program("catalog-groups", simple_program());
    history(&shop);
    let all = every_name();
    let reply = shop.ok(
        "catalog.duplicates",
        json!({ "from": "2024-01-01", "to": "2024-12-31", "limit": 1000, "at": at("2025-01-10") }),
    );
    assert_eq!(reply["names"], all.len() as u64, "every distinct name seen");
    assert_groups(&groups_of(&reply), &expected_groups(SAME));
    assert_eq!(reply["groups"], SAME.len() as u64);
    let counts = line_counts();
    let mut previous = u64::MAX;
    for row in reply["rows"].as_array().unwrap() {
        let names: Vec<&str> = row["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap())
            .collect();
        for n in row["names"].as_array().unwrap() {
            assert_eq!(n["lines"], counts[n["name"].as_str().unwrap()], "{n}");
            assert_eq!(n["service"], Value::Null);
        }
        let total: u64 = names.iter().map(|n| counts[n]).sum();
        assert_eq!(row["lines"], total);
        assert!(total <= previous, "the most used groups first");
        previous = total;
        // The proposal: the most used name; on a tie the one without abbreviation dots,
        // not in capitals only, the longest, then the first in order.
        let mut ranked = names.clone();
        ranked.sort_by_key(|n| {
            (
                std::cmp::Reverse(counts[n]),
                n.contains('.'),
                n.to_uppercase() == *n,
                std::cmp::Reverse(n.chars().count()),
                n.to_string(),
            )
        });
        assert_eq!(row["proposed"], ranked[0], "{row}");
    }
    // A period with none of the visits proposes nothing; limit bounds the rows.
    let empty = shop.ok(
        "catalog.duplicates",
        json!({ "from": "2023-01-01", "to": "2023-12-31", "at": at("2025-01-10") }),
    );
    assert_eq!(empty["names"], 0);
    assert_eq!(empty["rows"], json!([]));
    let two = shop.ok(
        "catalog.duplicates",
        json!({ "from": "2024-01-01", "to": "2024-12-31", "limit": 2, "at": at("2025-01-10") }),
    );
    assert_eq!(two["rows"].as_array().unwrap().len(), 2);
    assert_eq!(two["groups"], SAME.len() as u64);
    for (args, code) in [
        (json!({ "limit": 0 }), ErrorCode::InvalidArgument),
        (json!({ "limit": 1001 }), ErrorCode::InvalidArgument),
        (
            json!({ "from": "2024-02-01", "to": "2024-01-01" }),
            ErrorCode::InvalidArgument,
        ),
        (
            json!({ "from": "2000-01-01", "to": "2024-01-01" }),
            ErrorCode::InvalidArgument,
        ),
        (json!({ "to": "0000-12-31" }), ErrorCode::InvalidArgument),
    ] {
        shop.err("catalog.duplicates", args, code);
    }
}

#[test]
fn confirmed_names_are_not_proposed_again() {
    let shop = Shop::with_program("catalog-confirmed", simple_program());
    history(&shop);
    let period = json!({ "from": "2024-01-01", "to": "2024-12-31", "limit": 1000,
                         "at": at("2025-01-10") });
    // The whole engine-oil group confirmed: it is no longer proposed.
    let oil = SAME[0];
    let group = shop.ok(
        "catalog.alias",
        json!({ "name": oil[0], "aliases": &oil[1..] }),
    );
    assert_eq!(group["name"], oil[0]);
    assert_eq!(group["aliases"], json!(&oil[1..]));
    let after = shop.ok("catalog.duplicates", period.clone());
    assert_groups(&groups_of(&after), &expected_groups(&SAME[1..]));
    // Part of the front-pads group confirmed: the group stays proposed, under the
    // confirmed service's name, with the confirmed names marked.
    let pads = SAME[3];
    shop.ok(
        "catalog.alias",
        json!({ "name": "Замена передних тормозных колодок", "aliases": [pads[1], pads[2]] }),
    );
    let after = shop.ok("catalog.duplicates", period.clone());
    assert_groups(&groups_of(&after), &expected_groups(&SAME[1..]));
    let pads_set = expected_groups(&[pads]).into_iter().next().unwrap();
    let row = after["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| groups_of(&json!({ "rows": [r] })).contains(&pads_set))
        .unwrap()
        .clone();
    assert_eq!(row["proposed"], "Замена передних тормозных колодок");
    for n in row["names"].as_array().unwrap() {
        let confirmed = n["name"] == pads[1] || n["name"] == pads[2];
        assert_eq!(
            n["service"],
            if confirmed {
                json!("Замена передних тормозных колодок")
            } else {
                Value::Null
            },
            "{n}"
        );
    }
    // The rest confirmed (one of them differs from a confirmed name only in case, and
    // resolves already): the group goes.
    shop.ok(
        "catalog.alias",
        json!({ "name": "Замена передних тормозных колодок", "aliases": [pads[0]] }),
    );
    let after = shop.ok("catalog.duplicates", period);
    let mut rest: Vec<&[&str]> = SAME[1..].to_vec();
    rest.retain(|g| g[0] != pads[0]);
    assert_groups(&groups_of(&after), &expected_groups(&rest));
}

#[test]
fn aliases_are_validated_listed_and_undone() {
    let shop = Shop::with_program("catalog-aliases", simple_program());
    let oil = "Замена масла в двигателе";
    shop.ok(
        "catalog.alias",
        json!({ "name": oil, "aliases": ["Масло моторное замена", "Масло ДВС — замена"],
                "at": at("2025-02-01") }),
    );
    // Confirming again what is confirmed changes nothing.
    let again = shop.ok(
        "catalog.alias",
        json!({ "name": oil, "aliases": ["масло моторное ЗАМЕНА"] }),
    );
    assert_eq!(
        again["aliases"],
        json!(["Масло моторное замена", "Масло ДВС — замена"])
    );
    // A name belongs to one service.
    let taken = shop.err(
        "catalog.alias",
        json!({ "name": "Замена масла ДВС", "aliases": ["Масло моторное замена"] }),
        ErrorCode::AlreadyExists,
    );
    assert!(taken.message.contains(oil), "{}", taken.message);
    // No chains: an alias takes no aliases, a service with aliases is no alias.
    let chained = shop.err(
        "catalog.alias",
        json!({ "name": "Масло ДВС — замена", "aliases": ["Замена масла ДВС"] }),
        ErrorCode::InvalidArgument,
    );
    assert!(chained.message.contains(oil), "{}", chained.message);
    shop.err(
        "catalog.alias",
        json!({ "name": "Замена масла ДВС", "aliases": [oil] }),
        ErrorCode::InvalidArgument,
    );
    // Lists and lengths.
    shop.err(
        "catalog.alias",
        json!({ "name": "Шиномонтаж", "aliases": [] }),
        ErrorCode::InvalidArgument,
    );
    let many: Vec<String> = (0..51).map(|i| format!("Шиномонтаж вариант {i}")).collect();
    shop.err(
        "catalog.alias",
        json!({ "name": "Шиномонтаж", "aliases": many }),
        ErrorCode::TooLarge,
    );
    shop.err(
        "catalog.alias",
        json!({ "name": "Шиномонтаж", "aliases": ["шиномонтаж "] }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "catalog.alias",
        json!({ "name": "Шиномонтаж", "aliases": ["Шиномонтаж R15", "ШИНОМОНТАЖ R15"] }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "catalog.alias",
        json!({ "name": "Ш".repeat(201), "aliases": ["Шиномонтаж R15"] }),
        ErrorCode::TooLarge,
    );
    shop.err(
        "catalog.alias",
        json!({ "name": "  ", "aliases": ["Шиномонтаж R15"] }),
        ErrorCode::InvalidArgument,
    );
    // A failed request changed nothing.
    let listed = shop.ok("catalog.aliases", json!({}));
    assert_eq!(listed["groups"].as_array().unwrap().len(), 1, "{listed}");
    // A service grows to at most 100 names.
    for batch in 0..2 {
        let names: Vec<String> = (0..50)
            .map(|i| format!("Шиномонтаж колеса {}", batch * 50 + i))
            .collect();
        let reply = shop.engine().execute(
            "catalog.alias",
            json!({ "name": "Шиномонтаж", "aliases": names }),
        );
        match batch {
            0 => assert!(reply.is_ok(), "{reply:?}"),
            _ => assert_eq!(reply.unwrap_err().code, ErrorCode::TooLarge),
        }
    }
    // Pages in the order of the folded names; one name's group.
    let first = shop.ok("catalog.aliases", json!({ "limit": 1 }));
    assert_eq!(first["groups"][0]["name"], oil);
    assert_eq!(first["next"], oil);
    let second = shop.ok("catalog.aliases", json!({ "limit": 1, "after": oil }));
    assert_eq!(second["groups"][0]["name"], "Шиномонтаж");
    assert_eq!(second["next"], Value::Null);
    let one = shop.ok("catalog.aliases", json!({ "name": "МАСЛО ДВС — ЗАМЕНА" }));
    assert_eq!(one["groups"][0]["name"], oil);
    let none = shop.ok("catalog.aliases", json!({ "name": "Развал-схождение" }));
    assert_eq!(none["groups"], json!([]));
    // Undo one alias, then a whole service by its name.
    let undone = shop.ok(
        "catalog.unalias",
        json!({ "name": "масло моторное замена" }),
    );
    assert_eq!(undone["removed"], json!(["Масло моторное замена"]));
    assert_eq!(undone["group"]["aliases"], json!(["Масло ДВС — замена"]));
    let gone = shop.ok("catalog.unalias", json!({ "name": "Шиномонтаж" }));
    assert_eq!(gone["removed"].as_array().unwrap().len(), 51);
    assert_eq!(gone["group"], Value::Null);
    shop.err(
        "catalog.unalias",
        json!({ "name": "Шиномонтаж колеса 3" }),
        ErrorCode::NotFound,
    );
    // The last alias undone takes the group with it.
    let last = shop.ok("catalog.unalias", json!({ "name": "Масло ДВС — замена" }));
    assert_eq!(last["group"], Value::Null);
    assert_eq!(shop.ok("catalog.aliases", json!({}))["groups"], json!([]));
    // Now the former alias may be a service of its own.
    shop.ok(
        "catalog.alias",
        json!({ "name": "Масло ДВС — замена", "aliases": [oil] }),
    );
    shop.assert_sound();
}

fn reminder_program() -> Value {
    let mut program = simple_program();
    program["reminders"] = json!({
        "window_days": 14,
        "services": [
            { "kind": "oil_change", "name": "замена масла", "months": 12,
              "patterns": ["*замена масла*"] }
        ],
        "service_days_before": 7
    });
    program
}

fn service_due(shop: &Shop, date: &str) -> Vec<String> {
    let page = shop.ok(
        "reminders.due",
        json!({ "date": date, "kinds": ["service_due"], "limit": 500 }),
    );
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn reminders_and_report_services_treat_aliases_as_one_service() {
    let shop = Shop::with_program("catalog-reminders", reminder_program());
    let (andrey, vesta) = driver(&shop, "Соколов Андрей", "+79161230001", "А123ВС77");
    let (maria, rio) = driver(&shop, "Лебедева Мария", "+79161230002", "В456ОР77");
    let (dmitry, polo) = driver(&shop, "Козлов Дмитрий", "+79161230003", "Е789КХ199");
    let visit = |customer: u64, car: u64, order: &str, name: &str, sku: &str, date: &str| {
        shop.ok(
            "checkout.commit",
            json!({ "customer": { "id": customer }, "vehicle": { "id": car },
                    "lines": [line(sku, name, "2500")], "order_id": order, "at": at(date) }),
        )
    };
    // Before any alias: «Масло моторное — замена» matches no pattern; no reminder.
    visit(
        andrey,
        vesta,
        "ЗН-1",
        "Масло моторное — замена",
        "M-1",
        "2024-02-01",
    );
    assert!(service_due(&shop, "2025-01-25").is_empty());
    // The shop confirms it as «Замена масла в двигателе»: later visits under the alias
    // are the oil change (the rule matches the service's name).
    shop.ok(
        "catalog.alias",
        json!({ "name": "Замена масла в двигателе",
                "aliases": ["Масло моторное — замена", "ДВС масло"] }),
    );
    visit(
        maria,
        rio,
        "ЗН-2",
        "масло моторное — замена",
        "M-2",
        "2024-03-01",
    );
    visit(
        dmitry,
        polo,
        "ЗН-3",
        "Замена масла в двигателе",
        "M-3",
        "2024-03-05",
    );
    // 12 months on, reminded 7 days before.
    assert_eq!(
        service_due(&shop, "2025-02-22"),
        vec![format!("service_due:{rio}:oil_change:2024-03-01")]
    );
    assert_eq!(service_due(&shop, "2025-02-26").len(), 2);
    // History imported from the old system goes the same way: an alias in a batch is
    // the oil change, a name in no group and matching no pattern is not.
    let (_, lada) = driver(&shop, "Морозов Кирилл", "+79161230004", "К321МН777");
    let (_, kia) = driver(&shop, "Павлова Ирина", "+79161230005", "М654ТТ77");
    let imported = shop.ok(
        "visit.import",
        json!({ "visits": [
            { "order_id": "OLD-1", "customer": { "plate": "К321МН777" },
              "vehicle": { "plate": "К321МН777" }, "date": "2024-04-10",
              "lines": [line("M-9", "ДВС масло", "2400")] },
            { "order_id": "OLD-2", "customer": { "plate": "М654ТТ77" },
              "vehicle": { "plate": "М654ТТ77" }, "date": "2024-04-10",
              "lines": [line("M-9", "Масло ДВС", "2400")] }
        ], "at": at("2024-11-06") }),
    );
    assert_eq!(imported["imported"], 2, "{imported}");
    let due_after_import = service_due(&shop, "2025-04-03");
    assert!(
        due_after_import.contains(&format!("service_due:{lada}:oil_change:2024-04-10")),
        "{due_after_import:?}"
    );
    assert!(
        !due_after_import
            .iter()
            .any(|id| id.contains(&format!(":{kia}:"))),
        "«Масло ДВС» is in no group: {due_after_import:?}"
    );
    // report.services: the names of the three checkouts (three SKUs) and the imported
    // alias are the rule's, the first visit's too, since the report reads names as they
    // are now; «Масло ДВС» (in no group) stays a row of its SKU.
    let report = shop.ok(
        "report.services",
        json!({ "from": "2024-01-01", "to": "2024-12-31" }),
    );
    assert_eq!(report["services"], 2, "{report:#}");
    assert_eq!(report["rows"][0]["service"], "oil_change");
    assert_eq!(report["rows"][0]["lines"], 4);
    assert_eq!(report["rows"][1]["service"], "M-9");
    assert_eq!(report["rows"][1]["lines"], 1);
    // Without a rule, aliased names with different SKUs are one row named after the
    // service; others stay rows of their SKU.
    let plain = Shop::with_program("catalog-services", simple_program());
    let (_, car) = driver(&plain, "Соколов Андрей", "+79161230001", "А123ВС77");
    let lines = [
        ("D-1", "Компьютерная диагностика", "2024-01-10"),
        ("D-2", "Диагностика компьютерная", "2024-02-10"),
        ("D-3", "Комп. диагностика", "2024-04-10"),
        ("W-1", "Развал-схождение", "2024-04-10"),
    ];
    plain.ok(
        "catalog.alias",
        json!({ "name": "Компьютерная диагностика",
                "aliases": ["Диагностика компьютерная", "Комп. диагностика"] }),
    );
    for (n, (sku, name, date)) in lines.iter().enumerate() {
        plain.ok(
            "checkout.commit",
            json!({ "customer": { "id": 1 }, "vehicle": { "id": car },
                    "lines": [line(sku, name, "1500")], "order_id": format!("ЗН-{n}"),
                    "at": at(date) }),
        );
    }
    let report = plain.ok(
        "report.services",
        json!({ "from": "2024-01-01", "to": "2024-12-31" }),
    );
    assert_eq!(report["services"], 2, "{report:#}");
    let diag = &report["rows"][0];
    assert_eq!(diag["service"], "Компьютерная диагностика");
    assert_eq!(diag["name"], "Компьютерная диагностика");
    assert_eq!(diag["lines"], 3);
    assert_eq!(diag["revenue"], "4500.00");
    // Repeats by the same car: 10.01 → 10.02 (31 days) → 10.04 (60 days); median 45.
    assert_eq!(diag["repeats"], 2);
    assert_eq!(diag["median_interval_days"], 45);
    assert_eq!(report["rows"][1]["service"], "W-1");
}
