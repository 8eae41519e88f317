//! Value axes: linear, logarithmic and symmetric-log, with ticks and tick labels.

/// How values map onto an axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// Evenly spaced values.
    Linear,
    /// Decades evenly spaced; only positive values (others are clamped to the axis' start).
    Log,
    /// `sign(v) · log10(1 + |v| / linear_width)`: linear near zero, logarithmic beyond, for
    /// scores that span decades and may be zero or negative.
    SymLog {
        /// Values within ± this stay close to linear.
        linear_width: f64,
    },
}

impl Scale {
    /// The value in the scale's own units (what is spaced evenly on screen).
    pub fn transform(self, value: f64) -> f64 {
        match self {
            Scale::Linear => value,
            Scale::Log => value.max(f64::MIN_POSITIVE).log10(),
            Scale::SymLog { linear_width } => {
                value.signum() * (1.0 + value.abs() / linear_width).log10()
            }
        }
    }

    /// The inverse of [`Scale::transform`].
    pub fn inverse(self, transformed: f64) -> f64 {
        match self {
            Scale::Linear => transformed,
            Scale::Log => 10f64.powf(transformed),
            Scale::SymLog { linear_width } => {
                transformed.signum() * (10f64.powf(transformed.abs()) - 1.0) * linear_width
            }
        }
    }

    /// The scale a set of values reads best on: linear unless they span more than three
    /// decades; then logarithmic if all are positive, else symmetric-log with its linear part as
    /// wide as the power of ten at or below the 10th percentile of the non-zero magnitudes.
    pub fn suggest(values: &[f64]) -> Scale {
        let mut magnitudes: Vec<f64> = values
            .iter()
            .filter(|v| v.is_finite() && **v != 0.0)
            .map(|v| v.abs())
            .collect();
        magnitudes.sort_by(f64::total_cmp);
        let (Some(&smallest), Some(&largest)) = (magnitudes.first(), magnitudes.last()) else {
            return Scale::Linear;
        };
        let low = crate::stats::quantile(&magnitudes, 0.1).unwrap_or(smallest);
        if largest / low <= 1e3 {
            return Scale::Linear;
        }
        if values.iter().all(|v| v.is_finite() && *v > 0.0) {
            return Scale::Log;
        }
        Scale::SymLog {
            linear_width: 10f64.powf(low.log10().floor()),
        }
    }

    /// Words for captions.
    pub fn describe(self) -> String {
        match self {
            Scale::Linear => "linear axis".to_owned(),
            Scale::Log => "logarithmic axis".to_owned(),
            Scale::SymLog { linear_width } => format!(
                "symmetric-log axis (linear within ±{}, logarithmic beyond)",
                format_value(linear_width)
            ),
        }
    }
}

/// An axis: a scale over a domain, mapped onto pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    /// The scale.
    pub scale: Scale,
    /// Domain start and end in the scale's own units.
    low: f64,
    high: f64,
    /// Pixel of the domain's start and end.
    pixel_low: f64,
    pixel_high: f64,
}

impl Axis {
    /// An axis over values `[low, high]` drawn from `pixel_low` to `pixel_high` (which may run
    /// backwards, as a vertical axis does).
    pub fn new(scale: Scale, low: f64, high: f64, pixel_low: f64, pixel_high: f64) -> Self {
        let (mut t_low, mut t_high) = (scale.transform(low), scale.transform(high));
        if t_high.partial_cmp(&t_low) != Some(std::cmp::Ordering::Greater) {
            // No spread: centre the value in a unit-wide domain.
            let centre = if t_low.is_finite() { t_low } else { 0.0 };
            t_low = centre - 0.5;
            t_high = centre + 0.5;
        }
        Self {
            scale,
            low: t_low,
            high: t_high,
            pixel_low,
            pixel_high,
        }
    }

    /// An axis covering `values` with a margin of 5% of their span on each side (in the
    /// scale's units), widened to include `include` (such as 0 or a reference).
    pub fn covering(
        scale: Scale,
        values: impl IntoIterator<Item = f64>,
        include: &[f64],
        pixel_low: f64,
        pixel_high: f64,
    ) -> Self {
        let transformed: Vec<f64> = values
            .into_iter()
            .chain(include.iter().copied())
            .filter(|v| v.is_finite() && (scale != Scale::Log || *v > 0.0))
            .map(|v| scale.transform(v))
            .collect();
        let low = transformed.iter().copied().fold(f64::INFINITY, f64::min);
        let high = transformed
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let (low, high) = if low.is_finite() {
            (low, high)
        } else {
            (0.0, 1.0)
        };
        let margin = if high > low { (high - low) * 0.05 } else { 0.5 };
        Self::new(
            scale,
            scale.inverse(low - margin),
            scale.inverse(high + margin),
            pixel_low,
            pixel_high,
        )
    }

    /// The pixel of a value.
    pub fn pixel(&self, value: f64) -> f64 {
        self.pixel_of_transformed(self.scale.transform(value))
    }

    /// The pixel of a value already in the scale's own units.
    pub fn pixel_of_transformed(&self, transformed: f64) -> f64 {
        let t = (transformed - self.low) / (self.high - self.low);
        self.pixel_low + (self.pixel_high - self.pixel_low) * t
    }

    /// The domain in the scale's own units.
    pub fn transformed_domain(&self) -> (f64, f64) {
        (self.low, self.high)
    }

