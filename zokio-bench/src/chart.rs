//! The picture of the summary: a bar chart, as SVG, of each workload's
//! headline ratio against each peer, on a log scale with a line at 1×.
//!
//! It draws what `summary` computed and nothing else: it must never compute
//! or adjust a ratio. Every bar is one `(workload, peer)` headline, drawn as
//! one filled rectangle in its peer's colour and nothing else is, so the
//! file can be checked by counting (the legend uses circles for that
//! reason). Drawing goes through `plotters`' SVG backend, which writes text
//! as `<text>` for the browser to set, so no font is read or shipped.

use std::io;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::summary::{peers, Line};

/// One colour per peer, in the order peers first appear; they repeat past
/// the end, which no run comes near.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x1F, 0x77, 0xB4),
    RGBColor(0xFF, 0x7F, 0x0E),
    RGBColor(0x2C, 0xA0, 0x2C),
    RGBColor(0x94, 0x67, 0xBD),
    RGBColor(0x8C, 0x56, 0x4B),
    RGBColor(0x7F, 0x7F, 0x7F),
];

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Where the picture goes unless `--svg` says otherwise:
/// `zokio-bench/report.svg` in Cargo's target directory. That is
/// `CARGO_TARGET_DIR` where set, else the directory this binary was built
/// into (found by the `CACHEDIR.TAG` Cargo leaves there), else `target`
/// under the current directory.
pub fn default_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            exe.ancestors()
                .skip(1)
                .find(|d| d.join("CACHEDIR.TAG").is_file())
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("zokio-bench").join("report.svg")
}

