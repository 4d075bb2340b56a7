fn main() {
    for flavor in 0..3 {
        let rt = match flavor {
            0 => zokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
            1 => zokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
            _ => zokio::runtime::Builder::new_thread_per_core()
                .worker_threads(2)
                .build()
                .unwrap(),
        };
        let t = std::time::Instant::now();
        let n = rt.block_on(async {
            let mut hs = Vec::new();
            for i in 0..100_000u64 {
                hs.push(zokio::spawn(async move {
                    zokio::task::yield_now().await;
                    i
                }));
            }
            let mut s = 0;
            for h in hs {
                s += h.await.unwrap();
            }
            s
        });
        println!("flavor {flavor}: {n} in {:?}", t.elapsed());
        let (tx, rx) = zokio::sync::oneshot::channel::<u32>();
        let h = rt.spawn(async move { rx.await.unwrap_or(7) });
        drop(tx);
        assert_eq!(rt.block_on(h).unwrap(), 7);
        let p = rt.spawn(async { panic!("boom") });
        assert!(rt.block_on(p).unwrap_err().is_panic());
        let b = rt.spawn_blocking(|| 5);
        assert_eq!(rt.block_on(b).unwrap(), 5);
        let pend = rt.spawn(std::future::pending::<()>());
        drop(rt);
        assert!(futures::executor::block_on(pend)
            .unwrap_err()
            .is_cancelled());
    }
}
