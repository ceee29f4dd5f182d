//! Reading JSON that comes from outside (requests, programme files, plugin outputs,
//! stored documents): the same [`Value`] serde_json builds, except that a key given twice
//! in one object is refused.
//!
//! serde_json's own `Value` keeps the last of two equal keys, while a proxy, a log
//! reader or another JSON library may keep the first: the two would then disagree on
//! what was asked (`{"op":"checkout.commit","op":"store.stats"}`). Refusing the
//! ambiguity is the only reading everyone agrees with. The check rides on serde_json's
//! own parser (same speed, same depth limit, same syntax errors); the path of the
//! offending key is put together only when there is one.

use crate::error::{Error, ErrorCode, Result};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

/// Why a text is not acceptable JSON.
#[derive(Debug)]
pub enum JsonError {
    /// Not JSON at all (serde_json's message, with line and column).
    Syntax(serde_json::Error),
    /// A key appears twice in one object.
    DuplicateKey {
        /// The repeated key.
        key: String,
        /// Where it is, e.g. `args.lines[1].unit_price`.
        path: String,
    },
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Syntax(err) => write!(f, "{err}"),
            JsonError::DuplicateKey { key, path } => {
                write!(f, "the key \"{key}\" appears twice at {path}")
            }
        }
    }
}

/// Parse a JSON text, refusing duplicate keys.
pub fn from_str(text: &str) -> Result<Value, JsonError> {
    parse(&mut serde_json::Deserializer::from_str(text))
}

/// Parse JSON bytes, refusing duplicate keys.
pub fn from_slice(bytes: &[u8]) -> Result<Value, JsonError> {
    parse(&mut serde_json::Deserializer::from_slice(bytes))
}

fn parse<'de, R: serde_json::de::Read<'de>>(
    deserializer: &mut serde_json::Deserializer<R>,
) -> Result<Value, JsonError> {
    let duplicate = RefCell::new(None);
    let seed = Node {
        path: &Path::Root,
        duplicate: &duplicate,
    };
    let outcome = seed
        .deserialize(&mut *deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    match (outcome, duplicate.into_inner()) {
        (_, Some((key, path))) => Err(JsonError::DuplicateKey { key, path }),
        (Ok(value), None) => Ok(value),
        (Err(err), None) => Err(JsonError::Syntax(err)),
    }
}

/// Where a value sits, as a chain of borrowed steps (no allocation while parsing).
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(parent, key) => {
                if matches!(parent, Path::Root) {
                    write!(f, "{key}")
                } else {
                    write!(f, "{parent}.{key}")
                }
            }
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// One value to read, knowing where it is. A duplicate is reported through the cell:
/// serde's error type can only carry text, and the caller needs the key and the path.
#[derive(Clone, Copy)]
struct Node<'p, 'c> {
    path: &'p Path<'p>,
    duplicate: &'c RefCell<Option<(String, String)>>,
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        loop {
            let path = Path::Index(self.path, items.len());
            let child = Node {
                path: &path,
                duplicate: self.duplicate,
            };
            match seq.next_element_seed(child)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Node {
                path: &Path::Key(self.path, &key),
                duplicate: self.duplicate,
            })?;
            if object.contains_key(&key) {
                let path = Path::Key(self.path, &key).to_string();
                *self.duplicate.borrow_mut() = Some((key, path));
                return Err(de::Error::custom("duplicate key"));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Decode typed arguments. A message names the field by its path in the caller's own
/// request (`lines[2].qty: ...`), as `invalid_argument` with `details.field`.
pub(crate) fn decode_args<A: DeserializeOwned>(args: Value) -> Result<A> {
    serde_path_to_error::deserialize(args).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("invalid arguments: {inner}"),
            )
        } else {
            Error::invalid(&path, inner.to_string())
        }
    })
}

/// What a string field of the contract holds: how a door that has native decimals and
/// dates (Python) reads it. Money, points and quantities are decimal strings on the wire,
/// dates `YYYY-MM-DD`, instants RFC 3339; identifiers (card numbers, phones, order ids)
/// are text even when they look like numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Money, points, quantities, percentages.
    Decimal,
    /// A local date, `YYYY-MM-DD`.
    Date,
    /// An instant, RFC 3339 in UTC.
    Instant,
    /// Anything else.
    Text,
}