/// Writes the chart of `lines` to `path`, making its directory if needed.
pub fn write(path: &Path, lines: &[Line], subtitle: &str) -> io::Result<()> {
    let svg = render(lines, subtitle).map_err(|e| {
        io::Error::other(format!(
            "drawing the chart for {} failed: {e}",
            path.display()
        ))
    })?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "creating {} for the chart failed ({e}); pass --svg with a writable path",
                    dir.display()
                ),
            )
        })?;
    }
    std::fs::write(path, svg).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "writing the chart to {} failed ({e}); pass --svg with a writable path",
                path.display()
            ),
        )
    })
}

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The chart as an SVG document.
pub fn render(lines: &[Line], subtitle: &str) -> DrawResult<String> {
    let peers = peers(lines);
    let heads: Vec<Vec<(usize, f64)>> = lines
        .iter()
        .map(|l| {
            peers
                .iter()
                .enumerate()
                .filter_map(|(k, p)| Some((k, l.cell(p)?.headline()?)))
                .collect()
        })
        .collect();
    let (mut lo, mut hi) = (0.5f64, 2.0f64);
    for &(_, r) in heads.iter().flatten() {
        lo = lo.min(r / 1.3);
        hi = hi.max(r * 1.3);
    }

    // Powers of two, so that 2x and 0.5x sit as far from the line at 1x
    // (plotters' own ticks on a log scale leave out everything below 1).
    let ticks: Vec<f64> = (-10..=10)
        .map(|e| 2f64.powi(e))
        .filter(|t| (lo..=hi).contains(t))
        .collect();

    let n = lines.len().max(1);
    let width = (160 + 70 * n).max(720) as u32;
    let height = 600u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, body) = root.split_vertically(64);
        top.draw(&Text::new(
            "Zokio against its peers: ratio of medians, above 1x means Zokio did better",
            (12, 8),
            ("sans-serif", 20).into_font().color(&BLACK),
        ))?;
        top.draw(&Text::new(
            subtitle.to_string(),
            (12, 28),
            ("sans-serif", 14).into_font().color(&BLACK.mix(0.7)),
        ))?;
        // The legend: circles, so that every filled rectangle is a bar.
        let mut x = 12;
        for (k, p) in peers.iter().enumerate() {
            top.draw(&Circle::new((x + 5, 52), 5, colour(k).filled()))?;
            let label = format!("vs {p}");
            top.draw(&Text::new(
                label.clone(),
                (x + 14, 46),
                ("sans-serif", 15).into_font().color(&BLACK),
            ))?;
            x += 30 + 8 * label.len() as i32;
        }

        let mut chart = ChartBuilder::on(&body)
            .margin(12)
            .x_label_area_size(180)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..n as f64, (lo..hi).log_scale().with_key_points(ticks))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc("ratio (log scale)")
            .y_label_formatter(&|v| format!("{v}x"))
            .draw()?;

        for (i, bars) in heads.iter().enumerate() {
            let slot = 0.8 / bars.len().max(1) as f64;
            for (j, &(k, r)) in bars.iter().enumerate() {
                let x0 = i as f64 + 0.1 + slot * j as f64;
                let x1 = x0 + slot * 0.9;
                // Corners given top-left first: SVG rejects negative heights.
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, r.max(1.0)), (x1, r.min(1.0))],
                    colour(k).filled(),
                )))?;
                // The figure sits past the bar's far end from the 1x line.
                let anchor = if r >= 1.0 { VPos::Bottom } else { VPos::Top };
                let (px, py) = chart.backend_coord(&((x0 + x1) / 2.0, r));
                root.draw(&Text::new(
                    format!("{r:.2}"),
                    (px, py + if r >= 1.0 { -2 } else { 2 }),
                    // Smaller where three bars share a slot, so figures do not overlap.
                    ("sans-serif", if bars.len() > 2 { 11 } else { 13 })
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, anchor)),
                ))?;
            }
        }
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 1.0), (n as f64, 1.0)],
            BLACK.stroke_width(2),
        )))?;

        // Workload names under their bars, turned to read downwards, drawn in
        // pixels since the x axis is a plain number line.
        for (i, l) in lines.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(i as f64 + 0.5, lo));
            root.draw(&Text::new(
                l.name.clone(),
                (px, py + 8),
                ("sans-serif", 16)
                    .into_font()
                    .transform(FontTransform::Rotate90)
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        root.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::tests::line;

    fn hex(c: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    fn lines() -> Vec<Line> {
        vec![
            line("spawn_many_local", &[("tokio", &[1.8]), ("smol", &[0.7])]),
            line("ping_pong", &[("tokio", &[1.0]), ("smol", &[3.5])]),
            // A peer whose every row failed: no bar, and no bar drawn twice.
            line("imbalance", &[("tokio", &[0.4]), ("smol", &[])]),
            line("nop_rate", &[("raw", &[0.6, 0.9])]),
            line(
                "echo",
                &[
                    ("tokio", &[1.1, 1.3, 0.9]),
                    ("monoio", &[0.95]),
                    ("floor", &[0.5]),
                ],
            ),
            line("fs", &[("tokio", &[12.0]), ("std", &[0.2])]),
        ]
    }

    #[test]
    fn chart_is_svg_with_one_bar_per_workload_and_peer() {
        let lines = lines();
        let svg = render(&lines, "test run").unwrap();
        let doc = roxmltree::Document::parse(&svg).expect("the chart parses as XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );

        let rects: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("rect"))
            .collect();
        let peers = peers(&lines);
        let mut bars = 0;
        for (k, p) in peers.iter().enumerate() {
            let fill = hex(colour(k));
            let mine: Vec<_> = rects
                .iter()
                .filter(|r| r.attribute("fill") == Some(fill.as_str()))
                .collect();
            let want: Vec<&str> = lines
                .iter()
                .filter(|l| l.cell(p).and_then(|c| c.headline()).is_some())
                .map(|l| l.name.as_str())
                .collect();
            assert_eq!(
                mine.len(),
                want.len(),
                "bars vs {p}: want one for each of {want:?}"
            );
            // Left to right in workload order, each in a slot of its own.
            let xs: Vec<f64> = mine
                .iter()
                .map(|r| r.attribute("x").unwrap().parse().unwrap())
                .collect();
            assert!(xs.windows(2).all(|w| w[0] < w[1]), "bars vs {p} at {xs:?}");
            for r in &mine {
                let h: f64 = r.attribute("height").unwrap().parse().unwrap();
                let w: f64 = r.attribute("width").unwrap().parse().unwrap();
                assert!(h >= 0.0 && w > 0.0, "bar vs {p} is {w} x {h}");
            }
            bars += mine.len();
        }
        // 2 + 2 + 1 + 1 + 3 + 2: every headline, the failed smol row left out.
        assert_eq!(bars, 11);

        let texts: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text().map(|t| t.trim().to_string()))
            .collect();
        for l in &lines {
            assert!(texts.contains(&l.name), "no label {}", l.name);
        }
        for p in &peers {
            assert!(texts.contains(&format!("vs {p}")), "no legend for {p}");
        }
        // The 1x line: a path across the plot at a single height.
        let flat = doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .any(|n| {
                let ys: Vec<&str> = n
                    .attribute("points")
                    .unwrap_or("")
                    .split_whitespace()
                    .filter_map(|p| p.split(',').nth(1))
                    .collect();
                ys.len() == 2 && ys[0] == ys[1] && n.attribute("stroke-width") == Some("2")
            });
        assert!(flat, "no line at 1x");
    }

    #[test]
    fn write_makes_the_directory() {
        let dir = std::env::temp_dir().join(format!("zokio-bench-chart-{}", std::process::id()));
        let path = dir.join("nested").join("report.svg");
        write(&path, &lines(), "test run").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(roxmltree::Document::parse(&text).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn default_path_ends_in_the_bench_folder() {
        assert!(default_path().ends_with("zokio-bench/report.svg"));
    }
}
