//! `customer.duplicates`: pairs of customers that look like one person, with a score
//! and the reasons in words.
//!
//! The store keeps phones, emails, VINs and plates unique, so a second record of the
//! same person never carries the same value in the same field: the shop typed the
//! phone into the notes ("доп. тел. 8(916)1234567"), registered the email with a
//! `+tag` or Gmail dots, moved the car to the new record (the vehicle's ownership
//! history keeps the old owner), or simply registered the person twice with their name
//! and birthday. No all-pairs comparison: each signal is a blocking key found through
//! an index that exists (unique phones, emails, plates, VINs; the birthday index) or in
//! one streaming pass over customers and vehicles, keeping only bounded maps.

use super::moves::MOVE_MAX;
use crate::context::Ctx;
use crate::customer::{self, Customer};
use crate::error::{Error, Result};
use crate::normalize;
use crate::store::Reader;
use crate::store::keys::{KeyBuilder, KeyReader, tag, unique};
use crate::vehicle::{self, Vehicle};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Most candidates one answer lists.
pub const LIMIT_MAX: usize = 1000;
const LIMIT_DEFAULT: usize = 50;
/// Most pairs kept while scanning; past it the answer says `truncated`.
pub const PAIRS_MAX: usize = 100_000;
/// Most identifiers found only in notes kept in memory at once.
const NOTE_KEYS_MAX: usize = 200_000;
/// Customers sharing one birthday and name beyond this are a data error, not a person.
const BLOCK_MAX: usize = 50;
const CHUNK: usize = 1024;

/// Arguments of `customer.duplicates`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicatesArgs {
    /// Most candidates (default 50, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    #[serde(default)]
    pub after: Option<String>,
    /// Only pairs scoring at least this (0 to 1).
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub min_score: Option<rust_decimal::Decimal>,
}

/// Why two customers look like one person.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reason {
    /// Stable code: `same_phone`, `same_email`, `same_vin`, `same_plate`,
    /// `same_name_birthday`, `similar_name_shared_phone`, `similar_name_shared_car`.
    pub code: String,
    /// The evidence in words.
    pub evidence: String,
}

/// A proposed pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Candidate {
    /// The lower id.
    pub a: u64,
    /// The higher id.
    pub b: u64,
    /// `a`'s name.
    pub a_name: String,
    /// `b`'s name.
    pub b_name: String,
    /// 0 to 1: how sure the reasons together make it.
    pub score: rust_decimal::Decimal,
    /// Every reason found.
    pub reasons: Vec<Reason>,
}

/// One page of candidates, best first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DuplicatesPage {
    /// Candidates, highest score first (then by ids).
    pub candidates: Vec<Candidate>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
    /// Pairs found in all (at least `min_score`).
    pub total: usize,
    /// The scan stopped at its bound: more pairs may exist.
    pub truncated: bool,
}

/// Weight of each reason: the chance it alone means one person. Scores combine them as
/// independent evidence, `1 − Π(1 − w)`.
fn weight(code: &str) -> f64 {
    match code {
        "similar_name_shared_phone" => 0.9,
        "similar_name_shared_car" => 0.85,
        "same_name_birthday" => 0.8,
        "same_phone" | "same_email" => 0.7,
        _ => 0.5,
    }
}

/// Pairs found while scanning, each with its reasons.
#[derive(Default)]
struct Pairs {
    found: BTreeMap<(u64, u64), Vec<Reason>>,
    truncated: bool,
}

impl Pairs {
    fn add(&mut self, a: u64, b: u64, code: &str, evidence: String) {
        if a == b {
            return;
        }
        let key = (a.min(b), a.max(b));
        if !self.found.contains_key(&key) && self.found.len() >= PAIRS_MAX {
            self.truncated = true;
            return;
        }
        let reasons = self.found.entry(key).or_default();
        let reason = Reason {
            code: code.to_string(),
            evidence,
        };
        if !reasons.iter().any(|r| r.code == reason.code) {
            reasons.push(reason);
        }
    }
}

