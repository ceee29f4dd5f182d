//! The fast way to read a plugin's output: each effect is decoded in one pass into a flat
//! record of every field an effect may have, then checked against the fields its `type`
//! allows. serde's internally tagged enum (what [`EffectInput`] is) buffers every effect
//! into an intermediate tree of strings and numbers first, to find the tag; this does not.
//!
//! It accepts exactly what decoding into [`EffectInput`] accepts, or less: whatever it
//! does not take (a field the type does not have, a required field missing or `null`, a
//! key given twice, anything malformed) goes the slow way, `parse_output`'s checked
//! reading, which names the fault.

use super::Audience;
use super::effects::EffectInput;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

/// A field as given: absent (`None`), `null` (`Some(None)`) or a value.
type Field<T> = Option<Option<T>>;

fn field<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Field<T>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

fn decimal_field<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Field<Decimal>, D::Error> {
    crate::amount::optional(deserializer).map(Some)
}

/// The output object, when it has effects.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FlatOutput {
    effects: Vec<FlatEffect>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum EffectType {
    LineDiscount,
    BasketDiscount,
    BonusPoints,
    Accrual,
    Message,
    AddTags,
    Reminder,
}

/// Every field of every effect type.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlatEffect {
    #[serde(rename = "type")]
    effect_type: EffectType,
    #[serde(default, deserialize_with = "field")]
    line: Field<u32>,
    #[serde(default, deserialize_with = "decimal_field")]
    percent: Field<Decimal>,
    #[serde(default, deserialize_with = "decimal_field")]
    amount: Field<Decimal>,
    #[serde(default, deserialize_with = "field")]
    exclusive: Field<bool>,
    #[serde(default, deserialize_with = "field")]
    reason: Field<String>,
    #[serde(default, deserialize_with = "decimal_field")]
    points: Field<Decimal>,
    #[serde(default, deserialize_with = "field")]
    expires_in_days: Field<u32>,
    #[serde(default, deserialize_with = "decimal_field")]
    multiplier: Field<Decimal>,
    #[serde(default, deserialize_with = "field")]
    to: Field<Audience>,
    #[serde(default, deserialize_with = "field")]
    text: Field<String>,
    #[serde(default, deserialize_with = "field")]
    tags: Field<Vec<String>>,
    #[serde(default, deserialize_with = "field")]
    kind: Field<String>,
    #[serde(default, deserialize_with = "field")]
    due_on: Field<NaiveDate>,
    #[serde(default, deserialize_with = "field")]
    in_days: Field<u32>,
}

/// A field the type requires: present and not `null`.
fn required<T>(value: Field<T>) -> Option<T> {
    value.flatten()
}

/// A flag: absent is `false`; `null` is refused, as `#[serde(default)] bool` refuses it.
fn flag(value: Field<bool>) -> Option<bool> {
    match value {
        None => Some(false),
        Some(given) => given,
    }
}

impl FlatOutput {
    /// The effects, typed; `None` when any of them is not exactly an [`EffectInput`].
    pub(super) fn into_effects(self) -> Option<Vec<EffectInput>> {
        self.effects.into_iter().map(FlatEffect::typed).collect()
    }

    /// How many effects were given.
    pub(super) fn len(&self) -> usize {
        self.effects.len()
    }
}

impl FlatEffect {
    /// Whether only the fields in `allowed` (by name) are given.
    fn only(&self, allowed: &[&str]) -> bool {
        let given = [
            ("line", self.line.is_some()),
            ("percent", self.percent.is_some()),
            ("amount", self.amount.is_some()),
            ("exclusive", self.exclusive.is_some()),
            ("reason", self.reason.is_some()),
            ("points", self.points.is_some()),
            ("expires_in_days", self.expires_in_days.is_some()),
            ("multiplier", self.multiplier.is_some()),
            ("to", self.to.is_some()),
            ("text", self.text.is_some()),
            ("tags", self.tags.is_some()),
            ("kind", self.kind.is_some()),
            ("due_on", self.due_on.is_some()),
            ("in_days", self.in_days.is_some()),
        ];
        given
            .iter()
            .all(|(name, present)| !present || allowed.contains(name))
    }

