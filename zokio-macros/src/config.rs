//! Argument parsing for `#[zokio::main(...)]` and `#[zokio::test(...)]`.
//!
//! This module turns the attribute's argument tokens into a [`Config`] and
//! nothing else. It must never emit code or look at the annotated function:
//! that is `expand`'s job, and keeping the two apart is what lets the parser
//! be unit-tested on plain `proc_macro2` tokens.
//!
//! It accepts every option tokio's `#[tokio::main]`/`#[tokio::test]` accept
//! (`flavor`, `worker_threads`, `start_paused`, `crate`, `name`,
//! `unhandled_panic`) plus Zokio's own `flavor = "thread_per_core"`, and every
//! rejection uses tokio's wording (with `zokio::` in place of `tokio::`), so a
//! ported program gets the diagnostics its authors know. The one exception is a
//! well-formed `unhandled_panic`: tokio's macro passes it on to a builder method
//! that only exists under `--cfg tokio_unstable` (so without it rustc rejects
//! the expansion), and Zokio's builder has no such method at all, so it is
//! rejected here with a message that says so. Every error is a `syn::Error`
//! spanned on the offending argument, and all of them are reported in one
//! compile (tokio stops at the first).

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
    /// The name tokio's messages use for the attribute (`tokio::main`).
    fn macro_name(self) -> &'static str {
        match self {
            Entry::Main => "zokio::main",
            Entry::Test => "zokio::test",
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

/// The runtime flavor: which `Builder` constructor, and whether the runtime is
/// a `LocalRuntime`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    MultiThread,
    CurrentThread,
    /// tokio's `"local"`: a current-thread `LocalRuntime` (`Builder::build_local`),
    /// whose `block_on` takes futures that are not `Send`.
    Local,
    /// Zokio's own: one worker per core, no stealing.
    ThreadPerCore,
}

impl Flavor {
    /// The `zokio::runtime::Builder` associated function that starts a
    /// builder of this flavor.
    pub(crate) fn constructor(self) -> &'static str {
        match self {
            Flavor::MultiThread => "new_multi_thread",
            Flavor::CurrentThread | Flavor::Local => "new_current_thread",
            Flavor::ThreadPerCore => "new_thread_per_core",
        }
    }

    /// The flavor `flavor = "<name>"` asks for, or tokio's message for a name
    /// that is not one (Zokio's `thread_per_core` added to its list).
    fn from_name(name: &str) -> Result<Flavor, String> {
        match name {
            "current_thread" => Ok(Flavor::CurrentThread),
            "multi_thread" => Ok(Flavor::MultiThread),
            "local" => Ok(Flavor::Local),
            "thread_per_core" => Ok(Flavor::ThreadPerCore),
            "single_thread" => {
                Err("The single threaded runtime flavor is called `current_thread`.".to_string())
            }
            "basic_scheduler" => Err(
                "The `basic_scheduler` runtime flavor has been renamed to `current_thread`."
                    .to_string(),
            ),
            "threaded_scheduler" => Err(
                "The `threaded_scheduler` runtime flavor has been renamed to `multi_thread`."
                    .to_string(),
            ),
            _ => Err(format!(
                "No such runtime flavor `{name}`. The runtime flavors are `current_thread`, \
                 `local`, `multi_thread`, and `thread_per_core`."
            )),
        }
    }

    /// Whether the runtime runs its tasks on the calling thread only.
    fn is_single_threaded(self) -> bool {
        matches!(self, Flavor::CurrentThread | Flavor::Local)
    }
}

/// Everything the expansion needs to know about the runtime to build.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) flavor: Flavor,
    /// `None` leaves the count to the runtime (one worker per available CPU).
    pub(crate) worker_threads: Option<usize>,
    /// `Builder::start_paused(value)`, when given.
    pub(crate) start_paused: Option<bool>,
    /// `Builder::name(value)`, when given.
    pub(crate) name: Option<String>,
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
            start_paused: None,
            name: None,
            crate_path: syn::parse_quote!(::zokio),
        }
    }
}

/// tokio's list of the options, in its words.
const UNKNOWN_EXPECTED: &str = "expected one of: `flavor`, `worker_threads`, `start_paused`, \
                                `crate`, `unhandled_panic`, `name`.";

/// Why a well-formed `unhandled_panic` is refused (tokio's macro has no message
/// of its own for it: rustc rejects its expansion without `tokio_unstable`).
const UNHANDLED_PANIC_UNSUPPORTED: &str = "The `unhandled_panic` option is not supported by \
     Zokio: tokio only accepts it with its unstable API (`--cfg tokio_unstable`), and Zokio's \
     `runtime::Builder` has no `unhandled_panic`. Remove it; a task's panic reaches its \
     `JoinHandle`, whose `JoinError::is_panic()` is then true.";

