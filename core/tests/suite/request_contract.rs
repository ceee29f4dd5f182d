//! The request contract (docs/operations.md): every key once, one decimal grammar, errors
//! that name the field by its path, and what names and keys may hold. Each test here
//! failed before the contract was enforced.

use crate::common;

use common::{Shop, simple_program, temp_path};
use pitstop_core::{Engine, EngineOptions, ErrorCode};
use serde_json::{Value, json};

fn reply(shop: &Shop, request: &str) -> Value {
    serde_json::from_str(&shop.engine().execute_json(request)).expect("a JSON response")
}

fn error_of(shop: &Shop, request: &str) -> Value {
    let response = reply(shop, request);
    assert_eq!(response["ok"], false, "{request} → {response}");
    response["error"].clone()
}

#[test]
fn a_key_given_twice_is_refused_at_every_level_naming_key_and_path() {
    let shop = Shop::with_program("dup", simple_program());
    let first = shop.customer("Первый Клиент", "+79160000001");
    shop.customer("Второй Клиент", "+79160000002");
    let seq = shop.engine().applied_seq().unwrap();
    let cases = [
        (
            r#"{"op":"checkout.commit","op":"store.stats"}"#.to_string(),
            "op",
            "op",
        ),
        (
            r#"{"op":"store.stats","args":{},"args":{}}"#.to_string(),
            "args",
            "args",
        ),
        (
            r#"{"op":"points.balance","args":{"customer":{"phone":"+79160000001","phone":"+79160000002"}}}"#
                .to_string(),
            "phone",
            "args.customer.phone",
        ),
        (
            format!(
                r#"{{"op":"checkout.commit","args":{{"customer":{{"id":{first}}},"order_id":"D-1",
                "lines":[{{"sku":"A","name":"Работа","kind":"labor","qty":"1","unit_price":"100"}},
                {{"sku":"B","name":"Масло","kind":"part","qty":"1","unit_price":"4500","unit_price":"1"}}]}}}}"#
            ),
            "unit_price",
            "args.lines[1].unit_price",
        ),
        (
            r#"{"op":"program.set","args":{"program":{"name":"x","name":"y","timezone":"Europe/Moscow"}}}"#
                .to_string(),
            "name",
            "args.program.name",
        ),
    ];
    for (request, key, path) in cases {
        let error = error_of(&shop, &request);
        assert_eq!(error["code"], "invalid_request", "{request}: {error}");
        assert_eq!(error["details"]["key"], key, "{error}");
        assert_eq!(error["details"]["path"], path, "{error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(path), "{message}");
        // validate_json reads the same way.
        let validated = shop.engine().validate_json(&request).unwrap_err();
        assert_eq!(validated.code, ErrorCode::InvalidRequest);
    }
    assert_eq!(
        shop.engine().applied_seq().unwrap(),
        seq,
        "a refused request wrote"
    );
    let visits = shop.ok("visit.list", json!({ "customer": { "id": first } }));
    assert_eq!(visits, json!([]));
}

/// Loose forms rust_decimal would read are refused in every argument that carries an
/// amount, and nothing is written.
#[test]
fn amounts_outside_the_grammar_are_refused_in_every_argument() {
    let shop = Shop::with_program("grammar", simple_program());
    let id = shop.customer("Петров Пётр", "+79161112233");
    shop.ok(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "500", "reason": "старт", "operator": "Оля" }),
    );
    let seq = shop.engine().applied_seq().unwrap();
    let line = |qty: &str, price: &str| json!({ "sku": "P", "name": "Масло", "kind": "part", "qty": qty, "unit_price": price });
    for bad in [
        "1_0", "1_0_0", "1E5", "1e3", "+5", ".5", "5.", " 1", "1 ", "1,5", "",
    ] {
        let adjust =
            json!({ "customer": { "id": id }, "points": bad, "reason": "x", "operator": "Оля" });
        let err = shop.err("points.adjust", adjust, ErrorCode::InvalidArgument);
        assert_eq!(err.details["field"], "points", "{bad:?}: {err:?}");
        let err = shop.err(
            "checkout.quote",
            json!({ "customer": { "id": id }, "lines": [line("1", "100"), line(bad, "100")] }),
            ErrorCode::InvalidArgument,
        );
        assert_eq!(err.details["field"], "lines[1].qty", "{bad:?}: {err:?}");
        let err = shop.err(
            "checkout.quote",
            json!({ "customer": { "id": id }, "lines": [line("1", bad)] }),
            ErrorCode::InvalidArgument,
        );
        assert_eq!(
            err.details["field"], "lines[0].unit_price",
            "{bad:?}: {err:?}"
        );
        if !bad.is_empty() {
            // `redeem` was the odd one out: it trimmed and read a comma.
            let err = shop.err(
                "checkout.quote",
                json!({ "customer": { "id": id }, "lines": [line("1", "1000")], "redeem": bad }),
                ErrorCode::InvalidArgument,
            );
            assert_eq!(err.details["field"], "redeem", "{bad:?}: {err:?}");
        }
        shop.err(
            "points.hold",
            json!({ "customer": { "id": id }, "points": bad }),
            ErrorCode::InvalidArgument,
        );
        // The migration's lifetime spend arrives through the same door.
        let err = shop.err(
            "customer.register",
            json!({ "full_name": "Сидоров Иван", "phone": "+79161112299",
                    "import": true, "opening_spend": bad }),
            ErrorCode::InvalidArgument,
        );
        assert_eq!(err.details["field"], "opening_spend", "{bad:?}: {err:?}");
    }
    assert_eq!(
        shop.engine().applied_seq().unwrap(),
        seq,
        "a refused amount wrote"
    );
    assert_eq!(shop.available(id), "500");
    // Inside the grammar all of them work.
    let quote = shop.ok(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [line("1.5", "1000.00")], "redeem": "10" }),
    );
    assert_eq!(quote["redemption"]["applied"], "10", "{quote}");
}

