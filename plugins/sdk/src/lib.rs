//! # Pitstop plugin SDK
//!
//! Write a shop's promotion as an ordinary Rust function from [`Input`] to [`Effects`];
//! [`export_plugin!`] exports the Pitstop plugin ABI (`plugins/ABI.md`) around it.
//!
//! ```
//! use pitstop_plugin::{Effects, Error, Input, Kind, export_plugin};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Config { percent: pitstop_plugin::Dec }
//!
//! pub fn checkout(input: &Input) -> Result<Effects, Error> {
//!     let config: Config = input.config()?;
//!     let mut effects = Effects::new();
//!     for line in input.lines().iter().filter(|l| l.kind == Kind::Labor) {
//!         effects.line_discount_percent(line.index, config.percent, "labour week");
//!     }
//!     Ok(effects)
//! }
//!
//! export_plugin!(checkout => checkout);
//! # fn main() {}
//! ```
//!
//! Build with `cargo build --release --target wasm32-unknown-unknown` and install the
//! `.wasm` with `plugin.install`. Test natively: call your function with
//! [`Input::from_json`] and look at [`Effects::list`].

mod alloc;
mod date;
mod dec;

pub use date::Date;
pub use dec::Dec;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The ABI version this SDK exports.
pub const ABI_VERSION: u32 = 1;

/// Kind of a basket line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Labour (works).
    Labor,
    /// Spare parts.
    Part,
    /// Goods over the counter.
    Goods,
}

/// The programme's points.
#[derive(Debug, Clone, Deserialize)]
pub struct Points {
    /// Money one point is worth.
    pub value: Dec,
    /// Decimal places of points.
    pub scale: u32,
}

/// The customer, as the plugin sees them (no phone, email or card).
#[derive(Debug, Clone, Deserialize)]
pub struct Customer<'a> {
    /// Id.
    pub id: u64,
    /// Full name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// `private` or `corporate`.
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    /// `unknown`, `male`, `female`.
    #[serde(borrow)]
    pub gender: Cow<'a, str>,
    /// Tier code.
    #[serde(borrow)]
    pub tier: Option<Cow<'a, str>>,
    /// Tags (lower-case).
    #[serde(borrow)]
    pub tags: Vec<Cow<'a, str>>,
    /// VIP card.
    pub vip: bool,
    /// Corporate agreement code.
    #[serde(borrow)]
    pub agreement: Option<Cow<'a, str>>,
    /// The company a driver drives for.
    pub company: Option<u64>,
    /// How they heard about the shop.
    #[serde(borrow)]
    pub source: Option<Cow<'a, str>>,
    /// Birthday.
    pub birthday: Option<Date>,
    /// Days until the next birthday (0 = today).
    pub days_to_birthday: Option<i64>,
    /// Days since the last birthday (0 = today).
    pub days_since_birthday: Option<i64>,
    /// Points balance.
    pub balance: Dec,
    /// Points available now.
    pub available: Dec,
    /// Counted visits before this one.
    pub visits: u32,
    /// No visit before this one.
    pub first_visit: bool,
    /// Days since the last visit.
    pub days_since_last_visit: Option<i64>,
    /// Lifetime spend.
    pub total_spend: Dec,
    /// Registration date.
    pub registered_on: Date,
}

impl<'a> Customer<'a> {
    /// Whether the customer has a tag (case-insensitive).
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
    }

    /// Whether the customer is a company.
    pub fn is_corporate(&self) -> bool {
        self.kind == "corporate"
    }
}

/// The vehicle serviced.
#[derive(Debug, Clone, Deserialize)]
pub struct Vehicle<'a> {
    /// Id.
    pub id: u64,
    /// Make.
    #[serde(borrow)]
    pub make: Cow<'a, str>,
    /// Model.
    #[serde(borrow)]
    pub model: Cow<'a, str>,
    /// Model year.
    pub year: Option<u16>,
    /// Age in years (this year − model year).
    pub age_years: Option<i32>,
    /// Odometer now, km.
    pub mileage_km: Option<u32>,
    /// `personal` or `commercial`.
    #[serde(borrow)]
    pub usage: Cow<'a, str>,
}

