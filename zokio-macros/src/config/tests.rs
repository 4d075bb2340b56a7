//! The parser against tokio's option set: what it accepts, and the exact words of
//! each rejection (tokio's, with `zokio::` for `tokio::`).

use super::*;
use quote::{quote, ToTokens};

fn ok(entry: Entry, args: TokenStream) -> Config {
    match parse(entry, args) {
        Ok(c) => c,
        Err(e) => panic!("expected Ok, got error: {e}"),
    }
}

/// Every error message, one per line.
fn err(entry: Entry, args: TokenStream) -> String {
    match parse(entry, args) {
        Ok(c) => panic!(
            "expected an error, got flavor {:?}, workers {:?}",
            c.flavor, c.worker_threads
        ),
        Err(e) => e
            .into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn path(c: &Config) -> String {
    c.crate_path.to_token_stream().to_string()
}

#[test]
fn defaults_differ_between_main_and_test() {
    let m = ok(Entry::Main, quote!());
    assert_eq!(m.flavor, Flavor::MultiThread);
    assert_eq!(m.worker_threads, None);
    assert_eq!(m.start_paused, None);
    assert_eq!(m.name, None);
    assert_eq!(path(&m), ":: zokio");

    let t = ok(Entry::Test, quote!());
    assert_eq!(t.flavor, Flavor::CurrentThread);
    assert_eq!(t.worker_threads, None);
}

#[test]
fn every_flavor_parses() {
    for (s, f) in [
        ("multi_thread", Flavor::MultiThread),
        ("current_thread", Flavor::CurrentThread),
        ("local", Flavor::Local),
        ("thread_per_core", Flavor::ThreadPerCore),
    ] {
        assert_eq!(ok(Entry::Main, quote!(flavor = #s)).flavor, f);
        assert_eq!(ok(Entry::Test, quote!(flavor = #s)).flavor, f);
    }
    assert_eq!(Flavor::Local.constructor(), "new_current_thread");
}

#[test]
fn worker_threads_in_either_order_and_trailing_comma() {
    let c = ok(
        Entry::Main,
        quote!(worker_threads = 4, flavor = "thread_per_core",),
    );
    assert_eq!(c.flavor, Flavor::ThreadPerCore);
    assert_eq!(c.worker_threads, Some(4));
    let c = ok(
        Entry::Test,
        quote!(flavor = "multi_thread", worker_threads = 2),
    );
    assert_eq!(c.worker_threads, Some(2));
    // The default main flavor is multi_thread, so no flavor is needed.
    assert_eq!(
        ok(Entry::Main, quote!(worker_threads = 1usize)).worker_threads,
        Some(1)
    );
}

#[test]
fn option_names_are_case_insensitive_as_in_tokio() {
    let c = ok(Entry::Main, quote!(Flavor = "current_thread", NAME = "n"));
    assert_eq!(c.flavor, Flavor::CurrentThread);
    assert_eq!(c.name.as_deref(), Some("n"));
}

#[test]
fn crate_path_override() {
    let c = ok(Entry::Main, quote!(crate = "my_reexport::zokio"));
    assert_eq!(path(&c), "my_reexport :: zokio");
    let c = ok(Entry::Test, quote!(crate = "crate"));
    assert_eq!(path(&c), "crate");
}

#[test]
fn name_on_every_flavor() {
    for flavor in ["multi_thread", "current_thread", "local", "thread_per_core"] {
        let c = ok(Entry::Main, quote!(flavor = #flavor, name = "my-runtime"));
        assert_eq!(c.name.as_deref(), Some("my-runtime"));
    }
}

#[test]
fn start_paused_on_single_threaded_flavors() {
    assert_eq!(
        ok(Entry::Test, quote!(start_paused = true)).start_paused,
        Some(true)
    );
    let c = ok(Entry::Main, quote!(flavor = "local", start_paused = false));
    assert_eq!(c.start_paused, Some(false));
}

/// Each rejection, in tokio's words.
#[test]
fn rejections_use_tokios_wording() {
    let cases: &[(Entry, TokenStream, &str)] = &[
        (
            Entry::Main,
            quote!(flavor = "current_thread", worker_threads = 2),
            "The `worker_threads` option requires the `multi_thread` runtime flavor. \
             Use `#[zokio::main(flavor = \"multi_thread\")]`",
        ),
        (
            Entry::Test,
            quote!(worker_threads = 2),
            "The `worker_threads` option requires the `multi_thread` runtime flavor. \
             Use `#[zokio::test(flavor = \"multi_thread\")]`",
        ),
        (
            Entry::Main,
            quote!(flavor = "local", worker_threads = 2),
            "The `worker_threads` option requires the `multi_thread` runtime flavor. \
             Use `#[zokio::main(flavor = \"multi_thread\")]`",
        ),
        (
            Entry::Main,
            quote!(start_paused = false),
            "The `start_paused` option requires the `current_thread` runtime flavor. \
             Use `#[zokio::main(flavor = \"current_thread\")]`",
        ),
        (
            Entry::Test,
            quote!(flavor = "thread_per_core", start_paused = true),
            "The `start_paused` option requires the `current_thread` runtime flavor. \
             Use `#[zokio::test(flavor = \"current_thread\")]`",
        ),
        (
            Entry::Main,
            quote!(unhandled_panic = "ignore"),
            "The `unhandled_panic` option requires the `current_thread` runtime flavor. \
             Use `#[zokio::main(flavor = \"current_thread\")]`",
        ),
        (
            Entry::Test,
            quote!(unhandled_panic = "abort"),
            "No such unhandled panic behavior `abort`. The unhandled panic behaviors are \
             `ignore` and `shutdown_runtime`.",
        ),
        (
            Entry::Main,
            quote!(worker_threads = 0),
            "`worker_threads` may not be 0.",
        ),
        (
            Entry::Main,
            quote!(worker_threads = "4"),
            "Failed to parse value of `worker_threads` as integer.",
        ),
        (
            Entry::Main,
            quote!(worker_threads = 99999999999999999999999999),
            "Failed to parse value of `worker_threads` as integer: number too large to fit \
             in target type",
        ),
        (Entry::Main, quote!(worker_threads = N), "Must be a literal"),
        (
            Entry::Main,
            quote!(flavor = multi_thread),
            "Must be a literal",
        ),
        (
            Entry::Main,
            quote!(flavor = 1),
            "Failed to parse value of `flavor` as string.",
        ),
        (
            Entry::Main,
            quote!(flavor = "nope"),
            "No such runtime flavor `nope`. The runtime flavors are `current_thread`, \
             `local`, `multi_thread`, and `thread_per_core`.",
        ),
        (
            Entry::Main,
            quote!(flavor = "single_thread"),
            "The single threaded runtime flavor is called `current_thread`.",
        ),
        (
            Entry::Main,
            quote!(flavor = "basic_scheduler"),
            "The `basic_scheduler` runtime flavor has been renamed to `current_thread`.",
        ),
        (
            Entry::Main,
            quote!(flavor = "threaded_scheduler"),
            "The `threaded_scheduler` runtime flavor has been renamed to `multi_thread`.",
        ),
        (
            Entry::Test,
            quote!(start_paused = 1),
            "Failed to parse value of `start_paused` as bool.",
        ),
        (
            Entry::Main,
            quote!(crate = "not a path"),
            "Failed to parse value of `crate` as path: \"not a path\"",
        ),
        (
            Entry::Main,
            quote!(crate = 3),
            "Failed to parse value of `crate` as path.",
        ),
        (
            Entry::Main,
            quote!(name = 3),
            "Failed to parse value of `name` as string.",
        ),
        (
            Entry::Main,
            quote!(core_threads = 4),
            "Attribute `core_threads` is renamed to `worker_threads`",
        ),
        (
            Entry::Main,
            quote!(bogus = 1),
            "Unknown attribute bogus is specified; expected one of: `flavor`, \
             `worker_threads`, `start_paused`, `crate`, `unhandled_panic`, `name`.",
        ),
        (
            Entry::Test,
            quote!(multi_thread),
            "Set the runtime flavor with #[zokio::test(flavor = \"multi_thread\")].",
        ),
        (
            Entry::Main,
            quote!(threaded_scheduler),
            "Set the runtime flavor with #[zokio::main(flavor = \"multi_thread\")].",
        ),
        (
            Entry::Main,
            quote!(basic_scheduler),
            "Set the runtime flavor with #[zokio::main(flavor = \"current_thread\")].",
        ),
        (
            Entry::Main,
            quote!(name),
            "The `name` attribute requires an argument.",
        ),
        (
            Entry::Main,
            quote!(bogus),
            "Unknown attribute bogus is specified; expected one of: `flavor`, \
             `worker_threads`, `start_paused`, `crate`, `unhandled_panic`, `name`.",
        ),
        (Entry::Main, quote!(a::b = 1), "Must have specified ident"),
        (Entry::Main, quote!(a::b), "Must have specified ident"),
        (
            Entry::Main,
            quote!(flavor("multi_thread")),
            "Unknown attribute inside the macro",
        ),
        (
            Entry::Main,
            quote!(flavor = "multi_thread", flavor = "current_thread"),
            "`flavor` set multiple times.",
        ),
        (
            Entry::Main,
            quote!(worker_threads = 1, worker_threads = 2),
            "`worker_threads` set multiple times.",
        ),
        (
            Entry::Test,
            quote!(start_paused = true, start_paused = true),
            "`start_paused` set multiple times.",
        ),
        (
            Entry::Main,
            quote!(crate = "a", crate = "b"),
            "`crate` set multiple times.",
        ),
        (
            Entry::Main,
            quote!(name = "a", name = "b"),
            "`name` set multiple times.",
        ),
    ];
    for (entry, args, expected) in cases {
        assert_eq!(&err(*entry, args.clone()), expected, "for {args}");
    }
}

#[test]
fn unhandled_panic_is_refused_even_where_tokio_takes_it() {
    for flavor in ["current_thread", "local"] {
        for behavior in ["ignore", "shutdown_runtime"] {
            let e = err(
                Entry::Test,
                quote!(flavor = #flavor, unhandled_panic = #behavior),
            );
            assert_eq!(e, UNHANDLED_PANIC_UNSUPPORTED, "{flavor}, {behavior}");
        }
    }
    assert!(UNHANDLED_PANIC_UNSUPPORTED.contains("tokio_unstable"));
}

#[test]
fn all_errors_reported_together() {
    let e = err(
        Entry::Main,
        quote!(flavor = "nope", worker_threads = 0, bogus),
    );
    assert_eq!(e.lines().count(), 3, "{e}");
}

#[test]
fn malformed_argument_list() {
    let e = err(Entry::Main, quote!(4));
    assert!(!e.is_empty());
}
