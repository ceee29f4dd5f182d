//! Key layout. One ordered key space; the first byte names the table.
//!
//! Integers are big-endian (signed ones with the sign bit flipped) so that a range
//! scan returns records in numeric order. Strings are followed by `0x00` where
//! another component follows them (strings never contain NUL: inputs are validated).
//!
//! | tag | key                                   | value                          |
//! |-----|---------------------------------------|--------------------------------|
//! | 00  | name                                  | meta (format version, seq, id counters, current programme) |
//! | c   | customer id                           | Customer                       |
//! | k   | card number                           | Card                           |
//! | u   | index kind, normalised value          | customer id (unique indexes: p phone, e email, x external id, r referral code) |
//! | n   | folded name word, 00, customer id     | () (name prefix search)        |
//! | v   | vehicle id                            | Vehicle                        |
//! | w   | customer id, vehicle id               | () (a customer's vehicles)     |
//! | W   | VIN                                   | vehicle id (unique)            |
//! | P   | plate, 00, vehicle id                 | () (plates may move)           |
//! | m   | vehicle id, instant, order            | MileageReading                 |
//! | V   | visit id                              | Visit                          |
//! | D   | customer id, local date, visit id     | VisitSummary                   |
//! | O   | host order id                         | visit id (unique)              |
//! | a   | customer id                           | AccountRecord (figures, active hold ids; open lots inline only in format 1) |
//! | !   | customer id, lot id / 64              | Vec<Lot> (a customer's open lots, in blocks of 64 consecutive lot ids) |
//! | e   | customer id, entry sequence           | Entry                          |
//! | h   | hold id                               | Hold                           |
//! | X   | expiry date, customer id, lot id      | () (lots to burn by date)      |
//! | R   | release date, customer id, lot id     | () (pending lots by date)      |
//! | Y   | expiry instant, hold id               | () (holds to expire)           |
//! | B   | month-day, customer id                | () (birthdays)                 |
//! | b   | customer id, year                     | birthday grant marker          |
//! | i   | idempotency key                       | IdempotencyRecord              |
//! | g   | programme version                     | Program (JSON document)        |
//! | j   | local date                            | DailyRun                       |
//! | T   | local date, customer id               | () (tier review when a visit leaves the window) |
//! | Q   | plugin name                           | PluginRecord (JSON document)   |
//! | q   | module sha256 (32 bytes), chunk u32   | module bytes (192 KiB chunks, shared by plugins with the same module) |
//! | G   | customer id                           | VisitDays (spend and visits per day, for tiers) |
//! | Z   | local date, visit id                  | DatedVisit (reports over periods) |
//! | 7   | branch, 0, local date, visit id       | DatedVisit of the branch's visits |
//! | f   | customer id                           | Referral (own code, referrer, signup rewards, cashback) |
//! | F   | referrer id, referee id               | () (who brought whom) |
//! | x   | visit id                              | VisitGrants (referral points a visit paid, for refunds) |
//! | s   | segment name                          | Segment (JSON document)        |
//! | H   | customer id, sequence                 | ConsentEvent (consent history with source) |
//! | K   | customer id, card number              | () (every card a customer was issued) |
//! | E   | customer id                           | Erasure (when and why personal data were erased) |
//! | C   | campaign id                           | Campaign                       |
//! | L   | campaign name                         | campaign id (unique)           |
//! | N   | campaign id, customer id              | Notification (who was told)    |
//! | M   | customer id, campaign id              | Notification (campaigns that told a customer) |
//! | d   | recommendation id                     | Recommendation (defect sheet)  |
//! | l   | customer id, recommendation id        | () (a customer's recommendations) |
//! | 1   | vehicle id, recommendation id         | () (a vehicle's recommendations) |
//! | 2   | local date created, recommendation id | () (declined works by date, for reminders) |
//! | S   | storage id                            | TyreStorage                    |
//! | t   | customer id, storage id               | () (a customer's stored sets)  |
//! | U   | storage id                            | () (sets in storage now)       |
//! | o   | special order id                      | SpecialOrder                   |
//! | p   | customer id, special order id         | () (a customer's special orders) |
//! | A   | local arrival date, special order id  | () (arrived orders, for reminders) |
//! | 3   | feedback id                           | Feedback                       |
//! | 4   | customer id, feedback id              | () (a customer's feedback)     |
//! | y   | local date, feedback id               | () (feedback by date, for reports) |
//! | z   | visit id                              | feedback id (first feedback on a visit; bonus once) |
//! | 5   | vehicle id                            | CarHistory (services done, visit dates, due dates indexed) |
//! | I   | predicted due date, vehicle id, service kind | () (periodic service due) |
//! | J   | predicted lapse date, vehicle id      | () (valuable car overdue for its usual visit) |
//! | 6   | due date, visit id, effect position   | () (reminders promotion plugins asked for) |
//! | r   | reminder reason key                   | ReminderMark (sent, failed, declined) |
//! | 8   | local date, customer id               | Vec<TierMove> (tier changes not made by a visit: refunds, reviews, imports) |
//! | 9   | merged customer id                    | Redirect (customer.merge: where the merged customer's id leads) |
//! | :   | kind (m, d), customer id, customer id | () (m: kept id, merged id; d: a pair marked distinct, lower id first) |
//! | @   | instant (µs), audit seq               | AuditRecord (who changed what, one operation's changes to one customer) |
//! | %   | operator, 00, instant (µs), audit seq | () (audit records by operator) |
//! | $   | customer id, instant (µs), audit seq  | () (audit records by customer) |
//! | #   | n, folded service name                | folded name of its service (every name of a confirmed alias group) |
//! | #   | g, folded service name                | AliasGroup (a service's name and its aliases) |
//! | ;   | customer id                           | Registration (who registered the customer) |

