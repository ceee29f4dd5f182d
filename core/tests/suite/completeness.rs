//! `report.completeness` over a small migrated base whose gaps, misspelt names and
//! patronymics are written down by hand: every share, registrar row, list and proposal
//! is computed here from that table, independently of the report.

use crate::common;

use common::Shop;
use pitstop_core::ErrorCode;
use serde_json::{Value, json};

/// One customer as the shop typed them in, and what a careful reader sees in it.
struct Person {
    name: &'static str,
    corporate: bool,
    phone: Option<&'static str>,
    email: Option<&'static str>,
    birthday: Option<&'static str>,
    gender: Option<&'static str>,
    source: Option<&'static str>,
    sms: Option<bool>,
    registered_by: Option<&'static str>,
    /// The name a person would write (None: already proper).
    proper: Option<&'static str>,
    /// The gender the patronymic tells, when the gender is unknown.
    told: Option<&'static str>,
}

const fn person(name: &'static str) -> Person {
    Person {
        name,
        corporate: false,
        phone: None,
        email: None,
        birthday: None,
        gender: None,
        source: None,
        sms: None,
        registered_by: None,
        proper: None,
        told: None,
    }
}

fn base() -> Vec<Person> {
    vec![
        Person {
            phone: Some("+79161000001"),
            email: Some("ivanov@example.ru"),
            birthday: Some("1980-02-29"),
            gender: Some("male"),
            source: Some("Яндекс.Карты"),
            sms: Some(true),
            registered_by: Some("Ольга"),
            ..person("Иванов Иван Иванович")
        },
        Person {
            phone: Some("+79161000002"),
            registered_by: Some("Ольга"),
            proper: Some("Петрова Анна Сергеевна"),
            told: Some("female"),
            ..person("петрова анна сергеевна")
        },
        Person {
            phone: Some("+79161000003"),
            email: Some("sidorov@example.ru"),
            gender: Some("male"),
            sms: Some(false),
            registered_by: Some("Игорь"),
            proper: Some("Сидоров Пётр Николаевич"),
            ..person("СИДОРОВ ПЁТР НИКОЛАЕВИЧ")
        },
        Person {
            birthday: Some("1975-06-01"),
            source: Some("сарафанное радио"),
            proper: Some("Семёнов Алексей Ильич"),
            told: Some("male"),
            // A Latin C at the start.
            ..person("\u{0043}емёнов Алексей Ильич")
        },
        Person {
            phone: Some("+79161000005"),
            registered_by: Some("Игорь"),
            told: Some("male"),
            ..person("Мамедов Эльчин Гейдар оглы")
        },
        Person {
            email: Some("alieva@example.ru"),
            registered_by: Some("ольга"),
            proper: Some("Алиева Севиль Рашид кызы"),
            told: Some("female"),
            ..person("алиева севиль рашид КЫЗЫ")
        },
        Person {
            phone: Some("+79161000007"),
            registered_by: Some("Игорь"),
            ..person("Кузнецова Мария")
        },
        Person {
            phone: Some("+79161000008"),
            sms: Some(true),
            ..person("Абрамович Роман")
        },
        Person {
            corporate: true,
            phone: Some("+74951000009"),
            email: Some("info@avtoline.ru"),
            source: Some("тендер"),
            registered_by: Some("Игорь"),
            ..person("ООО «АВТОЛАЙН»")
        },
        Person {
            gender: Some("female"),
            registered_by: Some("Ольга"),
            proper: Some("Римская-Корсакова Вера Андреевна"),
            ..person("римская-корсакова ВЕРА андреевна")
        },
        Person {
            phone: Some("+79161000011"),
            birthday: Some("1990-12-31"),
            proper: Some("Ивано\u{0430} Ольга Петровна"),
            told: Some("female"),
            // A Latin a at the end of the surname (the letter is fixed, not the spelling).
            ..person("Ивано\u{0061} Ольга Петровна")
        },
    ]
}

fn register(shop: &Shop, p: &Person) -> u64 {
    let mut args = json!({ "full_name": p.name, "at": "2025-01-10T10:00:00Z" });
    let fields = [
        ("phone", p.phone),
        ("email", p.email),
        ("birthday", p.birthday),
        ("gender", p.gender),
        ("source", p.source),
        ("registered_by", p.registered_by),
    ];
    for (field, value) in fields {
        if let Some(value) = value {
            args[field] = json!(value);
        }
    }
    if p.corporate {
        args["kind"] = json!("corporate");
    }
    if let Some(sms) = p.sms {
        args["consents"] = json!({ "sms": sms });
    }
    shop.ok("customer.register", args)["customer"]["id"]
        .as_u64()
        .unwrap()
}