/// `customer.duplicates`.
pub fn duplicates<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    args: &DuplicatesArgs,
) -> Result<DuplicatesPage> {
    let limit = args.limit.unwrap_or(LIMIT_DEFAULT);
    if limit == 0 || limit > LIMIT_MAX {
        return Err(Error::invalid("limit", format!("must be 1 to {LIMIT_MAX}")));
    }
    let min_score = args.min_score.unwrap_or_default();
    if min_score < rust_decimal::Decimal::ZERO || min_score > rust_decimal::Decimal::ONE {
        return Err(Error::invalid("min_score", "must be between 0 and 1"));
    }
    let after = args.after.as_deref().map(parse_cursor).transpose()?;
    let mut pairs = Pairs::default();
    scan_customers(reader, ctx, &mut pairs)?;
    scan_vehicles(reader, &mut pairs)?;
    scan_birthdays(reader, &mut pairs)?;
    let mut candidates = Vec::new();
    for ((a, b), mut reasons) in std::mem::take(&mut pairs.found) {
        let (Some(first), Some(second)) = (live(reader, a)?, live(reader, b)?) else {
            continue;
        };
        if first.id == second.id || customer::is_distinct(reader, a, b)? {
            continue;
        }
        add_similar_names(&first, &second, &mut reasons);
        reasons.sort();
        let score = score_of(&reasons);
        if score < min_score {
            continue;
        }
        candidates.push(Candidate {
            a,
            b,
            a_name: first.full_name,
            b_name: second.full_name,
            score,
            reasons,
        });
    }
    candidates.sort_by(|x, y| y.score.cmp(&x.score).then((x.a, x.b).cmp(&(y.a, y.b))));
    let total = candidates.len();
    let start = match after {
        Some(cursor) => candidates
            .iter()
            .position(|c| (c.a, c.b) == cursor)
            .map_or(total, |i| i + 1),
        None => 0,
    };
    let page: Vec<Candidate> = candidates.into_iter().skip(start).take(limit).collect();
    let next = (start + page.len() < total)
        .then(|| page.last().map(|c| format!("{}-{}", c.a, c.b)))
        .flatten();
    Ok(DuplicatesPage {
        candidates: page,
        next,
        total,
        truncated: pairs.truncated,
    })
}

fn parse_cursor(text: &str) -> Result<(u64, u64)> {
    let bad = || Error::invalid("after", "not a cursor from customer.duplicates");
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    Ok((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?))
}

/// A customer still in the base (not erased; a merged id is its own record no more).
fn live<R: Reader>(reader: &R, id: u64) -> Result<Option<Customer>> {
    let key = KeyBuilder::new(tag::CUSTOMER).u64(id).build();
    Ok(reader
        .get::<Customer>(&key)?
        .filter(|c| c.status != customer::CustomerStatus::Erased))
}

fn score_of(reasons: &[Reason]) -> rust_decimal::Decimal {
    let miss: f64 = reasons.iter().map(|r| 1.0 - weight(&r.code)).product();
    let score = ((1.0 - miss) * 100.0).round() as i64;
    rust_decimal::Decimal::new(score, 2)
}

/// Names that differ by a typo, a transliteration or ё/е, where the pair shares a phone
/// or a car: the stronger reason beside the shared identifier.
fn add_similar_names(a: &Customer, b: &Customer, reasons: &mut Vec<Reason>) {
    if !similar_names(&a.full_name, &b.full_name) {
        return;
    }
    let evidence = format!("names «{}» and «{}» are alike", a.full_name, b.full_name);
    let shares_phone = reasons.iter().any(|r| r.code == "same_phone");
    let shares_car = reasons
        .iter()
        .any(|r| r.code == "same_vin" || r.code == "same_plate");
    if shares_phone {
        reasons.push(Reason {
            code: "similar_name_shared_phone".into(),
            evidence: evidence.clone(),
        });
    }
    if shares_car {
        reasons.push(Reason {
            code: "similar_name_shared_car".into(),
            evidence,
        });
    }
}