// `derived_kind`: what `core/build.rs` read off the serde types.
include!(concat!(env!("OUT_DIR"), "/field_kinds.rs"));

/// The kind of the field `name` inside the object held by the field `parent`.
///
/// Derived from the types the operations encode (`core/build.rs`). A door converts a
/// string only under a name of a non-text kind and only when it parses exactly, so a
/// text that shares a name with a decimal elsewhere stays text unless it looks like one.
pub fn field_kind(parent: Option<&str>, name: &str) -> FieldKind {
    match name {
        // The programme's point value (`points.value`) is a decimal; elsewhere `value` is
        // the offending value of an error (a card number, an order id): text.
        "value" => {
            if parent == Some("points") {
                FieldKind::Decimal
            } else {
                FieldKind::Text
            }
        }
        // Built without a type: error details, reminder details, the plugins' input.
        "base" | "redeem" => FieldKind::Decimal,
        "last_done" | "recommended_on" | "today" | "visit_date" => FieldKind::Date,
        _ => derived_kind(name).unwrap_or(FieldKind::Text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate(text: &str) -> (String, String) {
        match from_str(text) {
            Err(JsonError::DuplicateKey { key, path }) => (key, path),
            other => panic!("{text}: expected a duplicate, got {other:?}"),
        }
    }

    /// The kinds come from the types: a field the build script failed to read would
    /// fall back to text and reach Python as `str`.
    #[test]
    fn field_kinds_follow_the_types_and_identifiers_stay_text() {
        use FieldKind::*;
        for (parent, name, kind) in [
            (Some("lines"), "unit_price", Decimal), // VisitLine, Decimal
            (None, "balance", Decimal),             // Balance, Decimal
            (None, "lots", Decimal),                // Entry, Vec<(u64, Decimal)>
            (None, "birthday", Date),               // Customer, Option<NaiveDate>
            (None, "created_at", Instant),          // Campaign, DateTime<Utc>
            (Some("points"), "value", Decimal),
            (Some("details"), "value", Text),
            (None, "card", Text),
            (None, "phone", Text),
            (None, "order_id", Text),
            (None, "today", Date),
        ] {
            assert_eq!(field_kind(parent, name), kind, "{parent:?}.{name}");
        }
    }

    #[test]
    fn duplicates_are_refused_at_every_level_with_their_path() {
        assert_eq!(
            duplicate(r#"{"op":"checkout.commit","op":"store.stats"}"#),
            ("op".to_string(), "op".to_string())
        );
        assert_eq!(
            duplicate(
                r#"{"op":"x","args":{"lines":[{"qty":"1"},{"unit_price":"4500","unit_price":"1"}]}}"#
            ),
            (
                "unit_price".to_string(),
                "args.lines[1].unit_price".to_string()
            )
        );
        assert_eq!(
            duplicate(r#"[[{"a":{"phone":"1","phone":"2"}}]]"#),
            ("phone".to_string(), "[0][0].a.phone".to_string())
        );
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let text =
            r#"{"a":[1,-2,3.5,true,null,"x",{"b":{}}],"c":"\u00e9","d":18446744073709551615}"#;
        let strict = from_str(text).unwrap();
        let loose: Value = serde_json::from_str(text).unwrap();
        assert_eq!(strict, loose);
        assert_eq!(from_slice(text.as_bytes()).unwrap(), loose);
        // Equal keys in different objects are not duplicates.
        assert!(from_str(r#"{"a":{"k":1},"b":{"k":2},"k":[{"k":1},{"k":2}]}"#).is_ok());
    }

    #[test]
    fn syntax_errors_stay_syntax_errors() {
        for text in ["", "{", r#"{"a":1}x"#, r#"{"a" 1}"#, "[1,]"] {
            assert!(
                matches!(from_str(text), Err(JsonError::Syntax(_))),
                "{text}"
            );
        }
    }
}
