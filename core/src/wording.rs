//! Numbers and counts as a person reads them in the programme's language: the cashier's
//! notes, the texts of reminders, and every human table of the CLI and the demo.
//!
//! Only texts meant for people go through here. Amounts in results, exports and CSV stay
//! canonical decimals (`1234.50`), so a host never has to parse «1 234,50».

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A note for the cashier or the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Stable kind (`customer`, `birthday`, `points_expiring`, ...).
    pub kind: String,
    /// Text to show.
    pub text: String,
}

/// `dd.mm.yyyy`, the way dates are written to Russian customers.
pub fn format_date(date: NaiveDate) -> String {
    format!("{:02}.{:02}.{}", date.day(), date.month(), date.year())
}

/// The language of a programme's human texts: Russian for `ru`, `ru-RU`; English for
/// anything else (the fallback).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// Russian: no-break space between thousands (from five digits), a decimal comma,
    /// the typographic minus, three plural forms.
    Russian,
    /// English: comma between thousands, a decimal point, two plural forms.
    English,
}

/// Thousands separator in Russian: a no-break space, so a number never wraps.
const RUSSIAN_GROUP: char = '\u{a0}';
/// Minus sign in Russian typography.
const RUSSIAN_MINUS: char = '−';

impl Language {
    /// The language of a BCP 47 tag (`ru`, `ru-RU` are Russian; anything else English).
    pub fn of_tag(tag: &str) -> Language {
        let language = tag.split(['-', '_']).next().unwrap_or_default();
        if language.eq_ignore_ascii_case("ru") {
            Language::Russian
        } else {
            Language::English
        }
    }

    /// A decimal string (`-1234.50`) written the way this language writes numbers
    /// (`−1 234,50`). Anything that is not a plain decimal, or that starts with a zero
    /// like a code does (`007`, a phone), comes back unchanged.
    pub fn number(self, text: &str) -> String {
        let Some((negative, whole, fraction)) = split_decimal(text) else {
            return text.to_string();
        };
        let (group, point, minus) = match self {
            Language::Russian => (RUSSIAN_GROUP, ',', RUSSIAN_MINUS),
            Language::English => (',', '.', '-'),
        };
        let mut out = String::with_capacity(text.len() + whole.len() / 3 * 2 + 2);
        if negative {
            out.push(minus);
        }
        // Four-digit numbers stay whole in Russian typography (1000, 10 000).
        let grouped = whole.len() > 4 || self == Language::English;
        for (i, c) in whole.chars().enumerate() {
            if grouped && i > 0 && (whole.len() - i).is_multiple_of(3) {
                out.push(group);
            }
            out.push(c);
        }
        if let Some(fraction) = fraction {
            out.push(point);
            out.push_str(fraction);
        }
        out
    }

    /// Which of a noun's forms follows the count `n`.
    pub fn plural(self, n: u64) -> PluralForm {
        match self {
            Language::Russian => russian_plural(n),
            Language::English if n == 1 => PluralForm::One,
            Language::English => PluralForm::Many,
        }
    }

    /// A count and its noun, given as (one, few, many): «1 визит», «3 визита»,
    /// «5 визитов»; English uses `one` and `many`.
    pub fn count(self, n: u64, forms: (&str, &str, &str)) -> String {
        let noun = match self.plural(n) {
            PluralForm::One => forms.0,
            PluralForm::Few => forms.1,
            PluralForm::Many => forms.2,
        };
        format!("{} {noun}", self.number(&n.to_string()))
    }
}

/// A plural form (CLDR categories one, few, many; English has only one and many).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PluralForm {
    /// 1, 21, 101 (Russian); 1 (English).
    One,
    /// 2–4, 22–24 (Russian only).
    Few,
    /// Everything else.
    Many,
}

/// The Russian plural form of an integer: 1 визит, 2 визита, 5 визитов, 11 визитов.
fn russian_plural(n: u64) -> PluralForm {
    let (m10, m100) = (n % 10, n % 100);
    if m10 == 1 && m100 != 11 {
        PluralForm::One
    } else if (2..=4).contains(&m10) && !(12..=14).contains(&m100) {
        PluralForm::Few
    } else {
        PluralForm::Many
    }
}

/// `(negative, whole digits, fraction digits)` of a plain decimal: optional minus,
/// digits, optionally a dot and digits.
fn split_decimal(text: &str) -> Option<(bool, &str, Option<&str>)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = match rest.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (rest, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // A leading zero marks a code (an id "007"), not a quantity.
    let code_like = whole.len() > 1 && whole.starts_with('0');
    (digits(whole) && fraction.is_none_or(digits) && !code_like)
        .then_some((negative, whole, fraction))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_numbers_group_from_five_digits_with_a_comma() {
        let ru = Language::Russian;
        assert_eq!(ru.number("1613.00"), "1613,00");
        assert_eq!(ru.number("12345.5"), "12\u{a0}345,5");
        assert_eq!(ru.number("-1234567"), "−1\u{a0}234\u{a0}567");
        assert_eq!(ru.number("007"), "007");
        assert_eq!(ru.number("+79161234567"), "+79161234567");
        assert_eq!(Language::English.number("1234.5"), "1,234.5");
    }

    #[test]
    fn counts_take_the_right_form() {
        let forms = ("визит", "визита", "визитов");
        let ru = Language::Russian;
        for (n, want) in [
            (1, "1 визит"),
            (2, "2 визита"),
            (5, "5 визитов"),
            (11, "11 визитов"),
            (12, "12 визитов"),
            (21, "21 визит"),
            (22, "22 визита"),
            (111, "111 визитов"),
        ] {
            assert_eq!(ru.count(n, forms), want);
        }
        assert_eq!(
            Language::English.count(1, ("visit", "", "visits")),
            "1 visit"
        );
        assert_eq!(
            Language::English.count(3, ("visit", "", "visits")),
            "3 visits"
        );
    }

    #[test]
    fn tags_choose_the_language() {
        assert_eq!(Language::of_tag("ru-RU"), Language::Russian);
        assert_eq!(Language::of_tag("RU"), Language::Russian);
        assert_eq!(Language::of_tag("de-DE"), Language::English);
        assert_eq!(Language::of_tag(""), Language::English);
    }
}
