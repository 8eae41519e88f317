//! Violin plots: per-model scores of two or more groups (aligned vs faker).
//!
//! Each group's shape is a Gaussian kernel density with Silverman's rule-of-thumb bandwidth,
//! computed on the axis' own scale (so a log or symmetric-log violin is the density of the
//! transformed scores) and cut two bandwidths beyond the data. Every violin is scaled to the same
//! largest width. A box marks the quartiles, a white bar the median, and every model is one mark,
//! jittered sideways within its group's density by a seeded generator.

use crate::palette::{INK, MUTED, Role};
use crate::scale::{Axis, Scale, format_value};
use crate::stats::{Jitter, gaussian_kde, silverman_bandwidth, summary};
use crate::svg::{
    SvgWriter, area_fill, caption, dashed_line, hatch_defs, heading, mark, num, value_axis, wrap,
};
use crate::{Chart, Labels};

/// One violin.
#[derive(Debug, Clone, PartialEq)]
pub struct ViolinGroup {
    /// Its name under the violin (`aligned`, `faker`, a family).
    pub label: String,
    /// Colour, mark and fill.
    pub role: Role,
    /// One value per model.
    pub values: Vec<f64>,
}

/// A value to point out on a violin (a live pair's two models).
#[derive(Debug, Clone, PartialEq)]
pub struct Highlight {
    /// Index into the groups.
    pub group: usize,
    /// The value.
    pub value: f64,
    /// Its label beside the mark.
    pub label: String,
}

/// A violin chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ViolinChart {
    /// Id, title and description.
    pub labels: Labels,
    /// The value axis' name, with its unit.
    pub value_label: String,
    /// The violins, left to right.
    pub groups: Vec<ViolinGroup>,
    /// The value axis.
    pub scale: Scale,
    /// Seed of the sideways jitter of the marks.
    pub jitter_seed: u64,
    /// Values to point out.
    pub highlights: Vec<Highlight>,
    /// A line across the plot, with its label (a decision threshold, zero).
    pub reference: Option<(f64, String)>,
}

/// Bandwidths beyond the data where a violin's outline stops.
const CUT: f64 = 2.0;
/// Points on each violin's outline.
const GRID_POINTS: usize = 80;

