//! A shop's migration from 1C, end to end through the built binary: Windows-1251 exports
//! with `;`, CRLF, DD.MM.YYYY dates with times, decimal commas, lifetime spend, consents,
//! plates and VINs and bonus balances, with bad rows planted among the good ones. Every
//! good row must be in, exactly the bad rows reported on the row a spreadsheet shows,
//! a corrected file applied, and the migrated customers must get their reminders, with
//! an SMS export that holds messages for customers only.

use crate::common;

use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Write `lines` as 1C does: Windows-1251, CRLF.
fn export_1c(dir: &Path, name: &str, lines: &[&str]) -> PathBuf {
    let body: String = lines.iter().map(|l| format!("{l}\r\n")).collect();
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(&body);
    assert!(!unmappable, "{name} has characters cp1251 lacks");
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Run an import; its exit code and JSON summary.
fn import(store: &Path, kind: &str, file: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--json", "import", s(store), kind, s(file)];
    args.extend(extra);
    let out = pitstop(&args);
    let summary = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), summary)
}

/// The errors file of an import: (row, source id, code, reason) per rejected row.
fn errors(file: &Path, kind: &str) -> Vec<(u64, String, String, String)> {
    let path = file.with_file_name(format!(
        "{}.{kind}.errors.csv",
        file.file_stem().unwrap().to_str().unwrap()
    ));
    let mut reader = csv::Reader::from_path(&path).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        &csv::StringRecord::from(vec!["row", "id", "code", "reason"])
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].parse().unwrap(),
                r[1].to_string(),
                r[2].to_string(),
                r[3].to_string(),
            )
        })
        .collect()
}

fn rows_of(found: &[(u64, String, String, String)]) -> Vec<(u64, &str)> {
    found
        .iter()
        .map(|(row, id, _, _)| (*row, id.as_str()))
        .collect()
}

fn reason(found: &[(u64, String, String, String)], row: u64) -> &str {
    found
        .iter()
        .find(|e| e.0 == row)
        .map_or("", |e| e.3.as_str())
}

const CUSTOMERS_HEADER: &str = "Код;ФИО;Телефон;E-mail;Дата рождения;Пол;Сумма покупок;Согласие на SMS;Согласие на звонки;Согласие на e-mail;Дата согласия;Источник согласия;Комментарий";

