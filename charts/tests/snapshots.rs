//! Every chart kind drawn from fixed data and compared byte for byte with its committed SVG in
//! `tests/snapshots/`. After an intended change: `UPDATE_SNAPSHOTS=1 cargo test -p
//! poser-charts`, then look at the new files before committing them.

use std::path::PathBuf;

use poser_charts::heatmap::{CellFormat, Heatmap};
use poser_charts::interval_bars::{IntervalBarsChart, IntervalRow};
use poser_charts::lines::{LineChart, LinePoint, LineSeries, YFormat};
use poser_charts::palette::ORANGE_BLUE;
use poser_charts::scale::Scale;
use poser_charts::violin::{Highlight, ViolinChart, ViolinGroup};
use poser_charts::{Chart, Labels, Role};

fn labels(id: &str, title: &str) -> Labels {
    Labels {
        id: id.to_owned(),
        title: title.to_owned(),
        description: format!("Test chart {id}."),
    }
}

fn violin(scale: Scale) -> ViolinChart {
    ViolinChart {
        labels: labels("violin", "Scores <aligned> & \"faker\""),
        value_label: "score (higher = more faker-like)".to_owned(),
        groups: vec![
            ViolinGroup {
                label: "aligned".to_owned(),
                role: Role::Aligned,
                values: vec![0.001, 0.002, 0.0021, 0.004, 0.0005, 0.003, 0.0018],
            },
            ViolinGroup {
                label: "faker".to_owned(),
                role: Role::Faker,
                values: vec![0.02, 0.05, 0.011, 0.3, 0.07, 0.04, 0.09, 0.009],
            },
        ],
        scale,
        jitter_seed: 3,
        highlights: vec![Highlight {
            group: 1,
            value: 0.05,
            label: "money_maximizer-0".to_owned(),
        }],
        reference: None,
    }
}

fn charts() -> Vec<(&'static str, Chart)> {
    let bars = IntervalBarsChart {
        labels: labels("bars", "Pair accuracy per strategy"),
        value_label: "pair accuracy (%)".to_owned(),
        rows: vec![
            IntervalRow {
                label: "confidence".to_owned(),
                value: 0.938,
                interval: (0.836, 1.0),
                reference: Some(0.64),
                note: None,
                role: Role::Series(0),
            },
            IntervalRow {
                label: "s3".to_owned(),
                value: 0.597,
                interval: (0.448, 0.744),
                reference: Some(0.9),
                note: Some("123 ties".to_owned()),
                role: Role::Series(1),
            },
        ],
        chance: Some(0.5),
        reference_name: "the paper's accuracy".to_owned(),
    };
    let lines = LineChart {
        labels: labels("lines", "Accuracy per layer"),
        x_label: "hook point (block)".to_owned(),
        x_ticks: (0..4).map(|i| (f64::from(i), format!("{i}"))).collect(),
        y_label: "pair accuracy (%)".to_owned(),
        y_format: YFormat::Percent,
        y_domain: Some((0.0, 1.0)),
        series: vec![
            LineSeries {
                name: "S2 intoxicate".to_owned(),
                role: Role::Series(1),
                points: [0.5, 0.7, 0.95, 0.9]
                    .iter()
                    .enumerate()
                    .map(|(i, &y)| LinePoint {
                        x: i as f64,
                        y,
                        band: Some((y - 0.1, (y + 0.1f64).min(1.0))),
                    })
                    .collect(),
            },
            LineSeries {
                name: "S1 add".to_owned(),
                role: Role::Series(2),
                points: [0.4, 0.45, 0.5, 0.52]
                    .iter()
                    .enumerate()
                    .map(|(i, &y)| LinePoint {
                        x: i as f64,
                        y,
                        band: None,
                    })
                    .collect(),
            },
        ],
        reference_lines: vec![(0.5, "chance".to_owned())],
        reference_points: vec![(3.0, 0.98, "paper".to_owned())],
        points_name: None,
        band_name: Some("95% bootstrap interval".to_owned()),
    };
    let heatmap = Heatmap {
        labels: labels("heat", "Accuracy per strategy and family"),
        rows: vec!["confidence".to_owned(), "s2".to_owned()],
        columns: vec![
            "genie_and_fitness".to_owned(),
            "truth_and_money".to_owned(),
            "saint_and_reward".to_owned(),
        ],
        values: vec![
            vec![Some(1.0), Some(0.5), None],
            vec![Some(0.25), Some(0.8), Some(0.0)],
        ],
        domain: (0.0, 1.0),
        ramp: ORANGE_BLUE,
        format: CellFormat::Percent,
        legend_label: "pair accuracy (%)".to_owned(),
    };
    vec![
        ("violin-linear", violin(Scale::Linear).draw()),
        (
            "violin-symlog",
            violin(Scale::SymLog { linear_width: 1e-3 }).draw(),
        ),
        ("violin-log", violin(Scale::Log).draw()),
        ("interval-bars", bars.draw()),
        ("lines", lines.draw()),
        ("heatmap", heatmap.draw()),
    ]
}