/// A basket line, priced with the programme's discounts.
#[derive(Debug, Clone, Deserialize)]
pub struct Line<'a> {
    /// Index to target in effects.
    pub index: u32,
    /// Host's article.
    #[serde(borrow)]
    pub sku: Cow<'a, str>,
    /// Name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Kind.
    pub kind: Kind,
    /// Category.
    #[serde(borrow)]
    pub category: Option<Cow<'a, str>>,
    /// Quantity.
    pub qty: Dec,
    /// Unit price.
    pub unit_price: Dec,
    /// qty × unit price.
    pub gross: Dec,
    /// Discount the host gave.
    pub host_discount: Dec,
    /// Sold at a campaign price.
    pub promo: bool,
    /// The programme's discount.
    pub discount: Dec,
    /// Where that discount came from.
    #[serde(borrow)]
    pub discount_source: Option<Cow<'a, str>>,
    /// Amount after discounts.
    pub net: Dec,
}

impl<'a> Line<'a> {
    /// Whether the line's category is one of `categories`.
    pub fn in_category(&self, categories: &[String]) -> bool {
        self.category
            .as_deref()
            .is_some_and(|c| categories.iter().any(|x| x.eq_ignore_ascii_case(c)))
    }
}

/// The basket.
#[derive(Debug, Clone, Deserialize)]
pub struct Basket<'a> {
    /// Lines.
    #[serde(borrow)]
    pub lines: Vec<Line<'a>>,
    /// Σ gross.
    pub gross: Dec,
    /// Σ net.
    pub net: Dec,
}

/// What a hook receives.
#[derive(Debug, Clone, Deserialize)]
pub struct Input<'a> {
    /// ABI version.
    pub abi: u32,
    /// `checkout` or `registration`.
    #[serde(borrow)]
    pub hook: Cow<'a, str>,
    /// The plugin's installed name.
    #[serde(borrow)]
    pub plugin: Cow<'a, str>,
    /// The plugin's configuration (decode with [`Input::config`]).
    #[serde(borrow)]
    pub config: &'a RawValue,
    /// Local date in the programme's timezone.
    pub date: Date,
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u32,
    /// The instant (RFC 3339).
    #[serde(borrow)]
    pub at: Cow<'a, str>,
    /// Currency code.
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
    /// Points.
    pub points: Points,
    /// The customer.
    #[serde(borrow)]
    pub customer: Customer<'a>,
    /// The vehicle (checkout, when given).
    #[serde(borrow)]
    pub vehicle: Option<Vehicle<'a>>,
    /// The basket (checkout).
    #[serde(borrow)]
    pub basket: Option<Basket<'a>>,
}

impl<'a> Input<'a> {
    /// Parse an input (what the host sends; also for native tests).
    pub fn from_json(text: &'a str) -> Result<Input<'a>, Error> {
        serde_json::from_str(text).map_err(|err| Error::new("bad_input", err.to_string()))
    }

    /// Decode the configuration into your own type.
    pub fn config<T: for<'de> Deserialize<'de>>(&self) -> Result<T, Error> {
        serde_json::from_str(self.config.get())
            .map_err(|err| Error::new("bad_config", err.to_string()))
    }

    /// The basket's lines (empty outside checkout).
    pub fn lines(&self) -> &[Line<'a>] {
        self.basket.as_ref().map_or(&[], |b| b.lines.as_slice())
    }
}

/// Who a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The cashier or service advisor.
    Cashier,
    /// The customer.
    Customer,
}

