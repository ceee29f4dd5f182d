//! Resolving how a request names a customer (id, card, phone, email, the host's id, a
//! car's plate or VIN) to the customer.

use super::*;
use crate::context::{Ctx, must};
use crate::error::{Error, ErrorCode, Result};
use crate::normalize::{self};
use crate::store::Reader;
use crate::store::keys::unique;
use serde_json::json;

/// Find the customer a reference names. Erased customers are not found by anything.
pub fn resolve<R: Reader>(reader: &R, ctx: &Ctx, reference: &CustomerRef) -> Result<Customer> {
    let customer = resolve_any(reader, ctx, reference)?;
    if customer.status == CustomerStatus::Erased {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("customer {} was erased", customer.id),
        )
        .with_details(
            json!({ "what": "customer", "key": customer.id.to_string(), "erased": true }),
        ));
    }
    Ok(customer)
}

pub(super) fn resolve_any<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    reference: &CustomerRef,
) -> Result<Customer> {
    let given = [
        reference.id.is_some(),
        reference.card.is_some(),
        reference.phone.is_some(),
        reference.email.is_some(),
        reference.external_id.is_some(),
        reference.plate.is_some(),
        reference.vin.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given != 1 {
        return Err(Error::invalid(
            "customer",
            "name the customer with exactly one of id, card, phone, email, external_id, plate, vin",
        ));
    }
    if let Some(id) = reference.id {
        return load(reader, id);
    }
    if let Some(number) = &reference.card {
        let number = normalize::identifier("customer.card", number)?;
        let card: Card = must(reader.get(&card_key(&number))?, "card", &number)?;
        if !card.active {
            let mut err = Error::new(ErrorCode::Blocked, format!("card {number} is blocked"));
            err.details = json!({ "card": number, "customer": card.customer,
                "reason": card.block_reason, "replaced_by": card.replaced_by });
            return Err(err);
        }
        return load(reader, card.customer);
    }
    let (kind, value, what) = if let Some(phone) = &reference.phone {
        (
            unique::PHONE,
            normalize::phone("customer.phone", phone, ctx.default_country())?,
            "customer with phone",
        )
    } else if let Some(email) = &reference.email {
        (
            unique::EMAIL,
            normalize::email("customer.email", email)?,
            "customer with email",
        )
    } else if let Some(external) = &reference.external_id {
        (
            unique::EXTERNAL_ID,
            normalize::identifier("customer.external_id", external)?,
            "customer with external id",
        )
    } else if let Some(plate) = &reference.plate {
        let vehicle =
            crate::vehicle::find_by_plate(reader, &normalize::plate("customer.plate", plate)?)?;
        return load(reader, vehicle.customer);
    } else if let Some(vin) = &reference.vin {
        let vehicle = crate::vehicle::find_by_vin(reader, &normalize::vin("customer.vin", vin)?)?;
        return load(reader, vehicle.customer);
    } else {
        return Err(Error::internal("customer reference without a key"));
    };
    let id: u64 = must(reader.get(&unique_key(kind, &value))?, what, &value)?;
    load(reader, id)
}

/// Resolve and refuse blocked customers (for loyalty operations).
pub fn resolve_active<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    reference: &CustomerRef,
) -> Result<Customer> {
    let customer = resolve(reader, ctx, reference)?;
    if customer.status == CustomerStatus::Blocked {
        return Err(Error::new(
            ErrorCode::Blocked,
            format!("customer {} is blocked", customer.id),
        )
        .with_details(json!({ "customer": customer.id })));
    }
    Ok(customer)
}