use crate::error::{Error, Result};
use chrono::{Datelike, NaiveDate};

/// Meta key: format version.
pub const META_FORMAT: &str = "format_version";
/// Meta key: sequence number of the last applied batch.
pub const META_SEQ: &str = "seq";
/// Meta key: current programme version.
pub const META_PROGRAM: &str = "program_version";
/// Meta key: bumped by every change of the installed or enabled plugins, so processes
/// sharing the store know to reload theirs.
pub const META_PLUGINS: &str = "plugins_epoch";

/// Table tags.
pub mod tag {
    /// Meta records.
    pub const META: u8 = 0x00;
    /// Customers.
    pub const CUSTOMER: u8 = b'c';
    /// Cards.
    pub const CARD: u8 = b'k';
    /// Unique customer indexes.
    pub const UNIQUE: u8 = b'u';
    /// Name words.
    pub const NAME: u8 = b'n';
    /// Vehicles.
    pub const VEHICLE: u8 = b'v';
    /// Vehicles of a customer.
    pub const CUSTOMER_VEHICLE: u8 = b'w';
    /// VIN index.
    pub const VIN: u8 = b'W';
    /// Plate index.
    pub const PLATE: u8 = b'P';
    /// Mileage readings.
    pub const MILEAGE: u8 = b'm';
    /// Visits.
    pub const VISIT: u8 = b'V';
    /// Visits of a customer by date.
    pub const CUSTOMER_VISIT: u8 = b'D';
    /// Host order ids.
    pub const ORDER: u8 = b'O';
    /// Points accounts.
    pub const ACCOUNT: u8 = b'a';
    /// A customer's open lots, in blocks by lot id.
    pub const LOTS: u8 = b'!';
    /// Ledger entries.
    pub const ENTRY: u8 = b'e';
    /// Holds.
    pub const HOLD: u8 = b'h';
    /// Lots by expiry date.
    pub const EXPIRY: u8 = b'X';
    /// Pending lots by release date.
    pub const RELEASE: u8 = b'R';
    /// Holds by expiry instant.
    pub const HOLD_EXPIRY: u8 = b'Y';
    /// Birthdays by month-day.
    pub const BIRTHDAY: u8 = b'B';
    /// Birthday bonus grants.
    pub const BIRTHDAY_GRANT: u8 = b'b';
    /// Idempotency records.
    pub const IDEMPOTENCY: u8 = b'i';
    /// Programme versions.
    pub const PROGRAM: u8 = b'g';
    /// Daily job runs.
    pub const DAILY: u8 = b'j';
    /// Tier reviews by date.
    pub const TIER_REVIEW: u8 = b'T';
    /// Installed plugins by name.
    pub const PLUGIN: u8 = b'Q';
    /// Plugin module bytes by sha256 and chunk.
    pub const PLUGIN_MODULE: u8 = b'q';
    /// Spend and visits per day of a customer.
    pub const VISIT_DAYS: u8 = b'G';
    /// Visits of the whole shop by date.
    pub const VISIT_BY_DATE: u8 = b'Z';
    /// Visits of one branch by date (the same records as `VISIT_BY_DATE`).
    pub const VISIT_BY_BRANCH_DATE: u8 = b'7';
    /// Tier changes by date that a visit record does not show (refund, review, import).
    pub const TIER_MOVE: u8 = b'8';
    /// Report figures per local day and branch (`aggregate`): date, scope.
    pub const DAY_CELL: u8 = b'&';
    /// What keeps the day cells exact (`aggregate`): customers' visit days, the points
    /// totals, the cells' format mark.
    pub const AGGREGATE: u8 = b'*';
    /// Referral record of a customer.
    pub const REFERRAL: u8 = b'f';
    /// Referrer → referee links.
    pub const REFERRAL_LINK: u8 = b'F';
    /// Referral grants of a visit.
    pub const REFERRAL_VISIT: u8 = b'x';
    /// Saved segments by name.
    pub const SEGMENT: u8 = b's';
    /// Consent history of a customer.
    pub const CONSENT_HISTORY: u8 = b'H';
    /// Cards of a customer.
    pub const CUSTOMER_CARD: u8 = b'K';
    /// Erasure records.
    pub const ERASURE: u8 = b'E';
    /// Campaigns.
    pub const CAMPAIGN: u8 = b'C';
    /// Campaign names.
    pub const CAMPAIGN_NAME: u8 = b'L';
    /// Notifications by campaign.
    pub const CAMPAIGN_NOTIFIED: u8 = b'N';
    /// Notifications by customer.
    pub const CUSTOMER_CAMPAIGN: u8 = b'M';
    /// Recommendations (defect sheet) by id.
    pub const RECOMMENDATION: u8 = b'd';
    /// Recommendations of a customer.
    pub const CUSTOMER_RECOMMENDATION: u8 = b'l';
    /// Recommendations of a vehicle.
    pub const VEHICLE_RECOMMENDATION: u8 = b'1';
    /// Recommendations by creation date.
    pub const RECOMMENDATION_BY_DATE: u8 = b'2';
    /// Tyre storage by id.
    pub const TYRE_STORAGE: u8 = b'S';
    /// Tyre storage of a customer.
    pub const CUSTOMER_TYRE_STORAGE: u8 = b't';
    /// Sets in storage now.
    pub const TYRE_STORAGE_ACTIVE: u8 = b'U';
    /// Special orders by id.
    pub const SPECIAL_ORDER: u8 = b'o';
    /// Special orders of a customer.
    pub const CUSTOMER_SPECIAL_ORDER: u8 = b'p';
    /// Special orders by arrival date.
    pub const SPECIAL_ORDER_ARRIVED: u8 = b'A';
    /// Feedback by id.
    pub const FEEDBACK: u8 = b'3';
    /// Feedback of a customer.
    pub const CUSTOMER_FEEDBACK: u8 = b'4';
    /// Feedback by date.
    pub const FEEDBACK_BY_DATE: u8 = b'y';
    /// First feedback on a visit.
    pub const VISIT_FEEDBACK: u8 = b'z';
    /// Service history of a vehicle.
    pub const CAR_HISTORY: u8 = b'5';
    /// Periodic service by predicted due date.
    pub const SERVICE_DUE: u8 = b'I';
    /// Valuable cars by predicted lapse date.
    pub const LAPSE_DUE: u8 = b'J';
    /// Reminders plugins asked for, by due date.
    pub const PLUGIN_REMINDER: u8 = b'6';
    /// Reminder outcomes by reason key.
    pub const REMINDER_MARK: u8 = b'r';
    /// Merged customers: the customer each merged id now leads to.
    pub const REDIRECT: u8 = b'9';
    /// Pairs of customers: merged into (kind `m`), marked distinct (kind `d`).
    pub const CUSTOMER_PAIR: u8 = b':';
    /// Audit records by instant.
    pub const AUDIT: u8 = b'@';
    /// Audit records by operator.
    pub const AUDIT_BY_OPERATOR: u8 = b'%';
    /// Audit records by customer.
    pub const AUDIT_BY_CUSTOMER: u8 = b'$';
    /// Service names confirmed as one (`catalog.alias`): name index and groups.
    pub const CATALOG: u8 = b'#';
    /// Who registered a customer.
    pub const REGISTRATION: u8 = b';';
}