/// What a person lacks, in the report's order.
fn lacks(p: &Person) -> Vec<&'static str> {
    let mut out = Vec::new();
    if p.phone.is_none() {
        out.push("phone");
    }
    if p.email.is_none() {
        out.push("email");
    }
    if !p.corporate && p.birthday.is_none() {
        out.push("birthday");
    }
    if !p.corporate && p.gender.is_none() {
        out.push("gender");
    }
    if p.source.is_none() {
        out.push("source");
    }
    if p.sms.is_none() {
        out.push("consents");
    }
    out
}

fn share(missing: usize, of: usize) -> String {
    if of == 0 {
        return "0.0".into();
    }
    format!("{:.1}", missing as f64 * 100.0 / of as f64)
}

/// The expected `Fields` object of a set of people.
fn fields(people: &[&Person]) -> Value {
    let private = people.iter().filter(|p| !p.corporate).count();
    let mut out = json!({ "customers": people.len() });
    for field in ["phone", "email", "birthday", "gender", "source", "consents"] {
        let of = if matches!(field, "birthday" | "gender") {
            private
        } else {
            people.len()
        };
        let missing = people.iter().filter(|p| lacks(p).contains(&field)).count();
        out[field] = json!({ "missing": missing, "of": of, "percent": share(missing, of) });
    }
    out
}