/// Every customer once: phones, plates, VINs and emails typed into the notes, and
/// email variants (`+tag`, Gmail dots, Yandex's domains).
fn scan_customers<R: Reader>(reader: &R, ctx: &Ctx, pairs: &mut Pairs) -> Result<()> {
    let mut note_keys: HashMap<String, u64> = HashMap::new();
    let mut mailboxes: HashMap<String, u64> = HashMap::new();
    let end = crate::store::keys::prefix_end(&[tag::CUSTOMER]);
    let mut start = vec![tag::CUSTOMER];
    loop {
        let chunk = reader.scan_range::<Customer>(&start, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else {
            return Ok(());
        };
        start = last.clone();
        start.push(0);
        for (_, person) in chunk {
            if person.status == customer::CustomerStatus::Erased {
                continue;
            }
            if let Some(notes) = &person.notes {
                from_notes(reader, ctx, &person, notes, pairs, &mut note_keys)?;
            }
            if let Some(email) = &person.email {
                email_variant(reader, &person, email, pairs, &mut mailboxes)?;
            }
        }
    }
}

/// Identifiers in a customer's notes, matched against the unique indexes and against
/// other customers' notes.
fn from_notes<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    person: &Customer,
    notes: &str,
    pairs: &mut Pairs,
    seen: &mut HashMap<String, u64>,
) -> Result<()> {
    for found in identifiers_in(notes, ctx.default_country()) {
        let (code, owner) = match &found {
            Found::Phone(phone) => ("same_phone", owner_of(reader, unique::PHONE, phone)?),
            Found::Plate(plate) => ("same_plate", car_owner(reader, tag::PLATE, plate)?),
            Found::Vin(vin) => ("same_vin", car_owner(reader, tag::VIN, vin)?),
        };
        let shown = found.text();
        if let Some(owner) = owner {
            pairs.add(
                person.id,
                owner,
                code,
                format!(
                    "{shown} belongs to customer {owner} and is in customer {}'s notes",
                    person.id
                ),
            );
        }
        let key = format!("{code}:{shown}");
        match seen.get(&key) {
            Some(other) => pairs.add(
                person.id,
                *other,
                code,
                format!(
                    "{shown} is in the notes of customers {other} and {}",
                    person.id
                ),
            ),
            None if seen.len() < NOTE_KEYS_MAX => {
                seen.insert(key, person.id);
            }
            None => pairs.truncated = true,
        }
    }
    Ok(())
}

fn owner_of<R: Reader>(reader: &R, kind: u8, value: &str) -> Result<Option<u64>> {
    reader.get::<u64>(&KeyBuilder::new(tag::UNIQUE).byte(kind).str(value).build())
}

fn car_owner<R: Reader>(reader: &R, index: u8, value: &str) -> Result<Option<u64>> {
    let Some(id) = reader.get::<u64>(&KeyBuilder::new(index).str(value).build())? else {
        return Ok(None);
    };
    Ok(Some(vehicle::load(reader, id)?.customer))
}

/// The same mailbox written another way: a `+tag` (RFC 5233 subaddressing, which Gmail,
/// Yandex and Outlook deliver to the plain address), dots in a Gmail name (Gmail ignores
/// them), and Yandex's domains (ya.ru, yandex.ru, yandex.com are one mailbox).
pub fn mailbox(email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let local = local.split('+').next().unwrap_or(local);
    let domain = match domain {
        "googlemail.com" => "gmail.com",
        "ya.ru" | "yandex.com" | "yandex.by" | "yandex.kz" | "yandex.ua" => "yandex.ru",
        other => other,
    };
    let local = if domain == "gmail.com" {
        local.replace('.', "")
    } else {
        local.to_string()
    };
    format!("{local}@{domain}")
}

