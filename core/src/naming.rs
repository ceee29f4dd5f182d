//! How an error names a customer or a vehicle: in the terms the caller used (the phone,
//! card, external id, plate or VIN it sent), never by an internal id it did not give.
//! The internal ids stay in the error's details for the host's logs.

use crate::customer::CustomerRef;
use crate::vehicle::VehicleRef;

/// The customer as the request named them: `customer 7`, `card 2000000000015`,
/// `customer with phone +7 916 000-00-00`, `customer with external id ЗН-1`, ...
pub fn customer(reference: &CustomerRef) -> String {
    let given = [
        (reference.card.as_deref(), "card "),
        (reference.phone.as_deref(), "customer with phone "),
        (reference.email.as_deref(), "customer with email "),
        (
            reference.external_id.as_deref(),
            "customer with external id ",
        ),
        (reference.plate.as_deref(), "customer with plate "),
        (reference.vin.as_deref(), "customer with VIN "),
    ];
    match given
        .iter()
        .find_map(|(value, label)| value.map(|v| (v, label)))
    {
        Some((value, label)) => format!("{label}{}", value.trim()),
        None => match reference.id {
            Some(id) => format!("customer {id}"),
            None => "the customer".to_string(),
        },
    }
}

/// The vehicle as the request named it: `vehicle with plate А123ВС77`, `vehicle with
/// VIN …`, or `vehicle 3` when the caller gave the id.
pub fn vehicle(reference: &VehicleRef) -> String {
    if let Some(plate) = &reference.plate {
        format!("vehicle with plate {}", plate.trim())
    } else if let Some(vin) = &reference.vin {
        format!("vehicle with VIN {}", vin.trim())
    } else {
        match reference.id {
            Some(id) => format!("vehicle {id}"),
            None => "the vehicle".to_string(),
        }
    }
}
