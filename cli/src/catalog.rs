//! `pitstop catalog`: service names that mean the same (`catalog.duplicates`,
//! `catalog.alias`, `catalog.aliases`, `catalog.unalias`), and `pitstop report
//! completeness` (`report.completeness`), as text in the shop's language or JSON.

use crate::args::CatalogCommand;
use crate::locale::{Lang, Locale};
use crate::output::{pairs, table};
use crate::{Failure, Outcome, open_existing};
use pitstop_core::Engine;
use serde_json::{Value, json};
use std::path::Path;

/// Russian or English wording of a label this module prints.
fn tr(locale: &Locale, ru: &'static str, en: &'static str) -> &'static str {
    match locale.lang() {
        Lang::Russian => ru,
        Lang::English => en,
    }
}

fn text(value: &Value) -> String {
    crate::output::cell(value)
}

pub fn run(path: &Path, action: CatalogCommand, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    let locale = Locale::of(&engine);
    let (result, shown) = match action {
        CatalogCommand::Duplicates { from, to, limit } => {
            let mut args = json!({});
            for (key, value) in [
                ("from", from.map(Value::from)),
                ("to", to.map(Value::from)),
                ("limit", limit.map(Value::from)),
            ] {
                if let Some(value) = value {
                    args[key] = value;
                }
            }
            let result = engine.execute("catalog.duplicates", args)?;
            let shown = duplicates_text(&result, &locale, path);
            (result, shown)
        }
        CatalogCommand::Alias { name, aliases } => {
            let result =
                engine.execute("catalog.alias", json!({ "name": name, "aliases": aliases }))?;
            let shown = groups_text(std::slice::from_ref(&result), &locale);
            (result, shown)
        }
        CatalogCommand::Aliases { name } => {
            let result = every_group(&engine, name)?;
            let groups = result["groups"].as_array().cloned().unwrap_or_default();
            let shown = groups_text(&groups, &locale);
            (result, shown)
        }
        CatalogCommand::Unalias { name } => {
            let result = engine.execute("catalog.unalias", json!({ "name": name }))?;
            let removed: Vec<String> = result["removed"]
                .as_array()
                .map(|names| names.iter().map(|n| format!("«{}»", text(n))).collect())
                .unwrap_or_default();
            let mut shown = format!(
                "{}: {}\n",
                tr(&locale, "Больше не псевдонимы", "No longer aliases"),
                removed.join(", ")
            );
            if result["group"].is_object() {
                shown.push_str(&groups_text(
                    std::slice::from_ref(&result["group"]),
                    &locale,
                ));
            }
            (result, shown)
        }
    };
    if json {
        println!("{result}");
    } else {
        print!("{shown}");
    }
    Ok(0)
}

/// Every page of `catalog.aliases` (or the group of one name) as one `{groups}` object.
fn every_group(engine: &Engine, name: Option<String>) -> Result<Value, Failure> {
    if let Some(name) = name {
        return Ok(engine.execute("catalog.aliases", json!({ "name": name }))?);
    }
    let mut groups: Vec<Value> = Vec::new();
    let mut after: Option<Value> = None;
    loop {
        let mut args = json!({ "limit": 1000 });
        if let Some(after) = after.take() {
            args["after"] = after;
        }
        let page = engine.execute("catalog.aliases", args)?;
        groups.extend(page["groups"].as_array().cloned().unwrap_or_default());
        match &page["next"] {
            Value::Null => return Ok(json!({ "groups": groups })),
            next => after = Some(next.clone()),
        }
    }
}

/// Confirmed services, each with its aliases.
fn groups_text(groups: &[Value], locale: &Locale) -> String {
    if groups.is_empty() {
        return format!(
            "{}\n",
            tr(locale, "Подтверждённых групп нет.", "No confirmed groups.")
        );
    }
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            let aliases: Vec<String> = g["aliases"]
                .as_array()
                .map(|a| a.iter().map(text).collect())
                .unwrap_or_default();
            vec![text(&g["name"]), aliases.join("; ")]
        })
        .collect();
    table(
        &[
            tr(locale, "услуга", "service"),
            tr(locale, "псевдонимы", "aliases"),
        ],
        &rows,
    )
}

/// The proposed groups, each with its names and the command that confirms it.
fn duplicates_text(result: &Value, locale: &Locale, path: &Path) -> String {
    let mut out = pairs(&[
        (
            tr(locale, "период", "period"),
            format!(
                "{} – {}",
                locale.date_of(&result["from"]),
                locale.date_of(&result["to"])
            ),
        ),
        (
            tr(locale, "названий", "names"),
            locale.num(&result["names"]),
        ),
        (tr(locale, "групп", "groups"), locale.num(&result["groups"])),
    ]);
    let rows = result["rows"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            tr(
                locale,
                "Названий, похожих на одну услугу, не найдено.",
                "No names that look like one service."
            )
        ));
    }
    for (n, row) in rows.iter().enumerate() {
        out.push_str(&group_text(n + 1, row, locale, path));
    }
    out
}

