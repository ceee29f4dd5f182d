//! Vehicles: `vehicle.add`, which also gives a car known by its plate the VIN a later
//! file brings.

use super::values::parse_whole;
use super::{
    Applied, Fields, Rejected, Row, error_to_rejection, find_customer, invalid, refused, reject,
};
use pitstop_core::{Engine, ErrorCode};
use serde_json::{Map, Value, json};

pub const FIELDS: Fields = &[
    ("external_id", &["external_id", "id", "код", "код авто"]),
    (
        "customer",
        &[
            "customer",
            "customer_id",
            "owner",
            "владелец",
            "код клиента",
        ],
    ),
    ("vin", &["vin"]),
    ("plate", &["plate", "госномер", "гос. номер", "номер"]),
    ("make", &["make", "марка"]),
    ("model", &["model", "модель"]),
    ("year", &["year", "год", "год выпуска"]),
    ("mileage", &["mileage", "пробег"]),
    ("usage", &["usage"]),
];

/// The stored car this row names, by VIN or by plate.
fn stored_car(engine: &Engine, row: &Row) -> Option<Value> {
    ["vin", "plate"].into_iter().find_map(|key| {
        let value = row.get(key)?;
        engine
            .execute("vehicle.get", json!({ "vehicle": { key: value } }))
            .ok()
            .map(|view| view["vehicle"].clone())
    })
}

pub fn import(engine: &Engine, row: &Row) -> Result<Applied, Rejected> {
    let Some(id) = row.get("external_id") else {
        return Err(invalid(row, "external_id: the source id is empty"));
    };
    let Some(owner) = row.get("customer") else {
        return Err(invalid(row, "customer: the owner's source id is empty"));
    };
    let owner_ref = json!({ "external_id": owner });
    let Some(owner_summary) =
        find_customer(engine, owner_ref.clone()).map_err(|e| error_to_rejection(row, e))?
    else {
        return Err(reject(
            row,
            ErrorCode::NotFound,
            format!("customer: no customer with source id {owner:?} (import customers first)"),
        ));
    };
    let mut args = Map::new();
    args.insert("customer".into(), owner_ref);
    for (field, value) in &row.fields {
        let value = match *field {
            "external_id" | "customer" => continue,
            "year" | "mileage" => json!(parse_whole(value).ok_or_else(|| invalid(
                row,
                format!("{field}: {value:?} is not a whole number")
            ))?),
            _ => json!(value),
        };
        args.insert(field.to_string(), value);
    }
    for field in ["make", "model"] {
        if !args.contains_key(field) {
            return Err(invalid(row, format!("{field}: empty")));
        }
    }
    let attach = match stored_car(engine, row) {
        Some(car) if car["customer"] == owner_summary["id"] => {
            // Known by its plate without a VIN, and the file gives one: vehicle.add
            // attaches it. Otherwise the car is there already.
            if car["vin"].is_null() && row.get("vin").is_some() {
                true
            } else {
                return Ok(Applied::Unchanged);
            }
        }
        // Someone else's car: vehicle.add refuses it, naming the codes below.
        _ => false,
    };
    args.insert(
        "idempotency_key".into(),
        json!(format!(
            "import:vehicles:{id}{}",
            if attach { ":vin" } else { "" }
        )),
    );
    match engine.execute("vehicle.add", Value::Object(args)) {
        Ok(_) if attach => Ok(Applied::Updated(vec!["vin".into()])),
        Ok(_) => Ok(Applied::Added),
        Err(err) => Err(refused(engine, row, err)),
    }
}