/// One effect (the output schema of `plugins/ABI.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Discount on one line: `percent` or `amount`.
    LineDiscount {
        /// Line index.
        line: u32,
        /// Percent (0, 100].
        #[serde(skip_serializing_if = "Option::is_none", default)]
        percent: Option<Dec>,
        /// Money.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        amount: Option<Dec>,
        /// Does not combine with other discounts on the line.
        #[serde(skip_serializing_if = "is_false", default)]
        exclusive: bool,
        /// Why.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        reason: Option<String>,
    },
    /// Discount on the basket: `percent` or `amount`.
    BasketDiscount {
        /// Percent (0, 100].
        #[serde(skip_serializing_if = "Option::is_none", default)]
        percent: Option<Dec>,
        /// Money.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        amount: Option<Dec>,
        /// The only basket discount.
        #[serde(skip_serializing_if = "is_false", default)]
        exclusive: bool,
        /// Why.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        reason: Option<String>,
    },
    /// Bonus points as their own lot.
    BonusPoints {
        /// Points.
        points: Dec,
        /// Why (shown in the statement).
        reason: String,
        /// Lifetime (default: the programme's expiry).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        expires_in_days: Option<u32>,
    },
    /// Multiply the visit's accrual (0 = no points).
    Accrual {
        /// Factor, 0..=10.
        multiplier: Dec,
        /// Why.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        reason: Option<String>,
    },
    /// A message.
    Message {
        /// For whom.
        to: Audience,
        /// Text.
        text: String,
    },
    /// Tags to add to the customer.
    AddTags {
        /// Tags.
        tags: Vec<String>,
    },
    /// A reminder to schedule: `due_on` or `in_days`.
    Reminder {
        /// Stable kind.
        kind: String,
        /// Due date.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        due_on: Option<Date>,
        /// Or days from today.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        in_days: Option<u32>,
        /// Text.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        text: Option<String>,
    },
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The effects a hook returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Effects {
    effects: Vec<Effect>,
}

impl Effects {
    /// No effects.
    pub fn new() -> Effects {
        Effects::default()
    }

    /// The effects so far.
    pub fn list(&self) -> &[Effect] {
        &self.effects
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty()
    }

    /// Add any effect.
    pub fn push(&mut self, effect: Effect) -> &mut Self {
        self.effects.push(effect);
        self
    }

    /// A percent discount on a line.
    pub fn line_discount_percent(&mut self, line: u32, percent: Dec, reason: &str) -> &mut Self {
        self.push(Effect::LineDiscount {
            line,
            percent: Some(percent),
            amount: None,
            exclusive: false,
            reason: Some(reason.to_string()),
        })
    }

    /// A money discount on a line.
    pub fn line_discount_amount(&mut self, line: u32, amount: Dec, reason: &str) -> &mut Self {
        self.push(Effect::LineDiscount {
            line,
            percent: None,
            amount: Some(amount.round_money()),
            exclusive: false,
            reason: Some(reason.to_string()),
        })
    }

    /// Mark the last effect (a discount) exclusive.
    pub fn exclusive(&mut self) -> &mut Self {
        if let Some(
            Effect::LineDiscount { exclusive, .. } | Effect::BasketDiscount { exclusive, .. },
        ) = self.effects.last_mut()
        {
            *exclusive = true;
        }
        self
    }

    /// A percent discount on the basket.
    pub fn basket_discount_percent(&mut self, percent: Dec, reason: &str) -> &mut Self {
        self.push(Effect::BasketDiscount {
            percent: Some(percent),
            amount: None,
            exclusive: false,
            reason: Some(reason.to_string()),
        })
    }

    /// Bonus points.
    pub fn bonus_points(
        &mut self,
        points: Dec,
        reason: &str,
        expires_in_days: Option<u32>,
    ) -> &mut Self {
        self.push(Effect::BonusPoints {
            points,
            reason: reason.to_string(),
            expires_in_days,
        })
    }

    /// Multiply accrual (0 = no points).
    pub fn accrual_multiplier(&mut self, multiplier: Dec, reason: &str) -> &mut Self {
        self.push(Effect::Accrual {
            multiplier,
            reason: Some(reason.to_string()),
        })
    }

    /// A message for the cashier.
    pub fn tell_cashier(&mut self, text: &str) -> &mut Self {
        self.push(Effect::Message {
            to: Audience::Cashier,
            text: text.to_string(),
        })
    }

