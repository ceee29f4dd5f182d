//! `pitstop duplicates` and `pitstop merge`: the candidate pairs of
//! `customer.duplicates` as a table, and `customer.merge` with its dry-run preview and a
//! confirmation on stdin (or `--yes`).

use crate::locale::{Lang, Locale};
use crate::output::{pairs, table};
use crate::{Failure, Outcome, open_existing};
use pitstop_core::ErrorCode;
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::Path;

/// Most pages `pitstop duplicates` reads (1000 pairs each).
const PAGES_MAX: usize = 100;

fn say(locale: &Locale, ru: &'static str, en: &'static str) -> &'static str {
    match locale.lang() {
        Lang::Russian => ru,
        Lang::English => en,
    }
}

/// `pitstop duplicates STORE [--min-score S]`: every candidate pair, best first.
pub fn duplicates(path: &Path, min_score: Option<&str>, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    let mut candidates: Vec<Value> = Vec::new();
    let mut after: Option<String> = None;
    let mut truncated = false;
    for _ in 0..PAGES_MAX {
        let mut args = json!({ "limit": 1000 });
        if let Some(score) = min_score {
            args["min_score"] = json!(score);
        }
        if let Some(after) = &after {
            args["after"] = json!(after);
        }
        let page = engine.execute("customer.duplicates", args)?;
        truncated |= page["truncated"] == true;
        candidates.extend(page["candidates"].as_array().cloned().unwrap_or_default());
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    if json {
        println!(
            "{}",
            json!({ "candidates": candidates, "truncated": truncated })
        );
        return Ok(0);
    }
    let locale = Locale::of(&engine);
    if candidates.is_empty() {
        println!(
            "{}",
            say(
                &locale,
                "Возможных дублей не найдено.",
                "No likely duplicates found."
            )
        );
        return Ok(0);
    }
    let rows: Vec<Vec<String>> = candidates
        .iter()
        .map(|c| {
            let reasons: Vec<String> = c["reasons"]
                .as_array()
                .map(|list| list.iter().map(|r| reason_text(&locale, r)).collect())
                .unwrap_or_default();
            vec![
                locale.num(&c["score"]),
                format!("{} {}", c["a"], c["a_name"].as_str().unwrap_or_default()),
                format!("{} {}", c["b"], c["b_name"].as_str().unwrap_or_default()),
                reasons.join("; "),
            ]
        })
        .collect();
    let headers = match locale.lang() {
        Lang::Russian => ["Оценка", "Клиент A", "Клиент B", "Причины"],
        Lang::English => ["Score", "Customer A", "Customer B", "Reasons"],
    };
    print!("{}", table(&headers, &rows));
    if truncated {
        println!(
            "{}",
            say(
                &locale,
                "Список неполон: поиск остановился на своём пределе.",
                "The list is incomplete: the search stopped at its limit."
            )
        );
    }
    Ok(0)
}

/// A reason in the shop's language, with its evidence.
fn reason_text(locale: &Locale, reason: &Value) -> String {
    let code = reason["code"].as_str().unwrap_or_default();
    let label = match (locale.lang(), code) {
        (Lang::Russian, "same_phone") => "тот же телефон",
        (Lang::Russian, "same_email") => "тот же e-mail",
        (Lang::Russian, "same_vin") => "тот же VIN",
        (Lang::Russian, "same_plate") => "тот же госномер",
        (Lang::Russian, "same_name_birthday") => "то же ФИО и дата рождения",
        (Lang::Russian, "similar_name_shared_phone") => "похожее ФИО и общий телефон",
        (Lang::Russian, "similar_name_shared_car") => "похожее ФИО и общий автомобиль",
        (_, other) => other,
    };
    format!(
        "{label} ({})",
        reason["evidence"].as_str().unwrap_or_default()
    )
}

/// `pitstop merge STORE KEEP MERGE [--yes]`: the preview, a confirmation, the merge.
pub fn merge(path: &Path, keep: u64, merged: u64, yes: bool, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    let locale = Locale::of(&engine);
    let args = json!({ "keep": { "id": keep }, "merge": { "id": merged } });
    let mut preview_args = args.clone();
    preview_args["dry_run"] = json!(true);
    let preview = engine.execute("customer.merge", preview_args)?;
    if !yes {
        if json {
            return Err(Failure::new(
                ErrorCode::InvalidArgument,
                "--json cannot ask for confirmation: pass --yes",
            ));
        }
        print!("{}", preview_text(&locale, &preview));
        eprint!(
            "{} ",
            say(&locale, "Объединить? [да/нет]", "Merge? [yes/no]")
        );
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|err| Failure::new(ErrorCode::Io, format!("cannot read stdin: {err}")))?;
        let answer = answer.trim().to_lowercase();
        if !matches!(answer.as_str(), "y" | "yes" | "д" | "да") {
            println!(
                "{}",
                say(
                    &locale,
                    "Отменено, ничего не изменено.",
                    "Cancelled, nothing changed."
                )
            );
            return Ok(1);
        }
    }
    let result = engine.execute("customer.merge", args)?;
    if json {
        println!("{result}");
    } else {
        println!(
            "{}",
            match locale.lang() {
                Lang::Russian => format!("Клиент {merged} объединён с клиентом {keep}."),
                Lang::English => format!("Customer {merged} merged into customer {keep}."),
            }
        );
        print!("{}", preview_text(&locale, &result));
    }
    Ok(0)
}

/// What moves (or moved): one line per kind of record.
fn preview_text(locale: &Locale, result: &Value) -> String {
    let ru = locale.lang() == Lang::Russian;
    let rows: [(&str, &str, &str); 11] = [
        ("cards", "Карты", "Cards"),
        ("vehicles", "Автомобили", "Vehicles"),
        ("visits", "Визиты", "Visits"),
        ("consent_events", "История согласий", "Consent history"),
        ("notifications", "Рассылки", "Campaign notifications"),
        ("recommendations", "Рекомендации", "Recommendations"),
        ("tyre_storage", "Шины на хранении", "Tyres in storage"),
        ("special_orders", "Заказы", "Special orders"),
        ("feedback", "Отзывы", "Feedback"),
        (
            "birthday_grants",
            "Бонусы ко дню рождения",
            "Birthday bonuses",
        ),
        ("reminder_marks", "Отметки напоминаний", "Reminder marks"),
    ];
    let mut items: Vec<(&str, String)> = vec![
        (
            if ru { "Остаётся" } else { "Kept" },
            format!(
                "{} {}",
                result["keep"],
                result["customer"]["full_name"].as_str().unwrap_or_default()
            ),
        ),
        (
            if ru {
                "Объединяется"
            } else {
                "Merged"
            },
            result["merged"].to_string(),
        ),
        (
            if ru { "Баллы" } else { "Points" },
            locale.num(&result["points"]["points"]),
        ),
    ];
    for (key, label_ru, label_en) in rows {
        items.push((
            if ru { label_ru } else { label_en },
            result[key].to_string(),
        ));
    }
    items.push((
        if ru {
            "Приглашённые"
        } else {
            "Referees"
        },
        result["referrals"]["referees"].to_string(),
    ));
    let adopted: Vec<String> = result["adopted"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|f| locale.field(f.as_str().unwrap_or_default()).to_string())
                .collect()
        })
        .unwrap_or_default();
    if !adopted.is_empty() {
        items.push((
            if ru {
                "Заполнится из объединяемого"
            } else {
                "Filled from the merged"
            },
            adopted.join(", "),
        ));
    }
    pairs(&items)
}