impl ViolinChart {
    /// The SVG.
    pub fn draw(&self) -> Chart {
        let (width, height) = (640u32, 400u32);
        let (left, right, top, bottom) = (78.0, f64::from(width) - 20.0, 40.0, 300.0);
        let all_values = self
            .groups
            .iter()
            .flat_map(|group| group.values.iter().copied())
            .chain(self.highlights.iter().map(|h| h.value));
        let include: Vec<f64> = self.reference.iter().map(|(value, _)| *value).collect();
        let axis = Axis::covering(self.scale, all_values, &include, bottom, top);
        let description = self.full_description();
        let labels = Labels {
            description,
            ..self.labels.clone()
        };
        let mut writer = SvgWriter::new(width, height, &labels);
        let id = &self.labels.id;
        hatch_defs(&mut writer, id);
        heading(&mut writer, 10.0, &self.labels.title);
        value_axis(
            &mut writer,
            &axis,
            left,
            right,
            &self.value_label,
            format_value,
        );

        if let Some((value, label)) = &self.reference {
            let y = axis.pixel(*value);
            dashed_line(&mut writer, (left, y), (right, y));
            writer.text(
                "text",
                &[
                    ("x", num(right - 4.0)),
                    ("y", num(y - 4.0)),
                    ("text-anchor", "end".to_owned()),
                    ("fill", INK.to_owned()),
                ],
                label,
            );
        }

        let slots = self.groups.len().max(1) as f64;
        let slot_width = (right - left) / slots;
        let half_width = (slot_width * 0.38).min(90.0);
        let mut jitter = Jitter::new(self.jitter_seed);
        let mut bandwidths = Vec::new();
        for (index, group) in self.groups.iter().enumerate() {
            let centre = left + slot_width * (index as f64 + 0.5);
            let transformed: Vec<f64> = group
                .values
                .iter()
                .filter(|v| v.is_finite())
                .map(|&v| self.scale.transform(v))
                .collect();
            let bandwidth = silverman_bandwidth(&transformed);
            bandwidths.push(bandwidth);
            writer.open(
                "g",
                &[
                    ("class", "violin".to_owned()),
                    ("data-group", group.label.clone()),
                    ("data-n", transformed.len().to_string()),
                ],
            );
            // The outline, where there is spread to estimate a density from.
            let outline = bandwidth.map(|h| density_outline(&transformed, h, &axis));
            if let Some(outline) = &outline {
                let path = outline_path(outline, centre, half_width, &axis);
                writer.leaf(
                    "path",
                    &[
                        ("d", path),
                        ("fill", area_fill(group.role, id)),
                        ("stroke", group.role.colour().to_owned()),
                        ("stroke-width", "1.5".to_owned()),
                    ],
                );
            }
            if let Some(stats) = summary(&transformed) {
                let (q1, q3) = (
                    axis.pixel_of_transformed(stats.q1),
                    axis.pixel_of_transformed(stats.q3),
                );
                writer.leaf(
                    "rect",
                    &[
                        ("x", num(centre - 4.0)),
                        ("y", num(q3.min(q1))),
                        ("width", "8".to_owned()),
                        ("height", num((q1 - q3).abs().max(1.0))),
                        ("fill", INK.to_owned()),
                    ],
                );
                let median = axis.pixel_of_transformed(stats.median);
                writer.leaf(
                    "rect",
                    &[
                        ("x", num(centre - 7.0)),
                        ("y", num(median - 1.5)),
                        ("width", "14".to_owned()),
                        ("height", "3".to_owned()),
                        ("fill", "#ffffff".to_owned()),
                        ("stroke", INK.to_owned()),
                        ("stroke-width", "0.75".to_owned()),
                    ],
                );
            }
            // Every model, jittered within the density at its height (a "sina" layout).
            for (&value, &t) in group
                .values
                .iter()
                .filter(|v| v.is_finite())
                .zip(&transformed)
            {
                let spread = match (&outline, bandwidth) {
                    (Some(outline), Some(_)) => width_at(outline, t),
                    _ => 0.3,
                };
                let x = centre + jitter.next_signed() * spread * half_width * 0.8;
                let y = axis.pixel_of_transformed(t);
                mark(
                    &mut writer,
                    group.role,
                    x,
                    y,
                    3.0,
                    &[
                        ("fill-opacity", "0.85".to_owned()),
                        ("stroke", "#ffffff".to_owned()),
                        ("stroke-width", "0.6".to_owned()),
                        ("data-value", format_value(value)),
                    ],
                );
            }
            writer.close();
            // The group's name and count.
            writer.text(
                "text",
                &[
                    ("x", num(centre)),
                    ("y", num(bottom + 18.0)),
                    ("text-anchor", "middle".to_owned()),
                    ("font-weight", "600".to_owned()),
                    ("fill", group.role.colour().to_owned()),
                ],
                &group.label,
            );
            writer.text(
                "text",
                &[
                    ("x", num(centre)),
                    ("y", num(bottom + 32.0)),
                    ("text-anchor", "middle".to_owned()),
                    ("fill", MUTED.to_owned()),
                ],
                &format!("n = {}", transformed.len()),
            );
        }

        for highlight in &self.highlights {
            let Some(group) = self.groups.get(highlight.group) else {
                continue;
            };
            let centre = left + slot_width * (highlight.group as f64 + 0.5);
            let y = axis.pixel(highlight.value);
            writer.leaf(
                "circle",
                &[
                    ("cx", num(centre)),
                    ("cy", num(y)),
                    ("r", "7".to_owned()),
                    ("fill", "none".to_owned()),
                    ("stroke", INK.to_owned()),
                    ("stroke-width", "2".to_owned()),
                ],
            );
            mark(&mut writer, group.role, centre, y, 3.5, &[]);
            writer.text(
                "text",
                &[
                    ("x", num(centre + 11.0)),
                    ("y", num(y + 4.0)),
                    ("fill", INK.to_owned()),
                    ("font-weight", "600".to_owned()),
                ],
                &highlight.label,
            );
        }

        let bandwidth_words: Vec<String> = self
            .groups
            .iter()
            .zip(&bandwidths)
            .map(|(group, bandwidth)| match bandwidth {
                Some(h) => format!("{} {}", group.label, format_value(*h)),
                None => format!("{} none (no spread)", group.label),
            })
            .collect();
        let note = format!(
            "Shape: Gaussian kernel density, Silverman's rule-of-thumb bandwidth on the {} \
             (bandwidth {}); box: quartiles; white bar: median; one mark per model, jittered sideways \
             (seed {}).",
            self.scale.describe(),
            bandwidth_words.join(", "),
            self.jitter_seed
        );
        caption(&mut writer, 10.0, bottom + 56.0, &wrap(&note, 100));
        writer.finish(width, height, &self.labels.title)
    }