/// Sub-tags of [`tag::AGGREGATE`], the second byte of its keys. The aggregates write
/// them and [`super::lock_scope`] reads them to know which keys belong to a customer:
/// one definition, so the two cannot disagree.
pub mod aggregate_tag {
    /// A customer's visit days in a scope: customer id, scope, date.
    pub const VISIT_DAYS: u8 = b'p';
    /// A customer's counted figures as a referee: customer id.
    pub const REFEREE: u8 = b'e';
    /// A referrer's totals: referrer id.
    pub const REFERRER: u8 = b'r';
    /// The totals over every referral.
    pub const REFERRALS: u8 = b'a';
    /// The points totals of every account.
    pub const POINTS_TOTALS: u8 = b't';
    /// The mark that the aggregates are complete.
    pub const MARK: u8 = b'v';
}

/// Unique index kinds under [`tag::UNIQUE`].
pub mod unique {
    /// Phone (E.164).
    pub const PHONE: u8 = b'p';
    /// Email (lower-cased).
    pub const EMAIL: u8 = b'e';
    /// Host's external id.
    pub const EXTERNAL_ID: u8 = b'x';
    /// Referral code (value: the code's owner).
    pub const REFERRAL_CODE: u8 = b'r';
}

/// Builds a key component by component.
#[derive(Debug, Default, Clone)]
pub struct KeyBuilder(Vec<u8>);

