//! SVG charts (plotters' SVG backend): per-growth-operation latency
//! timelines and a bar chart of time ratios against std.

use plotters::prelude::*;

use crate::report::Row;
use crate::workloads::{Role, Workload};

const COLORS: [RGBColor; 5] = [
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
];

/// `DIR/<workload>-timeline.svg`: the latency of every growth operation
/// (log scale) against the number of elements pushed so far.
pub fn timeline(dir: &str, w: &Workload, rows: &[Row]) -> Result<(), String> {
    if !w.plot_timeline {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let path = format!("{dir}/{}-timeline.svg", w.name);
    let series: Vec<&Row> = rows.iter().filter(|r| !r.timeline.is_empty()).collect();
    if series.is_empty() {
        return Err(format!("{}: no timeline recorded", w.name));
    }
    let max_n = series
        .iter()
        .flat_map(|r| r.timeline.iter().map(|p| p.0))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let max_us = series
        .iter()
        .flat_map(|r| r.timeline.iter().map(|p| p.1 * 1e6))
        .fold(1.0f64, f64::max);
    let root = SVGBackend::new(&path, (960, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{}: latency of each growth push", w.name),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..max_n * 1.02, (0.1f64..max_us * 2.0).log_scale())
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("elements pushed")
        .y_desc("push latency (µs, log)")
        .draw()
        .map_err(|e| e.to_string())?;
    for (k, r) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let pts: Vec<(f64, f64)> = r
            .timeline
            .iter()
            .map(|&(n, dt)| (n as f64, (dt * 1e6).max(0.1)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(r.imp)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
        chart
            .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))
            .map_err(|e| e.to_string())?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    eprintln!("  wrote {path}");
    Ok(())
}

/// `DIR/ratios.svg`: steady-state time of each of our implementations as a
/// ratio of std's, one bar each; 1.0 is std.
pub fn ratios(dir: &str, rows: &[Row]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let path = format!("{dir}/ratios.svg");
    let bars: Vec<(String, f64)> = rows
        .iter()
        .filter(|r| r.role != Role::Std)
        .filter_map(|r| {
            r.ratio_std
                .map(|x| (format!("{}: {}", r.workload, r.imp), x))
        })
        .collect();
    if bars.is_empty() {
        return Err("no ratios to plot".into());
    }
    let max = bars.iter().map(|b| b.1).fold(1.2f64, f64::max) * 1.1;
    let h = 80 + 28 * bars.len() as u32;
    let root = SVGBackend::new(&path, (1000, h)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "time vs std (steady state; lower is better)",
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(380)
        .build_cartesian_2d(0f64..max, 0usize..bars.len())
        .map_err(|e| e.to_string())?;
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(bars.len())
        .y_label_formatter(&|i| labels.get(*i).cloned().unwrap_or_default())
        .x_desc("ratio vs std")
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, x))| {
            let color = if *x <= 1.0 { COLORS[2] } else { COLORS[0] };
            Rectangle::new([(0.0, i), (*x, i + 1)], color.mix(0.8).filled())
        }))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(1.0, 0), (1.0, bars.len())],
            BLACK.stroke_width(2),
        )))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    eprintln!("wrote {path}");
    Ok(())
}