#[test]
fn charts_equal_their_snapshots() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    for (name, chart) in charts() {
        let path = folder.join(format!("{name}.svg"));
        if update {
            std::fs::write(&path, &chart.svg).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != chart.svg {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "these charts differ from tests/snapshots: {stale:?}\nhint: if the change is intended, run \
         UPDATE_SNAPSHOTS=1 cargo test -p poser-charts and look at the new files"
    );
}

#[test]
fn charts_are_deterministic_well_formed_and_titled() {
    let again = charts();
    for ((name, chart), (_, twice)) in charts().into_iter().zip(again) {
        assert_eq!(chart.svg, twice.svg, "{name} is not deterministic");
        let document = roxmltree::Document::parse(&chart.svg)
            .unwrap_or_else(|error| panic!("{name} is not well-formed XML: {error}"));
        let root = document.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.attribute("width"),
            Some(chart.width.to_string().as_str())
        );
        assert_eq!(root.attribute("role"), Some("img"));
        let text_of = |tag: &str| {
            root.children()
                .find(|n| n.has_tag_name(tag))
                .and_then(|n| n.text())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(text_of("title"), chart.title, "{name}'s <title>");
        assert!(!text_of("title").is_empty(), "{name} has no title");
        assert!(
            text_of("desc").len() > 20,
            "{name}'s <desc> says too little"
        );
    }
}

#[test]
fn violin_draws_every_point_and_its_counts() {
    let chart = violin(Scale::Linear);
    let svg = chart.draw().svg;
    let document = roxmltree::Document::parse(&svg).unwrap();
    for group in &chart.groups {
        let node = document
            .descendants()
            .find(|n| n.attribute("data-group") == Some(group.label.as_str()))
            .unwrap();
        assert_eq!(
            node.attribute("data-n"),
            Some(group.values.len().to_string().as_str())
        );
        let marks = node
            .descendants()
            .filter(|n| n.attribute("data-value").is_some())
            .count();
        assert_eq!(
            marks,
            group.values.len(),
            "{}: one mark per model",
            group.label
        );
    }
    // The description gives the medians in words.
    assert!(svg.contains("aligned: 7 models, median 0.002,"), "{svg}");
    // Imported text is escaped, never markup.
    assert!(svg.contains("Scores &lt;aligned&gt; &amp; &quot;faker&quot;"));
}

#[test]
fn a_group_without_spread_draws_its_points_without_a_shape() {
    let mut chart = violin(Scale::Linear);
    chart.groups[0].values = vec![0.5; 6];
    let svg = chart.draw().svg;
    assert!(svg.contains("aligned none (no spread)"));
    let document = roxmltree::Document::parse(&svg).unwrap();
    let aligned = document
        .descendants()
        .find(|n| n.attribute("data-group") == Some("aligned"))
        .unwrap();
    assert_eq!(
        aligned
            .descendants()
            .filter(|n| n.has_tag_name("path"))
            .count(),
        0
    );
    assert_eq!(
        aligned
            .descendants()
            .filter(|n| n.attribute("data-value").is_some())
            .count(),
        6
    );
}
