//! Expansion of an `async fn` into a synchronous fn that builds a zokio
//! runtime and blocks on the original body.
//!
//! Works purely on `proc_macro2` tokens so it can be unit-tested. It must
//! never panic on bad input and never swallow the user's function: on any
//! error it still emits the best function it can plus a `compile_error!`,
//! so the user sees one precise message instead of a cascade (such as
//! "`main` function not found") and IDE completion keeps working.
//! It must never change the function's name, visibility, return type or
//! attributes, because callers and the test harness rely on them.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{AttrStyle, Attribute, ItemFn};

use crate::config::{self, Config, Entry, Flavor};

/// Expands `#[zokio::main(args)]` or `#[zokio::test(args)]` applied to `item`.
pub(crate) fn entry(entry: Entry, args: TokenStream, item: TokenStream) -> TokenStream {
    let input: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            // Not a function at all; hand the item back untouched so only
            // this one error is reported.
            let mut out = item;
            out.extend(e.to_compile_error());
            return out;
        }
    };

    let mut errors: Vec<syn::Error> = signature_errors(entry, &input);
    let config = match config::parse(entry, args) {
        Ok(c) => c,
        Err(e) => {
            errors.push(e);
            Config::default_for(entry)
        }
    };

    let mut out = expand_fn(entry, &config, input);
    for e in errors {
        out.extend(e.to_compile_error());
    }
    out
}

fn signature_errors(entry: Entry, input: &ItemFn) -> Vec<syn::Error> {
    let sig = &input.sig;
    let mut errors = Vec::new();
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            sig.fn_token,
            "the `async` keyword is missing from the function declaration",
        ));
    }
    // A runtime is built per call, so a non-main fn taking arguments is fine
    // for #[zokio::main]; only `main` itself and tests are called without any.
    if !sig.inputs.is_empty() {
        match entry {
            Entry::Main if sig.ident == "main" => errors.push(syn::Error::new_spanned(
                &sig.inputs,
                "the main function cannot accept arguments",
            )),
            Entry::Test => errors.push(syn::Error::new_spanned(
                &sig.inputs,
                "the test function cannot accept arguments",
            )),
            Entry::Main => {}
        }
    }
    errors
}