    /// Tick values inside the domain, at "nice" steps (1, 2, 5 × 10ᵏ) on a linear axis and at
    /// decades (and zero) on the others.
    pub fn ticks(&self) -> Vec<f64> {
        match self.scale {
            Scale::Linear => nice_ticks(self.low, self.high, 6),
            Scale::Log => decades(self.low, self.high)
                .into_iter()
                .map(|k| 10f64.powi(k))
                .collect(),
            Scale::SymLog { linear_width } => {
                let (low, high) = (self.scale.inverse(self.low), self.scale.inverse(self.high));
                let mut ticks = Vec::new();
                if low <= 0.0 && high >= 0.0 {
                    ticks.push(0.0);
                }
                let start = linear_width.log10().floor() as i32;
                for k in start..start + 12 {
                    let value = 10f64.powi(k);
                    if value < linear_width * 0.999 {
                        continue;
                    }
                    if value <= high {
                        ticks.push(value);
                    }
                    if -value >= low {
                        ticks.push(-value);
                    }
                }
                ticks.sort_by(f64::total_cmp);
                thin(ticks, 8)
            }
        }
    }
}

/// Every decade exponent k with 10ᵏ inside [10^low, 10^high], thinned to at most 8.
fn decades(low: f64, high: f64) -> Vec<i32> {
    let (first, last) = (low.ceil() as i32, high.floor() as i32);
    let all: Vec<i32> = (first..=last).collect();
    let stride = all.len().div_ceil(8).max(1);
    all.into_iter().step_by(stride).collect()
}

fn thin(ticks: Vec<f64>, most: usize) -> Vec<f64> {
    if ticks.len() <= most {
        return ticks;
    }
    let stride = ticks.len().div_ceil(most);
    ticks.into_iter().step_by(stride).collect()
}

/// About `count` evenly spaced values at a 1, 2 or 5 × 10ᵏ step inside [low, high].
pub fn nice_ticks(low: f64, high: f64, count: usize) -> Vec<f64> {
    let span = high - low;
    if span.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || !span.is_finite() {
        return vec![low];
    }
    let raw = span / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * 0.7)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step).ceil() as i64;
    let last = (high / step).floor() as i64;
    (first..=last)
        .map(|i| {
            // Through the step's decimals, so that 3 × 0.2 is 0.6 and not 0.6000000000000001.
            let decimals = (-step.log10().floor()).max(0.0) as usize;
            let text = format!("{:.decimals$}", i as f64 * step);
            text.parse().unwrap_or(i as f64 * step)
        })
        .collect()
}

/// A value for an axis label: up to three significant digits, scientific below 0.001.
pub fn format_value(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".to_owned();
    }
    let magnitude = value.abs();
    if !(1e-3..1e5).contains(&magnitude) {
        let exponent = magnitude.log10().floor() as i32;
        let mantissa = value / 10f64.powi(exponent);
        let mantissa = format!("{mantissa:.1}");
        let mantissa = mantissa.strip_suffix(".0").unwrap_or(&mantissa).to_owned();
        return format!("{mantissa}e{exponent}");
    }
    let decimals = (2 - magnitude.log10().floor() as i32).clamp(0, 5) as usize;
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    if text == "-0" { "0".to_owned() } else { text }
}

/// A fraction as a percentage with one decimal (`0.938` → `93.8%`).
pub fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlog_round_trips() {
        let scale = Scale::SymLog { linear_width: 1e-3 };
        for value in [-5.0, -1e-3, 0.0, 2e-4, 0.7, 120.0] {
            let back = scale.inverse(scale.transform(value));
            assert!(
                (back - value).abs() <= 1e-12 * value.abs().max(1.0),
                "{value} → {back}"
            );
        }
    }

    #[test]
    fn suggested_scales_follow_the_spread() {
        assert_eq!(Scale::suggest(&[0.1, 0.5, 0.9]), Scale::Linear);
        assert_eq!(Scale::suggest(&[1e-5, 1e-3, 0.5, 0.2]), Scale::Log);
        assert_eq!(
            Scale::suggest(&[-2e-5, 0.0, 3e-5, 0.004, 0.2, 0.5, 0.03, 1e-4, 0.01, 0.02]),
            Scale::SymLog { linear_width: 1e-5 }
        );
        assert_eq!(Scale::suggest(&[]), Scale::Linear);
    }

    #[test]
    fn nice_ticks_are_round() {
        assert_eq!(nice_ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(
            nice_ticks(-0.03, 0.12, 6),
            vec![-0.02, 0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12]
        );
    }

    #[test]
    fn values_format_briefly() {
        assert_eq!(format_value(0.5), "0.5");
        assert_eq!(format_value(0.00262), "0.00262");
        assert_eq!(format_value(0.0001), "1e-4");
        assert_eq!(format_value(12.0), "12");
        assert_eq!(format_value(-0.25), "-0.25");
        assert_eq!(percent(0.9382716), "93.8%");
    }

    #[test]
    fn axis_maps_ends_to_pixels() {
        let axis = Axis::new(Scale::Linear, 0.0, 1.0, 300.0, 20.0);
        assert_eq!(axis.pixel(0.0), 300.0);
        assert_eq!(axis.pixel(1.0), 20.0);
        assert_eq!(axis.pixel(0.5), 160.0);
    }
}
