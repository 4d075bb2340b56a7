//! The memory group's contender that needs a global allocator of its own
//! (`zokio-system+mimalloc`): a child process of this same binary, started
//! with `alloc_switch::ENV` set, that runs one sample at a time when the
//! parent asks, so it takes its turn in the parent's rotating rounds like
//! every other contender.
//!
//! The child runs the very code the parent runs for the others
//! (`memory::measure_timed`, `net::echo_once`) and times itself; the parent
//! only passes requests and answers, outside any timed window. Protocol: one
//! request per line on the child's stdin, one answer per line on its stdout
//! (`ok` and tab-separated fields, or `error` and a message); the child's
//! stdout must carry nothing else. The child dies with its parent.

use std::io::{self, BufRead, BufReader, Write};
use std::panic::{self, AssertUnwindSafe};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::affinity::Placement;
use crate::workloads::{Contender, Workload};
use crate::{alloc_switch, memory, net, panic_message, runtimes};

/// Hidden flag that turns this binary into the child.
pub const CHILD_FLAG: &str = "--memory-child";

/// How long the child may take to exit once its stdin closes.
const EXIT_LIMIT: Duration = Duration::from_secs(10);

/// One sample's answer from the child.
pub struct Answer {
    pub figures: Vec<f64>,
    /// Extra words an echo run reports: its server's driver and placement.
    pub words: Vec<String>,
}

/// The parent's end of a running child.
pub struct ChildContender {
    name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl ChildContender {
    /// Starts the child for contender `name` (a `+mimalloc` name) with
    /// `workers` workers, and waits until it says it is ready.
    pub fn start(name: &'static str, workers: usize) -> io::Result<ChildContender> {
        let (_, allocator) = runtimes::split_allocator(name);
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .arg(CHILD_FLAG)
            .arg(name)
            .arg("--workers")
            .arg(workers.to_string())
            .env(alloc_switch::ENV, allocator.name())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| io::Error::other(format!("starting the {name} child: {e}")))?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .map(BufReader::new)
            .ok_or_else(|| io::Error::other("the child has no stdout"))?;
        let mut me = ChildContender {
            name,
            child,
            stdin,
            stdout,
        };
        me.read_answer()?;
        Ok(me)
    }

    fn read_answer(&mut self) -> io::Result<Answer> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            return Err(io::Error::other(format!(
                "the {} child exited (see its messages above)",
                self.name
            )));
        }
        parse_answer(line.trim_end_matches('\n')).map_err(io::Error::other)
    }

    fn ask(&mut self, request: &str) -> io::Result<Answer> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::other("the child's stdin is closed"))?;
        writeln!(stdin, "{request}")?;
        stdin.flush()?;
        self.read_answer()
    }

    /// One timed sample of `w`: the figures of `memory::measure_timed`.
    /// Panics on failure, for the rounds to record.
    pub fn timed(&mut self, w: Workload) -> Vec<f64> {
        self.ask(&format!("timed {}", w.name()))
            .unwrap_or_else(|e| panic!("{} child, {}: {e}", self.name, w.name()))
            .figures
    }

    /// Drops the child's scheduler runtime, so it sits idle no more while
    /// the later parts run.
    pub fn release(&mut self) -> io::Result<()> {
        self.ask("release").map(drop)
    }

    /// One echo run, as `net::echo_once` (figures, driver, placement).
    /// Panics on failure, for the rounds to record.
    pub fn echo(&mut self, bytes: usize, conns: usize, w: Placement, quick: bool) -> net::EchoRun {
        let a = self
            .ask(&format!(
                "echo {bytes} {conns} {} {}",
                w.flag(),
                u8::from(quick)
            ))
            .unwrap_or_else(|e| panic!("{} child, echo: {e}", self.name));
        let mut words = a.words.into_iter();
        net::EchoRun {
            figures: a.figures,
            driver: words.next().unwrap_or_default(),
            placement: words.next().unwrap_or_default(),
        }
    }
}

