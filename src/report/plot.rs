//! SVG charts of the sensitivity sweeps, drawn with `plotters`.
//!
//! Each chart plots the net USD per hour of the three options (`mine`,
//! `infer`, `idle`) against one swept input, with a dashed marker at the
//! scenario's current value.

use crate::economics::sensitivity::Sweep;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Errors while writing a chart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The output directory could not be created.
    #[error("cannot create plot directory {}", path.display())]
    CreateDir {
        /// Directory.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Drawing or writing the SVG failed.
    #[error("cannot draw {}: {message}", path.display())]
    Draw {
        /// File.
        path: PathBuf,
        /// Cause.
        message: String,
    },
    /// The sweep has no points.
    #[error("cannot draw {}: the sweep has no points", path.display())]
    Empty {
        /// File.
        path: PathBuf,
    },
}

/// Series drawn on every chart: name, colour, accessor.
type Series = (
    &'static str,
    RGBColor,
    fn(&crate::economics::sensitivity::SweepPoint) -> f64,
);

const SERIES: [Series; 3] = [
    ("mine", RGBColor(230, 126, 34), |p| p.mine),
    ("infer", RGBColor(41, 128, 185), |p| p.infer),
    ("idle", RGBColor(127, 140, 141), |p| p.idle),
];

fn bounds(sweep: &Sweep) -> Option<((f64, f64), (f64, f64))> {
    let xs = sweep.points.iter().map(|p| p.x);
    let ys = sweep
        .points
        .iter()
        .flat_map(|p| SERIES.iter().map(move |s| (s.2)(p)));
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let (y0, y1) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
        (a.min(y), b.max(y))
    });
    if !(x0.is_finite() && x1.is_finite() && y0.is_finite() && y1.is_finite()) {
        return None;
    }
    let (x0, x1) = if x1 > x0 {
        (x0, x1)
    } else {
        (x0 - 1.0, x0 + 1.0)
    };
    let pad = ((y1 - y0) * 0.08).max(1e-6);
    Some(((x0, x1), (y0.min(0.0) - pad, y1.max(0.0) + pad)))
}

/// Draws one sweep to `path` as SVG.
///
/// # Errors
/// [`PlotError`] if the sweep is empty or the file cannot be written.
pub fn write_sweep(sweep: &Sweep, path: &Path) -> Result<(), PlotError> {
    let ((x0, x1), (y0, y1)) = bounds(sweep).ok_or_else(|| PlotError::Empty {
        path: path.to_owned(),
    })?;
    let draw_err = |e: &dyn std::fmt::Display| PlotError::Draw {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_err(&e))?;
    let title = format!("Net USD per GPU-hour vs {}", sweep.label);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| draw_err(&e))?;
    chart
        .configure_mesh()
        .x_desc(sweep.label)
        .y_desc("net USD per hour")
        .draw()
        .map_err(|e| draw_err(&e))?;
    for (name, colour, get) in SERIES {
        chart
            .draw_series(LineSeries::new(
                sweep.points.iter().map(|p| (p.x, get(p))),
                colour.stroke_width(2),
            ))
            .map_err(|e| draw_err(&e))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(2))
            });
    }
    let cur = sweep.current;
    if cur.is_finite() && cur >= x0 && cur <= x1 {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(cur, y0), (cur, y1)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(|e| draw_err(&e))?
            .label("scenario value")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| draw_err(&e))?;
    root.present().map_err(|e| draw_err(&e))?;
    Ok(())
}

/// Writes one SVG per sweep into `dir` (created if needed), named after the
/// parameter: `btc_price.svg`, `electricity.svg`, `difficulty.svg`,
/// `utilization.svg`. Returns the paths written.
///
/// # Errors
/// [`PlotError`] for the first chart that fails.
pub fn write_all(sweeps: &[Sweep], dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    std::fs::create_dir_all(dir).map_err(|source| PlotError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    sweeps
        .iter()
        .map(|s| {
            let path = dir.join(format!("{}.svg", s.parameter.slug()));
            write_sweep(s, &path).map(|()| path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::economics::scenario::Scenario;
    use crate::economics::sensitivity::default_sweeps;
    use crate::economics::units::{HashRate, Watts};

    #[test]
    fn writes_four_valid_svgs_with_three_series() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let s = Scenario::new(HashRate(5e9), Watts(700.0));
        let sweeps = default_sweeps(&s).unwrap_or_else(|e| panic!("{e}"));
        let out = dir.path().join("plots");
        let files = write_all(&sweeps, &out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(files.len(), 4);
        for name in ["btc_price", "electricity", "difficulty", "utilization"] {
            let text = std::fs::read_to_string(out.join(format!("{name}.svg")))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(text.trim_start().starts_with("<svg"), "{name}");
            assert!(text.trim_end().ends_with("</svg>"), "{name}");
            // plotters writes each text element's content on its own line.
            for label in [
                "mine",
                "infer",
                "idle",
                "net USD per hour",
                "scenario value",
            ] {
                assert!(
                    text.lines().any(|l| l.trim() == label),
                    "{name} lacks {label}"
                );
            }
            assert!(text.matches("<polyline").count() >= 3, "{name}");
        }
    }

    #[test]
    fn empty_sweep_is_an_error_not_a_panic() {
        let s = Scenario::new(HashRate(5e9), Watts(700.0));
        let mut sweeps = default_sweeps(&s).unwrap_or_else(|e| panic!("{e}"));
        sweeps[0].points.clear();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let e = write_all(&sweeps, dir.path()).unwrap_err();
        assert!(e.to_string().contains("no points"));
    }
}