impl KeyBuilder {
    /// Start a key with its table tag.
    pub fn new(table: u8) -> KeyBuilder {
        let mut bytes = Vec::with_capacity(24);
        bytes.push(table);
        KeyBuilder(bytes)
    }
    /// Append a big-endian u64.
    pub fn u64(mut self, value: u64) -> KeyBuilder {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }
    /// Append a signed i64 in order-preserving form.
    pub fn i64(mut self, value: i64) -> KeyBuilder {
        self.0
            .extend_from_slice(&((value as u64) ^ (1 << 63)).to_be_bytes());
        self
    }
    /// Append a date in order-preserving form.
    pub fn date(mut self, value: NaiveDate) -> KeyBuilder {
        let days = value.num_days_from_ce();
        self.0
            .extend_from_slice(&((days as u32) ^ (1 << 31)).to_be_bytes());
        self
    }
    /// Append a u16.
    pub fn u16(mut self, value: u16) -> KeyBuilder {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }
    /// Append a byte.
    pub fn byte(mut self, value: u8) -> KeyBuilder {
        self.0.push(value);
        self
    }
    /// Append a string as the last component.
    pub fn str(mut self, value: &str) -> KeyBuilder {
        self.0.extend_from_slice(value.as_bytes());
        self
    }
    /// Append a string followed by a `0x00` separator.
    pub fn str_sep(mut self, value: &str) -> KeyBuilder {
        self.0.extend_from_slice(value.as_bytes());
        self.0.push(0);
        self
    }
    /// The finished key.
    pub fn build(self) -> Vec<u8> {
        self.0
    }
}

/// Reads a key back component by component, in the order [`KeyBuilder`] wrote it, so
/// no caller counts byte offsets. A key of another table, or too short for what is read,
/// is `corrupted`, naming the index it was found in.
#[derive(Debug, Clone)]
pub struct KeyReader<'k> {
    key: &'k [u8],
    at: usize,
    index: &'static str,
}

