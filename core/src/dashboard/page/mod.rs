//! The HTML around the charts: a header with the period and the key figures, one
//! section per question, each with its chart, a legend and the exact figures in a
//! table. Every text that comes from the store (names of the shop, employees,
//! campaigns) is escaped here; the SVG comes from plotters, which escapes its own text.

mod activity;
mod engagement;
mod loyalty;

use super::Figures;
use super::chart::Color;
use super::words::Speech;
use crate::error::Result;

/// The page's style sheet: system fonts only, nothing fetched.
const STYLE: &str = "\
body{margin:0;background:#f4f6f8;color:#1f2a33;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}
header{background:#1f3b57;color:#fff;padding:20px 28px}
header h1{margin:0 0 6px;font-size:24px}
header p{margin:2px 0;opacity:.9}
main{max-width:960px;margin:0 auto;padding:16px}
.tiles{display:flex;flex-wrap:wrap;gap:12px;margin:4px 0 16px}
.tile{flex:1 1 160px;background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.tile .label{display:block;font-size:13px;color:#5b6b78}
.tile .value{display:block;font-size:21px;font-weight:600;white-space:nowrap}
section{background:#fff;border-radius:8px;padding:16px 20px;margin:0 0 16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
section h2{margin:0 0 8px;font-size:19px}
figure{margin:8px 0}
figure svg{display:block;max-width:100%;height:auto}
.legend{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:16px;font-size:14px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
table{border-collapse:collapse;width:100%;font-size:14px;margin-top:8px}
th,td{padding:4px 8px;border-bottom:1px solid #e3e7eb;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left;white-space:normal}
tr.total td{font-weight:600}
.empty{color:#5b6b78;font-style:italic}
.note{font-size:13px}
details summary{cursor:pointer;color:#1f5d99;margin-top:6px}
";

/// HTML text: `&`, `<`, `>`, and both quotes escaped, so it is safe in an element and in
/// a quoted attribute.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page being written.
pub(super) struct Page {
    html: String,
}

impl Page {
    fn raw(&mut self, html: &str) {
        self.html.push_str(html);
    }

    /// `<tag>text</tag>`, the text escaped.
    fn element(&mut self, tag: &str, text: &str) {
        self.html
            .push_str(&format!("<{tag}>{}</{tag}>", escape(text)));
    }

    /// A section with its heading: `id` names it for links and for the tests.
    fn open_section(&mut self, id: &str, title: &str) {
        self.raw(&format!(r#"<section id="{id}" data-section="{id}">"#));
        self.element("h2", title);
    }

    /// A chart: its legend and its SVG, named by `id`.
    fn figure(&mut self, id: &str, legend: &[(&str, Color)], svg: &str) {
        if legend.len() > 1 {
            self.raw(r#"<ul class="legend">"#);
            for (name, color) in legend {
                self.raw(&format!(
                    r#"<li><span class="swatch" style="background:{}"></span>{}</li>"#,
                    color.hex(),
                    escape(name)
                ));
            }
            self.raw("</ul>");
        }
        self.raw(&format!(r#"<figure class="chart" data-chart="{id}">"#));
        self.raw(svg);
        self.raw("</figure>");
    }

    fn empty(&mut self, text: &str) {
        self.raw(&format!(r#"<p class="empty">{}</p>"#, escape(text)));
    }

    /// A table: a header row, body rows, and optionally a total row. Cells are text.
    fn table(&mut self, header: &[&str], rows: &[Vec<String>], total: Option<&[String]>) {
        self.raw("<table><thead><tr>");
        for cell in header {
            self.element("th", cell);
        }
        self.raw("</tr></thead><tbody>");
        for row in rows {
            self.row("<tr>", row);
        }
        if let Some(total) = total {
            self.row(r#"<tr class="total">"#, total);
        }
        self.raw("</tbody></table>");
    }

    fn row(&mut self, open: &str, cells: &[String]) {
        self.raw(open);
        for cell in cells {
            self.element("td", cell);
        }
        self.raw("</tr>");
    }

    /// A table folded under a summary line (long monthly tables).
    fn folded_table(
        &mut self,
        summary: &str,
        header: &[&str],
        rows: &[Vec<String>],
        total: Option<&[String]>,
    ) {
        self.raw("<details><summary>");
        self.raw(&escape(summary));
        self.raw("</summary>");
        self.table(header, rows, total);
        self.raw("</details>");
    }

    /// `<p class="note">text</p>`.
    fn note(&mut self, text: &str) {
        self.raw(&format!(r#"<p class="note">{}</p>"#, escape(text)));
    }

    fn close_section(&mut self) {
        self.raw("</section>\n");
    }
}

/// The whole page.
pub(super) fn render(figures: &Figures) -> Result<String> {
    let speech = Speech::new(figures.language, &figures.currency);
    let mut page = Page {
        html: String::with_capacity(256 * 1024),
    };
    head(&mut page, &speech, figures);
    activity::revenue(&mut page, &speech, figures)?;
    activity::customers(&mut page, &speech, figures)?;
    activity::cohorts(&mut page, &speech, figures)?;
    loyalty::tiers(&mut page, &speech, figures)?;
    loyalty::points(&mut page, &speech, figures)?;
    engagement::campaigns(&mut page, &speech, figures)?;
    engagement::complaints(&mut page, &speech, figures)?;
    engagement::top_customers(&mut page, &speech, figures)?;
    page.raw("</main>\n</body>\n</html>\n");
    Ok(page.html)
}

fn head(page: &mut Page, speech: &Speech, figures: &Figures) {
    let words = speech.words;
    page.raw(&format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        words.lang
    ));
    let title = match figures.shop.trim() {
        "" => words.title.to_string(),
        shop => format!("{} — {shop}", words.title),
    };
    page.element("title", &title);
    page.raw(&format!(
        "\n<style>\n{STYLE}</style>\n</head>\n<body>\n<header>"
    ));
    page.element("h1", &title);
    let activity = &figures.activity;
    let branch = figures.branch.as_deref().unwrap_or(words.all_branches);
    page.element(
        "p",
        &format!(
            "{}: {} — {} · {}: {branch} · {}: {}",
            words.period,
            speech.date(activity.from),
            speech.date(activity.to),
            words.branch,
            words.generated,
            speech.date(figures.today)
        ),
    );
    if figures.branch.is_some() {
        page.note(words.group_wide);
    }
    page.raw("</header>\n<main>\n<div class=\"tiles\">");
    let total = &activity.total;
    let tiles = [
        (
            words.revenue,
            speech.money(total.revenue, &figures.currency),
        ),
        (words.visits, speech.count(total.visits)),
        (words.customers, speech.count(total.customers)),
        (
            words.average_check,
            speech.money(total.average_check, &figures.currency),
        ),
        (
            words.liability,
            speech.money(figures.points.liability, &figures.currency),
        ),
    ];
    for (label, value) in tiles {
        page.raw(&format!(
            r#"<div class="tile"><span class="label">{}</span><span class="value">{}</span></div>"#,
            escape(label),
            escape(&value)
        ));
    }
    page.raw("</div>\n");
}
