//! Compiles and runs real expansions against a stand-in `runtime` module.
//!
//! The real runtime cannot be used here: `zokio` depends on this crate, so
//! pulling it in would make these tests depend on the runtime building. The
//! stand-in records which builder calls were made so the tests can check
//! that the arguments reached the runtime. This file must never grow real
//! scheduling logic; it only has to drive simple futures to completion.

// Makes the default `::zokio` path resolve to this test crate, whose
// `runtime` module stands in for the real one.
extern crate self as zokio;

pub mod runtime {
    use std::cell::RefCell;
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct Record {
        pub constructor: &'static str,
        pub worker_threads: Option<usize>,
        pub start_paused: Option<bool>,
        pub name: Option<String>,
        pub enable_all: bool,
        /// Built with `build_local`.
        pub local: bool,
    }

    #[derive(Default)]
    pub struct LocalOptions {}

    thread_local! {
        // Set while `block_on` runs, so a body can ask which runtime runs it.
        static CURRENT: RefCell<Option<Record>> = const { RefCell::new(None) };
    }

    /// The builder configuration of the runtime currently blocking this thread.
    pub fn current() -> Record {
        CURRENT
            .with(|c| c.borrow().clone())
            .expect("not inside block_on")
    }

    pub struct Builder(Record);

    impl Builder {
        fn new(constructor: &'static str) -> Builder {
            Builder(Record {
                constructor,
                ..Record::default()
            })
        }
        pub fn new_multi_thread() -> Builder {
            Builder::new("new_multi_thread")
        }
        pub fn new_current_thread() -> Builder {
            Builder::new("new_current_thread")
        }
        pub fn new_thread_per_core() -> Builder {
            Builder::new("new_thread_per_core")
        }
        pub fn worker_threads(&mut self, n: usize) -> &mut Self {
            self.0.worker_threads = Some(n);
            self
        }
        pub fn start_paused(&mut self, paused: bool) -> &mut Self {
            self.0.start_paused = Some(paused);
            self
        }
        pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
            self.0.name = Some(name.into());
            self
        }
        pub fn build_local(&mut self, _options: LocalOptions) -> std::io::Result<Runtime> {
            self.0.local = true;
            self.build()
        }
        pub fn enable_all(&mut self) -> &mut Self {
            self.0.enable_all = true;
            self
        }
        pub fn build(&mut self) -> std::io::Result<Runtime> {
            Ok(Runtime(self.0.clone()))
        }
    }

    pub struct Runtime(Record);

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    impl Runtime {
        pub fn block_on<F: Future>(&self, f: F) -> F::Output {
            CURRENT.with(|c| *c.borrow_mut() = Some(self.0.clone()));
            let waker = Waker::from(Arc::new(Noop));
            let mut cx = Context::from_waker(&waker);
            let mut f = pin!(f);
            let out = loop {
                if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                    break v;
                }
            };
            CURRENT.with(|c| *c.borrow_mut() = None);
            out
        }
    }
}

/// Lives under another name to exercise `crate = "..."`.
pub mod reexport {
    pub use crate as zk;
}

use runtime::{current, Record};

fn record(constructor: &'static str, worker_threads: Option<usize>) -> Record {
    Record {
        constructor,
        worker_threads,
        enable_all: true,
        ..Record::default()
    }
}

#[zokio_macros::test]
async fn test_defaults_to_current_thread() {
    assert_eq!(current(), record("new_current_thread", None));
}

#[zokio_macros::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_multi_thread_with_workers() {
    assert_eq!(current(), record("new_multi_thread", Some(2)));
}

#[zokio_macros::test(flavor = "thread_per_core")]
async fn test_thread_per_core() {
    assert_eq!(current(), record("new_thread_per_core", None));
}

#[zokio_macros::test(crate = "crate::reexport::zk")]
async fn test_crate_path_override() {
    assert_eq!(current(), record("new_current_thread", None));
}

#[derive(Debug)]
struct MyError;

fn fallible(ok: bool) -> Result<u32, MyError> {
    if ok {
        Ok(7)
    } else {
        Err(MyError)
    }
}

#[zokio_macros::test]
async fn test_result_return_and_question_mark() -> Result<(), MyError> {
    let v = fallible(true)?;
    assert_eq!(v, 7);
    Ok(())
}

// `#[should_panic]` cannot be combined with a `Result` return, so the error
// path is checked through #[zokio::main], whose expansion is the same.
#[zokio_macros::main(flavor = "current_thread")]
async fn propagates_err() -> Result<u32, MyError> {
    let v = fallible(false)?;
    Ok(v)
}

#[test]
fn question_mark_error_reaches_the_caller() {
    assert!(matches!(propagates_err(), Err(MyError)));
}

// Already marked: the macro must not add a second #[test], which would make
// the harness run (and list) it twice.
#[zokio_macros::test]
#[test]
async fn test_with_explicit_test_attr() {
    let _ = current();
}

#[zokio_macros::test]
async fn test_inner_attribute_and_early_return() {
    #![allow(unreachable_code)]
    if current().enable_all {
        return;
    }
    panic!("enable_all was not called");
}

#[zokio_macros::test]
async fn test_awaits_inside_body() {
    async fn double(x: u32) -> u32 {
        x * 2
    }
    assert_eq!(double(21).await, 42);
}

#[zokio_macros::main]
async fn main_default() -> Record {
    current()
}

#[zokio_macros::main(worker_threads = 3)]
pub(crate) async fn main_with_workers() -> Record {
    current()
}

#[zokio_macros::main(flavor = "current_thread")]
async fn main_current_thread() -> Record {
    current()
}

#[zokio_macros::main]
async fn non_main_with_args(a: u32, b: String) -> String {
    format!("{b}{a}")
}

#[test]
fn main_flavors_reach_the_builder() {
    assert_eq!(main_default(), record("new_multi_thread", None));
    assert_eq!(main_with_workers(), record("new_multi_thread", Some(3)));
    assert_eq!(main_current_thread(), record("new_current_thread", None));
}

#[test]
fn main_on_a_non_main_fn_becomes_sync() {
    let s: String = non_main_with_args(1, "x".to_owned());
    assert_eq!(s, "x1");
}

#[zokio_macros::test(flavor = "local")]
async fn test_local_flavor_builds_a_local_runtime() {
    let expected = Record {
        local: true,
        ..record("new_current_thread", None)
    };
    assert_eq!(current(), expected);
}

#[zokio_macros::test(flavor = "local", start_paused = true, name = "rt-name")]
async fn test_local_flavor_with_start_paused_and_name() {
    let expected = Record {
        local: true,
        start_paused: Some(true),
        name: Some("rt-name".to_owned()),
        ..record("new_current_thread", None)
    };
    assert_eq!(current(), expected);
}

#[zokio_macros::main(flavor = "thread_per_core", worker_threads = 2, name = "main-rt")]
async fn main_named() -> Record {
    current()
}

#[zokio_macros::test(start_paused = false)]
async fn test_start_paused_false_reaches_the_builder() {
    let expected = Record {
        start_paused: Some(false),
        ..record("new_current_thread", None)
    };
    assert_eq!(current(), expected);
}

#[test]
fn name_reaches_the_builder() {
    let expected = Record {
        name: Some("main-rt".to_owned()),
        ..record("new_thread_per_core", Some(2))
    };
    assert_eq!(main_named(), expected);
}
