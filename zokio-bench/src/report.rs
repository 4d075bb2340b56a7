//! Presentation of collected samples: the markdown table and the JSON file.
//!
//! Reads results and formats them; it must never run, time or discard
//! samples, and must show every runtime the same way (Zokio is only the
//! denominator of the ratios).

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::stats::{ratio, Summary};
use crate::workloads::{Unit, Workload};

/// One runtime's samples of one workload.
pub struct RuntimeSamples {
    pub runtime: &'static str,
    pub samples: Vec<f64>,
    /// Why samples are missing, when a run failed.
    pub error: Option<String>,
}

pub struct WorkloadResult {
    pub workload: Workload,
    pub warmup: usize,
    pub runs: usize,
    pub runtimes: Vec<RuntimeSamples>,
}

impl WorkloadResult {
    fn median_of(&self, runtime: &str) -> Option<f64> {
        let r = self.runtimes.iter().find(|r| r.runtime == runtime)?;
        Summary::of(&r.samples).map(|s| s.median)
    }

    /// Each peer's median over Zokio's, as the table shows them: above 1
    /// means Zokio took less.
    pub fn ratios(&self) -> [(&'static str, Option<f64>); 2] {
        let zokio = self.median_of("zokio");
        let of = |peer| match (self.median_of(peer), zokio) {
            (Some(p), Some(z)) => ratio(p, z),
            _ => None,
        };
        [("tokio", of("tokio")), ("smol", of("smol"))]
    }
}

/// What the whole run was: printed above the table and stored in the JSON.
pub struct RunInfo {
    pub workers: usize,
    pub cpus: usize,
    pub quick: bool,
    pub plan: String,
}

pub fn header(info: &RunInfo) -> String {
    format!(
        "workers: {} | CPUs: {} | mode: {} | runs: {}\n",
        info.workers,
        info.cpus,
        if info.quick { "quick" } else { "full" },
        info.plan
    )
}

pub fn table(results: &[WorkloadResult]) -> String {
    let mut out = String::new();
    out.push_str(
        "| workload | zokio median | tokio median | smol median | tokio/zokio | smol/zokio |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|\n");
    for r in results {
        let unit = r.workload.unit();
        let zokio = r.median_of("zokio");
        let tokio = r.median_of("tokio");
        let smol = r.median_of("smol");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            r.workload.name(),
            fmt_value(zokio, unit),
            fmt_value(tokio, unit),
            fmt_value(smol, unit),
            fmt_ratio(tokio, zokio),
            fmt_ratio(smol, zokio),
        );
    }
    let errors: Vec<String> = results
        .iter()
        .flat_map(|r| {
            r.runtimes.iter().filter_map(move |s| {
                s.error
                    .as_ref()
                    .map(|e| format!("{} on {}: {e}", r.workload.name(), s.runtime))
            })
        })
        .collect();
    if !errors.is_empty() {
        out.push_str("\nfailed:\n");
        for e in errors {
            let _ = writeln!(out, "- {e}");
        }
    }
    out
}

pub(crate) fn fmt_value(v: Option<f64>, unit: Unit) -> String {
    let Some(v) = v else {
        return "n/a".to_string();
    };
    match unit {
        Unit::Bytes => format!("{v:.0} B"),
        Unit::Nanos if v < 1e3 => format!("{v:.0} ns"),
        Unit::Nanos if v < 1e6 => format!("{:.1} µs", v / 1e3),
        Unit::Nanos if v < 1e9 => format!("{:.2} ms", v / 1e6),
        Unit::Nanos => format!("{:.3} s", v / 1e9),
    }
}

fn fmt_ratio(peer: Option<f64>, zokio: Option<f64>) -> String {
    match (peer, zokio) {
        (Some(p), Some(z)) => ratio(p, z).map_or("n/a".to_string(), |r| format!("{r:.2}x")),
        _ => "n/a".to_string(),
    }
}

/// One contender's samples as JSON: their summary, the samples, and any error.
pub(crate) fn samples_json(samples: &[f64], error: Option<&str>) -> Map<String, Value> {
    let mut entry = Map::new();
    if let Some(sum) = Summary::of(samples) {
        entry.insert("median".into(), json!(sum.median));
        entry.insert("min".into(), json!(sum.min));
        entry.insert("max".into(), json!(sum.max));
        entry.insert("mean".into(), json!(sum.mean));
    }
    entry.insert("samples".into(), json!(samples));
    if let Some(e) = error {
        entry.insert("error".into(), json!(e));
    }
    entry
}

pub fn json(info: &RunInfo, results: &[WorkloadResult]) -> Value {
    let workloads: Vec<Value> = results
        .iter()
        .map(|r| {
            let mut runtimes = Map::new();
            for s in &r.runtimes {
                let entry = samples_json(&s.samples, s.error.as_deref());
                runtimes.insert(s.runtime.into(), Value::Object(entry));
            }
            let zokio = r.median_of("zokio");
            let ratio_of = |peer: &str| match (r.median_of(peer), zokio) {
                (Some(p), Some(z)) => json!(ratio(p, z)),
                _ => Value::Null,
            };
            json!({
                "name": r.workload.name(),
                "unit": match r.workload.unit() {
                    Unit::Nanos => "ns",
                    Unit::Bytes => "bytes_per_task",
                },
                "warmup": r.warmup,
                "runs": r.runs,
                "runtimes": runtimes,
                "tokio_over_zokio": ratio_of("tokio"),
                "smol_over_zokio": ratio_of("smol"),
            })
        })
        .collect();
    json!({
        "workers": info.workers,
        "cpus": info.cpus,
        "quick": info.quick,
        "plan": info.plan,
        "workloads": workloads,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> WorkloadResult {
        let rt = |runtime, samples: &[f64]| RuntimeSamples {
            runtime,
            samples: samples.to_vec(),
            error: None,
        };
        WorkloadResult {
            workload: Workload::PingPong,
            warmup: 1,
            runs: 3,
            runtimes: vec![
                rt("zokio", &[1e6, 2e6, 3e6]),
                rt("tokio", &[4e6, 4e6, 4e6]),
                RuntimeSamples {
                    runtime: "smol",
                    samples: vec![],
                    error: Some("boom".into()),
                },
            ],
        }
    }

    #[test]
    fn table_has_medians_ratios_and_failures() {
        let t = table(&[result()]);
        assert!(t.contains("| ping_pong | 2.00 ms | 4.00 ms | n/a | 2.00x | n/a |"));
        assert!(t.contains("ping_pong on smol: boom"));
    }

    #[test]
    fn json_keeps_all_samples() {
        let info = RunInfo {
            workers: 2,
            cpus: 2,
            quick: true,
            plan: String::new(),
        };
        let v = json(&info, &[result()]);
        let w = &v["workloads"][0];
        assert_eq!(
            w["runtimes"]["zokio"]["samples"].as_array().unwrap().len(),
            3
        );
        assert_eq!(w["runtimes"]["zokio"]["median"], json!(2e6));
        assert_eq!(w["tokio_over_zokio"], json!(2.0));
        assert_eq!(w["smol_over_zokio"], Value::Null);
    }
}