fn expand_fn(entry: Entry, config: &Config, input: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = input;
    sig.asyncness = None;

    // syn keeps `#![inner]` body attributes in `attrs`; they apply to the
    // whole fn, and the body now sits in an async block where inner
    // attributes are not allowed, so re-emit them as outer ones.
    let attrs: Vec<Attribute> = attrs
        .into_iter()
        .map(|mut a| {
            a.style = AttrStyle::Outer;
            a
        })
        .collect();

    let test_attr = if entry == Entry::Test && !attrs.iter().any(is_test_attr) {
        // Fully qualified so a user's own item named `test` cannot hijack it.
        quote!(#[::core::prelude::v1::test])
    } else {
        quote!()
    };

    let crate_path = &config.crate_path;
    let constructor = syn::Ident::new(config.flavor.constructor(), Span::call_site());
    let worker_threads = config.worker_threads.map(|n| {
        let n = proc_macro2::Literal::usize_unsuffixed(n);
        quote!(.worker_threads(#n))
    });
    let start_paused = config
        .start_paused
        .map(|paused| quote!(.start_paused(#paused)));
    let name = config.name.as_ref().map(|name| quote!(.name(#name)));
    // tokio's "local" flavor: the same current-thread builder, built into a
    // `LocalRuntime`, whose `block_on` needs no `Send`.
    let build = if config.flavor == Flavor::Local {
        quote!(build_local(#crate_path::runtime::LocalOptions::default()))
    } else {
        quote!(build())
    };

    // `block` keeps its original brace spans, so type errors inside the body
    // still point at the user's code.
    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            let body = async move #block;
            #crate_path::runtime::Builder::#constructor()
                #worker_threads
                #start_paused
                #name
                .enable_all()
                .#build
                .expect("Failed building the Runtime")
                .block_on(body)
        }
    }
}

/// Whether `attr` is the built-in `#[test]`, however it is spelled.
fn is_test_attr(attr: &Attribute) -> bool {
    let segments = &attr.path().segments;
    let Some(last) = segments.last() else {
        return false;
    };
    if last.ident != "test" {
        return false;
    }
    match segments.first() {
        // `#[test]`
        _ if segments.len() == 1 => true,
        // `#[core::prelude::v1::test]`, `#[::std::prelude::rust_2021::test]`, ...
        Some(first) => first.ident == "core" || first.ident == "std",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(entry: Entry, args: TokenStream, item: TokenStream) -> String {
        super::entry(entry, args, item).to_string()
    }

    fn errors_of(out: &str) -> Vec<&str> {
        out.match_indices("compile_error")
            .map(|(i, _)| &out[i..])
            .collect()
    }

    #[test]
    fn main_default_expansion() {
        let out = expand(
            Entry::Main,
            quote!(),
            quote! {
                async fn main() { println!("hi"); }
            },
        );
        let expected = quote! {
            fn main() {
                let body = async move { println!("hi"); };
                ::zokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .expect("Failed building the Runtime")
                    .block_on(body)
            }
        };
        assert_eq!(out, expected.to_string());
    }

    #[test]
    fn main_keeps_signature_attrs_and_worker_threads() {
        let out = expand(
            Entry::Main,
            quote!(
                flavor = "thread_per_core",
                worker_threads = 3,
                crate = "my::zk"
            ),
            quote! {
                /// docs
                #[inline(never)]
                pub(crate) async fn run(x: u32) -> Result<u32, String> { Ok(x) }
            },
        );
        let expected = quote! {
            /// docs
            #[inline(never)]
            pub(crate) fn run(x: u32) -> Result<u32, String> {
                let body = async move { Ok(x) };
                my::zk::runtime::Builder::new_thread_per_core()
                    .worker_threads(3)
                    .enable_all()
                    .build()
                    .expect("Failed building the Runtime")
                    .block_on(body)
            }
        };
        assert_eq!(out, expected.to_string());
    }

    #[test]
    fn local_flavor_builds_a_local_runtime() {
        let out = expand(
            Entry::Test,
            quote!(flavor = "local", start_paused = true, name = "rt"),
            quote! {
                async fn t() {}
            },
        );
        let expected = quote! {
            #[::core::prelude::v1::test]
            fn t() {
                let body = async move {};
                ::zokio::runtime::Builder::new_current_thread()
                    .start_paused(true)
                    .name("rt")
                    .enable_all()
                    .build_local(::zokio::runtime::LocalOptions::default())
                    .expect("Failed building the Runtime")
                    .block_on(body)
            }
        };
        assert_eq!(out, expected.to_string());
    }

    #[test]
    fn test_default_expansion_adds_test_attr() {
        let out = expand(
            Entry::Test,
            quote!(),
            quote! {
                async fn t() -> Result<(), String> { Ok(()) }
            },
        );
        let expected = quote! {
            #[::core::prelude::v1::test]
            fn t() -> Result<(), String> {
                let body = async move { Ok(()) };
                ::zokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("Failed building the Runtime")
                    .block_on(body)
            }
        };
        assert_eq!(out, expected.to_string());
    }

    #[test]
    fn existing_test_attr_is_not_doubled() {
        for attr in [
            quote!(#[test]),
            quote!(#[::core::prelude::v1::test]),
            quote!(#[std::prelude::rust_2021::test]),
        ] {
            let out = expand(Entry::Test, quote!(), quote!(#attr async fn t() {}));
            let test_attrs = out.matches("test]").count() + out.matches("test ]").count();
            assert_eq!(test_attrs, 1, "{out}");
            assert!(errors_of(&out).is_empty(), "{out}");
        }
        // Attributes that merely end in `test` are not the built-in one.
        let out = expand(
            Entry::Test,
            quote!(),
            quote!(
                #[my::test]
                async fn t() {}
            ),
        );
        assert!(out.contains(":: core :: prelude :: v1 :: test"), "{out}");
    }

    #[test]
    fn inner_attributes_become_outer() {
        let out = expand(
            Entry::Main,
            quote!(),
            quote!(
                async fn main() {
                    #![allow(unused)]
                    let x = 1;
                }
            ),
        );
        assert!(out.starts_with("# [allow (unused)] fn main"), "{out}");
        assert!(!out.contains("# !"), "{out}");
    }

    #[test]
    fn missing_async_is_reported_and_fn_still_emitted() {
        let out = expand(
            Entry::Main,
            quote!(),
            quote!(
                fn main() {}
            ),
        );
        assert!(out.starts_with("fn main ()"), "{out}");
        let errs = errors_of(&out);
        assert_eq!(errs.len(), 1, "{out}");
        assert!(
            errs[0].contains("the `async` keyword is missing from the function declaration"),
            "{out}"
        );
    }

    #[test]
    fn argument_error_falls_back_to_default_expansion() {
        let out = expand(
            Entry::Main,
            quote!(flavor = "current_thread", worker_threads = 2),
            quote!(
                async fn main() {}
            ),
        );
        // The fallback is the plain default, not a half-applied config.
        assert!(out.contains("new_multi_thread ()"), "{out}");
        assert!(!out.contains("worker_threads (2)"), "{out}");
        let errs = errors_of(&out);
        assert_eq!(errs.len(), 1, "{out}");
        assert!(
            errs[0].contains("requires the `multi_thread` runtime flavor"),
            "{out}"
        );
    }

    #[test]
    fn arguments_rejected_for_main_and_tests_only() {
        let out = expand(
            Entry::Main,
            quote!(),
            quote!(
                async fn main(x: u8) {}
            ),
        );
        assert!(
            out.contains("the main function cannot accept arguments"),
            "{out}"
        );
        let out = expand(
            Entry::Test,
            quote!(),
            quote!(
                async fn t(x: u8) {}
            ),
        );
        assert!(
            out.contains("the test function cannot accept arguments"),
            "{out}"
        );
        let out = expand(
            Entry::Main,
            quote!(),
            quote!(
                async fn helper(x: u8) {}
            ),
        );
        assert!(errors_of(&out).is_empty(), "{out}");
    }

    #[test]
    fn non_function_item_is_returned_with_error() {
        let out = expand(
            Entry::Main,
            quote!(),
            quote!(
                struct S;
            ),
        );
        assert!(out.starts_with("struct S ;"), "{out}");
        assert_eq!(errors_of(&out).len(), 1, "{out}");
    }
}
