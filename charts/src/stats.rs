//! The statistics the charts draw: quantiles, a Gaussian kernel density with Silverman's
//! bandwidth, and a seeded jitter.
//!
//! Hand-written: each is a few lines with a stated definition, and the well-kept statistics
//! crates either lack a kernel density (`statrs`) or bring a numeric stack the page does not
//! need for one formula.

/// Quantile `p` (0 to 1) of sorted data by linear interpolation between order statistics
/// (Hyndman and Fan's type 7, the default of R and NumPy). `None` for no data.
pub fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    let (&first, &last) = (sorted.first()?, sorted.last()?);
    if sorted.len() == 1 || p <= 0.0 {
        return Some(first);
    }
    if p >= 1.0 {
        return Some(last);
    }
    let position = p * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let fraction = position - below as f64;
    let low = sorted[below];
    let high = sorted.get(below + 1).copied().unwrap_or(low);
    Some(low + (high - low) * fraction)
}

/// The five numbers a violin marks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Smallest value.
    pub min: f64,
    /// First quartile (type 7).
    pub q1: f64,
    /// Median (type 7).
    pub median: f64,
    /// Third quartile (type 7).
    pub q3: f64,
    /// Largest value.
    pub max: f64,
    /// How many values.
    pub n: usize,
}

/// The data sorted, without NaNs.
pub fn sorted_finite(values: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// Min, quartiles, median and max of the finite values; `None` if there are none.
pub fn summary(values: &[f64]) -> Option<Summary> {
    let sorted = sorted_finite(values);
    Some(Summary {
        min: *sorted.first()?,
        q1: quantile(&sorted, 0.25)?,
        median: quantile(&sorted, 0.5)?,
        q3: quantile(&sorted, 0.75)?,
        max: *sorted.last()?,
        n: sorted.len(),
    })
}

/// Sample standard deviation (n − 1).
pub fn standard_deviation(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some(variance.sqrt())
}

/// Silverman's rule of thumb: `0.9 · min(σ, IQR / 1.34) · n^(−1/5)`. Where the IQR is zero
/// (more than half the values equal) σ alone is used; `None` when the data have no spread.
pub fn silverman_bandwidth(values: &[f64]) -> Option<f64> {
    let sorted = sorted_finite(values);
    let sigma = standard_deviation(&sorted)?;
    let iqr = quantile(&sorted, 0.75)? - quantile(&sorted, 0.25)?;
    let spread = if iqr > 0.0 {
        sigma.min(iqr / 1.34)
    } else {
        sigma
    };
    let bandwidth = 0.9 * spread * (sorted.len() as f64).powf(-0.2);
    (bandwidth > 0.0 && bandwidth.is_finite()).then_some(bandwidth)
}

/// The Gaussian kernel density estimate of `values` with `bandwidth`, at each of `at`.
pub fn gaussian_kde(values: &[f64], bandwidth: f64, at: &[f64]) -> Vec<f64> {
    let n = values.len() as f64;
    let norm = 1.0 / (n * bandwidth * (2.0 * std::f64::consts::PI).sqrt());
    at.iter()
        .map(|&x| {
            values
                .iter()
                .map(|&v| (-0.5 * ((x - v) / bandwidth).powi(2)).exp())
                .sum::<f64>()
                * norm
        })
        .collect()
}

/// SplitMix64: a tiny seeded generator for jitter (determinism, not statistics, is the need).
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next value, uniform in [−1, 1).
    pub fn next_signed(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_of_known_data() {
        let nine: Vec<f64> = (1..=9).map(f64::from).collect();
        let s = summary(&nine).unwrap();
        assert_eq!((s.q1, s.median, s.q3), (3.0, 5.0, 7.0));
        // Type 7 interpolates between order statistics (NumPy: 1.75, 2.5, 3.25).
        let s = summary(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(
            (s.min, s.q1, s.median, s.q3, s.max),
            (1.0, 1.75, 2.5, 3.25, 4.0)
        );
        assert_eq!(summary(&[]), None);
        assert_eq!(summary(&[f64::NAN, 2.0]).unwrap().n, 1);
    }

    #[test]
    fn density_integrates_to_one() {
        let values = [0.1, 0.15, 0.2, 0.9, 1.4, 1.41, 3.0, -2.0, 0.0, 0.5];
        let bandwidth = silverman_bandwidth(&values).unwrap();
        let (low, high) = (-2.0 - 8.0 * bandwidth, 3.0 + 8.0 * bandwidth);
        let steps = 4000;
        let grid: Vec<f64> = (0..=steps)
            .map(|i| low + (high - low) * f64::from(i) / f64::from(steps))
            .collect();
        let density = gaussian_kde(&values, bandwidth, &grid);
        let dx = (high - low) / f64::from(steps);
        let integral: f64 = density.windows(2).map(|w| (w[0] + w[1]) * 0.5 * dx).sum();
        assert!((integral - 1.0).abs() < 1e-3, "integral {integral}");
    }

    #[test]
    fn silverman_on_known_data() {
        // 1..=9: σ = √7.5 (n − 1) is below IQR / 1.34 = 4 / 1.34, so σ sets the width.
        let nine: Vec<f64> = (1..=9).map(f64::from).collect();
        let expected = 0.9 * 7.5f64.sqrt() * 9f64.powf(-0.2);
        assert!((silverman_bandwidth(&nine).unwrap() - expected).abs() < 1e-12);
        // An outlier inflates σ; the IQR (4 − 2) sets the width instead.
        let outlier = [1.0, 2.0, 3.0, 4.0, 100.0];
        let expected = 0.9 * (2.0 / 1.34) * 5f64.powf(-0.2);
        assert!((silverman_bandwidth(&outlier).unwrap() - expected).abs() < 1e-12);
        assert_eq!(silverman_bandwidth(&[2.0, 2.0, 2.0]), None);
        assert_eq!(silverman_bandwidth(&[2.0]), None);
    }

    #[test]
    fn jitter_is_seeded_and_bounded() {
        let a: Vec<f64> = (0..100)
            .scan(Jitter::new(7), |j, _| Some(j.next_signed()))
            .collect();
        let b: Vec<f64> = (0..100)
            .scan(Jitter::new(7), |j, _| Some(j.next_signed()))
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|v| (-1.0..1.0).contains(v)));
        let c: Vec<f64> = (0..100)
            .scan(Jitter::new(8), |j, _| Some(j.next_signed()))
            .collect();
        assert_ne!(a, c);
    }
}
