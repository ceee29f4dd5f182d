//! Human output: aligned tables, key/value blocks, colour only on a terminal.

use std::io::IsTerminal;

/// Whether stdout gets colour: a terminal and no `NO_COLOR`.
pub fn colour_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Whether stderr gets colour.
pub fn colour_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Bold text when colour is on.
pub fn bold(text: &str, colour: bool) -> String {
    if colour {
        format!("\x1b[1m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Red text when colour is on.
pub fn red(text: &str, colour: bool) -> String {
    if colour {
        format!("\x1b[31m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn width(text: &str) -> usize {
    text.chars().count()
}

/// Whether a cell is a number (right-aligned): digits with the separators of either
/// language (`1 234,50`, `1,234.50`), a leading sign, and an optional currency sign or %.
fn numeric(text: &str) -> bool {
    let body = text
        .trim_end_matches(['₽', '%'])
        .trim_end_matches([' ', '\u{a0}']);
    let mut chars = body.chars();
    let rest = match chars.next() {
        Some('-' | '+' | '−') => chars.as_str(),
        Some(_) => body,
        None => return false,
    };
    // Dates (`01.12.2025`, `12.2025`) are not amounts: two dots, or a whole part with a
    // leading zero.
    let date = rest.matches('.').count() > 1
        || (rest.starts_with('0') && rest[1..].starts_with(|c: char| c.is_ascii_digit()));
    !rest.is_empty()
        && !date
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ' ' | '\u{a0}' | '\u{202f}'))
        && rest.chars().any(|c| c.is_ascii_digit())
}

/// An aligned table: numbers right-aligned, text left-aligned, a bold header on a terminal.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let colour = colour_stdout();
    let columns = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    let mut right = vec![true; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(width(cell));
            if !cell.is_empty() && !numeric(cell) {
                right[i] = false;
            }
        }
    }
    if rows.is_empty() {
        right = vec![false; columns];
    }
    let line = |cells: Vec<String>, header: bool| -> String {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(width(cell));
            let text = if header {
                bold(cell, colour)
            } else {
                cell.clone()
            };
            if i > 0 {
                out.push_str("  ");
            }
            if right[i] {
                out.push_str(&" ".repeat(pad));
                out.push_str(&text);
            } else {
                out.push_str(&text);
                if i + 1 < cells.len() {
                    out.push_str(&" ".repeat(pad));
                }
            }
        }
        out.trim_end().to_string()
    };
    let mut out = line(headers.iter().map(|h| h.to_string()).collect(), true);
    out.push('\n');
    for row in rows {
        let mut cells = row.clone();
        cells.resize(columns, String::new());
        out.push_str(&line(cells, false));
        out.push('\n');
    }
    out
}

/// Key/value lines with the keys aligned.
pub fn pairs(items: &[(&str, String)]) -> String {
    let colour = colour_stdout();
    let key_width = items.iter().map(|(k, _)| width(k)).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in items {
        let pad = key_width - width(key);
        out.push_str(&bold(key, colour));
        out.push_str(&" ".repeat(pad + 2));
        out.push_str(value);
        out.push('\n');
    }
    out
}

/// A JSON value as a cell: strings bare, null empty, lists joined.
pub fn cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_cyrillic_and_numbers() {
        let out = table(
            &["name", "points"],
            &[
                vec!["Иванов".into(), "5".into()],
                vec!["Li".into(), "1200.50".into()],
            ],
        );
        assert_eq!(out, "name     points\nИванов        5\nLi      1200.50\n");
    }

    #[test]
    fn russian_numbers_are_right_aligned() {
        for number in [
            "1\u{a0}234,50",
            "−45\u{a0}000",
            "10\u{a0}450,00\u{a0}₽",
            "12,5 %",
            "7",
        ] {
            assert!(numeric(number), "{number}");
        }
        for text in ["", "₽", "ЗН-1", "2025-12-01", "a1", "01.12.2025", "03.2025"] {
            assert!(!numeric(text), "{text}");
        }
    }
}
