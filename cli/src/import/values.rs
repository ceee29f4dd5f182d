//! The legacy file's way of writing values, to the contract's: dates as DD.MM.YYYY (with
//! 1C's time of day), numbers with spaces and decimal commas, yes/no in Russian.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// What a date cell may hold, for messages.
pub const DATE_FORMS: &str = "DD.MM.YYYY, DD.MM.YYYY HH:MM[:SS] or YYYY-MM-DD";

/// A date as DD.MM.YYYY or YYYY-MM-DD, to the contract's YYYY-MM-DD.
pub fn parse_date(text: &str) -> Option<String> {
    parse_day(text).map(|d| d.format("%Y-%m-%d").to_string())
}

fn parse_day(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%d.%m.%Y")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .ok()
}

/// A date with or without 1C's time of day ("21.10.2024 14:35:00"): the day, and the
/// instant when a time is given, read in the programme's time zone `tz`.
pub fn parse_moment(text: &str, tz: Tz) -> Option<(NaiveDate, Option<DateTime<Utc>>)> {
    let text = text.trim();
    let Some((day, time)) = text.split_once(char::is_whitespace) else {
        return parse_day(text).map(|d| (d, None));
    };
    let day = parse_day(day)?;
    let time = time.trim();
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
        .ok()?;
    // A time skipped by a clock change has no instant; a repeated one takes the first.
    let at = tz
        .from_local_datetime(&NaiveDateTime::new(day, time))
        .earliest()?
        .with_timezone(&Utc);
    Some((day, Some(at)))
}

/// A whole number written with spaces and a decimal comma ("98 000", "98000,0").
pub fn parse_whole(text: &str) -> Option<u64> {
    let cleaned = strip_spaces(text).replace(',', ".");
    let (whole, fraction) = match cleaned.split_once('.') {
        Some((w, f)) => (w, f),
        None => (cleaned.as_str(), ""),
    };
    if !fraction.chars().all(|c| c == '0') {
        return None;
    }
    whole.parse().ok()
}

fn strip_spaces(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .collect()
}

/// A decimal written with spaces and a decimal comma ("1 234,50"), as the contract's
/// canonical string ("1234.50"): optional minus, digits, optionally a dot and digits.
pub fn parse_decimal(text: &str) -> Option<String> {
    let cleaned = strip_spaces(text).replace(',', ".");
    let digits = cleaned.strip_prefix('-').unwrap_or(&cleaned);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let valid = all_digits(whole) && fraction.is_none_or(all_digits);
    valid.then_some(cleaned)
}

/// Yes or no as exports write it ("да", "1", "+", "yes"; "нет", "0", "-", "no").
pub fn parse_yes_no(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "да" | "д" | "1" | "+" | "yes" | "y" | "true" | "истина" | "согласен" | "есть" => {
            Some(true)
        }
        "нет" | "н" | "0" | "-" | "no" | "n" | "false" | "ложь" | "отказ" => {
            Some(false)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_exports_contain() {
        assert_eq!(parse_date("17.05.1984").as_deref(), Some("1984-05-17"));
        assert_eq!(parse_date("1984-05-17").as_deref(), Some("1984-05-17"));
        assert_eq!(parse_date("31.02.1984"), None);
        assert_eq!(parse_whole("98 000"), Some(98_000));
        assert_eq!(parse_whole("98000,0"), Some(98_000));
        assert_eq!(parse_whole("98000,5"), None);
        assert_eq!(parse_decimal("1 234,50").as_deref(), Some("1234.50"));
        assert_eq!(parse_decimal("-5").as_deref(), Some("-5"));
        for bad in ["1,2,3", "12,3,4", "много", ",5", "5,", "-", "+5", "1e3"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
        assert_eq!(parse_yes_no("Да"), Some(true));
        assert_eq!(parse_yes_no("нет"), Some(false));
        assert_eq!(parse_yes_no("может"), None);
    }

    #[test]
    fn the_time_of_day_is_kept_in_the_programme_zone() {
        let moscow: Tz = chrono_tz::Europe::Moscow;
        let (day, at) = parse_moment("21.10.2024 14:35:00", moscow).unwrap_or_default();
        assert_eq!(day.to_string(), "2024-10-21");
        assert_eq!(
            at.map(|a| a.to_rfc3339()).as_deref(),
            Some("2024-10-21T11:35:00+00:00")
        );
        let (day, at) = parse_moment("01.01.2025 00:30", moscow).unwrap_or_default();
        assert_eq!(
            (day.to_string(), at.map(|a| a.to_rfc3339())),
            (
                "2025-01-01".into(),
                Some("2024-12-31T21:30:00+00:00".into())
            )
        );
        assert_eq!(parse_moment("21.10.2024", moscow).map(|m| m.1), Some(None));
        assert_eq!(parse_moment("21.10.2024 25:00", moscow), None);
    }
}