fn email_variant<R: Reader>(
    reader: &R,
    person: &Customer,
    email: &str,
    pairs: &mut Pairs,
    seen: &mut HashMap<String, u64>,
) -> Result<()> {
    let canonical = mailbox(email);
    if canonical == email {
        return Ok(());
    }
    if let Some(owner) = owner_of(reader, unique::EMAIL, &canonical)? {
        pairs.add(
            person.id,
            owner,
            "same_email",
            format!("{email} and {canonical} are one mailbox"),
        );
    }
    match seen.get(&canonical) {
        Some(other) => pairs.add(
            person.id,
            *other,
            "same_email",
            format!("{email} and customer {other}'s address are the mailbox {canonical}"),
        ),
        None if seen.len() < NOTE_KEYS_MAX => {
            seen.insert(canonical, person.id);
        }
        None => pairs.truncated = true,
    }
    Ok(())
}

/// Every vehicle once: a car whose ownership history names other customers (moved to a
/// new record of its owner, or sold).
fn scan_vehicles<R: Reader>(reader: &R, pairs: &mut Pairs) -> Result<()> {
    let end = crate::store::keys::prefix_end(&[tag::VEHICLE]);
    let mut start = vec![tag::VEHICLE];
    loop {
        let chunk = reader.scan_range::<Vehicle>(&start, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else {
            return Ok(());
        };
        start = last.clone();
        start.push(0);
        for (_, car) in chunk {
            let (code, shown) = match (&car.vin, &car.plate) {
                (Some(vin), _) => ("same_vin", format!("VIN {vin}")),
                (None, Some(plate)) => ("same_plate", format!("plate {plate}")),
                (None, None) => continue,
            };
            for earlier in car.owners.iter().filter(|o| o.customer != car.customer) {
                pairs.add(
                    car.customer,
                    earlier.customer,
                    code,
                    format!(
                        "the car with {shown} ({} {}) was customer {}'s before customer {}'s",
                        car.make, car.model, earlier.customer, car.customer
                    ),
                );
            }
        }
    }
}

/// The birthday index, one day of the year at a time: customers born the same day
/// with the same name (after case, ё/е, word order and transliteration).
fn scan_birthdays<R: Reader>(reader: &R, pairs: &mut Pairs) -> Result<()> {
    let mut day: Option<u16> = None;
    let mut ids: Vec<u64> = Vec::new();
    let end = crate::store::keys::prefix_end(&[tag::BIRTHDAY]);
    let mut start = vec![tag::BIRTHDAY];
    loop {
        let chunk = reader.scan_raw(&start, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else {
            return same_day(reader, &ids, pairs);
        };
        start = last.clone();
        start.push(0);
        for (key, _) in chunk {
            let mut fields = KeyReader::of(&key, tag::BIRTHDAY, "birthdays")?;
            let this_day = fields.u16()?;
            let id = fields.u64()?;
            if day != Some(this_day) {
                same_day(reader, &ids, pairs)?;
                ids.clear();
                day = Some(this_day);
            }
            if ids.len() < MOVE_MAX {
                ids.push(id);
            }
        }
    }
}

fn same_day<R: Reader>(reader: &R, ids: &[u64], pairs: &mut Pairs) -> Result<()> {
    let mut blocks: HashMap<(chrono::NaiveDate, String), Vec<(u64, String)>> = HashMap::new();
    for id in ids {
        let Some(person) = live(reader, *id)? else {
            continue;
        };
        let Some(birthday) = person.birthday else {
            continue;
        };
        let key = name_key(&person.full_name);
        if key.is_empty() {
            continue;
        }
        blocks
            .entry((birthday, key))
            .or_default()
            .push((person.id, person.full_name));
    }
    for ((birthday, _), people) in blocks {
        if people.len() > BLOCK_MAX {
            continue;
        }
        for (i, (a, a_name)) in people.iter().enumerate() {
            for (b, b_name) in &people[i + 1..] {
                pairs.add(
                    *a,
                    *b,
                    "same_name_birthday",
                    format!("«{a_name}» and «{b_name}», both born {birthday}"),
                );
            }
        }
    }
    Ok(())
}

/// An identifier found in free text.
#[derive(Debug, Clone, PartialEq)]
enum Found {
    Phone(String),
    Plate(String),
    Vin(String),
}

impl Found {
    fn text(&self) -> String {
        match self {
            Found::Phone(p) => format!("phone {p}"),
            Found::Plate(p) => format!("plate {p}"),
            Found::Vin(v) => format!("VIN {v}"),
        }
    }
}

/// Phones (10+ digits with phone punctuation), plates (Russian shape after look-alike
/// folding: letter, 3 digits, 2 letters, region) and VINs in free text.
fn identifiers_in(text: &str, country: &str) -> Vec<Found> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0 || !chars[i - 1].is_alphanumeric();
        if boundary && (chars[i].is_ascii_digit() || chars[i] == '+') {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || "+-() ".contains(chars[i])) {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            let digits = run.chars().filter(char::is_ascii_digit).count();
            // Digits running straight into letters are part of a word (a VIN, an article).
            let glued =
                chars.get(i).is_some_and(|c| c.is_alphanumeric()) && chars[i - 1].is_ascii_digit();
            if !glued
                && (10..=15).contains(&digits)
                && let Ok(phone) = normalize::phone("notes", run.trim(), country)
            {
                out.push(Found::Phone(phone));
            }
        } else {
            i += 1;
        }
    }
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let count = word.chars().count();
        if count == 17
            && let Ok(vin) = normalize::vin("notes", word)
            && vin.chars().any(|c| c.is_ascii_digit())
            && vin.chars().any(|c| c.is_ascii_alphabetic())
        {
            out.push(Found::Vin(vin));
        } else if (8..=9).contains(&count)
            && let Ok(plate) = normalize::plate("notes", word)
            && russian_plate(&plate)
        {
            out.push(Found::Plate(plate));
        }
    }
    out.dedup();
    out
}

