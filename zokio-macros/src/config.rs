//! Argument parsing for `#[zokio::main(...)]` and `#[zokio::test(...)]`.
//!
//! This module turns the attribute's argument tokens into a [`Config`] and
//! nothing else. It must never emit code or look at the annotated function:
//! that is `expand`'s job, and keeping the two apart is what lets the parser
//! be unit-tested on plain `proc_macro2` tokens. Every rejection is a
//! `syn::Error` spanned on the offending argument, so the user's editor
//! underlines the exact option that is wrong.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Lit, Meta, Token};

/// Which attribute is being expanded; the two differ in defaults and in the
/// options they accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    Main,
    Test,
}

impl Entry {
    fn attr_name(self) -> &'static str {
        match self {
            Entry::Main => "#[zokio::main]",
            Entry::Test => "#[zokio::test]",
        }
    }

    /// Matches tokio: a program gets every core, a test gets a cheap
    /// deterministic single-threaded runtime.
    fn default_flavor(self) -> Flavor {
        match self {
            Entry::Main => Flavor::MultiThread,
            Entry::Test => Flavor::CurrentThread,
        }
    }
}

/// The runtime flavor, one per `Builder` constructor in `zokio::runtime`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    MultiThread,
    CurrentThread,
    ThreadPerCore,
}

impl Flavor {
    const ALL: [Flavor; 3] = [
        Flavor::MultiThread,
        Flavor::CurrentThread,
        Flavor::ThreadPerCore,
    ];

    /// The spelling users write in `flavor = "..."`.
    fn name(self) -> &'static str {
        match self {
            Flavor::MultiThread => "multi_thread",
            Flavor::CurrentThread => "current_thread",
            Flavor::ThreadPerCore => "thread_per_core",
        }
    }

    /// The `zokio::runtime::Builder` associated function that starts a
    /// builder of this flavor.
    pub(crate) fn constructor(self) -> &'static str {
        match self {
            Flavor::MultiThread => "new_multi_thread",
            Flavor::CurrentThread => "new_current_thread",
            Flavor::ThreadPerCore => "new_thread_per_core",
        }
    }

    fn from_name(name: &str) -> Option<Flavor> {
        Flavor::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Everything the expansion needs to know about the runtime to build.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) flavor: Flavor,
    /// `None` leaves the count to the runtime (one worker per available CPU).
    pub(crate) worker_threads: Option<usize>,
    /// Start the runtime with its clock paused (current-thread only).
    pub(crate) start_paused: bool,
    /// Path under which `runtime::Builder` is found; overridable so crates
    /// that re-export zokio under another name can still use the macros.
    pub(crate) crate_path: syn::Path,
}

impl Config {
    /// The configuration used when the user gave no arguments, and also the
    /// one `expand` falls back to after an argument error, so the function is
    /// still emitted and only the real mistake is reported.
    pub(crate) fn default_for(entry: Entry) -> Config {
        Config {
            flavor: entry.default_flavor(),
            worker_threads: None,
            start_paused: false,
            crate_path: syn::parse_quote!(::zokio),
        }
    }
}

const ALLOWED: &str = "`flavor`, `worker_threads`, `start_paused`, `crate`";
const FLAVORS: &str = "\"multi_thread\", \"current_thread\", \"thread_per_core\"";

