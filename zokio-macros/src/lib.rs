//! Procedural macros for Zokio: `#[zokio::main]` and `#[zokio::test]`.
//!
//! Use them through the `zokio` crate (feature `macros`, on by default), not
//! directly. This file holds only the `#[proc_macro_attribute]` entry points,
//! which convert between `proc_macro` and `proc_macro2` tokens and nothing
//! more: `proc_macro` types cannot exist outside a compiler invocation, so all
//! real work lives in `config` (argument parsing) and `expand` (code
//! generation), where it can be unit-tested.
//!
//! This crate must never depend on `zokio` itself (that would be a dependency
//! cycle); the expansion names the runtime only by path, `::zokio` by default
//! or whatever `crate = "..."` says.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use proc_macro::TokenStream;

mod config;
mod expand;

use config::Entry;

/// Marks an `async fn` as the program's entry point, running it to
/// completion on a freshly built Zokio runtime.
///
/// ```ignore
/// #[zokio::main]
/// async fn main() {
///     println!("hello from zokio");
/// }
/// ```
///
/// expands to
///
/// ```ignore
/// fn main() {
///     let body = async move {
///         println!("hello from zokio");
///     };
///     ::zokio::runtime::Builder::new_multi_thread()
///         .enable_all()
///         .build()
///         .expect("Failed building the Runtime")
///         .block_on(body)
/// }
/// ```
///
/// # Options
///
/// tokio's, with the same meaning, plus Zokio's `thread_per_core` flavor:
///
/// - `flavor = "multi_thread"` (default), `"current_thread"`, `"local"` or
///   `"thread_per_core"`: which `runtime::Builder` constructor to use;
///   `"local"` builds a current-thread `LocalRuntime`
///   (`Builder::build_local(LocalOptions::default())`), whose `block_on` takes
///   a future that is not `Send`.
/// - `worker_threads = N`: number of workers (`N >= 1`); only with
///   `multi_thread` or `thread_per_core`. Leave it out for one worker per
///   available CPU.
/// - `start_paused = true`: start with the clock paused (`current_thread` or
///   `local` only).
/// - `name = "..."`: the runtime's name (`Builder::name`, read back with
///   `Handle::name`).
/// - `crate = "path"`: where to find zokio if it is re-exported or renamed
///   (default `::zokio`).
///
/// `unhandled_panic` is refused: tokio only takes it with its unstable API,
/// and Zokio's builder has no such setting. Every other mistake is reported
/// in tokio's words.
///
/// ```ignore
/// #[zokio::main(flavor = "thread_per_core", worker_threads = 4)]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     Ok(())
/// }
/// ```
///
/// The attribute works on any `async fn`, not only `main`: the result is a
/// synchronous function that builds a new runtime on every call. Its name,
/// visibility, attributes and return type are kept.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::entry(Entry::Main, args.into(), item.into()).into()
}

/// Marks an `async fn` as a test, run on its own Zokio runtime.
///
/// Same options and expansion as [`macro@main`], except that the default
/// flavor is `current_thread` and `#[test]` is added (unless the function
/// already carries one). Return types such as `Result<(), E>` work as with a
/// plain `#[test]`.
///
/// ```ignore
/// #[zokio::test]
/// async fn single_threaded() {
///     assert_eq!(zokio::spawn(async { 1 }).await.unwrap(), 1);
/// }
///
/// #[zokio::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn multi_threaded() -> Result<(), zokio::task::JoinError> {
///     zokio::spawn(async {}).await
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::entry(Entry::Test, args.into(), item.into()).into()
}
