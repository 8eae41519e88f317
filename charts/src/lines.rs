//! Lines with bands: a value per step or per hook point, one line per series, each with an
//! optional interval band; horizontal reference lines (chance) and reference points (the
//! paper's numbers).

use crate::palette::{INK, MUTED, REFERENCE, Role};
use crate::scale::{Axis, Scale, format_value};
use crate::svg::{SvgWriter, caption, dashed_line, heading, mark, num, polyline, value_axis, wrap};
use crate::{Chart, Labels};

/// One point of a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinePoint {
    /// Position along the x axis.
    pub x: f64,
    /// The value.
    pub y: f64,
    /// Its interval, drawn as a band.
    pub band: Option<(f64, f64)>,
}

/// One line.
#[derive(Debug, Clone, PartialEq)]
pub struct LineSeries {
    /// Its name in the legend.
    pub name: String,
    /// Colour, dash and mark.
    pub role: Role,
    /// Points in x order.
    pub points: Vec<LinePoint>,
}

/// How the y values read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YFormat {
    /// Fractions as percentages.
    Percent,
    /// Plain values.
    Value,
}

/// A line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// Id, title and description.
    pub labels: Labels,
    /// The x axis' name, with its unit.
    pub x_label: String,
    /// Tick positions and their labels (hook points, steps).
    pub x_ticks: Vec<(f64, String)>,
    /// The y axis' name, with its unit.
    pub y_label: String,
    /// How y values read.
    pub y_format: YFormat,
    /// The y domain; `None` fits the data.
    pub y_domain: Option<(f64, f64)>,
    /// The lines.
    pub series: Vec<LineSeries>,
    /// Horizontal lines (value, label), dashed.
    pub reference_lines: Vec<(f64, String)>,
    /// Points (x, y, label), black diamonds.
    pub reference_points: Vec<(f64, f64, String)>,
    /// What the diamonds are, for the caption (`None`: the paper's numbers).
    pub points_name: Option<String>,
    /// What the bands are, for the caption (`95% bootstrap interval`).
    pub band_name: Option<String>,
}

