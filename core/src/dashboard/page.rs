//! The HTML around the charts: a header with the period and the key figures, one
//! section per question, each with its chart, a legend and the exact figures in a
//! table. Every text that comes from the store (names of the shop, employees,
//! campaigns) is escaped here; the SVG comes from plotters, which escapes its own text.

use super::Figures;
use super::chart::{Color, Series, bars, columns, coordinate, palette};
use super::words::Speech;
use crate::error::Result;
use rust_decimal::Decimal;

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
struct Page {
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
}

/// The whole page.
pub(super) fn render(figures: &Figures) -> Result<String> {
    let speech = Speech::new(figures.language, &figures.currency);
    let mut page = Page {
        html: String::with_capacity(256 * 1024),
    };
    head(&mut page, &speech, figures);
    revenue(&mut page, &speech, figures)?;
    customers(&mut page, &speech, figures)?;
    points(&mut page, &speech, figures)?;
    campaigns(&mut page, &speech, figures)?;
    complaints(&mut page, &speech, figures)?;
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
        page.raw(r#"<p class="note">"#);
        page.raw(&escape(words.group_wide));
        page.raw("</p>");
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

fn revenue(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    let (activity, currency) = (&figures.activity, figures.currency.as_str());
    page.open_section("revenue", words.revenue_title);
    if activity.rows.is_empty() {
        page.empty(words.no_data);
    } else {
        let months: Vec<String> = activity
            .rows
            .iter()
            .map(|r| speech.month(&r.month))
            .collect();
        let stacks = [Series {
            name: words.revenue.to_string(),
            color: palette::BLUE,
            values: activity
                .rows
                .iter()
                .map(|r| coordinate(r.revenue))
                .collect(),
        }];
        let line = Series {
            name: words.visits.to_string(),
            color: palette::ORANGE,
            values: activity.rows.iter().map(|r| r.visits as f64).collect(),
        };
        let svg = columns::draw(&columns::Columns {
            categories: &months,
            stacks: &stacks,
            line: Some(&line),
            left: &|v| speech.axis(v),
            right: &|v| speech.axis(v),
        })?;
        page.figure(
            "revenue",
            &[(&stacks[0].name, stacks[0].color), (&line.name, line.color)],
            &svg,
        );
        let row = |month: String, r: &crate::report::ActivityRow| {
            vec![
                month,
                speech.money(r.revenue, currency),
                speech.count(r.visits),
                speech.money(r.average_check, currency),
            ]
        };
        let rows: Vec<Vec<String>> = months
            .iter()
            .zip(&activity.rows)
            .map(|(m, r)| row(m.clone(), r))
            .collect();
        let total = row(words.total.to_string(), &activity.total);
        page.raw("<details><summary>");
        page.raw(&escape(words.month));
        page.raw("</summary>");
        let header = [
            words.month,
            words.revenue,
            words.visits,
            words.average_check,
        ];
        page.table(&header, &rows, Some(&total));
        page.raw("</details>");
    }
    page.raw("</section>\n");
    Ok(())
}

fn customers(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    let activity = &figures.activity;
    page.open_section("customers", words.customers_title);
    if activity.rows.is_empty() {
        page.empty(words.no_data);
    } else {
        let months: Vec<String> = activity
            .rows
            .iter()
            .map(|r| speech.month(&r.month))
            .collect();
        let stacks = [
            Series {
                name: words.returning_customers.to_string(),
                color: palette::BLUE,
                values: activity
                    .rows
                    .iter()
                    .map(|r| r.returning_customers as f64)
                    .collect(),
            },
            Series {
                name: words.new_customers.to_string(),
                color: palette::GREEN,
                values: activity
                    .rows
                    .iter()
                    .map(|r| r.new_customers as f64)
                    .collect(),
            },
        ];
        let svg = columns::draw(&columns::Columns {
            categories: &months,
            stacks: &stacks,
            line: None,
            left: &|v| speech.axis(v),
            right: &|v| speech.axis(v),
        })?;
        let legend: Vec<(&str, Color)> =
            stacks.iter().map(|s| (s.name.as_str(), s.color)).collect();
        page.figure("customers", &legend, &svg);
        let row = |month: String, r: &crate::report::ActivityRow| {
            vec![
                month,
                speech.count(r.customers),
                speech.count(r.new_customers),
                speech.count(r.returning_customers),
                speech.percent(r.returning_share),
            ]
        };
        let rows: Vec<Vec<String>> = months
            .iter()
            .zip(&activity.rows)
            .map(|(m, r)| row(m.clone(), r))
            .collect();
        let total = row(words.total.to_string(), &activity.total);
        page.raw("<details><summary>");
        page.raw(&escape(words.month));
        page.raw("</summary>");
        let header = [
            words.month,
            words.customers,
            words.new_customers,
            words.returning_customers,
            words.returning_share,
        ];
        page.table(&header, &rows, Some(&total));
        page.raw("</details>");
    }
    page.raw("</section>\n");
    Ok(())
}

fn points(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    let points = &figures.points;
    page.open_section("points", words.points_title);
    let kinds: [(&str, Decimal); 4] = [
        (words.issued, points.issued),
        (words.redeemed, points.redeemed),
        (words.expired, points.expired),
        (words.outstanding, points.outstanding),
    ];
    if kinds.iter().all(|(_, v)| v.is_zero()) {
        page.empty(words.no_data);
    } else {
        let categories: Vec<String> = kinds.iter().map(|(k, _)| k.to_string()).collect();
        let series = [Series {
            name: words.issued.to_string(),
            color: palette::BLUE,
            values: kinds.iter().map(|(_, v)| coordinate(*v)).collect(),
        }];
        let svg = bars::draw(&bars::Bars {
            categories: &categories,
            series: &series,
            value: &|v| speech.axis(v),
        })?;
        page.figure("points", &[], &svg);
    }
    let mut rows: Vec<Vec<String>> = kinds
        .iter()
        .map(|(k, v)| vec![k.to_string(), speech.number(*v)])
        .collect();
    rows.push(vec![
        words.accounts_with_balance.to_string(),
        speech.count(points.accounts_with_balance),
    ]);
    rows.push(vec![
        words.liability.to_string(),
        speech.money(points.liability, &figures.currency),
    ]);
    page.table(&["", ""], &rows, None);
    page.raw("</section>\n");
    Ok(())
}

fn campaigns(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    let currency = figures.currency.as_str();
    page.open_section("campaigns", words.campaigns_title);
    if figures.campaigns.is_empty() {
        page.empty(words.no_data);
        page.raw("</section>\n");
        return Ok(());
    }
    let names: Vec<String> = figures
        .campaigns
        .iter()
        .map(|r| r.campaign.name.clone())
        .collect();
    let series = [
        Series {
            name: words.notified.to_string(),
            color: palette::GREY,
            values: figures
                .campaigns
                .iter()
                .map(|r| r.notified as f64)
                .collect(),
        },
        Series {
            name: words.came.to_string(),
            color: palette::GREEN,
            values: figures.campaigns.iter().map(|r| r.came as f64).collect(),
        },
    ];
    let svg = bars::draw(&bars::Bars {
        categories: &names,
        series: &series,
        value: &|v| speech.axis(v),
    })?;
    let legend: Vec<(&str, Color)> = series.iter().map(|s| (s.name.as_str(), s.color)).collect();
    page.figure("campaigns", &legend, &svg);
    let rows: Vec<Vec<String>> = figures
        .campaigns
        .iter()
        .map(|r| {
            vec![
                r.campaign.name.clone(),
                speech.count(r.notified),
                speech.count(r.came),
                speech.percent(r.conversion),
                speech.money(r.revenue, currency),
                speech.money(r.budget, currency),
                r.cost_per_customer
                    .map(|c| speech.money(c, currency))
                    .unwrap_or_else(|| "—".to_string()),
            ]
        })
        .collect();
    let header = [
        words.campaign,
        words.notified,
        words.came,
        words.conversion,
        words.revenue,
        words.budget,
        words.cost_per_customer,
    ];
    page.table(&header, &rows, None);
    page.raw("</section>\n");
    Ok(())
}

fn complaints(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    page.open_section("complaints", words.complaints_title);
    let employees: Vec<_> = figures
        .complaints
        .by_employee
        .iter()
        .take(super::EMPLOYEES_MAX)
        .collect();
    if employees.is_empty() {
        page.empty(words.no_data);
        page.raw("</section>\n");
        return Ok(());
    }
    let names: Vec<String> = employees
        .iter()
        .map(|e| {
            e.employee
                .clone()
                .unwrap_or_else(|| words.employee_unnamed.to_string())
        })
        .collect();
    let series = [
        Series {
            name: words.complaints.to_string(),
            color: palette::RED,
            values: employees.iter().map(|e| e.complaints as f64).collect(),
        },
        Series {
            name: words.feedback.to_string(),
            color: palette::GREY,
            values: employees.iter().map(|e| e.feedback as f64).collect(),
        },
    ];
    let svg = bars::draw(&bars::Bars {
        categories: &names,
        series: &series,
        value: &|v| speech.axis(v),
    })?;
    let legend: Vec<(&str, Color)> = series.iter().map(|s| (s.name.as_str(), s.color)).collect();
    page.figure("complaints", &legend, &svg);
    let rows: Vec<Vec<String>> = names
        .iter()
        .zip(&employees)
        .map(|(name, e)| {
            vec![
                name.clone(),
                speech.count(e.complaints),
                speech.count(e.feedback),
                e.average_rating
                    .map(|r| speech.number(r))
                    .unwrap_or_else(|| "—".to_string()),
            ]
        })
        .collect();
    let header = [
        words.employee,
        words.complaints,
        words.feedback,
        words.average_rating,
    ];
    page.table(&header, &rows, None);
    page.raw("</section>\n");
    Ok(())
}
