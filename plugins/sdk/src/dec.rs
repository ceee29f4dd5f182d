//! [`Dec`]: a small fixed-point decimal (4 places) for money, quantities, percents and
//! points, read from and written as decimal strings, never floats.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::{Add, AddAssign, Mul, Neg, Sub};

const SCALE: i64 = 10_000;

/// A decimal with 4 places, stored as an integer number of ten-thousandths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dec(i64);

impl Dec {
    /// Zero.
    pub const ZERO: Dec = Dec(0);
    /// One hundred (percent base).
    pub const HUNDRED: Dec = Dec(100 * SCALE);

    /// An integer.
    pub const fn from_int(value: i64) -> Dec {
        Dec(value * SCALE)
    }

    /// `units / 10^places` (e.g. `Dec::new(1250, 2)` = 12.50).
    pub fn new(units: i64, places: u32) -> Dec {
        assert!(places <= 4, "Dec keeps 4 places");
        Dec(units * 10i64.pow(4 - places))
    }

    /// Parse `-12.3456` (no allocation: this runs for every amount of every input).
    pub fn parse(text: &str) -> Option<Dec> {
        let bytes = text.trim().as_bytes();
        let (negative, digits) = match bytes.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, bytes),
        };
        let mut value: i64 = 0;
        let mut whole_digits = 0;
        let mut places: Option<u32> = None;
        for &byte in digits {
            match (byte, places) {
                (b'0'..=b'9', None) => {
                    whole_digits += 1;
                    if whole_digits > 14 {
                        return None;
                    }
                    value = value * 10 + i64::from(byte - b'0');
                }
                (b'0'..=b'9', Some(n)) if n < 4 => {
                    value = value * 10 + i64::from(byte - b'0');
                    places = Some(n + 1);
                }
                (b'.', None) if whole_digits > 0 => places = Some(0),
                _ => return None,
            }
        }
        if whole_digits == 0 {
            return None;
        }
        let value = value * 10i64.pow(4 - places.unwrap_or(0));
        Some(Dec(if negative { -value } else { value }))
    }

    /// Round to 2 places, half away from zero (money).
    pub fn round_money(self) -> Dec {
        let step = 100;
        let rest = self.0 % step;
        let down = self.0 - rest;
        Dec(if rest.abs() * 2 >= step {
            down + step * self.0.signum()
        } else {
            down
        })
    }

    /// Round down to whole units (points with scale 0).
    pub fn floor(self) -> Dec {
        Dec(self.0.div_euclid(SCALE) * SCALE)
    }

    /// `self × percent / 100`, rounded to money.
    pub fn percent(self, percent: Dec) -> Dec {
        (self * percent).div_int(100).round_money()
    }

    /// Divide by an integer (truncating the 5th place).
    pub fn div_int(self, divisor: i64) -> Dec {
        Dec(self.0 / divisor)
    }

    /// Whether above zero.
    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// The smaller of two.
    pub fn min(self, other: Dec) -> Dec {
        if self <= other { self } else { other }
    }
}

impl Add for Dec {
    type Output = Dec;
    fn add(self, rhs: Dec) -> Dec {
        Dec(self.0 + rhs.0)
    }
}

impl AddAssign for Dec {
    fn add_assign(&mut self, rhs: Dec) {
        self.0 += rhs.0;
    }
}

impl Sub for Dec {
    type Output = Dec;
    fn sub(self, rhs: Dec) -> Dec {
        Dec(self.0 - rhs.0)
    }
}

impl Neg for Dec {
    type Output = Dec;
    fn neg(self) -> Dec {
        Dec(-self.0)
    }
}

impl Mul for Dec {
    type Output = Dec;
    fn mul(self, rhs: Dec) -> Dec {
        Dec((i128::from(self.0) * i128::from(rhs.0) / i128::from(SCALE)) as i64)
    }
}

impl std::iter::Sum for Dec {
    fn sum<I: Iterator<Item = Dec>>(iter: I) -> Dec {
        iter.fold(Dec::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / SCALE as u64;
        let fraction = abs % SCALE as u64;
        if fraction == 0 {
            write!(f, "{sign}{whole}")
        } else {
            let text = format!("{fraction:04}");
            write!(f, "{sign}{whole}.{}", text.trim_end_matches('0'))
        }
    }
}

impl Serialize for Dec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

struct DecVisitor;

impl Visitor<'_> for DecVisitor {
    type Value = Dec;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal string with at most 4 places")
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Dec, E> {
        Dec::parse(value).ok_or_else(|| E::custom(format!("bad decimal {value:?}")))
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Dec, E> {
        Ok(Dec::from_int(value))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Dec, E> {
        Ok(Dec::from_int(value as i64))
    }
}

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Dec, D::Error> {
        deserializer.deserialize_any(DecVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prints_and_rounds() {
        assert_eq!(Dec::parse("12.50").unwrap().to_string(), "12.5");
        assert_eq!(Dec::parse("-0.0001").unwrap().to_string(), "-0.0001");
        assert_eq!(Dec::parse("1.23456"), None);
        assert_eq!(Dec::parse("abc"), None);
        assert_eq!(
            Dec::parse("1000")
                .unwrap()
                .percent(Dec::parse("12.5").unwrap())
                .to_string(),
            "125"
        );
        assert_eq!(
            Dec::parse("0.005").unwrap().round_money().to_string(),
            "0.01"
        );
        assert_eq!(
            Dec::parse("33.333").unwrap().round_money().to_string(),
            "33.33"
        );
        assert_eq!(Dec::parse("7.9").unwrap().floor().to_string(), "7");
    }
}
