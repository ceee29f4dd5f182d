//! Sections about bringing customers back and keeping them: the campaigns of the
//! period, complaints by employee, and the customers who bring the most.

use super::{Page, Speech};
use crate::dashboard::chart::{Color, Series, bars, coordinate, palette};
use crate::dashboard::{EMPLOYEES_MAX, Figures};
use crate::error::Result;

pub(super) fn campaigns(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    let currency = figures.currency.as_str();
    page.open_section("campaigns", words.campaigns_title);
    if figures.campaigns.is_empty() {
        page.empty(words.no_data);
        page.close_section();
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
    page.close_section();
    Ok(())
}

pub(super) fn complaints(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    page.open_section("complaints", words.complaints_title);
    let employees: Vec<_> = figures
        .complaints
        .by_employee
        .iter()
        .take(EMPLOYEES_MAX)
        .collect();
    if employees.is_empty() {
        page.empty(words.no_data);
        page.close_section();
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
    page.close_section();
    Ok(())
}

pub(super) fn top_customers(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    let report = &figures.customers;
    let currency = figures.currency.as_str();
    page.open_section("top-customers", words.top_title);
    if report.by_spend.is_empty() {
        page.empty(words.no_data);
        page.close_section();
        return Ok(());
    }
    let names: Vec<String> = report.by_spend.iter().map(|c| c.name.clone()).collect();
    let series = [Series {
        name: words.revenue.to_string(),
        color: palette::BLUE,
        values: report
            .by_spend
            .iter()
            .map(|c| coordinate(c.revenue))
            .collect(),
    }];
    let svg = bars::draw(&bars::Bars {
        categories: &names,
        series: &series,
        value: &|v| speech.axis(v),
    })?;
    page.figure("top-customers", &[], &svg);
    let rows: Vec<Vec<String>> = report
        .by_spend
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                speech.count(c.visits),
                speech.money(c.revenue, currency),
                speech.date(c.last_visit),
            ]
        })
        .collect();
    let header = [
        words.customer,
        words.visits,
        words.revenue,
        words.last_visit,
    ];
    page.table(&header, &rows, None);
    let best: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|m| {
            vec![
                speech.month(&m.month),
                m.best.name.clone(),
                speech.count(m.best.visits),
                speech.money(m.best.revenue, currency),
            ]
        })
        .collect();
    let header = [words.month, words.customer, words.visits, words.revenue];
    page.folded_table(words.best_of_month, &header, &best, None);
    page.note(&format!(
        "{}: {}",
        words.customers_in_period,
        speech.count(report.customers)
    ));
    page.close_section();
    Ok(())
}
