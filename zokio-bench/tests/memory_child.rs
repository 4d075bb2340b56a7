//! The memory group's mimalloc child, driven through its protocol the way the
//! parent drives it: it must run under mimalloc, answer each request on one
//! line, report a bad request as an error and keep serving, and exit when its
//! input closes; without the allocator switch it must refuse to start.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const BENCH: &str = env!("CARGO_BIN_EXE_zokio-bench");

#[test]
fn the_mimalloc_child_answers_requests_and_exits_at_end_of_input() {
    let mut child = Command::new(BENCH)
        .args(["--memory-child", "zokio-system+mimalloc", "--workers", "2"])
        .env("ZOKIO_BENCH_ALLOCATOR", "mimalloc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut next = |line: &mut String| {
        line.clear();
        stdout.read_line(line).unwrap();
        line.trim_end().to_string()
    };
    assert_eq!(next(&mut line), "ok\t\tmimalloc");

    writeln!(stdin, "timed chained_spawn").unwrap();
    let answer = next(&mut line);
    let fields: Vec<&str> = answer.split('\t').collect();
    assert_eq!(fields[0], "ok", "{answer}");
    let figures: Vec<f64> = fields[1].split(' ').map(|f| f.parse().unwrap()).collect();
    assert_eq!(figures.len(), 3, "{answer}");
    assert!(figures[0] > 0.0, "a run takes time: {answer}");

    writeln!(stdin, "timed no_such_workload").unwrap();
    assert!(next(&mut line).starts_with("error\tunknown workload"));

    writeln!(stdin, "release").unwrap();
    assert_eq!(next(&mut line), "ok");
    writeln!(stdin, "timed chained_spawn").unwrap();
    assert!(next(&mut line).starts_with("error\tthe runtime was released"));

    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_mimalloc_contender_refuses_the_system_allocator() {
    let out = Command::new(BENCH)
        .args(["--memory-child", "zokio-system+mimalloc"])
        .env_remove("ZOKIO_BENCH_ALLOCATOR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs mimalloc"), "{err}");
}

#[test]
fn an_unknown_allocator_is_an_error_that_names_the_valid_ones() {
    let out = Command::new(BENCH)
        .arg("--quick")
        .env("ZOKIO_BENCH_ALLOCATOR", "jemalloc")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("use `system` or `mimalloc`"), "{err}");
}

#[test]
fn help_names_the_memory_group() {
    let out = Command::new(BENCH).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("memory (only when --only names it"));
}