#[test]
fn a_json_number_is_named_as_such_with_the_path_of_the_field() {
    let shop = Shop::with_program("numbers", simple_program());
    let id = shop.customer("Петров Пётр", "+79161112233");
    let lines = json!([
        { "sku": "A", "name": "Работа", "kind": "labor", "qty": "1", "unit_price": "100" },
        { "sku": "B", "name": "Работа", "kind": "labor", "qty": "1", "unit_price": "100" },
        { "sku": "C", "name": "Масло", "kind": "part", "qty": 1, "unit_price": "100" }
    ]);
    let err = shop.err(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": lines }),
        ErrorCode::InvalidArgument,
    );
    assert_eq!(
        err.message,
        "lines[2].qty: a decimal string is expected, got the number 1"
    );
    assert_eq!(err.details["field"], "lines[2].qty");
    // Other decoding errors name their path too.
    let err = shop.err(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [{ "sku": "A", "name": "x", "kind": "wheel",
            "qty": "1", "unit_price": "1" }] }),
        ErrorCode::InvalidArgument,
    );
    assert!(
        err.message.starts_with("lines[0].kind: "),
        "{}",
        err.message
    );
}

#[test]
fn programme_amounts_follow_the_grammar() {
    let shop = Shop::with_program("programme", simple_program());
    for (field, bad) in [
        ("rate_percent", "1E1"),
        ("rate_percent", "1_0"),
        ("min_bill", "+5"),
    ] {
        let mut program = simple_program();
        program["accrual"][field] = json!(bad);
        let err = shop.err(
            "program.set",
            json!({ "program": program }),
            ErrorCode::InvalidProgram,
        );
        assert!(err.message.contains(bad), "{field} {bad}: {err:?}");
        assert!(
            err.message.contains(&format!("accrual.{field}: ")),
            "{field} {bad}: {err:?}"
        );
    }
    let mut program = simple_program();
    program["accrual"]["rate_percent"] = json!(10);
    let err = shop.err(
        "program.set",
        json!({ "program": program }),
        ErrorCode::InvalidProgram,
    );
    assert!(err.message.contains("got the number 10"), "{err:?}");
}

#[test]
fn names_of_nothing_or_that_reorder_text_are_refused() {
    let shop = Shop::with_program("names", simple_program());
    for (name, why) in [
        ("\u{200b}", "invisible"),
        ("\u{200b}\u{200b}\u{200b}", "invisible"),
        ("Иванов\u{200b}Иван", "invisible"),
        ("Иванов \u{202e}навИ", "bidirectional"),
        ("Иванов \u{2066}Иван\u{2069}", "bidirectional"),
        ("Иванов\u{ffff}", "noncharacter"),
        ("Иванов\u{fdd0}", "noncharacter"),
        ("Иванов\u{1fffe}", "noncharacter"),
        ("Иванов\u{7}", "control"),
        ("\u{200d}", "visible"),
    ] {
        let err = shop.err(
            "customer.register",
            json!({ "full_name": name, "phone": "+79160000009" }),
            ErrorCode::InvalidArgument,
        );
        assert_eq!(err.details["field"], "full_name", "{name:?}: {err:?}");
        assert!(err.message.contains(why), "{name:?}: {}", err.message);
    }
    // What real names hold stays allowed: any script, hyphens, apostrophes, emoji with joiners.
    for (i, name) in [
        "Салтыков-Щедрин Михаил",
        "O'Brien Seán",
        "Ёлкина Алёна 👩\u{200d}🔧",
        "میرزا\u{200c}علی",
    ]
    .into_iter()
    .enumerate()
    {
        shop.ok(
            "customer.register",
            json!({ "full_name": name, "phone": format!("+7916000{i:04}") }),
        );
    }
    // Other names are checked the same way: a line name and an operator.
    let id = shop.customer("Петров Пётр", "+79161112233");
    let err = shop.err(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [{ "sku": "A", "name": "\u{202e}", "kind": "labor",
            "qty": "1", "unit_price": "100" }] }),
        ErrorCode::InvalidArgument,
    );
    assert_eq!(err.details["field"], "lines[0].name", "{err:?}");
    shop.err(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "1", "reason": "x", "operator": "\u{200b}" }),
        ErrorCode::InvalidArgument,
    );
}

