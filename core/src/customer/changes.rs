//! What the audit log records of a customer's card: the fields a person fills in, field
//! by field, with the personal ones marked for erasure.

use super::Customer;
use crate::audit::{Change, Entity};
use crate::error::{Error, Result};
use crate::store::WriteTxn;
use serde_json::json;

/// Fields of a customer record that are figures kept by visits, tiers and the ledger,
/// not the card a person fills in: the audit log leaves them out.
const FIGURES: &[&str] = &[
    "id",
    "total_spend",
    "visits",
    "first_visit",
    "last_visit",
    "tier",
    "tier_since",
    "vip",
    "registered_at",
];

/// Fields of the card that are not personal data (kept in the log after erasure).
const NOT_PERSONAL: &[&str] = &["kind", "company", "agreement", "status", "blacklisted"];

/// The changes of a customer's card between two states (`old` absent: registration).
pub(super) fn card_changes(old: Option<&Customer>, new: &Customer) -> Result<Vec<Change>> {
    let encode = |customer: &Customer| {
        serde_json::to_value(customer)
            .map_err(|err| Error::internal(format!("cannot encode a customer: {err}")))
    };
    let before = old.map(encode).transpose()?;
    let after = encode(new)?;
    Ok(
        Change::diff(Entity::Customer, new.id, before.as_ref(), &after, FIGURES)
            .into_iter()
            .map(|change| {
                let personal = !NOT_PERSONAL.contains(&change.field.as_str());
                let change = change.of_customer(new.id);
                if personal { change.personal() } else { change }
            })
            .collect(),
    )
}

/// Note for the audit log the tags a promotion plugin added (at registration or a
/// checkout, where the rest of the card does not change): nothing when they are equal.
pub fn record_tags(txn: &mut WriteTxn<'_>, id: u64, before: &[String], after: &[String]) {
    if before == after {
        return;
    }
    let text = |tags: &[String]| crate::audit::text_of(&json!(tags));
    txn.record(
        Change::new(Entity::Customer, id, "tags", text(before), text(after))
            .of_customer(id)
            .personal(),
    );
}

/// Note for the audit log what changed on a customer's card (`old` absent: created).
pub fn record_changes(
    txn: &mut WriteTxn<'_>,
    old: Option<&Customer>,
    new: &Customer,
) -> Result<()> {
    let changes = card_changes(old, new)?;
    txn.record_all(changes);
    Ok(())
}
