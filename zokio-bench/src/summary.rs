//! The summary printed before the detailed tables, and the data the chart
//! draws: one line per workload or group, with Zokio's headline ratio
//! against each peer that workload has.
//!
//! It only reads the ratios the detailed tables already show (each taken
//! from this run's medians, oriented so that above 1 means Zokio did
//! better); it must never time, run or drop samples, nor compute a ratio of
//! its own from raw figures. Where a workload has several rows against one
//! peer (cases, worker counts, figures), its headline is their geometric
//! mean, shown with the smallest and largest, so one good row cannot hide a
//! bad one.

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::fs_bench::FsResult;
use crate::group_report::GroupResult;
use crate::net::NetResult;
use crate::report::WorkloadResult;

/// Zokio against one peer in one workload: every ratio the detailed table
/// has for that pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub peer: String,
    pub ratios: Vec<f64>,
}

impl Cell {
    /// The geometric mean: the right mean for ratios, where 2× and 0.5×
    /// cancel out. `None` where every row failed.
    pub fn headline(&self) -> Option<f64> {
        let logs: Vec<f64> = self
            .ratios
            .iter()
            .filter(|r| r.is_finite() && **r > 0.0)
            .map(|r| r.ln())
            .collect();
        (!logs.is_empty()).then(|| (logs.iter().sum::<f64>() / logs.len() as f64).exp())
    }

    fn range(&self) -> Option<(f64, f64)> {
        let ok = self.ratios.iter().filter(|r| r.is_finite() && **r > 0.0);
        let min = ok.clone().copied().reduce(f64::min)?;
        let max = ok.copied().reduce(f64::max)?;
        Some((min, max))
    }
}

/// One workload or group.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub name: String,
    pub cells: Vec<Cell>,
}

impl Line {
    fn push(&mut self, peer: &str, ratio: Option<f64>) {
        let at = match self.cells.iter().position(|c| c.peer == peer) {
            Some(at) => at,
            None => {
                self.cells.push(Cell {
                    peer: peer.to_string(),
                    ratios: Vec::new(),
                });
                self.cells.len() - 1
            }
        };
        // A failed row stays out of the mean; the cell still exists, so the
        // table shows `n/a` rather than leaving the peer out silently.
        if let Some(r) = ratio {
            self.cells[at].ratios.push(r);
        }
    }

    pub fn cell(&self, peer: &str) -> Option<&Cell> {
        self.cells.iter().find(|c| c.peer == peer)
    }
}

pub fn workload_line(r: &WorkloadResult) -> Line {
    let mut line = Line {
        name: r.workload.name().to_string(),
        cells: Vec::new(),
    };
    for (peer, ratio) in r.ratios() {
        line.push(peer, ratio);
    }
    line
}

/// Rows whose ratio sets Zokio against a peer (`zokio/tokio`,
/// `tokio/zokio`, `zokio/raw`); rows comparing two parts of Zokio with each
/// other (`wrappers/bare`) or with no ratio are left to the details.
pub fn group_line(g: &GroupResult) -> Line {
    let mut line = Line {
        name: g.group.name().to_string(),
        cells: Vec::new(),
    };
    for row in &g.rows {
        let Some(peer) = peer_of(row.ratio_label) else {
            continue;
        };
        if row.peer.is_some() {
            line.push(peer, row.ratio());
        }
    }
    line
}

fn peer_of(ratio_label: &str) -> Option<&str> {
    match ratio_label.split_once('/')? {
        ("zokio", peer) | (peer, "zokio") if !peer.is_empty() && peer != "zokio" => Some(peer),
        _ => None,
    }
}

pub fn net_line(g: &NetResult) -> Line {
    let mut line = Line {
        name: g.group.name().to_string(),
        cells: Vec::new(),
    };
    for peer in g.group.peers() {
        for row in &g.rows {
            line.push(peer, row.ratio(peer));
        }
    }
    line
}

pub fn fs_line(r: &FsResult) -> Line {
    let mut line = Line {
        name: crate::fs_bench::NAME.to_string(),
        cells: Vec::new(),
    };
    for row in &r.rows {
        for (peer, ratio) in row.ratios() {
            line.push(peer, ratio);
        }
    }
    line
}

