//! Birthday week: within a window around the customer's birthday every visit earns
//! multiplied points, and the cashier is told why.
//!
//! Config: `{"days_before": 3, "days_after": 3, "multiplier": "2"}`

use pitstop_plugin::{Dec, Effects, Error, Input, export_plugin};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    days_before: i64,
    days_after: i64,
    multiplier: Dec,
}

/// The checkout hook.
pub fn checkout(input: &Input) -> Result<Effects, Error> {
    let config: Config = input.config()?;
    let customer = &input.customer;
    let mut effects = Effects::new();
    let near = customer
        .days_to_birthday
        .is_some_and(|d| d <= config.days_before)
        || customer
            .days_since_birthday
            .is_some_and(|d| d <= config.days_after);
    if !near {
        return Ok(effects);
    }
    effects.accrual_multiplier(config.multiplier, "неделя дня рождения");
    effects.tell_cashier(&format!(
        "Неделя дня рождения: баллы ×{} за этот визит",
        config.multiplier
    ));
    effects.tell_customer("С днём рождения! Сегодня баллы начисляются в двойном размере");
    Ok(effects)
}

export_plugin!(checkout => checkout);

#[cfg(test)]
mod tests {
    use super::*;
    use pitstop_plugin::Effect;
    use pitstop_plugin::testing::{customer, input, line};

    const CONFIG: &str = include_str!("../config.json");

    fn run(days_to_birthday: Option<i64>) -> Effects {
        let lines = format!("[{}]", line(0, "labor", "repair", "1000.00"));
        let text = input(
            CONFIG,
            &customer(&[], days_to_birthday),
            "null",
            &lines,
            "2025-03-10",
        );
        checkout(&Input::from_json(&text).unwrap()).unwrap()
    }

    #[test]
    fn within_the_window_accrual_is_doubled() {
        for days in [-3, -1, 0, 2, 3] {
            let effects = run(Some(days));
            assert!(
                matches!(&effects.list()[0], Effect::Accrual { multiplier, .. } if *multiplier == Dec::from_int(2)),
                "{days}"
            );
        }
    }

    #[test]
    fn outside_the_window_nothing() {
        assert!(run(Some(4)).is_empty());
        assert!(run(Some(-4)).is_empty());
        assert!(run(None).is_empty());
    }
}