fn russian_plate(plate: &str) -> bool {
    let c: Vec<char> = plate.chars().collect();
    let letter = |c: char| "ABEKMHOPCTYX".contains(c);
    (c.len() == 8 || c.len() == 9)
        && letter(c[0])
        && c[1..4].iter().all(char::is_ascii_digit)
        && letter(c[4])
        && letter(c[5])
        && c[6..].iter().all(char::is_ascii_digit)
}

/// A name for comparison: lower case, ё as е, Cyrillic transliterated to Latin, soft and
/// hard signs dropped, words sorted (so «Иван Иванов» and «Ivanov Ivan» agree).
pub fn name_key(name: &str) -> String {
    let mut words: Vec<String> = normalize::fold_name(name)
        .split(' ')
        .map(transliterate)
        .filter(|w| !w.is_empty())
        .collect();
    words.sort();
    words.join(" ")
}

fn transliterate(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        let latin = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' | 'й' | 'ы' => "i",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ъ' | 'ь' => "",
            'ю' => "yu",
            'я' => "ya",
            c if c.is_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => continue,
        };
        out.push_str(latin);
    }
    fold_spelling(&out)
}

/// Latin spellings of one Russian name agree after this (`Yuriy`/`Iurii`, `Khokhlov`/
/// `Hohlov`, `Semyonov`/`Semenov` differ by one letter at most): digraphs to one letter,
/// `y` and `j` as `i`, doubled `i` once.
fn fold_spelling(latin: &str) -> String {
    let mut text = latin.to_string();
    for (from, to) in [
        ("shch", "s"),
        ("sch", "s"),
        ("kh", "h"),
        ("zh", "z"),
        ("ch", "c"),
        ("sh", "s"),
        ("ts", "c"),
        ("yu", "u"),
        ("ya", "a"),
        ("yo", "o"),
        ("ye", "e"),
        ("y", "i"),
        ("j", "i"),
        ("w", "v"),
        ("x", "ks"),
        ("ii", "i"),
    ] {
        text = text.replace(from, to);
    }
    text
}

