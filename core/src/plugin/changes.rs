//! What the audit log records of a plugin's install, enable, disable and removal.

use super::PluginRecord;
use crate::audit::{Change, Entity};
use crate::error::{Error, Result};
use crate::store::WriteTxn;
use serde_json::Value;

/// Note for the audit log what an install, enable, disable or removal changed on a
/// plugin's record (the module is shown by its sha256).
pub(super) fn note_change(
    txn: &mut WriteTxn<'_>,
    before: Option<&PluginRecord>,
    after: Option<&PluginRecord>,
) -> Result<()> {
    let encode = |record: &PluginRecord| {
        serde_json::to_value(record)
            .map_err(|err| Error::internal(format!("cannot encode a plugin record: {err}")))
    };
    let Some(name) = after.or(before).map(|record| record.name.clone()) else {
        return Ok(());
    };
    let old = before.map(encode).transpose()?;
    let new = after.map(encode).transpose()?.unwrap_or(Value::Null);
    txn.record_all(Change::diff(
        Entity::Plugin,
        name,
        old.as_ref(),
        &new,
        &["name", "installed_at", "updated_at"],
    ));
    Ok(())
}
