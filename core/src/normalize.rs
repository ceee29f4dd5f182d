//! Normalisation and validation of what people type: phones, emails, VINs, plates,
//! names, and the limits on every string and list that comes from outside.

use crate::error::{Error, Result};
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

/// Longest free-text field (names, notes, line names) in characters.
pub const TEXT_CHARS_MAX: usize = 200;
/// Longest notes field in characters.
pub const NOTES_CHARS_MAX: usize = 2000;
/// Longest identifier (external id, order id, sku, card number, idempotency key).
pub const ID_CHARS_MAX: usize = 64;
/// Most tags on one customer.
pub const TAGS_MAX: usize = 32;

/// Check a required free-text field: trimmed, non-empty, bounded, and only characters
/// a person can see and mean (see [`unseen`]); at least one of them visible.
pub fn text(field: &str, value: &str, chars_max: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    let checked = optional_text(field, trimmed, chars_max)?;
    if !checked.chars().any(visible) {
        return Err(Error::invalid(field, "has no visible character"));
    }
    Ok(checked)
}

/// Check an optional free-text field (may be empty after trimming). Line breaks and
/// tabs are the only control characters a note may hold.
pub fn optional_text(field: &str, value: &str, chars_max: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.chars().count() > chars_max {
        return Err(Error::too_large(field, chars_max));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::invalid(field, "contains control characters"));
    }
    refuse_unseen(field, trimmed)?;
    Ok(trimmed.to_string())
}

/// What is wrong with a character that must not be in a name, an identifier or a note,
/// or `None` when it may be there. Each kind makes text that reads differently from what
/// it holds: invisible characters make two equal-looking names different (or a name of
/// nothing at all), bidirectional controls reorder what is shown around them (U+202E
/// turns "Иванов" into a different-looking string in every list that prints it), and
/// noncharacters are reserved by Unicode never to be interchanged. The joiners U+200C
/// and U+200D and the variation selectors U+FE00..U+FE0F stay allowed: scripts such as
/// Persian and most emoji need them, and they show nothing on their own.
pub fn unseen(c: char) -> Option<&'static str> {
    let code = u32::from(c);
    match code {
        0x202A..=0x202E | 0x2066..=0x2069 | 0x200E | 0x200F | 0x061C => {
            Some("a bidirectional control character")
        }
        0xFDD0..=0xFDEF => Some("a Unicode noncharacter"),
        _ if code & 0xFFFE == 0xFFFE => Some("a Unicode noncharacter"),
        0x2028 | 0x2029 => Some("a line or paragraph separator"),
        0x00AD
        | 0x034F
        | 0x115F
        | 0x1160
        | 0x17B4
        | 0x17B5
        | 0x180B..=0x180F
        | 0x200B
        | 0x2060..=0x2065
        | 0x206A..=0x206F
        | 0x3164
        | 0xFEFF
        | 0xFFA0
        | 0xFFF9..=0xFFFB
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF => Some("an invisible character"),
        _ => None,
    }
}

/// Whether a character shows something: not a space, not a control, not a joiner or
/// variation selector (which only modify their neighbours).
fn visible(c: char) -> bool {
    !c.is_whitespace()
        && !c.is_control()
        && !matches!(u32::from(c), 0x200C | 0x200D | 0xFE00..=0xFE0F)
        && unseen(c).is_none()
}

/// Refuse text holding a character [`unseen`] names, saying which and where.
pub fn refuse_unseen(field: &str, value: &str) -> Result<()> {
    match value
        .chars()
        .enumerate()
        .find_map(|(i, c)| unseen(c).map(|why| (i, c, why)))
    {
        Some((index, c, why)) => Err(Error::invalid(
            field,
            format!(
                "contains {why} (U+{:04X}) at character {}",
                u32::from(c),
                index + 1
            ),
        )),
        None => Ok(()),
    }
}

/// An optional free-text note: checked like [`optional_text`], blank means none.
pub fn optional_note(field: &str, value: Option<&str>, chars_max: usize) -> Result<Option<String>> {
    value
        .map(|note| optional_text(field, note, chars_max))
        .transpose()
        .map(|note| note.filter(|n| !n.is_empty()))
}

/// Check an identifier: 1..=64 printable characters without spaces at the ends.
pub fn identifier(field: &str, value: &str) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > ID_CHARS_MAX {
        return Err(Error::too_large(field, ID_CHARS_MAX));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Error::invalid(field, "contains control characters"));
    }
    refuse_unseen(field, trimmed)?;
    if !trimmed.chars().any(visible) {
        return Err(Error::invalid(field, "has no visible character"));
    }
    Ok(trimmed.to_string())
}

