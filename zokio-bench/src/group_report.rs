//! Presentation of the driver groups (`nop_rate`, the timers, the
//! cross-thread wake): one row per comparison, Zokio against one peer (tokio,
//! or the raw io_uring ring), as a markdown table and as JSON.
//!
//! Like `report`, it only reads what was collected: it must never run, time
//! or discard samples. Every ratio is oriented so that above 1 means Zokio
//! did better (more operations per second, or less time).

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::groups::Group;
use crate::report::{fmt_value, samples_json};
use crate::stats::{ratio, Summary};
use crate::workloads::Unit;

/// What a row's samples count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Operations per second: more is better.
    Rate,
    /// Nanoseconds: less is better.
    Nanos,
    /// A count per unit of work (context switches per spawn): less is better.
    Count,
}

/// One contender's samples of one metric, one sample per measured run.
#[derive(Clone, Debug)]
pub struct Series {
    pub label: String,
    pub samples: Vec<f64>,
    pub error: Option<String>,
}

impl Series {
    fn median(&self) -> Option<f64> {
        Summary::of(&self.samples).map(|s| s.median)
    }
}

/// One comparison: Zokio's series against a peer's.
pub struct Row {
    pub case: String,
    pub metric: Metric,
    pub zokio: Series,
    /// `None` where nothing is comparable (nop on epoll never enters the kernel).
    pub peer: Option<Series>,
    /// How the ratio reads, e.g. `zokio/raw` or `tokio/zokio`.
    pub ratio_label: &'static str,
    /// The goal this row is held to, in words; empty for none.
    pub target: &'static str,
}

impl Row {
    /// Above 1 means Zokio did better, whatever the metric.
    pub fn ratio(&self) -> Option<f64> {
        let z = self.zokio.median()?;
        let p = self.peer.as_ref()?.median()?;
        match self.metric {
            Metric::Rate => ratio(z, p),
            Metric::Nanos | Metric::Count => ratio(p, z),
        }
    }
}

pub struct GroupResult {
    pub group: Group,
    pub warmup: usize,
    pub runs: usize,
    pub rows: Vec<Row>,
    /// Sizes, fairness choices and caveats, printed under the table.
    pub notes: Vec<String>,
}