    fn typed(self) -> Option<EffectInput> {
        let allowed: &[&str] = match self.effect_type {
            EffectType::LineDiscount => &["line", "percent", "amount", "exclusive", "reason"],
            EffectType::BasketDiscount => &["percent", "amount", "exclusive", "reason"],
            EffectType::BonusPoints => &["points", "reason", "expires_in_days"],
            EffectType::Accrual => &["multiplier", "reason"],
            EffectType::Message => &["to", "text"],
            EffectType::AddTags => &["tags"],
            EffectType::Reminder => &["kind", "due_on", "in_days", "text"],
        };
        if !self.only(allowed) {
            return None;
        }
        Some(match self.effect_type {
            EffectType::LineDiscount => EffectInput::LineDiscount {
                line: required(self.line)?,
                percent: self.percent.flatten(),
                amount: self.amount.flatten(),
                exclusive: flag(self.exclusive)?,
                reason: self.reason.flatten(),
            },
            EffectType::BasketDiscount => EffectInput::BasketDiscount {
                percent: self.percent.flatten(),
                amount: self.amount.flatten(),
                exclusive: flag(self.exclusive)?,
                reason: self.reason.flatten(),
            },
            EffectType::BonusPoints => EffectInput::BonusPoints {
                points: required(self.points)?,
                reason: required(self.reason)?,
                expires_in_days: self.expires_in_days.flatten(),
            },
            EffectType::Accrual => EffectInput::Accrual {
                multiplier: required(self.multiplier)?,
                reason: self.reason.flatten(),
            },
            EffectType::Message => EffectInput::Message {
                to: required(self.to)?,
                text: required(self.text)?,
            },
            EffectType::AddTags => EffectInput::AddTags {
                tags: required(self.tags)?,
            },
            EffectType::Reminder => EffectInput::Reminder {
                kind: required(self.kind)?,
                due_on: self.due_on.flatten(),
                in_days: self.in_days.flatten(),
                text: self.text.flatten(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast(output: &str) -> Option<usize> {
        let flat: FlatOutput = serde_json::from_str(output).ok()?;
        flat.into_effects().map(|effects| effects.len())
    }

    #[test]
    fn takes_what_the_typed_enum_takes() {
        let output = r#"{"effects":[
            {"type":"line_discount","line":1,"percent":"15","reason":"kit"},
            {"type":"basket_discount","amount":"100.00","exclusive":true,"reason":null},
            {"type":"bonus_points","points":"50","reason":"birthday","expires_in_days":30},
            {"type":"accrual","multiplier":"2"},
            {"type":"message","to":"customer","text":"hi"},
            {"type":"add_tags","tags":["oil-club"]},
            {"type":"reminder","kind":"service_due","in_days":180,"due_on":null}
        ]}"#;
        assert_eq!(fast(output), Some(7));
        let typed: super::super::effects::TypedOutput = serde_json::from_str(output).unwrap();
        assert_eq!(typed.effects.len(), 7);
    }

    #[test]
    fn leaves_the_rest_to_the_slow_way() {
        for output in [
            // a field of another type, even null
            r#"{"effects":[{"type":"message","to":"cashier","text":"x","reason":null}]}"#,
            // a required field null or missing
            r#"{"effects":[{"type":"bonus_points","points":"5","reason":null}]}"#,
            r#"{"effects":[{"type":"line_discount","percent":"5"}]}"#,
            // a null flag
            r#"{"effects":[{"type":"line_discount","line":0,"percent":"5","exclusive":null}]}"#,
            // a key twice, an unknown type, an unknown field, no type
            r#"{"effects":[{"type":"accrual","multiplier":"2","multiplier":"3"}]}"#,
            r#"{"effects":[{"type":"refund","amount":"5"}]}"#,
            r#"{"effects":[{"type":"accrual","multiplier":"2","extra":1}]}"#,
            r#"{"effects":[{"multiplier":"2"}]}"#,
            // a number where a decimal string is due, an error object
            r#"{"effects":[{"type":"accrual","multiplier":2}]}"#,
            r#"{"error":{"code":"x","message":"y"}}"#,
        ] {
            assert_eq!(fast(output), None, "{output}");
            let typed = serde_json::from_str::<super::super::effects::TypedOutput>(output);
            assert!(typed.is_err(), "the typed enum refuses it too: {output}");
        }
    }
}
