//! Task names and spawn locations, and [`TaskInfo`], what `Handle::alive_tasks`
//! reports about each live task.
//!
//! An unnamed task must not grow by a byte for this (a 40-byte idle task lives in a
//! 40-byte pool block, and 8 more would move it to the 48-byte class). So the spawn
//! location rides on the task's vtable pointer, which every task has anyway: the
//! first spawn of a given future type from a given call site makes a copy of that
//! type's vtable that also names the location, kept for the life of the process
//! (one per call site and type, however many tasks), and later spawns find it in a
//! small per-thread cache. A name is rarer and per task, so it lives in a
//! process-wide table keyed by task id, entered only for a named task, whose vtable
//! copy says so, so that freeing an unnamed task never looks in the table.
//!
//! The public spawn functions pass what they know (the caller's location, the
//! builder's name) to the allocation through [`spawning`], a per-thread slot set for
//! the length of one spawn call, rather than through every scheduler's spawn path.
//! Nothing here may run on a task's poll path.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::panic::Location;
use std::sync::Mutex;

use super::header::Vtable;
use super::Id;

/// What a public spawn function knows about the task it is about to allocate.
pub(crate) struct SpawnMeta {
    pub(crate) location: &'static Location<'static>,
    pub(crate) name: Option<Box<str>>,
}

thread_local! {
    /// Set by [`spawning`] for the length of one spawn call, taken by the allocation:
    /// the caller's location, and whether [`PENDING_NAME`] holds the task's name.
    /// Plain data, so that every spawn's two accesses are the cheapest kind of
    /// thread-local (no lazy initialisation, no destructor to register).
    static PENDING: Cell<Option<(&'static Location<'static>, bool)>> = const { Cell::new(None) };
    /// The name of the task being spawned, touched only by named spawns.
    static PENDING_NAME: Cell<Option<Box<str>>> = const { Cell::new(None) };
    /// Recent (plain vtable, location, named) -> located vtable answers.
    static CACHE: RefCell<[CacheEntry; CACHE_SLOTS]> =
        const { RefCell::new([CacheEntry::EMPTY; CACHE_SLOTS]) };
}

const CACHE_SLOTS: usize = 32;

#[derive(Clone, Copy)]
struct CacheEntry {
    plain: usize,
    /// The location's address, with the low bit set for a named task (a `Location`
    /// is aligned to more than one byte).
    key: usize,
    located: Option<&'static Vtable>,
}

impl CacheEntry {
    const EMPTY: CacheEntry = CacheEntry {
        plain: 0,
        key: 0,
        located: None,
    };
}

/// Every located vtable made so far, by (plain vtable, location | named).
static LOCATED: Mutex<BTreeMap<(usize, usize), &'static Vtable>> = Mutex::new(BTreeMap::new());

/// The names of live named tasks.
static NAMES: Mutex<BTreeMap<u64, Box<str>>> = Mutex::new(BTreeMap::new());

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The maps stay consistent across a panic (every update is one insert or remove).
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `spawn` (one spawn call) with the caller's location, and `name`, waiting for
/// the task it allocates.
#[track_caller]
pub(crate) fn spawning<R>(name: Option<&str>, spawn: impl FnOnce() -> R) -> R {
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            // A spawn that failed before allocating must not leave its details to
            // the next one.
            if let Ok(Some((_, true))) = PENDING.try_with(|p| p.take()) {
                let _ = PENDING_NAME.try_with(|n| n.take());
            }
        }
    }
    let location = Location::caller();
    if let Some(name) = name {
        let _ = PENDING_NAME.try_with(|n| n.set(Some(Box::from(name))));
    }
    let _ = PENDING.try_with(|p| p.set(Some((location, name.is_some()))));
    let _clear = Clear;
    spawn()
}

