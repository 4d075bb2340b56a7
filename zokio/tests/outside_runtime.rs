//! Where tokio panics outside a runtime and Zokio does not (kept on purpose, and said
//! in the types' rustdoc): creating a `Sleep`, and `TcpListener::from_std`. The later
//! error, when the value is used outside a runtime, must be clear and name the fix.

mod common;

use std::time::Duration;

#[test]
fn a_sleep_made_outside_a_runtime_works_inside_one_and_panics_clearly_outside() {
    let made_outside = zokio::time::sleep(Duration::from_millis(1));
    let rt = common::current_thread();
    rt.block_on(made_outside);

    // The runtime's own message, quiet so that no backtrace is symbolised for it.
    common::quiet_panics_with(&[
        "there is no timer running, must be called from the context of a Zokio runtime: \
         await the timer inside `Runtime::block_on` or a task spawned on a runtime",
    ]);
    let polled_outside = std::panic::catch_unwind(|| {
        futures::executor::block_on(zokio::time::sleep(Duration::from_millis(1)))
    });
    let payload = polled_outside.unwrap_err();
    let message = common::panic_message(&*payload).unwrap_or_default();
    assert!(
        message.contains("must be called from the context of a Zokio runtime")
            && message.contains("block_on"),
        "the panic does not name the fix: {message}"
    );
}

#[cfg(unix)]
#[test]
fn a_listener_wrapped_outside_a_runtime_accepts_inside_one_and_errs_clearly_outside() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listener = zokio::net::TcpListener::from_std(std_listener).unwrap();
    let addr = listener.local_addr().unwrap();

    let err = futures::executor::block_on(listener.accept())
        .map(|_| ())
        .expect_err("accept outside a runtime");
    let message = err.to_string();
    assert!(
        message.contains("no Zokio runtime") && message.contains("block_on"),
        "the error does not name the fix: {message}"
    );

    common::current_thread().block_on(async move {
        let connect = zokio::spawn(async move { zokio::net::TcpStream::connect(addr).await });
        listener.accept().await.expect("accept inside the runtime");
        connect.await.unwrap().expect("connect");
    });
}
