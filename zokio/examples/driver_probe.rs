//! Prints which I/O driver Zokio picks on this machine, and exits with status 3 when
//! io_uring cannot be set up (CI uses that to decide whether the io_uring test run
//! can happen here).

use zokio::runtime::{Builder, Driver};

fn main() {
    let auto = Builder::new_current_thread()
        .driver(Driver::Auto)
        .build()
        .expect("a runtime with the automatic driver");
    println!("auto driver: {}", auto.driver_kind());
    #[cfg(not(target_os = "linux"))]
    {
        println!("io_uring: unavailable: it exists only on Linux");
        std::process::exit(3);
    }
    #[cfg(target_os = "linux")]
    match Builder::new_current_thread()
        .driver(Driver::IoUring)
        .build()
    {
        Ok(_) => println!("io_uring: available"),
        Err(e) => {
            println!("io_uring: unavailable: {e}");
            std::process::exit(3);
        }
    }
}