impl LineChart {
    /// The SVG.
    pub fn draw(&self) -> Chart {
        let (width, height) = (640u32, 380u32);
        let (left, right, top, bottom) = (70.0, 470.0, 40.0, 290.0);
        let format = |value: f64| match self.y_format {
            YFormat::Percent => format!("{:.0}%", value * 100.0),
            YFormat::Value => format_value(value),
        };
        let y_axis = match self.y_domain {
            Some((low, high)) => Axis::new(Scale::Linear, low, high, bottom, top),
            None => {
                let values = self.series.iter().flat_map(|s| {
                    s.points.iter().flat_map(|p| {
                        [Some(p.y), p.band.map(|b| b.0), p.band.map(|b| b.1)]
                            .into_iter()
                            .flatten()
                    })
                });
                let include: Vec<f64> = self
                    .reference_lines
                    .iter()
                    .map(|(v, _)| *v)
                    .chain(self.reference_points.iter().map(|(_, y, _)| *y))
                    .collect();
                Axis::covering(Scale::Linear, values, &include, bottom, top)
            }
        };
        let xs = self.x_ticks.iter().map(|(x, _)| *x).chain(
            self.series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.x)),
        );
        let (x_low, x_high) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
        let (x_low, x_high) = if x_low.is_finite() {
            (x_low, x_high)
        } else {
            (0.0, 1.0)
        };
        let pad = if x_high > x_low {
            (x_high - x_low) * 0.04
        } else {
            0.5
        };
        let x_axis = Axis::new(Scale::Linear, x_low - pad, x_high + pad, left, right);

        let labels = Labels {
            description: self.full_description(&format),
            ..self.labels.clone()
        };
        let mut writer = SvgWriter::new(width, height, &labels);
        heading(&mut writer, 10.0, &self.labels.title);
        value_axis(&mut writer, &y_axis, left, right, &self.y_label, format);
        for (x, label) in &self.x_ticks {
            let px = x_axis.pixel(*x);
            writer.leaf(
                "line",
                &[
                    ("x1", num(px)),
                    ("x2", num(px)),
                    ("y1", num(bottom)),
                    ("y2", num(bottom + 4.0)),
                    ("stroke", MUTED.to_owned()),
                ],
            );
            writer.text(
                "text",
                &[
                    ("x", num(px)),
                    ("y", num(bottom + 17.0)),
                    ("text-anchor", "middle".to_owned()),
                    ("fill", MUTED.to_owned()),
                ],
                label,
            );
        }
        writer.leaf(
            "line",
            &[
                ("x1", num(left)),
                ("x2", num(right)),
                ("y1", num(bottom)),
                ("y2", num(bottom)),
                ("stroke", MUTED.to_owned()),
            ],
        );
        writer.text(
            "text",
            &[
                ("x", num((left + right) / 2.0)),
                ("y", num(bottom + 34.0)),
                ("text-anchor", "middle".to_owned()),
                ("fill", INK.to_owned()),
            ],
            &self.x_label,
        );

        for (value, label) in &self.reference_lines {
            let y = y_axis.pixel(*value);
            dashed_line(&mut writer, (left, y), (right, y));
            writer.text(
                "text",
                &[
                    ("x", num(right - 4.0)),
                    ("y", num(y - 4.0)),
                    ("text-anchor", "end".to_owned()),
                    ("fill", INK.to_owned()),
                    ("paint-order", "stroke".to_owned()),
                    ("stroke", "#ffffff".to_owned()),
                    ("stroke-width", "3".to_owned()),
                ],
                label,
            );
        }

        // Bands first, then lines on top, so that no band hides a line.
        for series in &self.series {
            let banded: Vec<(f64, (f64, f64))> = series
                .points
                .iter()
                .filter_map(|p| p.band.map(|band| (p.x, band)))
                .collect();
            if banded.len() >= 2 {
                let upper = banded
                    .iter()
                    .map(|(x, (_, hi))| (x_axis.pixel(*x), y_axis.pixel(*hi)));
                let lower = banded
                    .iter()
                    .rev()
                    .map(|(x, (lo, _))| (x_axis.pixel(*x), y_axis.pixel(*lo)));
                let points: Vec<(f64, f64)> = upper.chain(lower).collect();
                writer.leaf(
                    "path",
                    &[
                        ("d", polyline(&points) + " Z"),
                        ("fill", series.role.tint().to_owned()),
                        ("fill-opacity", "0.6".to_owned()),
                        ("stroke", "none".to_owned()),
                        ("data-band", series.name.clone()),
                    ],
                );
            }
        }
        for series in &self.series {
            let points: Vec<(f64, f64)> = series
                .points
                .iter()
                .map(|p| (x_axis.pixel(p.x), y_axis.pixel(p.y)))
                .collect();
            writer.open(
                "g",
                &[
                    ("class", "series".to_owned()),
                    ("data-series", series.name.clone()),
                ],
            );
            let mut attributes = vec![
                ("d", polyline(&points)),
                ("fill", "none".to_owned()),
                ("stroke", series.role.colour().to_owned()),
                ("stroke-width", "2".to_owned()),
            ];
            if !series.role.dash().is_empty() {
                attributes.push(("stroke-dasharray", series.role.dash().to_owned()));
            }
            writer.leaf("path", &attributes);
            for (&(x, y), point) in points.iter().zip(&series.points) {
                mark(
                    &mut writer,
                    series.role,
                    x,
                    y,
                    3.0,
                    &[("data-value", format!("{:.6}", point.y))],
                );
            }
            writer.close();
        }
        for (x, y, label) in &self.reference_points {
            let (px, py) = (x_axis.pixel(*x), y_axis.pixel(*y));
            writer.leaf(
                "polygon",
                &[
                    (
                        "points",
                        format!(
                            "{},{} {},{} {},{} {},{}",
                            num(px),
                            num(py - 6.0),
                            num(px + 5.0),
                            num(py),
                            num(px),
                            num(py + 6.0),
                            num(px - 5.0),
                            num(py)
                        ),
                    ),
                    ("fill", REFERENCE.to_owned()),
                    ("stroke", "#ffffff".to_owned()),
                ],
            );
            // Left of the diamond: the legend sits to the right of the plot.
            writer.text(
                "text",
                &[
                    ("x", num(px - 8.0)),
                    ("y", num(py + 4.0)),
                    ("text-anchor", "end".to_owned()),
                    ("fill", INK.to_owned()),
                    ("paint-order", "stroke".to_owned()),
                    ("stroke", "#ffffff".to_owned()),
                    ("stroke-width", "3".to_owned()),
                ],
                label,
            );
        }

        // Legend on the right: a line sample and mark per series.
        let mut y = top + 6.0;
        for series in &self.series {
            let mut attributes = vec![
                ("x1", num(right + 14.0)),
                ("x2", num(right + 44.0)),
                ("y1", num(y)),
                ("y2", num(y)),
                ("stroke", series.role.colour().to_owned()),
                ("stroke-width", "2".to_owned()),
            ];
            if !series.role.dash().is_empty() {
                attributes.push(("stroke-dasharray", series.role.dash().to_owned()));
            }
            writer.leaf("line", &attributes);
            mark(&mut writer, series.role, right + 29.0, y, 3.0, &[]);
            for (index, line) in wrap(&series.name, 18).iter().enumerate() {
                writer.label(right + 50.0, y + 4.0 + 14.0 * index as f64, "start", line);
            }
            y += 14.0 * wrap(&series.name, 18).len().max(1) as f64 + 8.0;
        }

        let mut note = String::new();
        if let Some(band) = &self.band_name {
            note.push_str(&format!("Bands: {band}. "));
        }
        if !self.reference_points.is_empty() {
            let name = self.points_name.as_deref().unwrap_or("the paper's numbers");
            note.push_str(&format!("Black diamonds: {name}. "));
        }
        if !self.reference_lines.is_empty() {
            note.push_str("Dashed: reference lines as labelled.");
        }
        caption(&mut writer, 10.0, bottom + 56.0, &wrap(note.trim(), 100));
        writer.finish(width, height, &self.labels.title)
    }

    fn full_description(&self, format: &dyn Fn(f64) -> String) -> String {
        let mut text = self.labels.description.clone();
        let tick_name = |x: f64| {
            self.x_ticks
                .iter()
                .find(|(tick, _)| (*tick - x).abs() < 1e-9)
                .map(|(_, label)| label.clone())
                .unwrap_or_else(|| format_value(x))
        };
        for series in &self.series {
            let values: Vec<String> = series
                .points
                .iter()
                .map(|p| format!("{} {}", tick_name(p.x), format(p.y)))
                .collect();
            text.push_str(&format!(" {}: {}.", series.name, values.join(", ")));
        }
        text
    }
}
