//! Old-car care: cars older than N years get a free diagnostics consultation (the
//! consultation line is discounted to zero, or the cashier is told to offer it) and a
//! message for the customer.
//!
//! Config: `{"min_age_years": 10, "consultation_skus": ["DIAG-CONSULT"],
//!           "consultation_category": "diagnostics_consultation"}`

use pitstop_plugin::{Dec, Effects, Error, Input, export_plugin};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    min_age_years: i32,
    #[serde(default)]
    consultation_skus: Vec<String>,
    #[serde(default)]
    consultation_category: Option<String>,
}

/// The checkout hook.
pub fn checkout(input: &Input) -> Result<Effects, Error> {
    let config: Config = input.config()?;
    let mut effects = Effects::new();
    let Some(age) = input.vehicle.as_ref().and_then(|v| v.age_years) else {
        return Ok(effects);
    };
    if age < config.min_age_years {
        return Ok(effects);
    }
    let consultation = input.lines().iter().find(|l| {
        config.consultation_skus.iter().any(|s| s == &l.sku)
            || config
                .consultation_category
                .as_deref()
                .is_some_and(|c| l.category.as_deref() == Some(c))
    });
    match consultation {
        Some(line) if line.net.is_positive() => {
            effects
                .line_discount_percent(line.index, Dec::HUNDRED, "бесплатная консультация")
                .exclusive();
        }
        Some(_) => {}
        None => {
            effects.tell_cashier(&format!(
                "Автомобилю {age} лет: предложите бесплатную консультацию по диагностике"
            ));
        }
    }
    effects.tell_customer("Для автомобилей старше 10 лет консультация диагноста бесплатна");
    Ok(effects)
}

export_plugin!(checkout => checkout);

#[cfg(test)]
mod tests {
    use super::*;
    use pitstop_plugin::Effect;
    use pitstop_plugin::testing::{customer, input, line, vehicle};

    const CONFIG: &str = include_str!("../config.json");

    fn run(year: u16, age: i32, lines: &[String]) -> Effects {
        let text = input(
            CONFIG,
            &customer(&[], None),
            &vehicle(year, age),
            &format!("[{}]", lines.join(",")),
            "2025-03-10",
        );
        checkout(&Input::from_json(&text).unwrap()).unwrap()
    }

    #[test]
    fn old_car_gets_the_consultation_free() {
        let effects = run(
            2008,
            17,
            &[line(0, "labor", "diagnostics_consultation", "900.00")],
        );
        assert!(matches!(
            &effects.list()[0],
            Effect::LineDiscount { line: 0, exclusive: true, percent: Some(p), .. } if *p == Dec::HUNDRED
        ));
    }

    #[test]
    fn old_car_without_consultation_gets_an_offer() {
        let effects = run(2008, 17, &[line(0, "labor", "repair", "900.00")]);
        assert!(
            matches!(&effects.list()[0], Effect::Message { text, .. } if text.contains("17 лет"))
        );
    }

    #[test]
    fn young_car_nothing() {
        assert!(
            run(
                2020,
                5,
                &[line(0, "labor", "diagnostics_consultation", "900.00")]
            )
            .is_empty()
        );
    }
}
