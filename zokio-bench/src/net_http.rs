//! The HTTP group's servers and load: hyper's hello world (HTTP/1.1,
//! keep-alive, `200 OK` with the body `Hello, World!`) on Zokio, run by the
//! very `serve` of `zokio/examples/http.rs`, and on tokio through
//! hyper-util's `TokioIo` with the same handler and the same http1 settings;
//! the load is `wrk` run as a child process, or, where `wrk` is missing, the
//! bench's own client (`net_client`) with as many connections.
//!
//! Workload code only: the cases and the table are in `net`.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

use crate::net_servers::{self, Server};

/// Zokio's hyper example, whose `serve` is the Zokio server here.
#[path = "../../zokio/examples/http.rs"]
#[allow(dead_code)]
mod http_example;

/// The HTTP server of `runtime` (`zokio` or `tokio`) on `workers` workers,
/// or the runtime-less `floor` (one thread, whatever `workers` says).
pub fn start(runtime: &str, workers: usize) -> io::Result<Server> {
    match runtime {
        "zokio" => net_servers::zokio(workers, |listener| async move {
            let _ = http_example::serve(listener).await;
        }),
        "tokio" => net_servers::tokio(workers, tokio_serve),
        "floor" => crate::net_floor::start(crate::net_floor::FloorReply::Http),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no HTTP server on `{other}`"),
        )),
    }
}

/// The example's handler, word for word: `200 OK`, `Hello, World!`.
async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        http_example::BODY.as_bytes(),
    ))))
}

/// The example's HTTP/1.1 path on tokio: `TCP_NODELAY`, keep-alive, hyper's
/// timer for its header-read timeout, a task per connection.
async fn tokio_serve(listener: tokio::net::TcpListener) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let _ = http1::Builder::new()
                .keep_alive(true)
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service_fn(hello))
                .await;
        });
    }
}

// ---------------------------------------------------------------- wrk

/// What one `wrk --latency` run printed.
#[derive(Clone, Debug, PartialEq)]
pub struct WrkReport {
    pub requests_per_sec: f64,
    pub p50_ns: f64,
    pub p99_ns: f64,
    pub requests: u64,
    /// Connect, read, write and timeout errors, added up.
    pub socket_errors: u64,
    pub non_2xx: u64,
    /// The server's CPU time per request in nanoseconds, where the caller
    /// measured it (wrk cannot); NaN otherwise.
    pub server_cpu_ns: f64,
    /// The server's context switches per request, where the caller measured
    /// them (wrk cannot); NaN otherwise.
    pub server_switches: f64,
    /// Zokio's driver system calls per request, from its own counters, where
    /// the caller read them; NaN otherwise.
    pub server_enters: f64,
    /// Zokio's system calls to wake a sleeping driver (eventfd writes, futex wakes),
    /// per request; NaN for the others.
    pub server_wakes: f64,
}

/// Whether `wrk` can be run here.
pub fn wrk_available() -> bool {
    Command::new("wrk")
        .arg("-v")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("wrk"))
}

/// `wrk -t{threads} -c{conns} -d{secs}s --latency http://addr/`, parsed.
/// Fails when wrk fails, or saw errors or a status other than 2xx/3xx.
pub fn wrk(addr: SocketAddr, threads: usize, conns: usize, secs: u64) -> io::Result<WrkReport> {
    let out = Command::new("wrk")
        .arg(format!("-t{threads}"))
        .arg(format!("-c{conns}"))
        .arg(format!("-d{secs}s"))
        .arg("--latency")
        .arg(format!("http://{addr}/"))
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "wrk exited with {}: {}{}",
            out.status,
            text.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let report = parse_wrk(&text)?;
    if report.socket_errors > 0 || report.non_2xx > 0 {
        return Err(io::Error::other(format!(
            "wrk saw {} socket error(s) and {} non-2xx/3xx response(s)",
            report.socket_errors, report.non_2xx
        )));
    }
    Ok(report)
}

