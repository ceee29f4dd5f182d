//! Fleet terms: corporate customers, and customers tagged as taxi or fleet drivers, get a
//! labour discount that does not combine with other offers, and earn no points.
//!
//! Config: `{"tags": ["taxi", "fleet"], "corporate": true, "labor_percent": "12",
//!           "no_points": true}`

use pitstop_plugin::{Dec, Effects, Error, Input, Kind, export_plugin};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    tags: Vec<String>,
    #[serde(default)]
    corporate: bool,
    labor_percent: Dec,
    #[serde(default = "yes")]
    no_points: bool,
}

fn yes() -> bool {
    true
}

/// The checkout hook.
pub fn checkout(input: &Input) -> Result<Effects, Error> {
    let config: Config = input.config()?;
    let customer = &input.customer;
    let fleet = (config.corporate && (customer.is_corporate() || customer.company.is_some()))
        || config.tags.iter().any(|t| customer.has_tag(t));
    let mut effects = Effects::new();
    if !fleet {
        return Ok(effects);
    }
    for line in input
        .lines()
        .iter()
        .filter(|l| l.kind == Kind::Labor && l.net.is_positive())
    {
        effects
            .line_discount_percent(line.index, config.labor_percent, "условия автопарка")
            .exclusive();
    }
    if config.no_points {
        effects.accrual_multiplier(Dec::ZERO, "автопарк: баллы не начисляются");
    }
    effects.tell_cashier(&format!(
        "Автопарк: скидка {}% на работы, баллы не начисляются",
        config.labor_percent
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

    fn run(tags: &[&str]) -> Effects {
        let lines = format!(
            "[{},{}]",
            line(0, "labor", "repair", "3000.00"),
            line(1, "part", "brakes", "2000.00")
        );
        let text = input(CONFIG, &customer(tags, None), "null", &lines, "2025-03-10");
        checkout(&Input::from_json(&text).unwrap()).unwrap()
    }

    #[test]
    fn taxi_drivers_get_exclusive_labour_discount_and_no_points() {
        let effects = run(&["taxi"]);
        assert!(matches!(
            &effects.list()[0],
            Effect::LineDiscount {
                line: 0,
                exclusive: true,
                ..
            }
        ));
        assert!(
            matches!(&effects.list()[1], Effect::Accrual { multiplier, .. } if *multiplier == Dec::ZERO)
        );
        assert_eq!(effects.list().len(), 3);
    }

    #[test]
    fn private_customers_are_untouched() {
        assert!(run(&["vip"]).is_empty());
    }
}