/// One proposed group: its names and the command that confirms it.
fn group_text(n: usize, row: &Value, locale: &Locale, path: &Path) -> String {
    let mut out = format!(
        "\n{}. {}: «{}» ({}: {})\n",
        n,
        tr(locale, "Предлагаемое название", "Proposed name"),
        text(&row["proposed"]),
        tr(locale, "строк", "lines"),
        locale.num(&row["lines"]),
    );
    let names = row["names"].as_array().cloned().unwrap_or_default();
    let cells: Vec<Vec<String>> = names
        .iter()
        .map(|name| {
            vec![
                text(&name["name"]),
                locale.num(&name["lines"]),
                text(&name["service"]),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            tr(locale, "название", "name"),
            tr(locale, "строк", "lines"),
            tr(locale, "уже подтверждено как", "confirmed as"),
        ],
        &cells,
    ));
    let proposed = text(&row["proposed"]);
    // Names already confirmed as the proposed service need no confirming again.
    let others: Vec<String> = names
        .iter()
        .filter(|name| text(&name["service"]) != proposed)
        .map(|name| text(&name["name"]))
        .filter(|name| *name != proposed)
        .map(|name| shell_quote(&name))
        .collect();
    out.push_str(&format!(
        "{}: pitstop catalog {} alias {} {}\n",
        tr(locale, "подтвердить", "confirm"),
        shell_quote(&path.display().to_string()),
        shell_quote(&proposed),
        others.join(" ")
    ));
    out
}

/// A word for a POSIX shell, quoted when it needs to be.
fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// `pitstop report STORE completeness`.
pub fn completeness(
    engine: &Engine,
    top: Option<usize>,
    registered_by: Option<String>,
    json: bool,
    locale: &Locale,
) -> Result<(), Failure> {
    let mut args = json!({});
    if let Some(top) = top {
        args["top"] = json!(top);
    }
    if let Some(by) = registered_by {
        args["registered_by"] = json!(by);
    }
    let result = engine.execute("report.completeness", args)?;
    if json {
        println!("{result}");
    } else {
        print!("{}", completeness_text(&result, locale));
    }
    Ok(())
}

/// The fields of the report, in order, and their names.
const FIELDS: [(&str, &str, &str); 6] = [
    ("phone", "телефон", "phone"),
    ("email", "e-mail", "email"),
    ("birthday", "день рождения", "birthday"),
    ("gender", "пол", "gender"),
    ("source", "источник", "source"),
    ("consents", "согласия", "consents"),
];

fn field_name(locale: &Locale, key: &str) -> String {
    FIELDS.iter().find(|(k, _, _)| *k == key).map_or_else(
        || key.to_string(),
        |(_, ru, en)| tr(locale, ru, en).to_string(),
    )
}

fn share(locale: &Locale, missing: &Value) -> String {
    format!(
        "{} ({} %)",
        locale.num(&missing["missing"]),
        locale.num(&missing["percent"])
    )
}

fn registrar(locale: &Locale, value: &Value) -> String {
    match value {
        Value::Null => tr(locale, "не указан", "not recorded").to_string(),
        other => text(other),
    }
}

fn gender(locale: &Locale, value: &Value) -> String {
    match value.as_str() {
        Some("male") => tr(locale, "мужской", "male").to_string(),
        Some("female") => tr(locale, "женский", "female").to_string(),
        _ => text(value),
    }
}

fn problems(locale: &Locale, value: &Value) -> String {
    let names: Vec<&str> = value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|p| match p.as_str() {
                    Some("case") => tr(locale, "регистр букв", "letter case"),
                    Some("latin") => tr(locale, "латинские буквы", "Latin letters"),
                    Some("spaces") => tr(locale, "пробелы", "spaces"),
                    _ => "?",
                })
                .collect()
        })
        .unwrap_or_default();
    names.join(", ")
}

/// The completeness report for a person: the shares, by registrar, then the lists.
fn completeness_text(result: &Value, locale: &Locale) -> String {
    let total = &result["total"];
    let mut out = format!(
        "{}: {}\n",
        tr(locale, "Клиентов", "Customers"),
        locale.num(&total["customers"])
    );
    if let Some(by) = result["registered_by"].as_str() {
        out.push_str(&format!(
            "{}: {by}\n",
            tr(locale, "Оформил(а)", "Registered by")
        ));
    }
    let cells: Vec<Vec<String>> = FIELDS
        .iter()
        .map(|(key, _, _)| {
            let f = &total[*key];
            vec![
                field_name(locale, key),
                locale.num(&f["missing"]),
                locale.num(&f["of"]),
                locale.num(&f["percent"]),
            ]
        })
        .collect();
    out.push_str(&format!("\n{}\n", tr(locale, "Не заполнено", "Missing")));
    out.push_str(&table(
        &[
            tr(locale, "поле", "field"),
            tr(locale, "нет", "missing"),
            tr(locale, "из", "of"),
            "%",
        ],
        &cells,
    ));
    out.push_str(&registrars_text(result, locale));
    out.push_str(&lists_text(result, locale));
    out.push_str(&format!(
        "\n{}\n",
        tr(
            locale,
            "Это предложения: ничего не изменено. Исправления вносятся через customer.update.",
            "These are proposals: nothing was changed. Apply them with customer.update."
        )
    ));
    out
}

