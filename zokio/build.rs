//! Names the family of target operating systems that have kqueue, as `cfg(kqueue)`,
//! so that the driver code says it once instead of listing them at every use.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(kqueue)");
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let kqueue = [
        "macos",
        "ios",
        "tvos",
        "watchos",
        "visionos",
        "freebsd",
        "netbsd",
        "openbsd",
        "dragonfly",
    ];
    if kqueue.contains(&os.as_str()) {
        println!("cargo:rustc-cfg=kqueue");
    }
}
