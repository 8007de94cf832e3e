//! The benchmark report: a Markdown table per workload and an SVG plot.

use std::fmt::Write;
use std::path::Path;

use plotters::prelude::*;

use super::Measurement;

fn ms(duration: std::time::Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Renders the Markdown report.
pub fn markdown(title: &str, context: &[String], measurements: &[Measurement]) -> String {
    let mut text = format!("# {title}\n\n");
    for line in context {
        let _ = writeln!(text, "- {line}");
    }

    let mut workloads: Vec<&str> = measurements.iter().map(|m| m.workload).collect();
    workloads.dedup();
    for workload in workloads {
        for end_to_end in [false, true] {
            let rows: Vec<&Measurement> = measurements
                .iter()
                .filter(|m| m.workload == workload && m.end_to_end == end_to_end)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let mode = if end_to_end {
                "end to end"
            } else {
                "resize only"
            };
            let _ = writeln!(text, "\n## {workload}, {mode}\n");
            text.push_str("| backend | batch | jobs/s | input MP/s | latency mean ms | latency p95 ms | decode ms/job | render ms/job | upload ms/batch | GPU ms/batch | readback ms/batch | encode ms/job |\n");
            text.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for m in rows {
                let jobs = m.jobs.max(1) as f64;
                let batches = m.stages.gpu.batches.max(1) as f64;
                let mean = m.latencies.iter().map(|d| ms(*d)).sum::<f64>() / jobs;
                let gpu_cell = |value: std::time::Duration| {
                    if m.stages.gpu.batches == 0 {
                        "-".to_string()
                    } else {
                        format!("{:.2}", ms(value) / batches)
                    }
                };
                let _ = writeln!(
                    text,
                    "| {} | {} | {:.1} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {:.2} |",
                    m.backend,
                    m.batch,
                    m.jobs_per_second(),
                    m.megapixels_per_second(),
                    mean,
                    ms(m.latency_percentile(0.95)),
                    ms(m.stages.decode) / jobs,
                    ms(m.stages.render) / jobs,
                    gpu_cell(m.stages.gpu.upload),
                    gpu_cell(m.stages.gpu.gpu),
                    gpu_cell(m.stages.gpu.readback),
                    ms(m.stages.encode) / jobs,
                );
            }
        }
    }
    text.push_str(
        "\nResize only starts from decoded full-size pixels (copied before the clock starts). \
End to end decodes with JPEG shrink-on-load, as the service does, so it can be faster than \
resize only. render ms/job is the time a job waits for its backend, queueing included. \
GPU ms/batch runs from submission to the readback being mapped.\n",
    );
    text
}

/// Draws jobs per second against batch size, one line per workload, mode and backend.
pub fn plot(path: &Path, measurements: &[Measurement]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let max_batch = measurements.iter().map(|m| m.batch).max().unwrap_or(1) as f64;
    let max_rate = measurements
        .iter()
        .map(Measurement::jobs_per_second)
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption("thumbd: jobs per second by batch size", ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((1.0..max_batch * 1.1).log_scale(), 0.0..max_rate * 1.15)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("jobs in flight (batch size)")
        .y_desc("jobs per second")
        .draw()?;

    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for m in measurements {
        let mode = if m.end_to_end {
            "end to end"
        } else {
            "resize only"
        };
        let name = format!("{}, {mode}, {}", m.workload, m.backend);
        let point = (m.batch as f64, m.jobs_per_second());
        match series.iter_mut().find(|(n, _)| *n == name) {
            Some((_, points)) => points.push(point),
            None => series.push((name, vec![point])),
        }
    }
    for (index, (name, points)) in series.into_iter().enumerate() {
        let colour = Palette99::pick(index).to_rgba();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, colour.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}