impl<'k> KeyReader<'k> {
    /// Start reading a key of `table` (called `index` in errors), after its tag.
    pub fn of(key: &'k [u8], table: u8, index: &'static str) -> Result<KeyReader<'k>> {
        let reader = KeyReader { key, at: 1, index };
        if key.first() != Some(&table) {
            return Err(reader.malformed());
        }
        Ok(reader)
    }

    fn malformed(&self) -> Error {
        Error::corrupted(format!(
            "{} key {} is malformed",
            self.index,
            display(self.key)
        ))
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let bytes = self
            .key
            .get(self.at..self.at + N)
            .ok_or_else(|| self.malformed())?;
        self.at += N;
        let mut array = [0u8; N];
        array.copy_from_slice(bytes);
        Ok(array)
    }

    /// A big-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.take()?))
    }

    /// A signed i64 written by [`KeyBuilder::i64`].
    pub fn i64(&mut self) -> Result<i64> {
        Ok((u64::from_be_bytes(self.take()?) ^ (1 << 63)) as i64)
    }

    /// A date written by [`KeyBuilder::date`].
    pub fn date(&mut self) -> Result<NaiveDate> {
        let days = (u32::from_be_bytes(self.take()?) ^ (1 << 31)) as i32;
        NaiveDate::from_num_days_from_ce_opt(days).ok_or_else(|| self.malformed())
    }

    /// A byte written by [`KeyBuilder::byte`].
    pub fn byte(&mut self) -> Result<u8> {
        Ok(u8::from_be_bytes(self.take()?))
    }

    /// A u16.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.take()?))
    }

    /// A string written by [`KeyBuilder::str_sep`], without its separator.
    pub fn str_sep(&mut self) -> Result<&'k str> {
        let rest = self.key.get(self.at..).unwrap_or_default();
        let end = rest
            .iter()
            .position(|b| *b == 0)
            .ok_or_else(|| self.malformed())?;
        let text = std::str::from_utf8(&rest[..end]).map_err(|_| self.malformed())?;
        self.at += end + 1;
        Ok(text)
    }

    /// The rest of the key as a string written by [`KeyBuilder::str`].
    pub fn rest_str(&mut self) -> Result<&'k str> {
        let rest = self.key.get(self.at..).unwrap_or_default();
        let text = std::str::from_utf8(rest).map_err(|_| self.malformed())?;
        self.at = self.key.len();
        Ok(text)
    }

    /// Whether every byte of the key has been read.
    pub fn is_done(&self) -> bool {
        self.at >= self.key.len()
    }

    /// The id kept as the last 8 bytes of an index key whose other parts are not read.
    pub fn last_u64(mut self) -> Result<u64> {
        self.at = self
            .key
            .len()
            .checked_sub(8)
            .ok_or_else(|| self.malformed())?;
        self.u64()
    }
}

/// Meta key by name.
pub fn meta(name: &str) -> Vec<u8> {
    KeyBuilder::new(tag::META).str(name).build()
}

/// The mark that the report aggregates (`&`, `*`) are complete: a backup restored over a
/// store keeps the backup's own.
pub fn aggregates_mark() -> Vec<u8> {
    vec![tag::AGGREGATE, aggregate_tag::MARK]
}

/// The smallest key greater than every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // The all-0xff prefix: no finite upper bound; a key longer than any real one.
    vec![0xff; 1024]
}