/// The shares of each registrar's customers.
fn registrars_text(result: &Value, locale: &Locale) -> String {
    let mut out = String::new();
    let registrars = result["by_registrar"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !registrars.is_empty() {
        let mut headers: Vec<String> = vec![
            tr(locale, "сотрудник", "employee").to_string(),
            tr(locale, "клиентов", "customers").to_string(),
        ];
        headers.extend(FIELDS.iter().map(|(k, _, _)| field_name(locale, k)));
        let rows: Vec<Vec<String>> = registrars
            .iter()
            .map(|r| {
                let mut line = vec![
                    registrar(locale, &r["registered_by"]),
                    locale.num(&r["fields"]["customers"]),
                ];
                line.extend(
                    FIELDS
                        .iter()
                        .map(|(k, _, _)| share(locale, &r["fields"][*k])),
                );
                line
            })
            .collect();
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        out.push_str(&format!(
            "\n{}\n{}",
            tr(
                locale,
                "По сотрудникам, оформившим клиентов",
                "By the employee who registered them"
            ),
            table(&refs, &rows)
        ));
    }
    out
}

/// The customers to complete, with what each lacks.
fn incomplete_text(result: &Value, locale: &Locale) -> String {
    list(
        locale,
        tr(
            locale,
            "Клиенты, которых стоит дополнить",
            "Customers to complete",
        ),
        &result["incomplete"],
        &result["rows"],
        &[
            tr(locale, "клиент", "customer"),
            tr(locale, "имя", "name"),
            tr(locale, "сотрудник", "employee"),
            tr(locale, "не хватает", "missing"),
        ],
        |r| {
            let missing: Vec<String> = r["missing"]
                .as_array()
                .map(|m| m.iter().map(|f| field_name(locale, &text(f))).collect())
                .unwrap_or_default();
            vec![
                text(&r["customer"]),
                text(&r["full_name"]),
                registrar(locale, &r["registered_by"]),
                missing.join(", "),
            ]
        },
    )
}

/// The customers to complete, the names to correct and the genders proposed.
fn lists_text(result: &Value, locale: &Locale) -> String {
    let mut out = String::new();
    out.push_str(&incomplete_text(result, locale));
    out.push_str(&list(
        locale,
        tr(locale, "Имена, которые стоит исправить", "Names to correct"),
        &result["name_fixes"],
        &result["name_rows"],
        &[
            tr(locale, "клиент", "customer"),
            tr(locale, "сейчас", "now"),
            tr(locale, "предлагается", "proposed"),
            tr(locale, "что исправлено", "corrects"),
        ],
        |r| {
            vec![
                text(&r["customer"]),
                text(&r["full_name"]),
                text(&r["proposed"]),
                problems(locale, &r["problems"]),
            ]
        },
    ));
    out.push_str(&list(
        locale,
        tr(
            locale,
            "Пол по отчеству (пол не указан)",
            "Gender from the patronymic (gender unknown)",
        ),
        &result["gender_proposals"],
        &result["gender_rows"],
        &[
            tr(locale, "клиент", "customer"),
            tr(locale, "имя", "name"),
            tr(locale, "пол", "gender"),
            tr(locale, "по слову", "from"),
        ],
        |r| {
            vec![
                text(&r["customer"]),
                text(&r["full_name"]),
                gender(locale, &r["gender"]),
                text(&r["told_by"]),
            ]
        },
    ));
    out
}

/// A titled list: its total, then its rows as a table (or a line saying there are none).
fn list(
    locale: &Locale,
    title: &str,
    count: &Value,
    rows: &Value,
    headers: &[&str],
    cells: impl Fn(&Value) -> Vec<String>,
) -> String {
    let rows = rows.as_array().cloned().unwrap_or_default();
    let mut out = format!("\n{title}: {}", locale.num(count));
    if (rows.len() as u64) < count.as_u64().unwrap_or(0) {
        out.push_str(&format!(
            " ({} {})",
            tr(locale, "показаны первые", "showing the first"),
            rows.len()
        ));
    }
    out.push('\n');
    if !rows.is_empty() {
        let table_rows: Vec<Vec<String>> = rows.iter().map(cells).collect();
        out.push_str(&table(headers, &table_rows));
    }
    out
}