    /// A message for the customer.
    pub fn tell_customer(&mut self, text: &str) -> &mut Self {
        self.push(Effect::Message {
            to: Audience::Customer,
            text: text.to_string(),
        })
    }

    /// Tags to add.
    pub fn add_tags(&mut self, tags: &[&str]) -> &mut Self {
        self.push(Effect::AddTags {
            tags: tags.iter().map(|t| t.to_string()).collect(),
        })
    }

    /// A reminder due on a date.
    pub fn remind_on(&mut self, kind: &str, due_on: Date, text: &str) -> &mut Self {
        self.push(Effect::Reminder {
            kind: kind.to_string(),
            due_on: Some(due_on),
            in_days: None,
            text: Some(text.to_string()),
        })
    }
}

/// A plugin's own error: returned to the host as `{"error": {code, message}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Error {
    /// Short snake_case code.
    pub code: String,
    /// Sentence for a human.
    pub message: String,
}

impl Error {
    /// A new error.
    pub fn new(code: &str, message: impl Into<String>) -> Error {
        Error {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// Log a line through the host (at most 16 lines of 512 bytes per call are kept).
pub fn log(level: Level, text: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        #[link(wasm_import_module = "pitstop")]
        unsafe extern "C" {
            #[link_name = "log"]
            fn pitstop_log(level: i32, ptr: *const u8, len: usize);
        }
        // SAFETY: the host reads `len` bytes at `ptr` of this instance's memory.
        unsafe { pitstop_log(level as i32, text.as_ptr(), text.len()) }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (level, text);
    }
}

/// Log levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Debug.
    Debug = 0,
    /// Info.
    Info = 1,
    /// Warning.
    Warn = 2,
    /// Error.
    Error = 3,
}

#[derive(Serialize)]
struct ErrorOutput<'a> {
    error: &'a Error,
}

/// Encode a hook's result as output JSON.
pub fn encode(result: &Result<Effects, Error>) -> Vec<u8> {
    let encoded = match result {
        Ok(effects) => serde_json::to_vec(effects),
        Err(error) => serde_json::to_vec(&ErrorOutput { error }),
    };
    encoded.unwrap_or_else(|_| br#"{"error":{"code":"encode","message":"cannot encode"}}"#.to_vec())
}

/// Run a hook on raw input bytes and return output bytes (what the exports do; also
/// handy in native tests).
pub fn run_bytes(input: &[u8], hook: fn(&Input) -> Result<Effects, Error>) -> Vec<u8> {
    // Check the UTF-8 once for the whole input and parse it as text: `from_slice` checks
    // every string again, which was a third of a call's time in wasm.
    let parsed = std::str::from_utf8(input)
        .map_err(|err| Error::new("bad_input", err.to_string()))
        .and_then(|text| {
            serde_json::from_str::<Input>(text)
                .map_err(|err| Error::new("bad_input", err.to_string()))
        });
    let result = parsed.and_then(|input| hook(&input));
    encode(&result)
}

#[doc(hidden)]
pub fn __alloc(size: i32) -> i32 {
    alloc::guest_alloc(size)
}

#[doc(hidden)]
pub fn __run(ptr: i32, len: i32, hook: fn(&Input) -> Result<Effects, Error>) -> i64 {
    // SAFETY: the host wrote `len` bytes at `ptr`, a block `pitstop_alloc` returned.
    let input = unsafe { core::slice::from_raw_parts(ptr as usize as *const u8, len as usize) };
    let output = run_bytes(input, hook).into_boxed_slice();
    let len = output.len() as u64;
    let ptr = Box::into_raw(output) as *mut u8 as usize as u64;
    ((ptr << 32) | len) as i64
}

/// Export the plugin ABI: `export_plugin!(checkout => my_checkout, registration => my_welcome);`
/// Each function is `fn(&Input) -> Result<Effects, Error>`.
#[macro_export]
macro_rules! export_plugin {
    ($($hook:ident => $func:path),+ $(,)?) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn pitstop_abi_version_1() {}

        #[unsafe(no_mangle)]
        pub extern "C" fn pitstop_alloc(size: i32) -> i32 {
            $crate::__alloc(size)
        }

        $( $crate::__export_hook!($hook, $func); )+
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_hook {
    (checkout, $func:path) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn pitstop_checkout(ptr: i32, len: i32) -> i64 {
            $crate::__run(ptr, len, $func)
        }
    };
    (registration, $func:path) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn pitstop_registration(ptr: i32, len: i32) -> i64 {
            $crate::__run(ptr, len, $func)
        }
    };
}