/// Printable form of a key for error messages.
pub fn display(key: &[u8]) -> String {
    let mut out = String::new();
    for &byte in key.iter().take(64) {
        if byte.is_ascii_graphic() {
            out.push(byte as char);
        } else {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// Longest key a paging cursor may carry.
pub const CURSOR_KEY_BYTES_MAX: usize = 256;

/// A paging cursor for the host: the last key read, in hex.
pub fn cursor_text(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key a cursor from [`cursor_text`] names; `invalid_argument` on the `after` field,
/// naming the operation, for anything else (the text comes from the host).
pub fn cursor_key(text: &str, op: &str) -> crate::error::Result<Vec<u8>> {
    let bad = || crate::error::Error::invalid("after", format!("not a cursor from {op}"));
    if !text.is_ascii() || !text.len().is_multiple_of(2) || text.len() > 2 * CURSOR_KEY_BYTES_MAX {
        return Err(bad());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|_| bad()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_signed_integers_sort_in_order() {
        let early = KeyBuilder::new(b'X')
            .date(NaiveDate::from_ymd_opt(1999, 12, 31).unwrap())
            .build();
        let late = KeyBuilder::new(b'X')
            .date(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap())
            .build();
        assert!(early < late);
        let negative = KeyBuilder::new(b'Y').i64(-5).build();
        let positive = KeyBuilder::new(b'Y').i64(3).build();
        assert!(negative < positive);
    }

    /// What the builder writes, the reader reads back in the same order; a key of
    /// another table or cut short is `corrupted`, naming the index.
    #[test]
    fn a_key_reads_back_as_it_was_built() {
        let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let key = KeyBuilder::new(b'X')
            .str_sep("Химки")
            .date(date)
            .i64(-42)
            .u16(229)
            .u64(7)
            .str("замена масла")
            .build();
        let mut fields = KeyReader::of(&key, b'X', "test index").unwrap();
        assert_eq!(fields.str_sep().unwrap(), "Химки");
        assert_eq!(fields.date().unwrap(), date);
        assert_eq!(fields.i64().unwrap(), -42);
        assert_eq!(fields.u16().unwrap(), 229);
        assert_eq!(fields.u64().unwrap(), 7);
        assert_eq!(fields.rest_str().unwrap(), "замена масла");
        let id_last = KeyBuilder::new(b'N').str("иванов").u64(99).build();
        assert_eq!(
            KeyReader::of(&id_last, b'N', "names")
                .unwrap()
                .last_u64()
                .unwrap(),
            99
        );

        let err = KeyReader::of(&key, b'Y', "other index").unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::Corrupted);
        assert!(err.message.contains("other index"), "{}", err.message);
        let short = &key[..20]; // the tag, "Химки" and its separator, the date, half the i64
        let mut fields = KeyReader::of(short, b'X', "test index").unwrap();
        fields.str_sep().unwrap();
        fields.date().unwrap();
        let err = fields.u64().unwrap_err();
        assert!(err.message.contains("test index"), "{}", err.message);
        let unterminated = KeyBuilder::new(b'X').str("нет конца").build();
        assert!(
            KeyReader::of(&unterminated, b'X', "t")
                .unwrap()
                .str_sep()
                .is_err()
        );
        assert!(
            KeyReader::of(&[b'X', 1], b'X', "t")
                .unwrap()
                .last_u64()
                .is_err()
        );
    }

    /// Two record families under one tag would read each other's records: the tags in
    /// `mod tag` (and the layout table above, which documents them) must be distinct.
    #[test]
    fn every_tag_is_used_once() {
        let source = include_str!("keys.rs");
        let start = source.find("pub mod tag {").expect("mod tag");
        let end = start + source[start..].find("\n}").expect("end of mod tag");
        let mut seen = std::collections::BTreeMap::new();
        for line in source[start..end].lines() {
            if let Some(rest) = line.trim().strip_prefix("pub const ")
                && let Some((name, value)) = rest.split_once(": u8 = ")
                && let Some(first) = seen.insert(value.to_string(), name.to_string())
            {
                panic!("{name} and {first} share the tag {value}");
            }
        }
        assert!(seen.len() >= 20, "only {} tags found", seen.len());
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let key = KeyBuilder::new(b'X').u64(42).str("ключ").build();
        assert_eq!(cursor_key(&cursor_text(&key), "t").unwrap(), key);
        for garbage in [
            "a",
            "zz",
            "aЖb",
            "ЖЖ",
            &"00".repeat(CURSOR_KEY_BYTES_MAX + 1),
        ] {
            assert!(cursor_key(garbage, "t").is_err(), "{garbage}");
        }
    }

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end(b"ab"), b"ac".to_vec());
        assert_eq!(prefix_end(&[b'a', 0xff]), vec![b'b']);
        assert!(prefix_end(&[0xff]).as_slice() > [0xff, 0xff, 0xff].as_slice());
    }
}
