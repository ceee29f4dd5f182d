//! Combined sale: an oil change (labour) in the basket gives a discount on additives and
//! filters, and a cross-sell message when none are in the basket yet.
//!
//! Config (`config.json`):
//! `{"trigger_categories": ["oil_change"], "discount_categories": ["additives", "filters"],
//!   "percent": "15", "cross_sell": "Предложите промывку двигателя и присадку со скидкой 15%"}`

use pitstop_plugin::{Dec, Effects, Error, Input, Kind, export_plugin};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    trigger_categories: Vec<String>,
    discount_categories: Vec<String>,
    percent: Dec,
    #[serde(default)]
    cross_sell: Option<String>,
}

/// The checkout hook.
pub fn checkout(input: &Input) -> Result<Effects, Error> {
    let config: Config = input.config()?;
    if !config.percent.is_positive() || config.percent > Dec::HUNDRED {
        return Err(Error::new("bad_config", "percent must be in (0, 100]"));
    }
    let mut effects = Effects::new();
    let lines = input.lines();
    let triggered = lines
        .iter()
        .any(|l| l.kind == Kind::Labor && l.in_category(&config.trigger_categories));
    if !triggered {
        return Ok(effects);
    }
    let mut discounted = 0;
    for line in lines
        .iter()
        .filter(|l| l.kind != Kind::Labor && l.in_category(&config.discount_categories))
        .filter(|l| l.net.is_positive() && !l.promo)
    {
        effects.line_discount_percent(line.index, config.percent, "комплект к замене масла");
        discounted += 1;
    }
    if discounted == 0 {
        if let Some(text) = &config.cross_sell {
            effects.tell_cashier(text);
        }
    } else {
        effects.tell_customer(&format!(
            "Скидка {}% на присадки и фильтры к замене масла",
            config.percent
        ));
    }
    Ok(effects)
}

export_plugin!(checkout => checkout);

#[cfg(test)]
mod tests {
    use super::*;
    use pitstop_plugin::Effect;
    use pitstop_plugin::testing::{customer, input, line};

    const CONFIG: &str = include_str!("../config.json");

    fn run(lines: &[String]) -> Effects {
        let text = input(
            CONFIG,
            &customer(&[], None),
            "null",
            &format!("[{}]", lines.join(",")),
            "2025-03-10",
        );
        checkout(&Input::from_json(&text).unwrap()).unwrap()
    }

    #[test]
    fn oil_change_discounts_additives_and_filters() {
        let effects = run(&[
            line(0, "labor", "oil_change", "1500.00"),
            line(1, "goods", "additives", "800.00"),
            line(2, "part", "filters", "650.00"),
            line(3, "goods", "oil", "4000.00"),
        ]);
        let discounted: Vec<u32> = effects
            .list()
            .iter()
            .filter_map(|e| match e {
                Effect::LineDiscount { line, percent, .. } => {
                    assert_eq!(percent.unwrap().to_string(), "15");
                    Some(*line)
                }
                _ => None,
            })
            .collect();
        assert_eq!(discounted, vec![1, 2]);
    }

    #[test]
    fn without_additives_the_cashier_gets_a_cross_sell() {
        let effects = run(&[line(0, "labor", "oil_change", "1500.00")]);
        assert!(
            matches!(&effects.list()[0], Effect::Message { text, .. } if text.contains("присадку"))
        );
    }

    #[test]
    fn no_oil_change_no_effect() {
        assert!(run(&[line(0, "goods", "additives", "800.00")]).is_empty());
    }
}