/// Every peer that any line has: the runtimes first, then `std::fs`, then
/// the bare rings (no runtime at all), then any other in the order it first
/// appears.
pub fn peers(lines: &[Line]) -> Vec<String> {
    const ORDER: [&str; 6] = ["tokio", "smol", "monoio", "std::fs", "raw", "floor"];
    let mut out: Vec<String> = Vec::new();
    for c in lines.iter().flat_map(|l| &l.cells) {
        if !out.contains(&c.peer) {
            out.push(c.peer.clone());
        }
    }
    out.sort_by_key(|p| ORDER.iter().position(|o| o == p).unwrap_or(ORDER.len()));
    out
}

pub fn table(lines: &[Line]) -> String {
    let peers = peers(lines);
    let mut out = String::from(
        "summary: Zokio against each peer, above 1x means Zokio did better\n\n| workload |",
    );
    for p in &peers {
        let _ = write!(out, " vs {p} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(peers.len()));
    out.push('\n');
    for l in lines {
        let _ = write!(out, "| {} |", l.name);
        for p in &peers {
            let text = match l.cell(p) {
                None => "".to_string(),
                Some(c) => match (c.headline(), c.range()) {
                    (None, _) | (_, None) => "n/a".to_string(),
                    (Some(h), Some(_)) if c.ratios.len() == 1 => format!("{h:.2}x"),
                    (Some(h), Some((lo, hi))) => {
                        format!("{h:.2}x ({lo:.2}-{hi:.2}, {} rows)", c.ratios.len())
                    }
                },
            };
            let _ = write!(out, " {text} |");
        }
        out.push('\n');
    }
    out.push_str(
        "\nWhere a workload has several rows against one peer (cases, worker counts, figures \
         such as rate, CPU time and context switches), its cell is their geometric mean, with \
         the smallest and largest in brackets. Each ratio is the detailed table's own, from \
         this run's medians. `floor` and `raw` are no runtime at all: a bare io_uring loop, \
         what the kernel alone costs.\n",
    );
    out
}

/// The summary for the JSON file: per line, per peer, the headline and the
/// ratios it was taken over.
pub fn json(lines: &[Line]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|l| {
            let mut peers = Map::new();
            for c in &l.cells {
                peers.insert(
                    c.peer.clone(),
                    json!({ "headline": c.headline(), "ratios": c.ratios }),
                );
            }
            json!({ "name": l.name, "peers": peers })
        })
        .collect();
    Value::Array(lines)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A summary line from (peer, ratios) pairs; the chart's tests use it too.
    pub(crate) fn line(name: &str, cells: &[(&str, &[f64])]) -> Line {
        Line {
            name: name.into(),
            cells: cells
                .iter()
                .map(|(p, r)| Cell {
                    peer: p.to_string(),
                    ratios: r.to_vec(),
                })
                .collect(),
        }
    }

    #[test]
    fn headline_is_the_geometric_mean() {
        let c = &line("x", &[("tokio", &[2.0, 0.5, 1.0])]).cells[0];
        assert!((c.headline().unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(c.range(), Some((0.5, 2.0)));
        let none = Cell {
            peer: "tokio".into(),
            ratios: vec![],
        };
        assert_eq!(none.headline(), None);
    }

    #[test]
    fn peers_come_from_ratio_labels() {
        assert_eq!(peer_of("zokio/raw"), Some("raw"));
        assert_eq!(peer_of("tokio/zokio"), Some("tokio"));
        assert_eq!(peer_of("wrappers/bare"), None);
        assert_eq!(peer_of(""), None);
    }

    #[test]
    fn table_has_a_line_per_workload_and_a_column_per_peer() {
        let lines = [
            line("ping_pong", &[("tokio", &[1.5]), ("smol", &[0.8])]),
            line("nop_rate", &[("raw", &[0.5])]),
            line("echo", &[("tokio", &[1.0, 4.0]), ("monoio", &[])]),
        ];
        let t = table(&lines);
        assert!(
            t.contains("| workload | vs tokio | vs smol | vs monoio | vs raw |"),
            "{t}"
        );
        assert!(t.contains("| ping_pong | 1.50x | 0.80x |  |  |"), "{t}");
        assert!(t.contains("| nop_rate |  |  |  | 0.50x |"), "{t}");
        assert!(
            t.contains("| echo | 2.00x (1.00-4.00, 2 rows) |  | n/a |  |"),
            "{t}"
        );
    }
}
