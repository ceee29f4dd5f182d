//! Sections over months of visits: revenue and visits, new against returning customers,
//! and the cohorts' retention.

use super::{Page, Speech};
use crate::dashboard::Figures;
use crate::dashboard::chart::{Color, Series, columns, coordinate, heatmap, palette};
use crate::error::Result;
use crate::report::ActivityRow;

/// Columns of the cohort table (months 0 to 12 after the first visit); the heat map
/// shows them all.
const COHORT_TABLE_MONTHS: usize = 13;

pub(super) fn revenue(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    let (activity, currency) = (&figures.activity, figures.currency.as_str());
    page.open_section("revenue", words.revenue_title);
    if activity.rows.is_empty() {
        page.empty(words.no_data);
        page.close_section();
        return Ok(());
    }
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
    let legend = [(words.revenue, stacks[0].color), (words.visits, line.color)];
    page.figure("revenue", &legend, &svg);
    let row = |month: String, r: &ActivityRow| {
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
    let header = [
        words.month,
        words.revenue,
        words.visits,
        words.average_check,
    ];
    page.folded_table(words.month, &header, &rows, Some(&total));
    page.close_section();
    Ok(())
}

pub(super) fn customers(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    let activity = &figures.activity;
    page.open_section("customers", words.customers_title);
    if activity.rows.is_empty() {
        page.empty(words.no_data);
        page.close_section();
        return Ok(());
    }
    let months: Vec<String> = activity
        .rows
        .iter()
        .map(|r| speech.month(&r.month))
        .collect();
    let count = |f: fn(&ActivityRow) -> u64| activity.rows.iter().map(|r| f(r) as f64).collect();
    let stacks = [
        Series {
            name: words.returning_customers.to_string(),
            color: palette::BLUE,
            values: count(|r| r.returning_customers),
        },
        Series {
            name: words.new_customers.to_string(),
            color: palette::GREEN,
            values: count(|r| r.new_customers),
        },
    ];
    let svg = columns::draw(&columns::Columns {
        categories: &months,
        stacks: &stacks,
        line: None,
        left: &|v| speech.axis(v),
        right: &|v| speech.axis(v),
    })?;
    let legend: Vec<(&str, Color)> = stacks.iter().map(|s| (s.name.as_str(), s.color)).collect();
    page.figure("customers", &legend, &svg);
    let row = |month: String, r: &ActivityRow| {
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
    let header = [
        words.month,
        words.customers,
        words.new_customers,
        words.returning_customers,
        words.returning_share,
    ];
    page.folded_table(words.month, &header, &rows, Some(&total));
    page.close_section();
    Ok(())
}

pub(super) fn cohorts(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    let cohorts = &figures.cohorts.rows;
    page.open_section("cohorts", words.cohorts_title);
    if cohorts.is_empty() {
        page.empty(words.no_data);
        page.close_section();
        return Ok(());
    }
    let labels: Vec<String> = cohorts.iter().map(|c| speech.month(&c.cohort)).collect();
    let cells: Vec<Vec<f64>> = cohorts
        .iter()
        .map(|c| c.percent.iter().map(|p| coordinate(*p)).collect())
        .collect();
    let svg = heatmap::draw(&heatmap::HeatMap {
        rows: &labels,
        cells: &cells,
        column: &|c| c.to_string(),
        cell: &|share| speech.axis(share.round()),
    })?;
    page.figure("cohorts", &[], &svg);
    page.note(words.months_after);
    let shown = cohorts
        .iter()
        .map(|c| c.percent.len())
        .max()
        .unwrap_or(0)
        .min(COHORT_TABLE_MONTHS);
    let offsets: Vec<String> = (0..shown).map(|m| m.to_string()).collect();
    let mut header = vec![words.cohort, words.customers];
    header.extend(offsets.iter().map(String::as_str));
    let rows: Vec<Vec<String>> = labels
        .iter()
        .zip(cohorts)
        .map(|(label, c)| {
            let mut row = vec![label.clone(), speech.count(c.size)];
            row.extend(c.percent.iter().take(shown).map(|p| speech.percent(*p)));
            row
        })
        .collect();
    page.folded_table(words.cohort, &header, &rows, None);
    page.close_section();
    Ok(())
}
