//! SVG charts of the sensitivity sweeps, drawn with `plotters`.
//!
//! Each chart plots the net USD per hour of the three options (`mine`,
//! `infer`, `idle`) against one swept input, with a dashed marker at the
//! scenario's current value.

use crate::economics::sensitivity::Sweep;
use plotters::coord::types::RangedCoordf64;
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
    let marker = (cur.is_finite() && cur >= x0 && cur <= x1).then_some((cur, "scenario value"));
    finish_chart(
        &root,
        &mut chart,
        marker,
        (y0, y1),
        SeriesLabelPosition::UpperLeft,
    )
    .map_err(|e| draw_err(&e))
}

/// Draws the dashed marker at the scenario's own value (when it is in
/// range), the legend, and writes the file.
fn finish_chart<'a>(
    root: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    marker: Option<(f64, &str)>,
    (y0, y1): (f64, f64),
    legend: SeriesLabelPosition,
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    if let Some((x, label)) = marker {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x, y0), (x, y1)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(|e| err(&e))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK));
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
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

/// A currency tick label: `$1.2M`, `-$350k`, `$40`.
pub fn usd_tick(v: f64) -> String {
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    let (x, suffix) = if a >= 1e9 {
        (a / 1e9, "B")
    } else if a >= 1e6 {
        (a / 1e6, "M")
    } else if a >= 1e3 {
        (a / 1e3, "k")
    } else {
        (a, "")
    };
    let digits = if x >= 100.0 || x == x.trunc() { 0 } else { 1 };
    format!("{sign}${x:.digits$}{suffix}")
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(41, 128, 185),
    RGBColor(230, 126, 34),
    RGBColor(39, 174, 96),
    RGBColor(142, 68, 173),
    RGBColor(192, 57, 43),
    RGBColor(22, 160, 133),
    RGBColor(127, 140, 141),
    RGBColor(44, 62, 80),
];

/// Draws the site chart: first-year net USD per MW-year of every site option
/// against the power price, each break-even price marked with a dot on the
/// zero line, the site's own price dashed.
///
/// # Errors
/// [`PlotError`] if the sweep is empty or the file cannot be written.
pub fn write_site_sweep(
    sweep: &crate::economics::site::PriceSweep,
    path: &Path,
) -> Result<(), PlotError> {
    let empty = || PlotError::Empty {
        path: path.to_owned(),
    };
    let (x0, x1) = match (sweep.prices.first(), sweep.prices.last()) {
        (Some(a), Some(b)) if b > a => (*a, *b),
        _ => return Err(empty()),
    };
    let ys = sweep
        .options
        .iter()
        .flat_map(|o| o.net_usd_per_mw_year.iter().copied())
        .filter(|y| y.is_finite());
    let (y0, y1) = ys.fold((0.0_f64, 0.0_f64), |(a, b), y| (a.min(y), b.max(y)));
    if y1 <= y0 {
        return Err(empty());
    }
    let pad = (y1 - y0) * 0.06;
    let (y0, y1) = (y0 - pad, y1 + pad);
    let draw_err = |e: &dyn std::fmt::Display| PlotError::Draw {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Site: first-year net per MW vs power price (dots: break-even prices)",
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(90)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| draw_err(&e))?;
    chart
        .configure_mesh()
        .x_desc("power price, USD/MWh")
        .y_desc("net USD per MW-year (before capex)")
        .x_label_formatter(&|x| usd_tick(*x))
        .y_label_formatter(&|y| usd_tick(*y))
        .draw()
        .map_err(|e| draw_err(&e))?;
    chart
        .draw_series(LineSeries::new(
            vec![(x0, 0.0), (x1, 0.0)],
            BLACK.mix(0.4).stroke_width(1),
        ))
        .map_err(|e| draw_err(&e))?;
    for (i, o) in sweep.options.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                sweep
                    .prices
                    .iter()
                    .zip(&o.net_usd_per_mw_year)
                    .filter(|(_, y)| y.is_finite())
                    .map(|(x, y)| (*x, *y)),
                colour.stroke_width(2),
            ))
            .map_err(|e| draw_err(&e))?
            .label(o.id.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(2))
            });
        if let Some(be) = o
            .breakeven_power_usd_per_mwh
            .filter(|b| (x0..=x1).contains(b))
        {
            chart
                .draw_series(std::iter::once(Circle::new((be, 0.0), 5, colour.filled())))
                .map_err(|e| draw_err(&e))?;
            chart
                .draw_series(std::iter::once(Text::new(
                    usd_tick(be),
                    (be, 0.0),
                    ("sans-serif", 13).into_font().color(&colour),
                )))
                .map_err(|e| draw_err(&e))?;
        }
    }
    let cur = sweep.current;
    let marker = ((x0..=x1).contains(&cur)).then_some((cur, "site power price"));
    finish_chart(
        &root,
        &mut chart,
        marker,
        (y0, y1),
        SeriesLabelPosition::UpperRight,
    )
    .map_err(|e| draw_err(&e))
}

/// Draws revenue ÷ power cost per GPU use on a log scale, with the line at 1
/// where revenue just pays the power bill.
///
/// # Errors
/// [`PlotError`] if there are no ratios or the file cannot be written.
pub fn write_revenue_ratios(
    ratios: &[crate::economics::sensitivity::RevenueRatio],
    path: &Path,
) -> Result<(), PlotError> {
    let rows: Vec<_> = ratios
        .iter()
        .filter(|r| r.ratio.is_finite() && r.ratio > 0.0)
        .collect();
    if rows.is_empty() {
        return Err(PlotError::Empty {
            path: path.to_owned(),
        });
    }
    let lo = rows.iter().map(|r| r.ratio).fold(1.0_f64, f64::min) / 3.0;
    let hi = rows.iter().map(|r| r.ratio).fold(1.0_f64, f64::max) * 3.0;
    let n = rows.len() as f64;
    let draw_err = |e: &dyn std::fmt::Display| PlotError::Draw {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Revenue / power cost per GPU (log scale; 1 = pays its power)",
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(120)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5..n - 0.5, (lo..hi).log_scale())
        .map_err(|e| draw_err(&e))?;
    let labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(rows.len())
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_style(
            ("sans-serif", 12)
                .into_font()
                .transform(FontTransform::Rotate90),
        )
        .y_desc("revenue / power cost")
        .y_label_formatter(&|y| format!("{y:.0e}"))
        .draw()
        .map_err(|e| draw_err(&e))?;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(-0.5, 1.0), (n - 0.5, 1.0)],
            6,
            4,
            BLACK.stroke_width(1),
        ))
        .map_err(|e| draw_err(&e))?;
    for (i, r) in rows.iter().enumerate() {
        let colour = if r.ratio >= 1.0 {
            PALETTE[2]
        } else {
            PALETTE[4]
        };
        let x = i as f64;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x - 0.3, lo), (x + 0.3, r.ratio)],
                colour.filled(),
            )))
            .map_err(|e| draw_err(&e))?;
    }
    root.present().map_err(|e| draw_err(&e))?;
    Ok(())
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

    #[test]
    fn currency_ticks() {
        assert_eq!(usd_tick(0.0), "$0");
        assert_eq!(usd_tick(40.0), "$40");
        assert_eq!(usd_tick(1_250_000.0), "$1.2M");
        assert_eq!(usd_tick(-350_000.0), "-$350k");
        assert_eq!(usd_tick(2e9), "$2B");
    }
}
