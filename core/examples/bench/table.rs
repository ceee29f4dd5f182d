//! The printed table and how figures are written in it.

use super::*;

pub(crate) struct Row {
    pub(crate) id: &'static str,
    pub(crate) figure: String,
    pub(crate) value: String,
    pub(crate) target: String,
    pub(crate) verdict: String,
}

pub(crate) fn row(id: &'static str, figure: impl Into<String>, value: impl Into<String>) -> Row {
    Row {
        id,
        figure: figure.into(),
        value: value.into(),
        target: String::new(),
        verdict: String::new(),
    }
}

impl Row {
    pub(crate) fn target(mut self, target: impl Into<String>, pass: bool) -> Row {
        self.target = target.into();
        self.verdict = if pass { "PASS" } else { "FAIL" }.into();
        self
    }

    pub(crate) fn note(mut self, target: impl Into<String>, verdict: impl Into<String>) -> Row {
        self.target = target.into();
        self.verdict = verdict.into();
        self
    }
}

pub(crate) fn width(text: &str) -> usize {
    text.chars().count()
}

pub(crate) fn print_table(rows: &[Row]) {
    let w_figure = rows.iter().map(|r| width(&r.figure)).max().unwrap_or(0);
    let w_value = rows.iter().map(|r| width(&r.value)).max().unwrap_or(0);
    let w_target = rows.iter().map(|r| width(&r.target)).max().unwrap_or(0);
    let pad = |text: &str, w: usize| format!("{text}{}", " ".repeat(w.saturating_sub(width(text))));
    let line = "-".repeat(4 + w_figure + 2 + w_value + 2 + w_target + 2 + 7);
    println!("{line}");
    println!(
        "    {}  {}  {}  verdict",
        pad("figure", w_figure),
        pad("median", w_value),
        pad("target", w_target)
    );
    println!("{line}");
    for r in rows {
        println!(
            "{}  {}  {}  {}  {}",
            pad(r.id, 2),
            pad(&r.figure, w_figure),
            pad(&r.value, w_value),
            pad(&r.target, w_target),
            r.verdict
        );
    }
    println!("{line}");
}

pub(crate) fn rate(x: f64) -> String {
    let whole = x.round() as u64;
    let text = whole.to_string();
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i > 0 && (text.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out}/s")
}

pub(crate) fn us(x: f64) -> String {
    if x >= 10_000.0 {
        format!("{:.1} ms", x / 1000.0)
    } else {
        format!("{x:.0} µs")
    }
}

pub(crate) fn bytes(x: u64) -> String {
    if x >= 10 * 1024 * 1024 {
        format!("{:.1} MiB", x as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.0} KiB", x as f64 / 1024.0)
    }
}

pub(crate) fn amplification(stats: &Value) -> f64 {
    stats["amplification"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}