#[test]
fn a_bad_line_field_is_named_by_its_line() {
    let shop = Shop::with_program("line-fields", simple_program());
    let id = shop.customer("Петров Пётр", "+79161112233");
    let good = json!({ "sku": "OIL", "name": "Масло 5W-30", "kind": "goods", "qty": "1",
        "unit_price": "100" });
    let cases = [
        ("sku", json!("   "), "lines[2].sku"),
        ("name", json!(""), "lines[2].name"),
        ("category", json!("\u{202e}"), "lines[2].category"),
    ];
    for (field, value, named) in cases {
        let mut bad = good.clone();
        bad[field] = value;
        let err = shop.err(
            "checkout.quote",
            json!({ "customer": { "id": id }, "lines": [good, good, bad] }),
            ErrorCode::InvalidArgument,
        );
        assert_eq!(err.details["field"], named, "{err:?}");
        assert!(err.message.contains(named), "{err:?}");
    }
}

#[test]
fn idempotency_keys_of_spaces_or_invisible_characters_are_refused() {
    let shop = Shop::with_program("keys", simple_program());
    let id = shop.customer("Петров Пётр", "+79161112233");
    for key in [
        "     ",
        " k",
        "k ",
        "\u{200b}",
        "k\u{202e}",
        "k\u{ffff}",
        "k\u{1}",
    ] {
        let err = shop.err(
            "points.adjust",
            json!({ "customer": { "id": id }, "points": "1", "reason": "x", "operator": "Оля",
                    "idempotency_key": key }),
            ErrorCode::InvalidArgument,
        );
        assert_eq!(err.details["field"], "idempotency_key", "{key:?}: {err:?}");
    }
    shop.ok(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "1", "reason": "x", "operator": "Оля",
                "idempotency_key": "касса 2 / чек 17" }),
    );
}

#[test]
fn a_backup_document_with_a_loose_amount_or_a_repeated_key_is_refused() {
    use sha2::{Digest, Sha256};
    let shop = Shop::with_program("backup-doc", simple_program());
    let good = temp_path("backup-good");
    shop.engine().backup(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    // Rewrite the programme document inside the backup (with valid checksums, as an
    // edited or foreign file would have) and check that restore refuses it.
    for (from, to) in [
        (r#""rate_percent":"10""#, r#""rate_percent":"1E1""#),
        (
            r#""rate_percent":"10""#,
            r#""rate_percent":"10","rate_percent":"99""#,
        ),
    ] {
        let edited = rewrite_document(&bytes, from, to);
        let path = temp_path("backup-edited");
        std::fs::write(&path, &edited).unwrap();
        let err =
            Engine::restore(&path, &temp_path("restored"), &EngineOptions::default()).unwrap_err();
        assert_eq!(err.code, ErrorCode::Corrupted, "{to}: {err:?}");
        let _ = std::fs::remove_file(&path);
    }
    let _ = std::fs::remove_file(&good);

    /// Replace `from` by `to` inside the one record whose payload holds it, then fix the
    /// record's length and crc32 and the file's sha256.
    fn rewrite_document(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
        let magic = b"PITSTOP-BACKUP\n".len();
        let mut out = bytes[..magic + 4].to_vec();
        let mut at = magic + 4;
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let mut found = false;
        loop {
            let key_len = u32_at(at);
            if key_len == u32::MAX as usize {
                break;
            }
            let key = &bytes[at + 4..at + 4 + key_len];
            let value_len = u32_at(at + 4 + key_len);
            let value = &bytes[at + 8 + key_len..at + 8 + key_len + value_len];
            let payload = &value[4..];
            let text = String::from_utf8_lossy(payload);
            let value = if text.contains(from) && key[0] == b'g' {
                found = true;
                let new = text.replacen(from, to, 1).into_bytes();
                let mut sealed = crc32fast::hash(&new).to_le_bytes().to_vec();
                sealed.extend_from_slice(&new);
                sealed
            } else {
                value.to_vec()
            };
            out.extend_from_slice(&(key_len as u32).to_le_bytes());
            out.extend_from_slice(key);
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(&value);
            at += 8 + key_len + value_len;
        }
        assert!(found, "no programme record holds {from}");
        out.extend_from_slice(&bytes[at..at + 12]);
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }
}
