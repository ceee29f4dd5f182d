//! Horizontal bars: one row per category (an employee, a campaign, a kind of points),
//! the first at the top, with the series side by side in each row (complaints beside
//! all feedback, customers who came beside those notified).

use super::{Series, WIDTH, failed, grid, label_font, left_label_font, short, slots, top_of};
use crate::error::{Error, Result};
use plotters::prelude::*;

/// Margin around the plot, in pixels.
const MARGIN: u32 = 12;
/// Width of the category labels' area.
const Y_AXIS: u32 = 230;
/// Height of the value labels' area.
const X_AXIS: u32 = 30;
/// Thickness of one bar, in pixels.
const BAR: u32 = 14;
/// Space between two rows, in pixels.
const ROW_GAP: u32 = 12;
/// Lowest chart height.
const HEIGHT_MIN: u32 = 140;

/// What a bar chart shows.
pub(in crate::dashboard) struct Bars<'a> {
    /// One label per row, top to bottom.
    pub categories: &'a [String],
    /// Side by side in each row, the first on top.
    pub series: &'a [Series],
    /// The value axis' values as text.
    pub value: &'a dyn Fn(f64) -> String,
}

/// One series' bars, row i in segment `top - i`, inset by `(top, bottom)` pixels within
/// its row (none for a zero).
fn row_bars(
    series: &Series,
    top: usize,
    (top_margin, bottom_margin): (u32, u32),
) -> Vec<Rectangle<(f64, SegmentValue<usize>)>> {
    let mut rectangles = Vec::with_capacity(series.values.len());
    for (i, value) in series.values.iter().enumerate().take(top + 1) {
        if *value <= 0.0 {
            continue;
        }
        let segment = top - i;
        let corners = [
            (0.0, SegmentValue::Exact(segment)),
            (*value, SegmentValue::Exact(segment + 1)),
        ];
        let mut rectangle = Rectangle::new(corners, series.color.rgb().filled());
        rectangle.set_margin(top_margin, bottom_margin, 0, 0);
        rectangles.push(rectangle);
    }
    rectangles
}

/// The chart as one `<svg>` element.
pub(in crate::dashboard) fn draw(bars: &Bars<'_>) -> Result<String> {
    let n = bars.categories.len();
    if n == 0 || bars.series.is_empty() {
        return Err(Error::internal("a bar chart needs a row and a series"));
    }
    let per_series = u32::try_from(bars.series.len()).unwrap_or(u32::MAX);
    let row = per_series.saturating_mul(BAR).saturating_add(ROW_GAP);
    let rows = u32::try_from(n).unwrap_or(u32::MAX);
    let height = rows
        .saturating_mul(row)
        .saturating_add(2 * MARGIN + X_AXIS)
        .max(HEIGHT_MIN);
    let values = bars.series.iter().flat_map(|s| s.values.iter().copied());
    let right = top_of(values);
    // Row i is drawn in segment top - i, so that the first row is at the top (a single
    // row has an empty slot below it).
    let top = slots(n) - 1;
    let label = |value: &SegmentValue<usize>| match value {
        SegmentValue::CenterOf(segment) => bars
            .categories
            .get(top.checked_sub(*segment)?)
            .map(|c| short(c)),
        _ => None,
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(MARGIN)
            .x_label_area_size(X_AXIS)
            .y_label_area_size(Y_AXIS)
            .build_cartesian_2d(0f64..right, (0..top).into_segmented())
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(top + 1)
            .y_label_formatter(&|v| label(v).unwrap_or_default())
            .y_label_style(left_label_font())
            .x_label_formatter(&|v| (bars.value)(*v))
            .x_label_style(label_font())
            .light_line_style(TRANSPARENT)
            .bold_line_style(grid())
            .draw()
            .map_err(failed)?;
        let segments = u32::try_from(top + 1).unwrap_or(u32::MAX);
        let slot = chart.plotting_area().dim_in_pixel().1 / segments;
        let thickness = slot.saturating_sub(ROW_GAP) / per_series.max(1);
        let pad = slot.saturating_sub(thickness * per_series) / 2;
        for (k, series) in (0u32..).zip(bars.series) {
            let top_margin = pad + k * thickness;
            let bottom_margin = slot.saturating_sub(top_margin + thickness);
            let rectangles = row_bars(series, top, (top_margin, bottom_margin));
            chart.draw_series(rectangles).map_err(failed)?;
        }
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::chart::palette;

    fn draw_rows(categories: &[&str], values: &[f64]) -> String {
        let categories: Vec<String> = categories.iter().map(|c| c.to_string()).collect();
        let series = [Series {
            name: "a".into(),
            color: palette::RED,
            values: values.to_vec(),
        }];
        draw(&Bars {
            categories: &categories,
            series: &series,
            value: &|v| format!("{v}"),
        })
        .unwrap()
    }

    #[test]
    fn one_row_is_drawn_with_a_real_height_and_its_label() {
        let svg = draw_rows(&["Кравцов Д."], &[3.0]);
        assert!(!svg.contains("height=\"-"), "{svg}");
        assert_eq!(svg.matches("fill=\"#C83E3E\"").count(), 1);
        assert!(svg.contains("Кравцов Д."));
    }

    #[test]
    fn rows_run_top_down_and_zero_draws_no_bar() {
        let svg = draw_rows(&["первый", "второй", "третий"], &[1.0, 0.0, 2.0]);
        assert_eq!(svg.matches("fill=\"#C83E3E\"").count(), 2);
        let y = |label: &str| {
            let at = svg.find(label).unwrap();
            let tag = svg[..at].rfind("<text").unwrap();
            let y = &svg[tag..at];
            let start = y.find(" y=\"").unwrap() + 4;
            y[start..]
                .split('"')
                .next()
                .unwrap()
                .parse::<i32>()
                .unwrap()
        };
        assert!(y("первый") < y("второй") && y("второй") < y("третий"));
    }
}