#[test]
fn completeness_counts_gaps_by_registrar_and_proposes_fixes() {
    let shop = Shop::new("completeness");
    let people = base();
    let ids: Vec<u64> = people.iter().map(|p| register(&shop, p)).collect();
    // An erased customer is no one's gap.
    let erased = register(&shop, &person("Удалова Ирина"));
    shop.ok(
        "customer.erase",
        json!({ "customer": { "id": erased }, "reason": "заявление №12" }),
    );
    let report = shop.ok("report.completeness", json!({}));
    let everyone: Vec<&Person> = people.iter().collect();
    assert_eq!(report["total"], fields(&everyone), "{report:#}");
    assert_eq!(report["registered_by"], Value::Null);
    // By registrar: as written (Ольга and ольга are the host's two spellings), the
    // most customers first, ties by name with "unknown" (null) first.
    let mut registrars: Vec<Option<&str>> = people.iter().map(|p| p.registered_by).collect();
    registrars.sort();
    registrars.dedup();
    let mut expected: Vec<(usize, Option<&str>)> = registrars
        .iter()
        .map(|r| (people.iter().filter(|p| p.registered_by == *r).count(), *r))
        .collect();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let rows = report["by_registrar"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    for (row, (_, by)) in rows.iter().zip(&expected) {
        assert_eq!(row["registered_by"], json!(by));
        let theirs: Vec<&Person> = people.iter().filter(|p| p.registered_by == *by).collect();
        assert_eq!(row["fields"], fields(&theirs), "{by:?}");
    }
    // The customers to fix: most fields missing first, then spend (all nil), then id.
    let mut incomplete: Vec<(usize, u64, Vec<&str>)> = people
        .iter()
        .zip(&ids)
        .filter(|(p, _)| !lacks(p).is_empty())
        .map(|(p, id)| (lacks(p).len(), *id, lacks(p)))
        .collect();
    incomplete.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    assert_eq!(report["incomplete"], incomplete.len());
    let listed: Vec<(u64, Vec<String>)> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let missing = r["missing"].as_array().unwrap();
            (
                r["customer"].as_u64().unwrap(),
                missing
                    .iter()
                    .map(|m| m.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    let wanted: Vec<(u64, Vec<String>)> = incomplete
        .iter()
        .map(|(_, id, l)| (*id, l.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(listed, wanted);
    // Names: every misspelt private name with the proper spelling; companies left alone.
    let names: Vec<(u64, &str)> = people
        .iter()
        .zip(&ids)
        .filter_map(|(p, id)| p.proper.map(|proper| (*id, proper)))
        .collect();
    assert_eq!(report["name_fixes"], names.len());
    let got: Vec<(u64, String)> = report["name_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["customer"].as_u64().unwrap(),
                r["proposed"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(u64, String)> = names.iter().map(|(i, n)| (*i, n.to_string())).collect();
    assert_eq!(got, want);
    let latin = report["name_rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["full_name"] == "\u{0043}емёнов Алексей Ильич")
        .unwrap();
    assert_eq!(latin["problems"], json!(["latin"]));
    // Genders told by patronymics, only where the gender is unknown.
    let told: Vec<(u64, &str)> = people
        .iter()
        .zip(&ids)
        .filter_map(|(p, id)| p.told.map(|g| (*id, g)))
        .collect();
    assert_eq!(report["gender_proposals"], told.len());
    let got: Vec<(u64, String)> = report["gender_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["customer"].as_u64().unwrap(),
                r["gender"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(u64, String)> = told.iter().map(|(i, g)| (*i, g.to_string())).collect();
    assert_eq!(got, want);
    // Proposals only: nothing was written.
    for (p, id) in people.iter().zip(&ids) {
        let card = shop.ok("customer.get", json!({ "customer": { "id": id } }));
        assert_eq!(card["customer"]["full_name"], p.name);
        assert_eq!(card["customer"]["gender"], p.gender.unwrap_or("unknown"));
    }
    // One registrar (case does not matter), and top.
    let olga = shop.ok(
        "report.completeness",
        json!({ "registered_by": "ОЛЬГА", "top": 2 }),
    );
    let hers: Vec<&Person> = people
        .iter()
        .filter(|p| p.registered_by.is_some_and(|r| r.to_lowercase() == "ольга"))
        .collect();
    assert_eq!(olga["total"], fields(&hers));
    assert_eq!(olga["registered_by"], "ОЛЬГА");
    assert_eq!(olga["by_registrar"].as_array().unwrap().len(), 2);
    assert_eq!(olga["rows"].as_array().unwrap().len(), 2);
    assert_eq!(olga["name_rows"].as_array().unwrap().len(), 2);
    assert_eq!(olga["name_fixes"], 3);
    // A proposal applied with customer.update leaves the lists.
    let anna = ids[1];
    shop.ok(
        "customer.update",
        json!({ "customer": { "id": anna }, "full_name": "Петрова Анна Сергеевна",
                "gender": "female" }),
    );
    let after = shop.ok("report.completeness", json!({}));
    assert_eq!(after["name_fixes"], names.len() - 1);
    assert_eq!(after["gender_proposals"], told.len() - 1);
    for (args, code) in [
        (json!({ "top": 0 }), ErrorCode::InvalidArgument),
        (json!({ "top": 1001 }), ErrorCode::InvalidArgument),
        (json!({ "registered_by": " " }), ErrorCode::InvalidArgument),
        (
            json!({ "registered_by": "И".repeat(101) }),
            ErrorCode::TooLarge,
        ),
    ] {
        shop.err("report.completeness", args, code);
    }
}

#[test]
fn an_empty_base_and_registered_by_limits() {
    let shop = Shop::new("completeness-empty");
    let report = shop.ok("report.completeness", json!({}));
    assert_eq!(report["total"], fields(&[]));
    assert_eq!(report["by_registrar"], json!([]));
    assert_eq!(report["rows"], json!([]));
    shop.err(
        "customer.register",
        json!({ "full_name": "Орлов Олег", "registered_by": "О".repeat(101) }),
        ErrorCode::TooLarge,
    );
    shop.err(
        "customer.register",
        json!({ "full_name": "Орлов Олег", "registered_by": "Ольга\u{202E}" }),
        ErrorCode::InvalidArgument,
    );
    // A refused registration wrote nothing.
    assert_eq!(
        shop.ok("report.completeness", json!({}))["total"]["customers"],
        0
    );
    // Blank is "not recorded".
    shop.ok(
        "customer.register",
        json!({ "full_name": "Орлов Олег Олегович", "registered_by": "  " }),
    );
    let one = shop.ok("report.completeness", json!({}));
    assert_eq!(one["by_registrar"][0]["registered_by"], Value::Null);
    assert_eq!(one["gender_rows"][0]["gender"], "male");
    assert_eq!(one["gender_rows"][0]["told_by"], "Олегович");
    // Without `registered_by`, whoever did the registration (the request's operator)
    // registered the customer; a named `registered_by` wins over the operator.
    shop.ok(
        "customer.register",
        json!({ "full_name": "Белова Анна", "operator": "Кассир Петрова" }),
    );
    shop.ok(
        "customer.register",
        json!({ "full_name": "Белов Иван", "operator": "Кассир Петрова",
                "registered_by": "Администратор Ким" }),
    );
    let mut registrars: Vec<Value> = shop.ok("report.completeness", json!({}))["by_registrar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["registered_by"].clone())
        .collect();
    registrars.sort_by_key(|v| v.to_string());
    assert_eq!(
        registrars,
        vec![
            json!("Администратор Ким"),
            json!("Кассир Петрова"),
            Value::Null
        ]
    );
}