/// A realistic input for native tests: a customer, a car and a basket.
pub mod testing {
    /// An input with the given parts (JSON objects as text).
    pub fn input(config: &str, customer: &str, vehicle: &str, lines: &str, date: &str) -> String {
        format!(
            r#"{{"abi":1,"hook":"checkout","plugin":"test","config":{config},"date":"{date}",
            "weekday":1,"at":"{date}T10:00:00Z","currency":"RUB","points":{{"value":"1","scale":0}},
            "customer":{customer},"vehicle":{vehicle},
            "basket":{{"lines":{lines},"gross":"0","net":"0"}}}}"#
        )
    }

    /// A private customer with the given tags and birthday distance.
    pub fn customer(tags: &[&str], days_to_birthday: Option<i64>) -> String {
        let tags: Vec<String> = tags.iter().map(|t| format!("\"{t}\"")).collect();
        let (to, since) = match days_to_birthday {
            Some(d) if d >= 0 => (d.to_string(), (365 - d).to_string()),
            Some(d) => ((365 + d).to_string(), (-d).to_string()),
            None => ("null".into(), "null".into()),
        };
        format!(
            r#"{{"id":1,"name":"Иванов Иван","kind":"private","gender":"male","tier":null,
            "tags":[{}],"vip":false,"agreement":null,"company":null,"source":null,
            "birthday":null,"days_to_birthday":{to},"days_since_birthday":{since},
            "balance":"0","available":"0","visits":3,"first_visit":false,
            "days_since_last_visit":40,"total_spend":"10000.00","registered_on":"2024-01-01"}}"#,
            tags.join(",")
        )
    }

    /// A line.
    pub fn line(index: u32, kind: &str, category: &str, net: &str) -> String {
        format!(
            r#"{{"index":{index},"sku":"S-{index}","name":"Line {index}","kind":"{kind}",
            "category":"{category}","qty":"1","unit_price":"{net}","gross":"{net}",
            "host_discount":"0","promo":false,"discount":"0","discount_source":null,"net":"{net}"}}"#
        )
    }

    /// A car of the given model year.
    pub fn vehicle(year: u16, age: i32) -> String {
        format!(
            r#"{{"id":1,"make":"Lada","model":"2107","year":{year},"age_years":{age},
            "mileage_km":150000,"usage":"personal"}}"#
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkout(input: &Input) -> Result<Effects, Error> {
        let mut effects = Effects::new();
        for line in input.lines() {
            effects.line_discount_percent(line.index, Dec::from_int(10), "ten");
        }
        effects.tell_cashier("hi").add_tags(&["x"]);
        Ok(effects)
    }

    #[test]
    fn a_hook_round_trips_through_bytes() {
        let input = testing::input(
            "{}",
            &testing::customer(&[], None),
            "null",
            &format!("[{}]", testing::line(0, "labor", "oil", "100.00")),
            "2025-03-10",
        );
        let output = run_bytes(input.as_bytes(), checkout);
        let value: serde_json::Value = serde_json::from_slice(&output).unwrap();
        assert_eq!(value["effects"][0]["type"], "line_discount");
        assert_eq!(value["effects"][0]["percent"], "10");
        assert!(value["effects"][0].get("amount").is_none());
        assert_eq!(value["effects"][1]["to"], "cashier");
        let bad = run_bytes(b"{", checkout);
        assert!(String::from_utf8(bad).unwrap().contains("bad_input"));
    }
}