    /// The description with each group's count, median and quartiles in words.
    fn full_description(&self) -> String {
        let mut text = self.labels.description.clone();
        for group in &self.groups {
            match summary(&group.values) {
                Some(stats) => text.push_str(&format!(
                    " {}: {} models, median {}, quartiles {} to {}, range {} to {}.",
                    group.label,
                    stats.n,
                    format_value(stats.median),
                    format_value(stats.q1),
                    format_value(stats.q3),
                    format_value(stats.min),
                    format_value(stats.max)
                )),
                None => text.push_str(&format!(" {}: no values.", group.label)),
            }
        }
        text
    }
}

/// (transformed value, density / largest density) along the violin, cut `CUT` bandwidths past
/// the data and clipped to the axis.
fn density_outline(transformed: &[f64], bandwidth: f64, axis: &Axis) -> Vec<(f64, f64)> {
    let low = transformed.iter().copied().fold(f64::INFINITY, f64::min) - CUT * bandwidth;
    let high = transformed
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
        + CUT * bandwidth;
    let (domain_low, domain_high) = axis.transformed_domain();
    let (low, high) = (low.max(domain_low), high.min(domain_high));
    let grid: Vec<f64> = (0..GRID_POINTS)
        .map(|i| low + (high - low) * i as f64 / (GRID_POINTS - 1) as f64)
        .collect();
    let density = gaussian_kde(transformed, bandwidth, &grid);
    let largest = density.iter().copied().fold(0.0, f64::max);
    grid.into_iter()
        .zip(density)
        .map(|(t, d)| (t, if largest > 0.0 { d / largest } else { 0.0 }))
        .collect()
}

/// The relative width of the outline at `t` (linear between grid points).
fn width_at(outline: &[(f64, f64)], t: f64) -> f64 {
    for pair in outline.windows(2) {
        let ((t0, w0), (t1, w1)) = (pair[0], pair[1]);
        if t >= t0 && t <= t1 {
            let f = if t1 > t0 { (t - t0) / (t1 - t0) } else { 0.0 };
            return w0 + (w1 - w0) * f;
        }
    }
    0.0
}

/// A closed path: down the right side, back up the left.
fn outline_path(outline: &[(f64, f64)], centre: f64, half_width: f64, axis: &Axis) -> String {
    let right = outline
        .iter()
        .map(|&(t, w)| (centre + w * half_width, axis.pixel_of_transformed(t)));
    let left = outline
        .iter()
        .rev()
        .map(|&(t, w)| (centre - w * half_width, axis.pixel_of_transformed(t)));
    let points: Vec<(f64, f64)> = right.chain(left).collect();
    crate::svg::polyline(&points) + " Z"
}
