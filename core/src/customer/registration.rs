//! Who registered a customer (`registered_by` of `customer.register`): the host's
//! employee, kept beside the customer record so older records need no migration. A
//! customer registered without it, or before it was kept, is registered by "unknown".

use crate::error::Result;
use crate::normalize;
use crate::store::keys::{KeyBuilder, tag};
use crate::store::{Reader, WriteTxn};
use serde::{Deserialize, Serialize};

/// Longest `registered_by`, in characters.
pub const REGISTERED_BY_CHARS_MAX: usize = 100;

/// Who registered a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registration {
    /// The employee, as the host names them.
    pub by: String,
}

fn registration_key(customer: u64) -> Vec<u8> {
    KeyBuilder::new(tag::REGISTRATION).u64(customer).build()
}

/// `registered_by` checked: trimmed, 1..=100 visible characters (blank is none).
pub fn checked(value: Option<&str>) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => normalize::text("registered_by", v, REGISTERED_BY_CHARS_MAX).map(Some),
    }
}

/// Keep who registered a customer.
pub fn save(txn: &mut WriteTxn<'_>, customer: u64, by: &str) -> Result<()> {
    txn.put(
        registration_key(customer),
        &Registration { by: by.to_string() },
    )
}

/// Who registered a customer, when it was kept.
pub fn registered_by<R: Reader>(reader: &R, customer: u64) -> Result<Option<String>> {
    Ok(reader
        .get::<Registration>(&registration_key(customer))?
        .map(|r| r.by))
}
