//! Reading a legacy file: its bytes to text, and the text to records that carry the line
//! a spreadsheet shows for them.
//!
//! The reader is our own rather than the `csv` crate's because a migration needs what that
//! reader does not say: the line a record starts on whatever the line ends are (CRLF
//! exports were reported one line early), a quote left open (it swallowed the next rows),
//! and a record with more or fewer fields than the header.

use crate::Failure;
use clap::ValueEnum;
use pitstop_core::ErrorCode;

/// A text encoding of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Encoding {
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    #[value(name = "cp1251", alias = "windows-1251")]
    Cp1251,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Cp1251 => "cp1251",
        }
    }
}

/// Decode leniently for files that are not imported as data (a gateway's delivery report):
/// the given encoding, or UTF-8 when valid, else Windows-1251.
pub fn decode(bytes: &[u8], encoding: Option<Encoding>) -> (String, Encoding) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let encoding = encoding.unwrap_or(if std::str::from_utf8(bytes).is_ok() {
        Encoding::Utf8
    } else {
        Encoding::Cp1251
    });
    let text = match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
        Encoding::Cp1251 => encoding_rs::WINDOWS_1251.decode(bytes).0.into_owned(),
    };
    (text, encoding)
}

/// The line (1-based) holding byte `offset`.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

/// Decode the file to be imported, refusing what would store garbage: an empty file, a
/// UTF-16 file, bytes that are not the chosen encoding, and a UTF-8 file read as cp1251
/// (every Cyrillic letter would become two, "Ð˜Ð²Ð°Ð½").
pub fn decode_strict(
    bytes: &[u8],
    encoding: Option<Encoding>,
) -> Result<(String, Encoding), Failure> {
    let invalid = |message: String| Failure::new(ErrorCode::InvalidArgument, message);
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(invalid(
            "the file is UTF-16 (Excel's \"Unicode text\"): save it as CSV in UTF-8 or Windows-1251"
                .into(),
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(invalid(
            "the file is empty: it needs a header line and rows".into(),
        ));
    }
    // UTF-16 without a byte order mark: every other byte of Latin text is zero.
    if bytes.contains(&0) {
        return Err(invalid(format!(
            "the file has zero bytes (line {}): it is UTF-16 or not text; save it as CSV in UTF-8 or Windows-1251",
            line_of(bytes, bytes.iter().position(|b| *b == 0).unwrap_or(0))
        )));
    }
    let utf8 = std::str::from_utf8(bytes);
    let encoding = encoding.unwrap_or(if utf8.is_ok() {
        Encoding::Utf8
    } else {
        Encoding::Cp1251
    });
    let text = match encoding {
        Encoding::Utf8 => match utf8 {
            Ok(text) => text.to_string(),
            Err(err) => {
                return Err(invalid(format!(
                    "line {}: the text is not valid UTF-8 (is the file in Windows-1251? try --encoding cp1251)",
                    line_of(bytes, err.valid_up_to())
                )));
            }
        },
        Encoding::Cp1251 => {
            if let Ok(text) = utf8
                && !text.is_ascii()
            {
                let offset = bytes.iter().position(|b| !b.is_ascii()).unwrap_or(0);
                return Err(invalid(format!(
                    "line {}: the file is UTF-8, not Windows-1251 (read as cp1251 its letters would become mojibake); use --encoding utf-8",
                    line_of(bytes, offset)
                )));
            }
            // 0x98 is the one byte Windows-1251 leaves undefined.
            if let Some(offset) = bytes.iter().position(|b| *b == 0x98) {
                return Err(invalid(format!(
                    "line {}: byte 0x98 is not a Windows-1251 character",
                    line_of(bytes, offset)
                )));
            }
            encoding_rs::WINDOWS_1251.decode(bytes).0.into_owned()
        }
    };
    Ok((text, encoding))
}

/// The separator: whichever of `;` and `,` the header line has more of.
pub fn sniff_separator(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let semicolons = header.matches(';').count();
    let commas = header.matches(',').count();
    if semicolons >= commas && semicolons > 0 {
        b';'
    } else {
        b','
    }
}

/// One record of the file.
#[derive(Debug, PartialEq)]
pub struct Record {
    /// Its row as a spreadsheet numbers it (header = 1): a line break inside a quoted
    /// cell does not start a row.
    pub line: u64,
    /// The line of the text it starts on (differs from `line` after multi-line cells).
    pub text_line: u64,
    pub fields: Vec<String>,
    /// A quote opened in it was never closed: it runs to the end of the file.
    pub unclosed_quote: bool,
}

/// Split the text into records: `"` quotes fields (doubled inside), a line end is LF, CRLF
/// or a lone CR, and a line end inside quotes belongs to the field.
pub fn records(text: &str, separator: char) -> Vec<Record> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line: u64 = 1;
    let mut start = 1;
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut finish = |fields: &mut Vec<String>, field: &mut String, start: u64, open: bool| {
        fields.push(std::mem::take(field));
        out.push(Record {
            line: out.len() as u64 + 1,
            text_line: start,
            fields: std::mem::take(fields),
            unclosed_quote: open,
        });
    };
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\r' | '\n' => {
                    if c == '\r' && chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                finish(&mut fields, &mut field, start, false);
                line += 1;
                start = line;
            }
            c if c == separator => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    if quoted || !field.is_empty() || !fields.is_empty() {
        finish(&mut fields, &mut field, start, quoted);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_the_spreadsheet_lines_whatever_the_line_ends() {
        for text in [
            "id;name\r\nR1;A\r\n\"R2\";\"B\r\nB\"\r\nR3;C\r\n",
            "id;name\nR1;A\n\"R2\";\"B\nB\"\nR3;C\n",
        ] {
            let found: Vec<(u64, u64, Vec<String>)> = records(text, ';')
                .into_iter()
                .map(|r| (r.line, r.text_line, r.fields))
                .collect();
            assert_eq!(
                found,
                vec![
                    (1, 1, vec!["id".to_string(), "name".into()]),
                    (2, 2, vec!["R1".into(), "A".into()]),
                    (3, 3, vec!["R2".into(), "B\nB".into()]),
                    (4, 5, vec!["R3".into(), "C".into()]),
                ]
            );
        }
    }

    #[test]
    fn an_unclosed_quote_is_marked_on_its_line() {
        let found = records("id;name\r\nR1;\"A\r\nR2;B\r\n", ';');
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].line, 2);
        assert!(found[1].unclosed_quote);
        assert_eq!(found[1].fields[0], "R1");
    }

    #[test]
    fn text_that_does_not_decode_cleanly_is_refused() {
        let cp1251 = b"id;name\r\nR1;\xc8\xe2\xe0\xed\r\n";
        let err = decode_strict(cp1251, Some(Encoding::Utf8))
            .err()
            .map(|f| f.message);
        assert!(err.is_some_and(|m| m.contains("line 2") && m.contains("cp1251")));
        let utf8 = "id;name\nR1;Иван\n".as_bytes();
        let err = decode_strict(utf8, Some(Encoding::Cp1251))
            .err()
            .map(|f| f.message);
        assert!(err.is_some_and(|m| m.contains("line 2") && m.contains("UTF-8")));
        let err = decode_strict(b"\xFF\xFEi\0d\0", None)
            .err()
            .map(|f| f.message);
        assert!(err.is_some_and(|m| m.contains("UTF-16")));
        let err = decode_strict(b" \r\n", None).err().map(|f| f.message);
        assert!(err.is_some_and(|m| m.contains("empty")));
        let (text, enc) = decode_strict(cp1251, None).map_err(|f| f.message).unwrap();
        assert_eq!(
            (text.as_str(), enc),
            ("id;name\r\nR1;Иван\r\n", Encoding::Cp1251)
        );
    }
}