#[test]
fn a_1c_migration_loses_nothing_silently() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/program.example.json");
    let out = pitstop(&["init", s(&store), "--program", s(&program)]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // --- Customers, with a bad row of every kind the reader and the core can find.
    let customers = export_1c(
        dir.path(),
        "kontragenty.csv",
        &[
            CUSTOMERS_HEADER,
            "К-0001;Михайлова Ольга Викторовна;8 (916) 123-45-01;olga.mih@mail.ru;17.05.1984;ж;125 400,50;да;да;нет;12.03.2021 10:15:00;анкета в сервисе;\"Ездит на Rio;\r\nпросит звонить после 18\"",
            "К-0002;Смирнов Андрей Петрович;+7 903 111-22-02;;03.11.1979;м;48 000,00;да;нет;;01.02.2022;анкета;",
            "К-0003;Кузнецов Игорь Сергеевич;+7 926 555-00-03;;;м;12,3,4;да;;;01.02.2022;;",
            "К-0004;Соколова Анна Павловна;12345;;;ж;;да;;;;;",
            "К-0005;Волков Павел Андреевич;+7 915 000-11-05;;;м;;может быть;;;;;",
            "К-0006;Новикова Елена Игоревна;+7 916 777-66-06;;;ж;;да;;;;;;лишнее",
            "К-0007;Морозов Сергей Иванович;+7 903 444-55-07",
            "",
            "К-0008;Лебедева Мария Олеговна;+7 926 888-99-08;;31.02.1990;ж;;нет;;;;;",
            "К-0009;\"Павлов Николай;+7 999 000-00-09;;;м;;да;;;;;",
        ],
    );

    // A wrong encoding is refused before anything is written, naming the line.
    let out = pitstop(&[
        "import",
        s(&store),
        "customers",
        s(&customers),
        "--encoding",
        "utf-8",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let message = text(&out.stderr);
    assert!(
        message.contains("line 1") && message.contains("cp1251"),
        "{message}"
    );
    let utf8 = dir.path().join("utf8.csv");
    std::fs::write(
        &utf8,
        format!("{CUSTOMERS_HEADER}\r\nК-0001;Михайлова Ольга;;\r\n"),
    )
    .unwrap();
    let out = pitstop(&[
        "import",
        s(&store),
        "customers",
        s(&utf8),
        "--encoding",
        "cp1251",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("UTF-8"), "{}", text(&out.stderr));
    assert_eq!(
        exec(
            &store,
            "customer.find",
            json!({ "by": { "external_id": "К-0001" } })
        )["items"],
        json!([]),
        "a refused file writes nothing"
    );

    let (code, summary) = import(&store, "customers", &customers, &[]);
    assert_eq!(code, 3, "{summary}");
    assert_eq!(
        (
            summary["encoding"].as_str(),
            summary["separator"].as_str(),
            summary["added"].as_u64(),
            summary["rejected"].as_u64()
        ),
        (Some("cp1251"), Some(";"), Some(2), Some(7)),
        "{summary}"
    );
    let found = errors(&customers, "customers");
    // Rows as Excel numbers them: the header is 1, the two-line comment is one row, the
    // empty line 9 is a row.
    assert_eq!(
        rows_of(&found),
        vec![
            (4, "К-0003"),
            (5, "К-0004"),
            (6, "К-0005"),
            (7, "К-0006"),
            (8, "К-0007"),
            (10, "К-0008"),
            (11, "К-0009"),
        ]
    );
    assert!(reason(&found, 4).contains("total_spend: \"12,3,4\""));
    assert!(reason(&found, 5).contains("phone"));
    assert!(reason(&found, 6).contains("consent_sms: \"может быть\""));
    assert!(reason(&found, 7).contains("fields"));
    assert!(reason(&found, 8).contains("fields"));
    assert!(reason(&found, 10).contains("birthday: \"31.02.1990\""));
    assert!(reason(&found, 11).contains("never closed"), "{found:?}");

    let olga = exec(
        &store,
        "customer.get",
        json!({ "customer": { "external_id": "К-0001" } }),
    )["customer"]
        .clone();
    assert_eq!(olga["full_name"], "Михайлова Ольга Викторовна");
    assert_eq!(olga["phone"], "+79161234501");
    assert_eq!(olga["total_spend"], "125400.50");
    assert_eq!(
        olga["consents"],
        json!([
            { "channel": "sms", "granted": true, "at": "2021-03-12T07:15:00Z" },
            { "channel": "email", "granted": false, "at": "2021-03-12T07:15:00Z" },
            { "channel": "call", "granted": true, "at": "2021-03-12T07:15:00Z" },
        ])
    );
    let history = exec(
        &store,
        "customer.export",
        json!({ "customer": { "external_id": "К-0001" } }),
    );
    assert!(
        history.to_string().contains("анкета в сервисе"),
        "the consent's source is kept: {history}"
    );

    // --- The corrected file: the bad rows fixed, and Смирнов's name corrected.
    let corrected = export_1c(
        dir.path(),
        "kontragenty-2.csv",
        &[
            CUSTOMERS_HEADER,
            "К-0001;Михайлова Ольга Викторовна;8 (916) 123-45-01;olga.mih@mail.ru;17.05.1984;ж;125 400,50;да;да;нет;12.03.2021 10:15:00;анкета в сервисе;\"Ездит на Rio;\r\nпросит звонить после 18\"",
            "К-0002;Смирнов Андрей Павлович;+7 903 111-22-02;;03.11.1979;м;48 000,00;да;нет;;01.02.2022;анкета;",
            "К-0003;Кузнецов Игорь Сергеевич;+7 926 555-00-03;;;м;12 340;да;;;01.02.2022;;",
            "К-0004;Соколова Анна Павловна;+7 916 123-00-04;;;ж;;да;;;;;",
            "К-0005;Волков Павел Андреевич;+7 915 000-11-05;;;м;;нет;;;;;",
            "К-0006;Новикова Елена Игоревна;+7 916 777-66-06;;;ж;;да;;;;;",
            "К-0007;Морозов Сергей Иванович;+7 903 444-55-07;;;м;;да;;;;;",
            "К-0008;Лебедева Мария Олеговна;+7 926 888-99-08;;28.02.1990;ж;;нет;;;;;",
            "К-0009;Павлов Николай;+7 999 000-00-09;;;м;;да;;;;;",
        ],
    );
    let (code, summary) = import(&store, "customers", &corrected, &[]);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(
        (
            summary["added"].as_u64(),
            summary["updated"].as_u64(),
            summary["unchanged"].as_u64(),
            summary["rejected"].as_u64()
        ),
        (Some(7), Some(1), Some(1), Some(0)),
        "{summary}"
    );
    assert_eq!(
        summary["updates"],
        json!([{ "row": 3, "id": "К-0002", "fields": ["full_name"] }])
    );
    let andrey = exec(
        &store,
        "customer.get",
        json!({ "customer": { "external_id": "К-0002" } }),
    );
    assert_eq!(andrey["customer"]["full_name"], "Смирнов Андрей Павлович");
    // Run again: nothing left to do.
    let (code, summary) = import(&store, "customers", &corrected, &[]);
    assert_eq!(
        (code, summary["unchanged"].as_u64()),
        (0, Some(9)),
        "{summary}"
    );

    // --- Cars: one by plate only, one with its VIN; bad rows name the source's codes.
    let cars = export_1c(
        dir.path(),
        "avto.csv",
        &[
            "Код авто;Код клиента;Марка;Модель;Госномер;VIN;Год выпуска;Пробег",
            "А-01;К-0001;Kia;Rio;А123ВС77;;2017;",
            "А-02;К-0002;Skoda;Octavia;В456ОР99;XW8ZZZ61ZHG012345;2018;45 000,0",
            "А-03;К-0003;Лада;Веста;Е001КХ77;;2020;",
            "А-04;К-0404;Hyundai;Solaris;К111КК77;;2016;",
            "А-05;К-0004;Renault;;М222ММ77;;2015;",
            "А-06;К-0004;Renault;Logan;А123ВС77;;2015;",
        ],
    );
    let (code, summary) = import(&store, "vehicles", &cars, &[]);
    assert_eq!((code, summary["added"].as_u64()), (3, Some(3)), "{summary}");
    let found = errors(&cars, "vehicles");
    assert_eq!(rows_of(&found), vec![(5, "А-04"), (6, "А-05"), (7, "А-06")]);
    assert!(reason(&found, 5).contains("К-0404"));
    assert!(reason(&found, 6).contains("model: empty"));
    assert!(
        reason(&found, 7).contains("customer К-0001"),
        "the source's code, not the store's id: {found:?}"
    );
    // The customers' errors are still there beside the vehicles'.
    assert!(
        customers
            .with_file_name("kontragenty.customers.errors.csv")
            .exists()
    );
    // A later file with the VIN of the car known by its plate attaches it.
    let cars_2 = export_1c(
        dir.path(),
        "avto-2.csv",
        &[
            "Код авто;Код клиента;Марка;Модель;Госномер;VIN;Год выпуска;Пробег",
            "А-03;К-0003;Лада;Веста;Е001КХ77;XTAGFL110LY123456;2020;",
        ],
    );
    let (code, summary) = import(&store, "vehicles", &cars_2, &[]);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(
        summary["updates"],
        json!([{ "row": 2, "id": "А-03", "fields": ["vin"] }])
    );
    let vesta = exec(
        &store,
        "vehicle.get",
        json!({ "vehicle": { "vin": "XTAGFL110LY123456" } }),
    );
    // Plates are stored in their Latin look-alikes.
    assert_eq!(vesta["vehicle"]["plate"], "E001KX77");

    // --- Opening balances: a negative one is the source's error.
    let balances = export_1c(
        dir.path(),
        "ostatki.csv",
        &[
            "Код клиента;Остаток;Дата остатка;Сгорают",
            "К-0001;1 250,00;31.12.2024 18:00:00;31.12.2025",
            "К-0002;-150;31.12.2024;",
            "К-0003;80,00;31.12.2024;",
            "К-0404;100;31.12.2024;",
            "К-0004;много;31.12.2024;",
        ],
    );
    let (code, summary) = import(&store, "balances", &balances, &[]);
    assert_eq!((code, summary["added"].as_u64()), (3, Some(2)), "{summary}");
    let found = errors(&balances, "balances");
    assert_eq!(
        rows_of(&found),
        vec![(3, "К-0002"), (5, "К-0404"), (6, "К-0004")]
    );
    assert!(reason(&found, 3).contains("negative"));
    assert_eq!(
        exec(
            &store,
            "points.balance",
            json!({ "customer": { "external_id": "К-0002" } })
        )["total"],
        "0"
    );

    // --- Visit history: plates and VINs, 1C's times kept.
    let visits = export_1c(
        dir.path(),
        "zakaz-naryady.csv",
        &[
            "Номер заказ-наряда;Дата;Код клиента;VIN;Госномер;Пробег;Мастер;Артикул;Наименование;Тип;Количество;Цена;Сумма",
            "ЗН-000101;15.03.2024 10:12:45;К-0001;Z94CB41AAGR323456;А123ВС77;99 500;Кравцов Д.;LAB-OIL;Замена масла двигателя;работа;1;1 200,00;1 200,00",
            "ЗН-000101;15.03.2024 10:12:45;К-0001;Z94CB41AAGR323456;А123ВС77;99 500;Кравцов Д.;OIL-5W30;Масло 5W-30, л;товар;4,5;890,00;4 005,00",
            "ЗН-000102;08.03.2025 14:30:00;К-0001;;А123ВС77;;Кравцов Д.;LAB-TYRE;Шиномонтаж;работа;1;2 400,00;2 400,00",
            "ЗН-000103;08.03.2025 11:00:00;К-0002;XW8ZZZ61ZHG012345;;;Иванов С.;LAB-TYRE;Шиномонтаж;работа;1;2 400,00;2 400,00",
            "ЗН-000104;09.03.2025 12:00:00;К-0002;;А123ВС77;;Иванов С.;LAB-DIAG;Диагностика;работа;1;1 500,00;1 500,00",
        ],
    );
    let (code, summary) = import(&store, "visits", &visits, &[]);
    assert_eq!(
        (
            code,
            summary["added"].as_u64(),
            summary["rejected_visits"].as_u64()
        ),
        (3, Some(3), Some(1)),
        "{summary}"
    );
    let found = errors(&visits, "visits");
    assert_eq!(rows_of(&found), vec![(6, "ЗН-000104")]);
    assert!(
        reason(&found, 6).contains("A123BC77") && reason(&found, 6).contains("К-0001"),
        "{found:?}"
    );
    // The car imported by plate alone got the VIN from the order.
    let rio = exec(
        &store,
        "vehicle.get",
        json!({ "vehicle": { "vin": "Z94CB41AAGR323456" } }),
    );
    assert_eq!(rio["vehicle"]["plate"], "A123BC77");
    let card = exec(
        &store,
        "customer.get",
        json!({ "customer": { "external_id": "К-0001" } }),
    );
    let first = exec(&store, "visit.get", json!({ "order_id": "ЗН-000101" }));
    assert_eq!(first["at"], "2024-03-15T07:12:45Z", "{first}");
    // Lifetime spend: the legacy total plus the imported visits.
    assert_eq!(card["customer"]["total_spend"], "133005.50", "{card}");

    // --- Reminders for the migrated customers; the SMS export holds messages only.
    let all = pitstop(&["--json", "reminders", s(&store), "--date", "2025-03-10"]);
    assert!(all.status.success(), "{}", text(&all.stderr));
    let all: Value = serde_json::from_slice(&all.stdout).unwrap();
    let items = all
        .as_array()
        .cloned()
        .or_else(|| all["items"].as_array().cloned())
        .unwrap_or_else(|| panic!("{all}"));
    let kinds: Vec<(String, String, Value)> = items
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or("").to_string(),
                r["customer_name"].as_str().unwrap_or("").to_string(),
                r["channels"].clone(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&(
            "service_due".into(),
            "Михайлова Ольга Викторовна".into(),
            json!(["sms"])
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            "quality_call".into(),
            "Михайлова Ольга Викторовна".into(),
            json!(["call"])
        )),
        "{kinds:?}"
    );
    let sms = pitstop(&[
        "reminders",
        s(&store),
        "--date",
        "2025-03-10",
        "--channel",
        "sms",
        "--format",
        "csv",
    ]);
    assert!(sms.status.success(), "{}", text(&sms.stderr));
    let sms = text(&sms.stdout);
    assert!(sms.contains("service_due"), "{sms}");
    assert!(sms.contains("Михайлова"), "{sms}");
    assert!(!sms.contains("quality_call"), "{sms}");
    assert!(!sms.contains("Позвонить"), "{sms}");
}

#[test]
fn files_that_cannot_be_read_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    assert!(pitstop(&["init", s(&store)]).status.success());
    let cases: [(&str, &[u8], &str); 3] = [
        ("empty.csv", b"\r\n", "empty"),
        (
            "unicode.csv",
            b"\xFF\xFEI\0d\0;\0N\0a\0m\0e\0\r\0\n\0",
            "UTF-16",
        ),
        (
            "columns.csv",
            "Номер;Покупатель;Телефон\r\n1;Иванов;+79990000001\r\n".as_bytes(),
            "full_name",
        ),
    ];
    for (name, bytes, expected) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let out = pitstop(&["import", s(&store), "customers", s(&file)]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let message = text(&out.stderr);
        assert!(message.contains(expected), "{name}: {message}");
        assert!(
            !message.contains("no source id column"),
            "{name}: {message}"
        );
    }
    // The columns it expected and the ones it found, once.
    let out = pitstop(&[
        "import",
        s(&store),
        "customers",
        s(&dir.path().join("columns.csv")),
    ]);
    let message = text(&out.stderr);
    assert!(
        message.contains("full_name (full_name / name / фио / клиент)")
            && message.contains("Покупатель"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");

    // A date option names itself.
    let out = pitstop(&[
        "report",
        s(&store),
        "activity",
        "--from",
        "2025-13-01",
        "--to",
        "2025-12-31",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--from"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn crlf_rows_are_numbered_as_with_lf() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    assert!(pitstop(&["init", s(&store)]).status.success());
    for (name, body) in [
        (
            "crlf.csv",
            "external_id;full_name;phone\r\nR1;A;+79990000001\r\nR2;B;12345\r\n",
        ),
        (
            "lf.csv",
            "external_id;full_name;phone\nR3;A;+79990000003\nR4;B;12345\n",
        ),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, body).unwrap();
        let (code, _) = import(&store, "customers", &file, &[]);
        assert_eq!(code, 3);
        let found = errors(&file, "customers");
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!(found[0].0, 3, "{name}: {found:?}");
    }
}
