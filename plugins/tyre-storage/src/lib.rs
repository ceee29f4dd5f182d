//! Seasonal tyre storage: a tyre change in season gives a discount on storage and
//! schedules the counter-season reminder (winter tyres in autumn, summer tyres in spring).
//!
//! Config: `{"change_categories": ["tyre_change"], "storage_categories": ["tyre_storage"],
//!   "percent": "20", "spring": ["03-15", "05-31"], "autumn": ["10-01", "12-15"],
//!   "remind_days_before": 14}`

use pitstop_plugin::{Date, Dec, Effects, Error, Input, Kind, export_plugin};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    change_categories: Vec<String>,
    storage_categories: Vec<String>,
    percent: Dec,
    /// `[from, to]` as `MM-DD`.
    spring: [String; 2],
    autumn: [String; 2],
    #[serde(default)]
    remind_days_before: i64,
}

fn month_day(year: i32, text: &str) -> Result<Date, Error> {
    Date::parse(&format!("{year:04}-{text}"))
        .ok_or_else(|| Error::new("bad_config", format!("{text} is not MM-DD")))
}

fn window(year: i32, range: &[String; 2]) -> Result<(Date, Date), Error> {
    Ok((month_day(year, &range[0])?, month_day(year, &range[1])?))
}

/// The checkout hook.
pub fn checkout(input: &Input) -> Result<Effects, Error> {
    let config: Config = input.config()?;
    let today = input.date;
    let year = today.year();
    let spring = window(year, &config.spring)?;
    let autumn = window(year, &config.autumn)?;
    let in_spring = spring.0 <= today && today <= spring.1;
    let in_autumn = autumn.0 <= today && today <= autumn.1;
    let mut effects = Effects::new();
    if !in_spring && !in_autumn {
        return Ok(effects);
    }
    let lines = input.lines();
    let changed = lines
        .iter()
        .any(|l| l.kind == Kind::Labor && l.in_category(&config.change_categories));
    if !changed {
        return Ok(effects);
    }
    for line in lines
        .iter()
        .filter(|l| l.in_category(&config.storage_categories) && l.net.is_positive())
    {
        effects.line_discount_percent(line.index, config.percent, "сезонное хранение шин");
    }
    // The next season starts the other window: autumn after spring, next spring after autumn.
    let (next_start, text) = if in_spring {
        (
            autumn.0,
            "Пора менять летние шины на зимние — ваш комплект ждёт на хранении",
        )
    } else {
        (
            month_day(year + 1, &config.spring[0])?,
            "Пора менять зимние шины на летние — ваш комплект ждёт на хранении",
        )
    };
    let due = next_start.add_days(-config.remind_days_before.max(0));
    effects.remind_on(
        "tyre_season",
        if due > today { due } else { next_start },
        text,
    );
    effects.tell_cashier(&format!(
        "Хранение шин со скидкой {}%; напоминание о смене сезона {}",
        config.percent, due
    ));
    Ok(effects)
}

export_plugin!(checkout => checkout);

#[cfg(test)]
mod tests {
    use super::*;
    use pitstop_plugin::Effect;
    use pitstop_plugin::testing::{customer, input, line};

    const CONFIG: &str = include_str!("../config.json");

    fn run(date: &str, with_change: bool) -> Effects {
        let mut lines = vec![line(1, "goods", "tyre_storage", "4000.00")];
        if with_change {
            lines.insert(0, line(0, "labor", "tyre_change", "2400.00"));
        }
        let text = input(
            CONFIG,
            &customer(&[], None),
            "null",
            &format!("[{}]", lines.join(",")),
            date,
        );
        checkout(&Input::from_json(&text).unwrap()).unwrap()
    }

    #[test]
    fn spring_change_discounts_storage_and_reminds_in_autumn() {
        let effects = run("2025-04-20", true);
        assert!(matches!(
            &effects.list()[0],
            Effect::LineDiscount { line: 1, .. }
        ));
        assert!(matches!(
            &effects.list()[1],
            Effect::Reminder { due_on: Some(d), .. } if d.to_string() == "2025-09-17"
        ));
    }

    #[test]
    fn autumn_change_reminds_next_spring() {
        let effects = run("2025-11-02", true);
        assert!(matches!(
            &effects.list()[1],
            Effect::Reminder { due_on: Some(d), .. } if d.to_string() == "2026-03-01"
        ));
    }

    #[test]
    fn off_season_or_no_change_nothing() {
        assert!(run("2025-07-01", true).is_empty());
        assert!(run("2025-04-20", false).is_empty());
    }
}