/// The details left by [`spawning`] for the task being allocated now, if any.
pub(crate) fn take_pending() -> Option<SpawnMeta> {
    let (location, named) = PENDING.try_with(|p| p.take()).ok().flatten()?;
    let name = if named {
        PENDING_NAME.try_with(|n| n.take()).ok().flatten()
    } else {
        None
    };
    Some(SpawnMeta { location, name })
}

/// The vtable a task of vtable `plain` spawned at `location` gets: `plain`'s copy
/// that also names the location (and whether the task is named).
pub(crate) fn located(
    plain: &'static Vtable,
    location: &'static Location<'static>,
    named: bool,
) -> &'static Vtable {
    let plain_addr = std::ptr::from_ref(plain).addr();
    let key = std::ptr::from_ref(location).addr() | usize::from(named);
    // The top bits of a multiplicative hash of both addresses.
    let slot = ((plain_addr >> 3) ^ (key >> 2)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 59;
    let slot = slot % CACHE_SLOTS;
    let cached = CACHE
        .try_with(|cache| {
            let entry = cache.borrow()[slot];
            (entry.plain == plain_addr && entry.key == key)
                .then_some(entry.located)
                .flatten()
        })
        .ok()
        .flatten();
    if let Some(vtable) = cached {
        return vtable;
    }
    let vtable = *lock(&LOCATED).entry((plain_addr, key)).or_insert_with(|| {
        // One per call site and future type for the life of the process: the
        // tasks that point at it may outlive any owner we could give it.
        Box::leak(Box::new(Vtable {
            location: Some(location),
            named,
            ..*plain
        }))
    });
    let _ = CACHE.try_with(|cache| {
        cache.borrow_mut()[slot] = CacheEntry {
            plain: plain_addr,
            key,
            located: Some(vtable),
        }
    });
    vtable
}

/// Remembers the name of the new task `id`.
pub(crate) fn set_name(id: Id, name: Box<str>) {
    lock(&NAMES).insert(id.as_u64(), name);
}

/// Forgets the name of task `id`, whose memory goes now.
pub(crate) fn forget_name(id: Id) {
    lock(&NAMES).remove(&id.as_u64());
}

/// The name of the live named task `id`.
pub(crate) fn name_of(id: Id) -> Option<String> {
    lock(&NAMES)
        .get(&id.as_u64())
        .map(|name| String::from(&**name))
}

/// What a runtime can tell about one of its live tasks: its id, the name given to
/// [`Builder::name`](crate::task::Builder::name) if any, and where it was spawned.
///
/// Returned by [`Handle::alive_tasks`](crate::runtime::Handle::alive_tasks).
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let rt = zokio::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let task = zokio::task::Builder::new()
///         .name("ticker")
///         .spawn(std::future::pending::<()>())?;
///     let tasks = zokio::runtime::Handle::current().alive_tasks();
///     let info = tasks.iter().find(|t| t.id() == task.id()).unwrap();
///     assert_eq!(info.name(), Some("ticker"));
///     assert_eq!(info.location().unwrap().file(), file!());
///     task.abort();
///     Ok(())
/// })
/// # }
/// ```
#[derive(Clone)]
pub struct TaskInfo {
    pub(crate) id: Id,
    pub(crate) name: Option<String>,
    pub(crate) location: Option<&'static Location<'static>>,
}

impl TaskInfo {
    /// The task's id, as [`JoinHandle::id`](crate::task::JoinHandle::id) gives it.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The name given when the task was spawned with a [`Builder`](crate::task::Builder),
    /// or `None`.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The source line that spawned the task (the caller of `zokio::spawn`,
    /// `Handle::spawn`, `JoinSet::spawn`, a `Builder`'s spawn, ...), or `None` for a
    /// task the runtime spawned for itself.
    pub fn location(&self) -> Option<&'static Location<'static>> {
        self.location
    }
}

impl fmt::Debug for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskInfo")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("location", &self.location.map(|l| l.to_string()))
            .finish()
    }
}