impl Drop for ChildContender {
    fn drop(&mut self) {
        // End of input is the child's signal to exit.
        drop(self.stdin.take());
        let deadline = Instant::now() + EXIT_LIMIT;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => thread::sleep(Duration::from_millis(5)),
            }
        }
        eprintln!(
            "zokio-bench: the {} child did not exit within {EXIT_LIMIT:?}; killing it",
            self.name
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ok<TAB>figures<TAB>word...` or `error<TAB>message`.
fn parse_answer(line: &str) -> Result<Answer, String> {
    let mut fields = line.split('\t');
    match fields.next() {
        Some("ok") => {
            let figures = match fields.next() {
                None | Some("") => Vec::new(),
                Some(list) => list
                    .split(' ')
                    .map(|v| v.parse::<f64>().map_err(|_| format!("bad figure `{v}`")))
                    .collect::<Result<_, _>>()?,
            };
            Ok(Answer {
                figures,
                words: fields.map(str::to_string).collect(),
            })
        }
        Some("error") => Err(fields.collect::<Vec<_>>().join(" ")),
        _ => Err(format!("the child answered {line:?}")),
    }
}

fn format_ok(figures: &[f64], words: &[&str]) -> String {
    let list: Vec<String> = figures.iter().map(f64::to_string).collect();
    let mut line = format!("ok\t{}", list.join(" "));
    for w in words {
        line.push('\t');
        line.push_str(&one_line(w));
    }
    line
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\t'], " ")
}

/// The child's whole life: builds the contender, answers requests until
/// its stdin closes.
pub fn child_main(name: &str, workers: usize) -> Result<(), String> {
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and changes
    // only this process's own death signal.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    let mut rt: Option<Box<dyn Contender>> =
        Some(runtimes::build(name, workers).map_err(|e| e.to_string())?);
    let stdout = io::stdout();
    let say = |line: String| -> Result<(), String> {
        let mut out = stdout.lock();
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("writing to the parent: {e}"))
    };
    say(format_ok(&[], &[alloc_switch::current().name()]))?;
    for line in io::stdin().lock().lines() {
        let line = line.map_err(|e| format!("reading from the parent: {e}"))?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = panic::catch_unwind(AssertUnwindSafe(|| -> Result<String, String> {
            match words.as_slice() {
                ["timed", workload] => {
                    let w = Workload::from_name(workload)
                        .ok_or_else(|| format!("unknown workload `{workload}`"))?;
                    let rt = rt.as_deref().ok_or("the runtime was released already")?;
                    Ok(format_ok(&memory::measure_timed(rt, w), &[]))
                }
                ["release"] => {
                    rt = None;
                    Ok(format_ok(&[], &[]))
                }
                ["echo", bytes, conns, placement, quick] => {
                    let bytes = bytes.parse().map_err(|_| "bad echo size")?;
                    let conns = conns.parse().map_err(|_| "bad connection count")?;
                    let w = Placement::parse(placement)?;
                    let run = net::echo_once(name, bytes, conns, w, *quick == "1");
                    Ok(format_ok(&run.figures, &[&run.driver, &run.placement]))
                }
                _ => Err(format!("unknown request `{line}`")),
            }
        }));
        let reply = match answer {
            Ok(Ok(ok)) => ok,
            Ok(Err(e)) => format!("error\t{}", one_line(&e)),
            Err(p) => format!("error\t{}", one_line(&panic_message(&*p))),
        };
        say(reply)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip() {
        let line = format_ok(&[1.5, f64::NAN, 3.0], &["io_uring", "server on\tCPU 0"]);
        let a = parse_answer(&line).unwrap();
        assert_eq!(a.figures.len(), 3);
        assert_eq!((a.figures[0], a.figures[2]), (1.5, 3.0));
        assert!(a.figures[1].is_nan());
        assert_eq!(a.words, vec!["io_uring", "server on CPU 0"]);
        let empty = parse_answer(&format_ok(&[], &[])).unwrap();
        assert!(empty.figures.is_empty() && empty.words.is_empty());
    }

    #[test]
    fn errors_and_garbage_are_errors() {
        assert_eq!(
            parse_answer("error\tno ring").err().as_deref(),
            Some("no ring")
        );
        assert!(parse_answer("hello").is_err());
        assert!(parse_answer("ok\t1 x").is_err());
    }
}