/// Calling code for an ISO country, for numbers typed without one.
pub fn calling_code(country: &str) -> Option<&'static str> {
    Some(match country.to_ascii_uppercase().as_str() {
        "RU" | "KZ" => "7",
        "BY" => "375",
        "UA" => "380",
        "UZ" => "998",
        "AM" => "374",
        "AZ" => "994",
        "GE" => "995",
        "KG" => "996",
        "TJ" => "992",
        "TM" => "993",
        "MD" => "373",
        "DE" => "49",
        "FI" => "358",
        "EE" => "372",
        "LV" => "371",
        "LT" => "370",
        "PL" => "48",
        "TR" => "90",
        "CN" => "86",
        "US" | "CA" => "1",
        "GB" => "44",
        _ => return None,
    })
}

/// Normalise a phone to E.164 (`+79161234567`), using `country` for national numbers.
pub fn phone(field: &str, value: &str, country: &str) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.chars().count() > 32 {
        return Err(Error::too_large(field, 32));
    }
    let mut digits = String::new();
    for (index, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if index == 0 => {}
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => {
                return Err(Error::invalid(
                    field,
                    format!("'{value}' is not a phone number"),
                ));
            }
        }
    }
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    let code = calling_code(country)
        .ok_or_else(|| Error::invalid("default_country", format!("unknown country '{country}'")))?;
    let full = if trimmed.starts_with("00") {
        digits[2..].to_string()
    } else if international {
        digits
    } else if code == "7"
        && digits.len() == 11
        && (digits.starts_with('8') || digits.starts_with('7'))
    {
        format!("7{}", &digits[1..])
    } else if code == "7" && digits.len() == 10 {
        format!("7{digits}")
    } else if digits.starts_with('0') && digits.len() > 6 {
        format!("{code}{}", &digits[1..])
    } else if digits.len() >= 6 && digits.len() <= 10 {
        format!("{code}{digits}")
    } else {
        digits
    };
    if full.len() < 8 || full.len() > 15 || full.starts_with('0') {
        return Err(Error::invalid(
            field,
            format!("'{value}' is not a valid phone number"),
        ));
    }
    if code == "7" && full.starts_with('7') && full.len() != 11 {
        return Err(Error::invalid(
            field,
            format!("'{value}' must have 10 digits after +7"),
        ));
    }
    Ok(format!("+{full}"))
}

/// Digits of a partly typed phone, normalised like [`phone`], for prefix search.
pub fn phone_prefix(value: &str, country: &str) -> Option<String> {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 3 {
        return None;
    }
    let code = calling_code(country).unwrap_or("7");
    let international = value.trim().starts_with('+');
    let full = if international {
        digits
    } else if code == "7" && digits.starts_with('8') {
        format!("7{}", &digits[1..])
    } else if code == "7" && digits.starts_with('9') {
        format!("7{digits}")
    } else {
        digits
    };
    Some(format!("+{full}"))
}

/// Whether a query looks like a phone number (digits with phone punctuation).
pub fn looks_like_phone(value: &str) -> bool {
    let trimmed = value.trim();
    trimmed.chars().filter(char::is_ascii_digit).count() >= 3
        && trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || "+-() .".contains(c))
}

/// Validate and lower-case an email address.
pub fn email(field: &str, value: &str) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.len() > 254 {
        return Err(Error::too_large(field, 254));
    }
    let bad = || Error::invalid(field, format!("'{value}' is not an email address"));
    let (local, domain) = trimmed.split_once('@').ok_or_else(bad)?;
    if local.is_empty() || local.len() > 64 || domain.contains('@') {
        return Err(bad());
    }
    if !local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return Err(bad());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(bad());
    }
    for label in &labels {
        if label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || !label.chars().all(|c| c.is_alphanumeric() || c == '-')
        {
            return Err(bad());
        }
    }
    Ok(trimmed.to_lowercase())
}

/// Validate a VIN: 17 characters, Latin letters and digits without I, O, Q.
pub fn vin(field: &str, value: &str) -> Result<String> {
    let upper: String = value
        .trim()
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .collect::<String>()
        .to_uppercase();
    let upper = unify_lookalikes(&upper);
    if upper.chars().count() != 17 {
        return Err(Error::invalid(
            field,
            format!("'{value}' must have 17 characters"),
        ));
    }
    if let Some(bad) = upper
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() || matches!(c, 'I' | 'O' | 'Q'))
    {
        return Err(Error::invalid(
            field,
            format!("'{value}' contains '{bad}' (VINs never use I, O, Q)"),
        ));
    }
    Ok(upper)
}

