//! Columns over months: one or more series stacked in each month's column, and
//! optionally one series as a line against an axis of its own on the right (revenue in
//! columns, visits as a line).

use super::{
    HEIGHT, LINE_WIDTH, Series, WIDTH, X_LABELS_MAX, failed, grid, label_font, short, slots, top_of,
};
use crate::error::{Error, Result};
use plotters::prelude::*;

/// Margin around the plot, in pixels.
const MARGIN: u32 = 12;
/// Height of the month labels' area.
const X_AXIS: u32 = 34;
/// Width of each value axis' labels.
const Y_AXIS: u32 = 96;
/// Space between two columns, in pixels (each side).
const GAP: u32 = 3;
/// Radius of a line's points.
const POINT_RADIUS: u32 = 4;

/// What a column chart shows.
pub(in crate::dashboard) struct Columns<'a> {
    /// One label per column (months), left to right.
    pub categories: &'a [String],
    /// Stacked in each column, the first at the bottom.
    pub stacks: &'a [Series],
    /// Drawn as a line against the right-hand axis.
    pub line: Option<&'a Series>,
    /// The left axis' values as text.
    pub left: &'a dyn Fn(f64) -> String,
    /// The right axis' values as text.
    pub right: &'a dyn Fn(f64) -> String,
}

/// A column's rectangle in month coordinates.
type Column = Rectangle<(SegmentValue<usize>, f64)>;

/// Each series' rectangles, stacked on the ones before it (none for a zero).
fn stacked(stacks: &[Series], n: usize) -> Vec<Vec<Column>> {
    let mut base = vec![0.0; n];
    let mut all = Vec::with_capacity(stacks.len());
    for series in stacks {
        let mut rectangles = Vec::with_capacity(n);
        for (i, bottom) in base.iter_mut().enumerate() {
            let top = *bottom + series.value(i);
            if top <= *bottom {
                continue;
            }
            let corners = [
                (SegmentValue::Exact(i), *bottom),
                (SegmentValue::Exact(i + 1), top),
            ];
            let mut rectangle = Rectangle::new(corners, series.color.rgb().filled());
            rectangle.set_margin(0, 0, GAP, GAP);
            rectangles.push(rectangle);
            *bottom = top;
        }
        all.push(rectangles);
    }
    all
}

/// The chart as one `<svg>` element.
pub(in crate::dashboard) fn draw(columns: &Columns<'_>) -> Result<String> {
    let n = columns.categories.len();
    if n == 0 {
        return Err(Error::internal("a column chart needs at least one column"));
    }
    let heights = (0..n).map(|i| columns.stacks.iter().map(|s| s.value(i)).sum::<f64>());
    let left_top = top_of(heights);
    let right_top = top_of(columns.line.map(|l| l.values.clone()).unwrap_or_default());
    let label = |value: &SegmentValue<usize>| match value {
        SegmentValue::CenterOf(i) => columns.categories.get(*i).map(|c| short(c)),
        _ => None,
    };
    let axis = || (0..slots(n) - 1).into_segmented();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let right_axis = if columns.line.is_some() { Y_AXIS } else { 0 };
        let mut chart = ChartBuilder::on(&root)
            .margin(MARGIN)
            .x_label_area_size(X_AXIS)
            .y_label_area_size(Y_AXIS)
            .right_y_label_area_size(right_axis)
            .build_cartesian_2d(axis(), 0f64..left_top)
            .map_err(failed)?
            .set_secondary_coord(axis(), 0f64..right_top);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n.min(X_LABELS_MAX))
            .x_label_formatter(&|v| label(v).unwrap_or_default())
            .y_label_formatter(&|v| (columns.left)(*v))
            .label_style(label_font())
            .light_line_style(TRANSPARENT)
            .bold_line_style(grid())
            .draw()
            .map_err(failed)?;
        for rectangles in stacked(columns.stacks, n) {
            chart.draw_series(rectangles).map_err(failed)?;
        }
        if let Some(line) = columns.line {
            chart
                .configure_secondary_axes()
                .y_label_formatter(&|v| (columns.right)(*v))
                .label_style(label_font())
                .draw()
                .map_err(failed)?;
            let points: Vec<_> = (0..n)
                .map(|i| (SegmentValue::CenterOf(i), line.value(i)))
                .collect();
            let style = line.color.rgb().stroke_width(LINE_WIDTH);
            chart
                .draw_secondary_series(LineSeries::new(points.clone(), style))
                .map_err(failed)?;
            chart
                .draw_secondary_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, POINT_RADIUS, line.color.rgb().filled())),
                )
                .map_err(failed)?;
        }
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::chart::palette;

    #[test]
    fn one_month_stacks_its_series_and_draws_its_line_point() {
        let months = ["янв 2025".to_string()];
        let stacks = [
            Series {
                name: "a".into(),
                color: palette::BLUE,
                values: vec![10.0],
            },
            Series {
                name: "b".into(),
                color: palette::GREEN,
                values: vec![5.0],
            },
        ];
        let line = Series {
            name: "c".into(),
            color: palette::ORANGE,
            values: vec![7.0],
        };
        let svg = draw(&Columns {
            categories: &months,
            stacks: &stacks,
            line: Some(&line),
            left: &|v| format!("{v}"),
            right: &|v| format!("{v}"),
        })
        .unwrap();
        assert!(!svg.contains("height=\"-"), "{svg}");
        let rect = |fill: &str| {
            let at = svg.find(&format!("fill=\"{fill}\"")).unwrap();
            let tag = &svg[svg[..at].rfind("<rect").unwrap()..at];
            let attr = |name: &str| {
                let start = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
                tag[start..]
                    .split('"')
                    .next()
                    .unwrap()
                    .parse::<i32>()
                    .unwrap()
            };
            (attr("y"), attr("height"))
        };
        let (blue_y, blue_height) = rect("#2E6DB4");
        let (green_y, green_height) = rect("#2F9E6E");
        // 10 below, 5 stacked on it: the green one ends where the blue one starts, and
        // is half as tall (to a pixel of rounding).
        assert!((green_y + green_height - blue_y).abs() <= 1);
        assert!(
            (blue_height - 2 * green_height).abs() <= 2,
            "{blue_height} {green_height}"
        );
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(svg.contains("янв 2025"));
    }
}