pub fn table(results: &[GroupResult]) -> String {
    let mut out = String::new();
    out.push_str("| group | case | zokio | peer | ratio | target |\n");
    out.push_str("|---|---|---:|---:|---:|---|\n");
    for g in results {
        for r in &g.rows {
            let ratio = match (r.ratio(), &r.peer) {
                (Some(x), _) => format!("{x:.2} {}", r.ratio_label),
                (None, None) => "—".to_string(),
                (None, Some(_)) => "n/a".to_string(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                g.group.name(),
                r.case,
                fmt_metric(r.zokio.median(), r.metric),
                r.peer
                    .as_ref()
                    .map_or("—".to_string(), |p| fmt_metric(p.median(), r.metric)),
                ratio,
                r.target,
            );
        }
    }
    let notes: Vec<String> = results
        .iter()
        .flat_map(|g| {
            g.notes
                .iter()
                .map(move |n| format!("{}: {n}", g.group.name()))
                .chain(std::iter::once(format!(
                    "{}: medians of {} measured run(s) after {} warm-up per contender, \
                     contenders rotating from run to run",
                    g.group.name(),
                    g.runs,
                    g.warmup
                )))
        })
        .collect();
    if !notes.is_empty() {
        out.push_str("\nnotes:\n");
        for n in notes {
            let _ = writeln!(out, "- {n}");
        }
    }
    let mut errors: Vec<String> = Vec::new();
    for g in results {
        for r in &g.rows {
            for s in std::iter::once(&r.zokio).chain(r.peer.as_ref()) {
                if let Some(e) = &s.error {
                    let line = format!("{} on {}: {e}", g.group.name(), s.label);
                    if !errors.contains(&line) {
                        errors.push(line);
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        out.push_str("\nfailed:\n");
        for e in errors {
            let _ = writeln!(out, "- {e}");
        }
    }
    out
}

fn fmt_metric(v: Option<f64>, metric: Metric) -> String {
    match (v, metric) {
        (None, _) => "n/a".to_string(),
        (Some(v), Metric::Rate) if v >= 1e6 => format!("{:.2} M ops/s", v / 1e6),
        (Some(v), Metric::Rate) => format!("{:.1} k ops/s", v / 1e3),
        (Some(v), Metric::Nanos) => fmt_value(Some(v), Unit::Nanos),
        (Some(v), Metric::Count) => format!("{v:.2}"),
    }
}

fn series_json(s: &Series) -> Value {
    let mut entry = Map::new();
    entry.insert("label".into(), json!(s.label));
    entry.extend(samples_json(&s.samples, s.error.as_deref()));
    Value::Object(entry)
}

pub fn json(results: &[GroupResult]) -> Value {
    let groups: Vec<Value> = results
        .iter()
        .map(|g| {
            let rows: Vec<Value> = g
                .rows
                .iter()
                .map(|r| {
                    json!({
                        "case": r.case,
                        "unit": match r.metric {
                            Metric::Rate => "ops_per_second",
                            Metric::Nanos => "ns",
                            Metric::Count => "count_per_unit",
                        },
                        "zokio": series_json(&r.zokio),
                        "peer": r.peer.as_ref().map_or(Value::Null, series_json),
                        "ratio": r.ratio(),
                        "ratio_label": r.ratio_label,
                        "target": r.target,
                    })
                })
                .collect();
            json!({
                "name": g.group.name(),
                "warmup": g.warmup,
                "runs": g.runs,
                "notes": g.notes,
                "rows": rows,
            })
        })
        .collect();
    Value::Array(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(label: &str, samples: &[f64]) -> Series {
        Series {
            label: label.into(),
            samples: samples.to_vec(),
            error: None,
        }
    }

    fn result() -> GroupResult {
        GroupResult {
            group: Group::NopRate,
            warmup: 1,
            runs: 3,
            rows: vec![
                Row {
                    case: "depth 1".into(),
                    metric: Metric::Rate,
                    zokio: series("zokio", &[1e6, 2e6, 3e6]),
                    peer: Some(series("raw", &[4e6, 4e6, 4e6])),
                    ratio_label: "zokio/raw",
                    target: ">= 0.50",
                },
                Row {
                    case: "lateness p99".into(),
                    metric: Metric::Nanos,
                    zokio: series("zokio", &[1e6]),
                    peer: Some(series("tokio", &[3e6])),
                    ratio_label: "tokio/zokio",
                    target: "",
                },
                Row {
                    case: "epoll".into(),
                    metric: Metric::Rate,
                    zokio: Series {
                        label: "zokio epoll".into(),
                        samples: vec![],
                        error: Some("boom".into()),
                    },
                    peer: None,
                    ratio_label: "",
                    target: "not comparable",
                },
            ],
            notes: vec!["a note".into()],
        }
    }

    #[test]
    fn ratios_favour_zokio_above_one() {
        let g = result();
        assert_eq!(g.rows[0].ratio(), Some(0.5));
        assert_eq!(g.rows[1].ratio(), Some(3.0));
        assert_eq!(g.rows[2].ratio(), None);
    }

    #[test]
    fn table_has_rows_notes_and_failures() {
        let t = table(&[result()]);
        assert!(t.contains(
            "| nop_rate | depth 1 | 2.00 M ops/s | 4.00 M ops/s | 0.50 zokio/raw | >= 0.50 |"
        ));
        assert!(t.contains("| nop_rate | lateness p99 | 1.00 ms | 3.00 ms | 3.00 tokio/zokio |  |"));
        assert!(t.contains("| nop_rate | epoll | n/a | — | — | not comparable |"));
        assert!(t.contains("- nop_rate: a note"));
        assert!(t.contains("- nop_rate on zokio epoll: boom"));
    }

    #[test]
    fn json_keeps_samples_and_ratios() {
        let v = json(&[result()]);
        let rows = &v[0]["rows"];
        assert_eq!(rows[0]["zokio"]["samples"].as_array().unwrap().len(), 3);
        assert_eq!(rows[0]["ratio"], json!(0.5));
        assert_eq!(rows[0]["unit"], json!("ops_per_second"));
        assert_eq!(rows[2]["peer"], Value::Null);
        assert_eq!(rows[2]["zokio"]["error"], json!("boom"));
    }
}
