//! `pitstop simulate`: a proposed programme replayed on the shop's own history
//! (`program.simulate`), printed side by side with the programme in force.

use crate::locale::{Lang, Locale};
use crate::output::table;
use crate::{Failure, Outcome, open_existing};
use pitstop_core::ErrorCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// What the command was given.
pub struct Request<'a> {
    pub path: &'a Path,
    pub program: &'a Path,
    pub from: &'a str,
    pub to: &'a str,
    pub plugins: &'a [PathBuf],
}

pub fn run(request: Request<'_>, json: bool) -> Outcome {
    let text = std::fs::read_to_string(request.program).map_err(|err| {
        Failure::new(
            ErrorCode::Io,
            format!("cannot read {}: {err}", request.program.display()),
        )
    })?;
    let program: Value = pitstop_core::json::from_str(&text).map_err(|err| {
        Failure::new(
            ErrorCode::InvalidArgument,
            format!("{} is not JSON: {err}", request.program.display()),
        )
    })?;
    let mut plugins = Vec::new();
    for file in request.plugins {
        let name = file
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or_default()
            .to_string();
        plugins.push(json!({ "name": name, "path": file.display().to_string() }));
    }
    let engine = open_existing(request.path)?;
    let result = engine.execute(
        "program.simulate",
        json!({ "program": program, "from": request.from, "to": request.to, "plugins": plugins }),
    )?;
    if json {
        println!("{result}");
    } else {
        let locale = Locale::of(&engine);
        print!("{}", text_of(&result, &locale));
    }
    Ok(0)
}

/// Labels in the shop's language: (Russian, English).
fn say(locale: &Locale, ru: &'static str, en: &'static str) -> &'static str {
    match locale.lang() {
        Lang::Russian => ru,
        Lang::English => en,
    }
}

/// The comparison as tables: figures, tiers, the customers who change most, the
/// assumption.
pub fn text_of(result: &Value, locale: &Locale) -> String {
    let mut out = String::new();
    let period = format!(
        "{} — {}",
        locale.date_of(&result["from"]),
        locale.date_of(&result["to"])
    );
    out.push_str(&format!(
        "{} {period}\n\n",
        say(
            locale,
            "Моделирование программы за период",
            "Programme simulation for"
        )
    ));
    out.push_str(&figures_table(result, locale));
    out.push('\n');
    out.push_str(&tiers_table(result, locale));
    out.push('\n');
    out.push_str(&changes_table(result, locale));
    let skipped = result["skipped_in_force"].as_u64().unwrap_or(0)
        + result["skipped_proposed"].as_u64().unwrap_or(0);
    if skipped > 0 {
        out.push_str(&format!(
            "\n{}: {}\n",
            say(
                locale,
                "Визиты, которые касса не приняла при повторе",
                "Visits checkout refused in the replay"
            ),
            locale.integer(skipped)
        ));
        for row in result["skipped"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "  {} [{}] {}\n",
                crate::output::cell(&row["order_id"]),
                crate::output::cell(&row["code"]),
                crate::output::cell(&row["message"])
            ));
        }
    }
    out.push('\n');
    out.push_str(say(
        locale,
        "Допущение: те же визиты в те же дни с теми же корзинами (строки, количества, цены, скидки учётной системы); каждый клиент списывает столько баллов, сколько списал, но не больше, чем позволяют правила в этом визите; ежедневное задание выполняется каждый день до визитов; возврат по визиту периода, сделанный в периоде, повторяется в тот же момент с теми же строками и количествами; обе стороны вызывают плагины, установленные и включённые сейчас, а предложенные плагины добавляются (или заменяют одноимённые) только в предложенной. Приветственные, реферальные бонусы и бонусы за отзыв, ручные корректировки, блокировки и возвраты по визитам до начала периода не повторяются.\nНачальное состояние: баллы клиента на конец дня перед началом периода по журналу, в тех же партиях со сроками сгорания; сумма покупок и число визитов на тот день; уровень и VIP по правилам каждой стороны из визитов окна уровня до начала периода. Клиенты, которых период не касается (нет визитов, движений баллов и баллов на начало), не повторяются.\n«Действующая» — повтор периода по действующей программе; «факт» — как записано в журнале.\n",
        "",
    ));
    if locale.lang() == Lang::English {
        out.push_str(&format!(
            "Assumption: {}\nStarting state: {}\n\"In force\" is the period replayed under the programme in force; \"actual\" is what the ledger records.\n",
            crate::output::cell(&result["assumption"]),
            crate::output::cell(&result["starting_state"])
        ));
    }
    out
}