/// Reads the figures out of `wrk --latency` output.
pub fn parse_wrk(text: &str) -> io::Result<WrkReport> {
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let mut rps = None;
    let (mut p50, mut p99) = (None, None);
    let mut requests = None;
    let (mut socket_errors, mut non_2xx) = (0, 0);
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            rps = Some(
                v.trim()
                    .parse::<f64>()
                    .map_err(|_| bad(format!("bad Requests/sec line `{line}`")))?,
            );
        } else if let Some(v) = line.strip_prefix("50%") {
            p50 = Some(parse_wrk_time(v.trim())?);
        } else if let Some(v) = line.strip_prefix("99%") {
            p99 = Some(parse_wrk_time(v.trim())?);
        } else if let Some((n, _)) = line.split_once(" requests in ") {
            requests = Some(
                n.trim()
                    .parse::<u64>()
                    .map_err(|_| bad(format!("bad request count line `{line}`")))?,
            );
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            for part in v.split(',') {
                let n = part.split_whitespace().nth(1).unwrap_or_default();
                socket_errors += n
                    .parse::<u64>()
                    .map_err(|_| bad(format!("bad socket errors line `{line}`")))?;
            }
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            non_2xx = v
                .trim()
                .parse()
                .map_err(|_| bad(format!("bad non-2xx line `{line}`")))?;
        }
    }
    let missing = |what: &str| bad(format!("no {what} in wrk's output:\n{text}"));
    Ok(WrkReport {
        requests_per_sec: rps.ok_or_else(|| missing("Requests/sec"))?,
        p50_ns: p50.ok_or_else(|| missing("50% latency (was --latency given?)"))?,
        p99_ns: p99.ok_or_else(|| missing("99% latency (was --latency given?)"))?,
        requests: requests.ok_or_else(|| missing("request count"))?,
        socket_errors,
        non_2xx,
        server_cpu_ns: f64::NAN,
        server_switches: f64::NAN,
        server_enters: f64::NAN,
        server_wakes: f64::NAN,
    })
}

/// A wrk duration (`351.00us`, `0.98ms`, `1.20s`, `2.00m`) in nanoseconds.
pub fn parse_wrk_time(s: &str) -> io::Result<f64> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let scale = match unit.trim() {
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unknown wrk time `{s}`"),
            ))
        }
    };
    num.parse::<f64>().map(|v| v * scale).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unknown wrk time `{s}`"),
        )
    })
}

/// The own client's figures in wrk's shape, for a run without wrk.
pub fn own_client(
    addr: SocketAddr,
    conns: usize,
    warmup: Duration,
    measure: Duration,
    counters: Option<&dyn Fn() -> zokio::runtime::IoCounters>,
) -> io::Result<WrkReport> {
    let request = crate::net_client::http_request(addr);
    let out = crate::net_client::run(&crate::net_client::Load {
        addr,
        conns,
        request: &request,
        reply: crate::net_client::Reply::Http,
        warmup,
        measure,
        server_io: counters,
    })?;
    Ok(WrkReport {
        requests_per_sec: out.rate(),
        p50_ns: out.latency(50.0),
        p99_ns: out.latency(99.0),
        requests: out.exchanges,
        socket_errors: 0,
        non_2xx: 0,
        server_cpu_ns: out.others_cpu_per_exchange(),
        server_switches: out.others_switches_per_exchange(),
        server_enters: out.server_io_per_exchange()[0],
        server_wakes: out.server_io_per_exchange()[2],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
Running 5s test @ http://127.0.0.1:40123/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   386.17us  154.42us   5.43ms   88.76%
    Req/Sec    82.28k     5.19k   89.95k    78.00%
  Latency Distribution
     50%  351.00us
     75%  431.00us
     90%  536.00us
     99%    0.98ms
  819008 requests in 5.00s, 101.54MB read
Requests/sec: 163779.36
Transfer/sec:     20.31MB
";

    #[test]
    fn parses_a_clean_run() {
        let r = parse_wrk(SAMPLE).unwrap();
        assert_eq!(r.requests_per_sec, 163779.36);
        assert!((r.p50_ns - 351_000.0).abs() < 1e-6);
        assert!((r.p99_ns - 980_000.0).abs() < 1e-6);
        assert_eq!(r.requests, 819008);
        assert_eq!((r.socket_errors, r.non_2xx), (0, 0));
    }

    #[test]
    fn parses_errors() {
        let text = SAMPLE.replace(
            "Requests/sec:",
            "  Socket errors: connect 1, read 2, write 0, timeout 4\n  \
             Non-2xx or 3xx responses: 7\nRequests/sec:",
        );
        let r = parse_wrk(&text).unwrap();
        assert_eq!((r.socket_errors, r.non_2xx), (7, 7));
    }

    #[test]
    fn rejects_output_without_latency() {
        let text: String = SAMPLE
            .lines()
            .filter(|l| !l.contains('%') || l.contains("Stdev"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(parse_wrk(&text).is_err());
        assert!(parse_wrk("").is_err());
    }

    #[test]
    fn wrk_times() {
        assert_eq!(parse_wrk_time("351.00us").unwrap(), 351_000.0);
        assert_eq!(parse_wrk_time("1.50ms").unwrap(), 1_500_000.0);
        assert_eq!(parse_wrk_time("2.00s").unwrap(), 2e9);
        assert_eq!(parse_wrk_time("1.00m").unwrap(), 60e9);
        assert!(parse_wrk_time("3.0parsecs").is_err());
        assert!(parse_wrk_time("us").is_err());
    }
}