/// Parses the tokens between the attribute's parentheses.
///
/// All problems found are reported together rather than stopping at the
/// first, so one compile shows the user every option that needs fixing.
pub(crate) fn parse(entry: Entry, args: TokenStream) -> syn::Result<Config> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;

    let mut errors = Errors::default();
    let mut flavor: Option<Flavor> = None;
    let mut workers: Option<(usize, &Meta)> = None;
    let mut crate_path: Option<syn::Path> = None;
    let mut start_paused: Option<(bool, &Meta)> = None;
    let mut seen: Vec<String> = Vec::new();

    for meta in &metas {
        let name = meta
            .path()
            .get_ident()
            .map(|ident| ident.to_string())
            .unwrap_or_else(|| path_to_string(meta.path()));

        let known = matches!(
            name.as_str(),
            "flavor" | "worker_threads" | "start_paused" | "crate"
        );
        if known {
            if seen.contains(&name) {
                errors.push(syn::Error::new_spanned(
                    meta,
                    format!("`{name}` is given more than once"),
                ));
                continue;
            }
            seen.push(name.clone());
        }

        match name.as_str() {
            "flavor" => match parse_flavor(meta) {
                Ok(f) => flavor = Some(f),
                Err(e) => errors.push(e),
            },
            "worker_threads" => match parse_worker_threads(meta) {
                Ok(n) => workers = Some((n, meta)),
                Err(e) => errors.push(e),
            },
            "crate" => match parse_crate_path(meta) {
                Ok(p) => crate_path = Some(p),
                Err(e) => errors.push(e),
            },
            "start_paused" => match parse_start_paused(meta) {
                Ok(b) => start_paused = Some((b, meta)),
                Err(e) => errors.push(e),
            },
            _ => errors.push(syn::Error::new_spanned(
                meta.path(),
                format!(
                    "unknown option `{name}` for {}; expected one of {ALLOWED}",
                    entry.attr_name()
                ),
            )),
        }
    }

    let explicit_flavor = flavor.is_some();
    let flavor = flavor.unwrap_or(entry.default_flavor());

    // Checked after the loop so the result does not depend on whether the
    // user wrote `flavor` before or after `worker_threads`.
    if let (Flavor::CurrentThread, Some((_, meta))) = (flavor, workers) {
        let why = if explicit_flavor {
            "the `current_thread` flavor"
        } else {
            "the `current_thread` flavor (the default for #[zokio::test])"
        };
        errors.push(syn::Error::new_spanned(
            meta,
            format!(
                "`worker_threads` cannot be used with {why}, which runs every task on \
                 the calling thread; add `flavor = \"multi_thread\"` or \
                 `flavor = \"thread_per_core\"`"
            ),
        ));
    }

    if let (Some((true, meta)), false) = (start_paused, flavor == Flavor::CurrentThread) {
        errors.push(syn::Error::new_spanned(
            meta,
            "`start_paused = true` needs the `current_thread` flavor: a paused clock is only \
             deterministic with a single thread; add `flavor = \"current_thread\"`",
        ));
    }

    errors.finish()?;
    let defaults = Config::default_for(entry);
    Ok(Config {
        flavor,
        worker_threads: workers.map(|(n, _)| n),
        start_paused: start_paused.is_some_and(|(b, _)| b),
        crate_path: crate_path.unwrap_or(defaults.crate_path),
    })
}

fn parse_flavor(meta: &Meta) -> syn::Result<Flavor> {
    let msg = format!("`flavor` expects a string literal, one of {FLAVORS}");
    match value_lit(meta, &msg)? {
        Lit::Str(s) => Flavor::from_name(&s.value()).ok_or_else(|| {
            syn::Error::new_spanned(
                s,
                format!(
                    "unknown runtime flavor \"{}\"; expected one of {FLAVORS}",
                    s.value()
                ),
            )
        }),
        other => Err(syn::Error::new_spanned(other, msg)),
    }
}

fn parse_start_paused(meta: &Meta) -> syn::Result<bool> {
    let msg = "`start_paused` expects a boolean literal, e.g. `start_paused = true`";
    match value_lit(meta, msg)? {
        Lit::Bool(b) => Ok(b.value),
        other => Err(syn::Error::new_spanned(other, msg)),
    }
}

fn parse_worker_threads(meta: &Meta) -> syn::Result<usize> {
    let msg = "`worker_threads` expects a positive integer literal, e.g. `worker_threads = 4`";
    match value_lit(meta, msg)? {
        Lit::Int(int) => {
            let n: usize = int.base10_parse().map_err(|e| {
                syn::Error::new_spanned(int, format!("invalid `worker_threads`: {e}"))
            })?;
            if n == 0 {
                // The runtime would reject this too, but only at run time;
                // a literal 0 is always a mistake, so say so while compiling.
                return Err(syn::Error::new_spanned(
                    int,
                    "`worker_threads` must be at least 1; leave it out to get one \
                     worker per available CPU",
                ));
            }
            Ok(n)
        }
        other => Err(syn::Error::new_spanned(other, msg)),
    }
}

fn parse_crate_path(meta: &Meta) -> syn::Result<syn::Path> {
    let msg = "`crate` expects a string literal naming the zokio crate, e.g. `crate = \"::zokio\"`";
    match value_lit(meta, msg)? {
        Lit::Str(s) => s.parse::<syn::Path>().map_err(|e| {
            syn::Error::new_spanned(
                s,
                format!("`crate` must be a path such as \"::zokio\" or \"my_crate::zokio\": {e}"),
            )
        }),
        other => Err(syn::Error::new_spanned(other, msg)),
    }
}

/// The literal on the right of `name = <literal>`.
fn value_lit<'a>(meta: &'a Meta, msg: &str) -> syn::Result<&'a Lit> {
    let Meta::NameValue(nv) = meta else {
        return Err(syn::Error::new_spanned(meta, msg));
    };
    let mut expr = &nv.value;
    // Arguments forwarded through a `macro_rules!` macro arrive wrapped in
    // invisible groups; look through them so such wrappers keep working.
    while let Expr::Group(group) = expr {
        expr = &group.expr;
    }
    match expr {
        Expr::Lit(lit) => Ok(&lit.lit),
        other => Err(syn::Error::new_spanned(other, msg)),
    }
}

