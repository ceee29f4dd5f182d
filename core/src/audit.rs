//! Who changed what, as values: a [`Change`] is one field of one thing (a customer's
//! card, a loyalty card, a points balance, the programme, a plugin) before and after
//! an operation. A domain operation pushes its changes into the write transaction
//! ([`crate::store::WriteTxn::record`]); the session writes them, with the operation's
//! name, instant and operator, into the audit log in the same atomic batch
//! (`audit_log`). Nothing here knows storage.
//!
//! Recording a change for a new operation (say `customer.merge`) takes a line per
//! field: `txn.record(Change::new(Entity::Customer, id, "phone", before, after)
//! .of_customer(id).personal())`, or [`Change::diff`] over two values.

use serde::{Deserialize, Serialize};
use std::fmt::Display;

/// What replaces a personal value in the log once its customer was erased.
pub const ERASED: &str = "[erased]";

/// Longest operator name (characters).
pub const OPERATOR_CHARS_MAX: usize = 64;

/// The kind of thing a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A customer's card (profile): name, phone, consents, status.
    Customer,
    /// A loyalty card, by number.
    Card,
    /// A customer's car, by vehicle id: added, its VIN or plate, moved to a new owner.
    Vehicle,
    /// A customer's points balance (one change per ledger movement).
    Balance,
    /// The loyalty programme.
    Program,
    /// A promotion plugin, by name.
    Plugin,
}

/// One field of one thing, before and after (`None`: absent, not set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// What kind of thing.
    pub entity: Entity,
    /// Which one: customer id, card number, plugin name, programme version.
    pub id: String,
    /// Which field (for a balance: the ledger movement's kind).
    pub field: String,
    /// The value before, as text.
    pub before: Option<String>,
    /// The value after, as text.
    pub after: Option<String>,
    /// Whose data it is, if a customer's.
    pub customer: Option<u64>,
    /// The values (and for a card, the id) are personal data: erasure scrubs them.
    pub personal: bool,
}

impl Change {
    /// A change of `field` of `entity` `id`.
    pub fn new(
        entity: Entity,
        id: impl Display,
        field: impl Into<String>,
        before: Option<String>,
        after: Option<String>,
    ) -> Change {
        Change {
            entity,
            id: id.to_string(),
            field: field.into(),
            before,
            after,
            customer: None,
            personal: false,
        }
    }

    /// The change concerns a customer (indexed by customer, scrubbed at erasure).
    pub fn of_customer(mut self, customer: u64) -> Change {
        self.customer = Some(customer);
        self
    }

    /// The values are personal data.
    pub fn personal(mut self) -> Change {
        self.personal = true;
        self
    }

    /// The same change with its personal values (and a card's number) replaced by
    /// [`ERASED`]; other changes unchanged.
    pub fn scrubbed(mut self) -> Change {
        if self.personal {
            let mark = |value: &mut Option<String>| {
                if value.is_some() {
                    *value = Some(ERASED.to_string());
                }
            };
            mark(&mut self.before);
            mark(&mut self.after);
            if self.entity == Entity::Card {
                self.id = ERASED.to_string();
            }
        }
        self
    }

    /// The fields of two JSON objects that differ, one change each (top-level keys;
    /// a nested value is compared and shown whole, as compact JSON). `before` is
    /// `None` for a thing just created.
    pub fn diff(
        entity: Entity,
        id: impl Display,
        before: Option<&serde_json::Value>,
        after: &serde_json::Value,
        skip: &[&str],
    ) -> Vec<Change> {
        let id = id.to_string();
        let empty = serde_json::Map::new();
        let before_map = before.and_then(|value| value.as_object()).unwrap_or(&empty);
        let after_map = after.as_object().unwrap_or(&empty);
        let mut fields: Vec<&String> = after_map.keys().chain(before_map.keys()).collect();
        fields.sort();
        fields.dedup();
        fields
            .into_iter()
            .filter(|field| !skip.contains(&field.as_str()))
            .filter_map(|field| {
                let old = before_map.get(field).and_then(text_of);
                let new = after_map.get(field).and_then(text_of);
                (old != new).then(|| Change::new(entity, &id, field.as_str(), old, new))
            })
            .collect()
    }
}

/// A JSON value as the log shows it: strings bare, `null` and an empty list or object
/// as absent (a new customer without tags has no `tags` change), others compact.
pub fn text_of(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::Array(items) if items.is_empty() => None,
        serde_json::Value::Object(fields) if fields.is_empty() => None,
        serde_json::Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_lists_only_fields_that_differ_and_skips_what_it_is_told() {
        let before = json!({"full_name": "Петров Пётр", "phone": "+79161234567", "visits": 3, "tags": ["vip"]});
        let after = json!({"full_name": "Петров Пётр", "phone": null, "visits": 4, "tags": ["vip", "такси"], "email": "p@mail.ru"});
        let changes = Change::diff(Entity::Customer, 7, Some(&before), &after, &["visits"]);
        let seen: Vec<(&str, Option<&str>, Option<&str>)> = changes
            .iter()
            .map(|c| (c.field.as_str(), c.before.as_deref(), c.after.as_deref()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("email", None, Some("p@mail.ru")),
                ("phone", Some("+79161234567"), None),
                ("tags", Some("[\"vip\"]"), Some("[\"vip\",\"такси\"]")),
            ]
        );
        assert!(changes.iter().all(|c| c.id == "7"));
    }

    #[test]
    fn scrubbing_marks_personal_values_and_card_numbers_only() {
        let phone = Change::new(Entity::Customer, 7, "phone", Some("+7916".into()), None)
            .of_customer(7)
            .personal();
        let scrubbed = phone.scrubbed();
        assert_eq!(scrubbed.before.as_deref(), Some(ERASED));
        assert_eq!(scrubbed.after, None);
        assert_eq!(scrubbed.id, "7");
        let card = Change::new(
            Entity::Card,
            "2000000000015",
            "status",
            None,
            Some("active".into()),
        )
        .personal()
        .scrubbed();
        assert_eq!(card.id, ERASED);
        let balance = Change::new(
            Entity::Balance,
            7,
            "accrual",
            Some("0".into()),
            Some("10".into()),
        );
        assert_eq!(balance.clone().scrubbed(), balance);
    }
}
