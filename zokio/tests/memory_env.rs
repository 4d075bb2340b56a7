//! `ZOKIO_MEMORY=system|pooled|numa|adaptive` picks the memory strategy when the
//! builder does not, and any other value makes `build()` fail with `InvalidInput`
//! naming the valid ones. One test function only: it changes the process environment
//! (and reads the process-wide pool figure), which no other test in this binary may
//! race with. The original value is restored even if an assertion fails.

mod common;

use std::io;

use common::{run_with_timeout, EnvVar, BODY_GUARD};
use zokio::runtime::{Builder, MemoryStrategy, Runtime};

const VAR: &str = "ZOKIO_MEMORY";

/// A config that leaves the strategy to the builder and the environment.
struct FollowsEnv;
impl zokio::Config for FollowsEnv {
    type Scheduler = zokio::config::CurrentThread;
    type Driver = zokio::config::AutoDriver;
    type Memory = zokio::config::AutoMemory;
}

/// A config that forces `Pooled` whatever the environment says.
struct AlwaysPooled;
impl zokio::Config for AlwaysPooled {
    type Scheduler = zokio::config::CurrentThread;
    type Driver = zokio::config::AutoDriver;
    type Memory = zokio::config::Pooled;
}

fn strategy_of(builder: &mut Builder) -> MemoryStrategy {
    let rt = builder.enable_all().build().expect("building a runtime");
    let strategy = rt.handle().memory_strategy();
    // Whatever the strategy, tasks run and their results come back.
    let sum = rt.block_on(async {
        let mut total = 0u64;
        for i in 0..100u64 {
            total += zokio::spawn(async move { i }).await.unwrap();
        }
        total
    });
    assert_eq!(sum, 4950);
    strategy
}

#[test]
fn zokio_memory_picks_the_strategy() {
    run_with_timeout(BODY_GUARD, || {
        let env = EnvVar::new(VAR);

        env.set(None);
        assert_eq!(
            strategy_of(&mut Builder::new_multi_thread()),
            MemoryStrategy::System
        );
        assert_eq!(
            Runtime::<FollowsEnv>::with_config()
                .unwrap()
                .handle()
                .memory_strategy(),
            MemoryStrategy::System
        );

        for (value, expected) in [
            ("system", MemoryStrategy::System),
            ("pooled", MemoryStrategy::Pooled),
            ("numa", MemoryStrategy::NumaAware),
            // One NUMA node here (or a fake tree saying so): adaptive means pooled.
            ("adaptive", MemoryStrategy::Pooled),
        ] {
            env.set(Some(value));
            for mut builder in [
                Builder::new_multi_thread(),
                Builder::new_current_thread(),
                Builder::new_thread_per_core(),
            ] {
                assert_eq!(strategy_of(&mut builder), expected, "ZOKIO_MEMORY={value}");
            }
        }

        // The builder's choice and a config's type win over the environment.
        env.set(Some("pooled"));
        assert_eq!(
            strategy_of(Builder::new_current_thread().memory(MemoryStrategy::System)),
            MemoryStrategy::System
        );
        env.set(Some("system"));
        let rt = Runtime::<AlwaysPooled>::with_config().unwrap();
        assert_eq!(rt.handle().memory_strategy(), MemoryStrategy::Pooled);
        assert_eq!(Runtime::<AlwaysPooled>::INFO.memory, "pooled");
        // Pooled cells really come from the pools: the process's pool memory is
        // non-zero while the runtime drives tasks (no other test runs beside this one).
        let pooled = rt.block_on(async {
            zokio::spawn(async {}).await.unwrap();
            zokio::memory::pooled_bytes()
        });
        assert!(pooled > 0, "a pooled runtime's task took no pool memory");
        drop(rt);

        for bad in ["pool", "mimalloc", "SYSTEM", "1"] {
            env.set(Some(bad));
            let err = Builder::new_current_thread()
                .build()
                .expect_err("an unknown ZOKIO_MEMORY must fail the build");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            let message = err.to_string();
            for name in ["system", "pooled", "numa", "adaptive", VAR] {
                assert!(message.contains(name), "{message:?} does not name `{name}`");
            }
        }
    });
}
