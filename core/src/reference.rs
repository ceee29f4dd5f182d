//! How a request names a customer or a vehicle. Values only: resolving a reference to a
//! record is the business of `customer::resolve` and `vehicle::resolve`.

use serde::{Deserialize, Serialize};

/// How a request names a customer: exactly one key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerRef {
    /// Internal id.
    #[serde(default)]
    pub id: Option<u64>,
    /// Card number.
    #[serde(default)]
    pub card: Option<String>,
    /// Phone in any usual notation.
    #[serde(default)]
    pub phone: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Host's id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Registration plate of one of their vehicles.
    #[serde(default)]
    pub plate: Option<String>,
    /// VIN of one of their vehicles.
    #[serde(default)]
    pub vin: Option<String>,
}

impl CustomerRef {
    /// Reference by id.
    pub fn id(id: u64) -> CustomerRef {
        CustomerRef {
            id: Some(id),
            ..CustomerRef::default()
        }
    }
}

/// How a request names a vehicle: exactly one key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VehicleRef {
    /// Id.
    #[serde(default)]
    pub id: Option<u64>,
    /// VIN.
    #[serde(default)]
    pub vin: Option<String>,
    /// Plate.
    #[serde(default)]
    pub plate: Option<String>,
}