fn path_to_string(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let joined = segments.join("::");
    if path.leading_colon.is_some() {
        format!("::{joined}")
    } else {
        joined
    }
}

/// Accumulates errors so they can be reported in one compile.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::{quote, ToTokens};

    fn ok(entry: Entry, args: TokenStream) -> Config {
        match parse(entry, args) {
            Ok(c) => c,
            Err(e) => panic!("expected Ok, got error: {e}"),
        }
    }

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
            ("thread_per_core", Flavor::ThreadPerCore),
        ] {
            assert_eq!(ok(Entry::Main, quote!(flavor = #s)).flavor, f);
            assert_eq!(ok(Entry::Test, quote!(flavor = #s)).flavor, f);
        }
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

        // Default main flavor is multi_thread, so no flavor is needed.
        assert_eq!(
            ok(Entry::Main, quote!(worker_threads = 1usize)).worker_threads,
            Some(1)
        );
    }

    #[test]
    fn crate_path_override() {
        let c = ok(Entry::Main, quote!(crate = "my_reexport::zokio"));
        assert_eq!(path(&c), "my_reexport :: zokio");
        let c = ok(Entry::Test, quote!(crate = "crate"));
        assert_eq!(path(&c), "crate");
    }

    #[test]
    fn worker_threads_rejected_with_current_thread() {
        let e = err(
            Entry::Main,
            quote!(flavor = "current_thread", worker_threads = 2),
        );
        assert!(
            e.contains("`worker_threads` cannot be used with the `current_thread`"),
            "{e}"
        );
        // Same when the flavor comes last.
        let e = err(
            Entry::Main,
            quote!(worker_threads = 2, flavor = "current_thread"),
        );
        assert!(e.contains("cannot be used"), "{e}");
        // And when current_thread is only the test default.
        let e = err(Entry::Test, quote!(worker_threads = 2));
        assert!(e.contains("the default for #[zokio::test]"), "{e}");
    }

    #[test]
    fn worker_threads_zero_and_non_literal() {
        let e = err(Entry::Main, quote!(worker_threads = 0));
        assert!(e.contains("must be at least 1"), "{e}");
        let e = err(Entry::Main, quote!(worker_threads = "4"));
        assert!(e.contains("positive integer literal"), "{e}");
        let e = err(Entry::Main, quote!(worker_threads = N));
        assert!(e.contains("positive integer literal"), "{e}");
        let e = err(Entry::Main, quote!(worker_threads));
        assert!(e.contains("positive integer literal"), "{e}");
        let e = err(
            Entry::Main,
            quote!(worker_threads = 99999999999999999999999999),
        );
        assert!(e.contains("invalid `worker_threads`"), "{e}");
    }

    #[test]
    fn bad_flavor() {
        let e = err(Entry::Main, quote!(flavor = "local"));
        assert!(e.contains("unknown runtime flavor \"local\""), "{e}");
        assert!(e.contains("\"thread_per_core\""), "{e}");
        let e = err(Entry::Main, quote!(flavor = multi_thread));
        assert!(e.contains("`flavor` expects a string literal"), "{e}");
    }

    #[test]
    fn bad_crate_path() {
        let e = err(Entry::Main, quote!(crate = "not a path"));
        assert!(e.contains("`crate` must be a path"), "{e}");
        let e = err(Entry::Main, quote!(crate = zokio));
        assert!(e.contains("`crate` expects a string literal"), "{e}");
    }

    #[test]
    fn unknown_option_names_the_allowed_ones() {
        let e = err(Entry::Main, quote!(unhandled_panic = "shutdown_runtime"));
        assert!(
            e.contains("unknown option `unhandled_panic` for #[zokio::main]"),
            "{e}"
        );
        assert!(
            e.contains("`flavor`, `worker_threads`, `start_paused`, `crate`"),
            "{e}"
        );
        let e = err(Entry::Test, quote!(a::b = 1));
        assert!(
            e.contains("unknown option `a::b` for #[zokio::test]"),
            "{e}"
        );
    }

    #[test]
    fn start_paused_needs_current_thread_and_a_bool() {
        let config = parse(Entry::Test, quote!(start_paused = true))
            .ok()
            .unwrap();
        assert!(config.start_paused);
        let e = err(
            Entry::Main,
            quote!(flavor = "multi_thread", start_paused = true),
        );
        assert!(e.contains("needs the `current_thread` flavor"), "{e}");
        let e = err(Entry::Test, quote!(start_paused = 1));
        assert!(e.contains("expects a boolean literal"), "{e}");
    }

    #[test]
    fn duplicates_rejected() {
        let e = err(
            Entry::Main,
            quote!(flavor = "multi_thread", flavor = "current_thread"),
        );
        assert!(e.contains("`flavor` is given more than once"), "{e}");
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
}