/// The options, each at most once, with the span to blame for a conflict.
#[derive(Default)]
struct Given {
    flavor: Option<(Flavor, proc_macro2::Span)>,
    worker_threads: Option<(usize, proc_macro2::Span)>,
    start_paused: Option<(bool, proc_macro2::Span)>,
    crate_path: Option<syn::Path>,
    name: Option<String>,
    unhandled_panic: Option<proc_macro2::Span>,
}

/// Parses the tokens between the attribute's parentheses.
///
/// All problems found are reported together rather than stopping at the
/// first, so one compile shows the user every option that needs fixing.
pub(crate) fn parse(entry: Entry, args: TokenStream) -> syn::Result<Config> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut errors = Errors::default();
    let mut given = Given::default();
    for meta in &metas {
        if let Err(e) = parse_one(entry, meta, &mut given) {
            errors.push(e);
        }
    }
    let config = check_combination(entry, &given, &mut errors);
    errors.finish()?;
    Ok(config)
}

/// One `name = value` (or bare `name`) argument, recorded in `given`.
fn parse_one(entry: Entry, meta: &Meta, given: &mut Given) -> syn::Result<()> {
    let nv = match meta {
        Meta::NameValue(nv) => nv,
        Meta::Path(path) => return Err(bare_path_error(entry, path)),
        Meta::List(_) => {
            return Err(syn::Error::new_spanned(
                meta,
                "Unknown attribute inside the macro",
            ))
        }
    };
    let name = nv
        .path
        .get_ident()
        .ok_or_else(|| syn::Error::new_spanned(nv, "Must have specified ident"))?
        .to_string()
        .to_lowercase();
    let lit = literal(&nv.value)?;
    let span = lit.span();
    let duplicate = |name: &str| syn::Error::new(span, format!("`{name}` set multiple times."));
    match name.as_str() {
        "flavor" => {
            if given.flavor.is_some() {
                return Err(duplicate("flavor"));
            }
            let flavor = Flavor::from_name(&string(lit, "flavor")?)
                .map_err(|message| syn::Error::new(span, message))?;
            given.flavor = Some((flavor, span));
        }
        "worker_threads" => {
            if given.worker_threads.is_some() {
                return Err(duplicate("worker_threads"));
            }
            let n = int(lit, "worker_threads")?;
            if n == 0 {
                return Err(syn::Error::new(span, "`worker_threads` may not be 0."));
            }
            given.worker_threads = Some((n, span));
        }
        "start_paused" => {
            if given.start_paused.is_some() {
                return Err(duplicate("start_paused"));
            }
            given.start_paused = Some((bool_value(lit, "start_paused")?, span));
        }
        "crate" => {
            if given.crate_path.is_some() {
                return Err(duplicate("crate"));
            }
            given.crate_path = Some(path(lit, "crate")?);
        }
        "name" => {
            if given.name.is_some() {
                return Err(duplicate("name"));
            }
            given.name = Some(string(lit, "name")?);
        }
        "unhandled_panic" => {
            if given.unhandled_panic.is_some() {
                return Err(duplicate("unhandled_panic"));
            }
            let behavior = string(lit, "unhandled_panic")?;
            if behavior != "ignore" && behavior != "shutdown_runtime" {
                return Err(syn::Error::new(
                    span,
                    format!(
                        "No such unhandled panic behavior `{behavior}`. The unhandled panic \
                         behaviors are `ignore` and `shutdown_runtime`."
                    ),
                ));
            }
            given.unhandled_panic = Some(span);
        }
        "core_threads" => {
            return Err(syn::Error::new_spanned(
                nv,
                "Attribute `core_threads` is renamed to `worker_threads`",
            ))
        }
        other => {
            return Err(syn::Error::new_spanned(
                nv,
                format!("Unknown attribute {other} is specified; {UNKNOWN_EXPECTED}"),
            ))
        }
    }
    Ok(())
}