/// The three columns and the difference the proposal makes, figure by figure.
fn figures_table(result: &Value, locale: &Locale) -> String {
    let headers = [
        "",
        say(locale, "факт", "actual"),
        say(locale, "действующая", "in force"),
        say(locale, "предложенная", "proposed"),
        say(locale, "разница", "difference"),
    ];
    let rows: [(&str, &str, &str, bool); 9] = [
        ("issued", "начислено баллов", "points issued", false),
        ("redeemed", "списано баллов", "points redeemed", false),
        ("expired", "сгорело баллов", "points expired", false),
        ("adjusted", "корректировки", "adjustments", false),
        (
            "liability_start",
            "баллов на начало",
            "points at start",
            false,
        ),
        ("liability_end", "баллов на конец", "points at end", false),
        ("discounts", "скидки", "discounts", true),
        ("visits", "визитов", "visits", false),
        ("refunds", "возвратов", "refunds", false),
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(key, ru, en, money)| {
            let show = |side: &str| {
                let value = &result[side][*key];
                if *money {
                    locale.money(value)
                } else {
                    locale.num(value)
                }
            };
            vec![
                say(locale, ru, en).to_string(),
                show("actual"),
                show("in_force"),
                show("proposed"),
                difference(&result["in_force"][*key], &result["proposed"][*key], locale),
            ]
        })
        .collect();
    table(&headers, &cells)
}

fn difference(before: &Value, after: &Value, locale: &Locale) -> String {
    let parse = |value: &Value| -> Option<rust_decimal::Decimal> {
        match value {
            Value::String(text) => text.parse().ok(),
            Value::Number(n) => n.to_string().parse().ok(),
            _ => None,
        }
    };
    match (parse(before), parse(after)) {
        (Some(before), Some(after)) => {
            let change = after - before;
            let text = locale.number(&change.to_string());
            if change > rust_decimal::Decimal::ZERO {
                format!("+{text}")
            } else {
                text
            }
        }
        _ => String::new(),
    }
}

fn tiers_table(result: &Value, locale: &Locale) -> String {
    let headers = [
        say(locale, "уровень на конец", "tier at the end"),
        say(locale, "действующая", "in force"),
        say(locale, "предложенная", "proposed"),
    ];
    let mut names: Vec<Value> = Vec::new();
    for side in ["in_force", "proposed"] {
        for row in result[side]["tiers"].as_array().into_iter().flatten() {
            if !names.contains(&row["tier"]) {
                names.push(row["tier"].clone());
            }
        }
    }
    let count = |side: &str, tier: &Value| -> String {
        let found = result[side]["tiers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|row| row["tier"] == *tier)
            .and_then(|row| row["customers"].as_u64())
            .unwrap_or(0);
        locale.integer(found)
    };
    let cells: Vec<Vec<String>> = names
        .iter()
        .map(|tier| {
            let label = if tier.is_null() {
                say(locale, "без уровня", "no tier").to_string()
            } else {
                locale.tier(tier)
            };
            vec![label, count("in_force", tier), count("proposed", tier)]
        })
        .collect();
    table(&headers, &cells)
}

fn changes_table(result: &Value, locale: &Locale) -> String {
    let rows = result["changes"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        return format!(
            "{}\n",
            say(
                locale,
                "Ни у одного клиента результат не меняется.",
                "No customer's outcome changes."
            )
        );
    }
    let headers = [
        say(locale, "клиент", "customer"),
        say(locale, "начислено", "issued"),
        say(locale, "списано", "redeemed"),
        say(locale, "сгорело", "expired"),
        say(locale, "скидки", "discounts"),
        say(locale, "баллов на конец", "points at end"),
        say(locale, "уровень", "tier"),
    ];
    let pair = |row: &Value, key: &str, money: bool| -> String {
        let show = |value: &Value| {
            if money {
                locale.money(value)
            } else {
                locale.num(value)
            }
        };
        format!(
            "{} → {}",
            show(&row["in_force"][key]),
            show(&row["proposed"][key])
        )
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                format!(
                    "{} (#{})",
                    crate::output::cell(&row["name"]),
                    crate::output::cell(&row["customer"])
                ),
                pair(row, "issued", false),
                pair(row, "redeemed", false),
                pair(row, "expired", false),
                pair(row, "discounts", true),
                pair(row, "balance", false),
                format!(
                    "{} → {}",
                    locale.tier(&row["in_force"]["tier"]),
                    locale.tier(&row["proposed"]["tier"])
                ),
            ]
        })
        .collect();
    format!(
        "{}\n{}",
        say(
            locale,
            "Клиенты, у которых результат меняется сильнее всего:",
            "Customers whose outcome changes most:"
        ),
        table(&headers, &cells)
    )
}