/// Map Cyrillic letters that look like Latin ones to Latin (А→A, В→B, ...).
fn unify_lookalikes(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            'А' | 'а' => 'A',
            'В' | 'в' => 'B',
            'Е' | 'е' => 'E',
            'К' | 'к' => 'K',
            'М' | 'м' => 'M',
            'Н' | 'н' => 'H',
            'О' | 'о' => 'O',
            'Р' | 'р' => 'P',
            'С' | 'с' => 'C',
            'Т' | 'т' => 'T',
            'У' | 'у' => 'Y',
            'Х' | 'х' => 'X',
            other => other,
        })
        .collect()
}

/// Normalise a registration plate: upper case, Cyrillic look-alikes unified to Latin,
/// spaces and dashes removed (`а 123 вс 77` → `A123BC77`).
pub fn plate(field: &str, value: &str) -> Result<String> {
    let compact: String = value
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .collect();
    let unified = unify_lookalikes(&compact.to_uppercase());
    let count = unified.chars().count();
    if !(4..=12).contains(&count) {
        return Err(Error::invalid(
            field,
            format!("'{value}' must have 4 to 12 letters and digits"),
        ));
    }
    if let Some(bad) = unified.chars().find(|c| !c.is_ascii_alphanumeric()) {
        return Err(Error::invalid(field, format!("'{value}' contains '{bad}'")));
    }
    Ok(unified)
}

/// Fold a name for search: lower case, `ё` as `е`, single spaces.
pub fn fold_name(value: &str) -> String {
    value
        .split_whitespace()
        .map(|word| word.to_lowercase().replace('ё', "е"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A birthday must be a real past date within a human lifetime.
pub fn birthday(field: &str, value: NaiveDate, today: NaiveDate) -> Result<NaiveDate> {
    if value > today {
        return Err(Error::invalid(field, format!("{value} is in the future")));
    }
    if today.signed_duration_since(value).num_days() > 130 * 366 {
        return Err(Error::invalid(field, format!("{value} is too long ago")));
    }
    Ok(value)
}

/// Round money to kopecks, half away from zero (the way Russian receipts round).
pub fn money(value: Decimal) -> Decimal {
    exact_scale(
        value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
        2,
    )
}

/// Show a value with exactly `scale` decimals and without a negative zero
/// (`100` → `100.00`, `-0` → `0.00`), so the same amount always prints the same.
pub fn exact_scale(value: Decimal, scale: u32) -> Decimal {
    let mut value = if value.is_zero() {
        Decimal::ZERO
    } else {
        value
    };
    value.rescale(scale);
    value
}

/// Round points down to the programme's scale (never give a fraction more than earned).
pub fn points_floor(value: Decimal, scale: u32) -> Decimal {
    exact_scale(
        value.round_dp_with_strategy(scale, RoundingStrategy::ToZero),
        scale,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalise_to_e164() {
        assert_eq!(
            phone("phone", "8 (916) 123-45-67", "RU").unwrap(),
            "+79161234567"
        );
        assert_eq!(
            phone("phone", "+7 916 123 45 67", "RU").unwrap(),
            "+79161234567"
        );
        assert_eq!(phone("phone", "9161234567", "RU").unwrap(), "+79161234567");
        assert_eq!(
            phone("phone", "+375 29 123-45-67", "RU").unwrap(),
            "+375291234567"
        );
        assert_eq!(
            phone("phone", "0049 30 1234567", "RU").unwrap(),
            "+49301234567"
        );
        assert!(phone("phone", "12", "RU").is_err());
        assert!(phone("phone", "+7 916 123", "RU").is_err());
        assert!(phone("phone", "call me", "RU").is_err());
    }

    #[test]
    fn plates_unify_cyrillic_and_latin() {
        assert_eq!(plate("plate", "а 123 вс 77").unwrap(), "A123BC77");
        assert_eq!(
            plate("plate", "A123BC77").unwrap(),
            plate("plate", "А123ВС77").unwrap()
        );
        assert!(plate("plate", "Ж1").is_err());
    }

    #[test]
    fn vins_are_checked() {
        assert_eq!(
            vin("vin", "xta21703080123456").unwrap(),
            "XTA21703080123456"
        );
        assert!(vin("vin", "XTA2170308012345").is_err());
        assert!(vin("vin", "XTA2170308012345O").is_err());
    }

    #[test]
    fn emails_are_checked() {
        assert_eq!(
            email("email", " Ivan.Petrov@Mail.RU ").unwrap(),
            "ivan.petrov@mail.ru"
        );
        for bad in [
            "ivan",
            "ivan@",
            "@mail.ru",
            "ivan@mail",
            "iv an@mail.ru",
            "a@@b.ru",
            "a..b@mail.ru",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_fold_yo() {
        assert_eq!(fold_name("  Фёдоров   Пётр "), "федоров петр");
    }
}