/// tokio's message for an argument without a value (`#[zokio::main(multi_thread)]`).
fn bare_path_error(entry: Entry, path: &syn::Path) -> syn::Error {
    let Some(ident) = path.get_ident() else {
        return syn::Error::new_spanned(path, "Must have specified ident");
    };
    let name = ident.to_string().to_lowercase();
    let macro_name = entry.macro_name();
    let message = match name.as_str() {
        "threaded_scheduler" | "multi_thread" => {
            format!("Set the runtime flavor with #[{macro_name}(flavor = \"multi_thread\")].")
        }
        "basic_scheduler" | "current_thread" | "single_threaded" => {
            format!("Set the runtime flavor with #[{macro_name}(flavor = \"current_thread\")].")
        }
        "flavor" | "worker_threads" | "start_paused" | "crate" | "unhandled_panic" | "name" => {
            format!("The `{name}` attribute requires an argument.")
        }
        _ => format!("Unknown attribute {name} is specified; {UNKNOWN_EXPECTED}"),
    };
    syn::Error::new_spanned(path, message)
}

/// The options that depend on the flavor, checked once all are known, so the
/// result does not depend on the order the user wrote them in.
fn check_combination(entry: Entry, given: &Given, errors: &mut Errors) -> Config {
    let flavor = given
        .flavor
        .map_or(entry.default_flavor(), |(flavor, _)| flavor);
    let macro_name = entry.macro_name();
    if let (true, Some((_, span))) = (flavor.is_single_threaded(), given.worker_threads) {
        errors.push(syn::Error::new(
            span,
            format!(
                "The `worker_threads` option requires the `multi_thread` runtime flavor. \
                 Use `#[{macro_name}(flavor = \"multi_thread\")]`"
            ),
        ));
    }
    let needs_current_thread = |option: &str| {
        format!(
            "The `{option}` option requires the `current_thread` runtime flavor. \
             Use `#[{macro_name}(flavor = \"current_thread\")]`"
        )
    };
    if let (false, Some((_, span))) = (flavor.is_single_threaded(), given.start_paused) {
        errors.push(syn::Error::new(span, needs_current_thread("start_paused")));
    }
    if let Some(span) = given.unhandled_panic {
        let message = if flavor.is_single_threaded() {
            UNHANDLED_PANIC_UNSUPPORTED.to_string()
        } else {
            needs_current_thread("unhandled_panic")
        };
        errors.push(syn::Error::new(span, message));
    }
    Config {
        flavor,
        worker_threads: given.worker_threads.map(|(n, _)| n),
        start_paused: given.start_paused.map(|(paused, _)| paused),
        name: given.name.clone(),
        crate_path: given
            .crate_path
            .clone()
            .unwrap_or_else(|| Config::default_for(entry).crate_path),
    }
}

/// The literal on the right of `name = <literal>`.
fn literal(value: &Expr) -> syn::Result<&Lit> {
    let mut expr = value;
    // Arguments forwarded through a `macro_rules!` macro arrive wrapped in
    // invisible groups; look through them so such wrappers keep working.
    while let Expr::Group(group) = expr {
        expr = &group.expr;
    }
    match expr {
        Expr::Lit(lit) => Ok(&lit.lit),
        other => Err(syn::Error::new_spanned(other, "Must be a literal")),
    }
}

fn int(lit: &Lit, field: &str) -> syn::Result<usize> {
    match lit {
        Lit::Int(int) => int.base10_parse::<usize>().map_err(|e| {
            syn::Error::new(
                lit.span(),
                format!("Failed to parse value of `{field}` as integer: {e}"),
            )
        }),
        _ => Err(syn::Error::new(
            lit.span(),
            format!("Failed to parse value of `{field}` as integer."),
        )),
    }
}

fn string(lit: &Lit, field: &str) -> syn::Result<String> {
    match lit {
        Lit::Str(s) => Ok(s.value()),
        Lit::Verbatim(s) => Ok(s.to_string()),
        _ => Err(syn::Error::new(
            lit.span(),
            format!("Failed to parse value of `{field}` as string."),
        )),
    }
}

fn bool_value(lit: &Lit, field: &str) -> syn::Result<bool> {
    match lit {
        Lit::Bool(b) => Ok(b.value),
        _ => Err(syn::Error::new(
            lit.span(),
            format!("Failed to parse value of `{field}` as bool."),
        )),
    }
}

fn path(lit: &Lit, field: &str) -> syn::Result<syn::Path> {
    match lit {
        Lit::Str(s) => s.parse::<syn::Path>().map_err(|_| {
            syn::Error::new(
                lit.span(),
                format!(
                    "Failed to parse value of `{field}` as path: \"{}\"",
                    s.value()
                ),
            )
        }),
        _ => Err(syn::Error::new(
            lit.span(),
            format!("Failed to parse value of `{field}` as path."),
        )),
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
mod tests;