/// Names of one person: equal after [`name_key`], one's words all among the other's
/// (a missing patronymic), or at most one or two edits apart (a typo).
pub fn similar_names(a: &str, b: &str) -> bool {
    let (ka, kb) = (name_key(a), name_key(b));
    if ka.is_empty() || kb.is_empty() {
        return false;
    }
    if ka == kb {
        return true;
    }
    let (wa, wb): (Vec<&str>, Vec<&str>) = (ka.split(' ').collect(), kb.split(' ').collect());
    let (short, long) = if wa.len() <= wb.len() {
        (&wa, &wb)
    } else {
        (&wb, &wa)
    };
    if short.len() >= 2 && short.iter().all(|w| long.contains(w)) {
        return true;
    }
    let allowed = if ka.chars().count().min(kb.chars().count()) >= 10 {
        2
    } else {
        1
    };
    edit_distance(&ka, &kb, allowed) <= allowed
}

/// Levenshtein distance, stopping early past `cap` (names are short: at most 64 chars
/// each are compared).
fn edit_distance(a: &str, b: &str, cap: usize) -> usize {
    let a: Vec<char> = a.chars().take(64).collect();
    let b: Vec<char> = b.chars().take(64).collect();
    if a.len().abs_diff(b.len()) > cap {
        return cap + 1;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            current[j + 1] = (previous[j] + cost)
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
        }
        if current.iter().min().is_some_and(|m| *m > cap) {
            return cap + 1;
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_alike_and_not() {
        assert!(similar_names("Семёнов Игорь", "Семенов Игорь"));
        assert!(similar_names("Иванов Иван", "Ivanov Ivan"));
        assert!(similar_names("Иванов Иван Петрович", "Иванов Иван"));
        assert!(similar_names("Кузнецова Мария", "Кузнецова Мраия"));
        assert!(similar_names("Юрий Хохлов", "Yuriy Khokhlov"));
        assert!(similar_names("Семёнов Сергей", "Semyonov Sergey"));
        assert!(similar_names("Щукин Жорж", "Shchukin Zhorzh"));
        assert!(!similar_names("Иванов Иван", "Иванова Мария"));
        assert!(!similar_names("Петров Пётр", "Сидоров Пётр"));
        assert!(!similar_names("Иванов Иван", "Иванов Олег"));
    }

    #[test]
    fn identifiers_in_notes() {
        let found = identifiers_in("доп. тел 8(916)1234567, машина а123вс77", "RU");
        assert_eq!(
            found,
            vec![
                Found::Phone("+79161234567".into()),
                Found::Plate("A123BC77".into())
            ]
        );
        assert!(identifiers_in("ТО-2 в 2023 году, пробег 123456 км", "RU").is_empty());
        assert_eq!(
            identifiers_in("+7 916 123 45 67 жена", "RU"),
            vec![Found::Phone("+79161234567".into())]
        );
        assert_eq!(
            identifiers_in("VIN XTA21099012345678", "RU"),
            vec![Found::Vin("XTA21099012345678".into())]
        );
    }

    #[test]
    fn mailboxes() {
        assert_eq!(
            mailbox("ivan.petrov+auto@gmail.com"),
            "ivanpetrov@gmail.com"
        );
        assert_eq!(mailbox("ivan@ya.ru"), "ivan@yandex.ru");
        assert_eq!(mailbox("ivan.petrov@mail.ru"), "ivan.petrov@mail.ru");
    }
}
