//! Task names and spawn locations, and [`TaskInfo`], what `Handle::alive_tasks`
//! reports about each live task.
//!
//! Locations cost each spawn a look-up in a per-thread cache, so a runtime records
//! them only when built with `Builder::enable_spawn_locations` (or under the
//! `tracing` feature); named spawns, blocking closures and `LocalSet` tasks always
//! do. An unnamed task must not grow by a byte for this (a 40-byte idle task lives in a
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
//! builder's name) down the spawn path as a [`SpawnMeta`]. Nothing here may run on a
//! task's poll path.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::panic::Location;
use std::sync::Mutex;

use super::header::Vtable;
use super::Id;

/// What a public spawn function knows about the task it is about to spawn: where it
/// was called, and the name a [`Builder`](super::Builder) gave it. It travels down
/// the spawn path as an argument to the allocation; the runtime's own tasks have
/// none.
#[derive(Clone, Copy)]
pub(crate) struct SpawnMeta<'a> {
    pub(crate) location: &'static Location<'static>,
    pub(crate) name: Option<&'a str>,
}

impl SpawnMeta<'_> {
    /// An unnamed spawn at the caller's location.
    #[track_caller]
    #[inline]
    pub(crate) fn here() -> SpawnMeta<'static> {
        SpawnMeta::named(None)
    }

    /// A spawn named `name` (if any) at the caller's location.
    #[track_caller]
    #[inline]
    pub(crate) fn named(name: Option<&str>) -> SpawnMeta<'_> {
        SpawnMeta {
            location: Location::caller(),
            name,
        }
    }
}

thread_local! {
    /// Recent (plain vtable, location, named) -> located vtable answers,
    /// direct-mapped. Plain data, so that a lookup is a load from the thread
    /// pointer, with no lazy initialisation and no destructor to register.
    static CACHE: [Cell<CacheEntry>; CACHE_SLOTS] =
        const { [const { Cell::new(CacheEntry::EMPTY) }; CACHE_SLOTS] };
}

const CACHE_SLOTS: usize = 32;

#[derive(Clone, Copy)]
struct CacheEntry {
    /// The location's address, with the low bit set for a named task (a `Location`
    /// is aligned to more than one byte).
    key: usize,
    plain: usize,
    located: Option<&'static Vtable>,
}

impl CacheEntry {
    const EMPTY: CacheEntry = CacheEntry {
        key: 0,
        plain: 0,
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

/// Gives the new task `id` its name, before the task exists, so that it is never
/// freed unnamed.
#[cold]
pub(crate) fn name_task(id: Id, name: &str) {
    lock(&NAMES).insert(id.as_u64(), Box::from(name));
}

/// The vtable a task of vtable `plain` spawned at `location` gets: `plain`'s copy
/// that also names the location (and whether the task is named).
#[inline]
pub(crate) fn located(
    plain: &'static Vtable,
    location: &'static Location<'static>,
    named: bool,
) -> &'static Vtable {
    let plain_addr = std::ptr::from_ref(plain).addr();
    let key = std::ptr::from_ref(location).addr() | usize::from(named);
    // Slotted by the location alone, the cheapest hash that spreads a program's
    // call sites: `Location`s are 8-aligned records laid side by side in the binary,
    // and a call site mostly spawns one future type.
    let slot = (key >> 3) % CACHE_SLOTS;
    let cached = CACHE.try_with(|cache| {
        let entry = cache[slot].get();
        (entry.key == key && entry.plain == plain_addr)
            .then_some(entry.located)
            .flatten()
    });
    match cached {
        Ok(Some(vtable)) => vtable,
        _ => locate_and_cache(plain, location, named, slot),
    }
}

/// `located` when this thread's cache does not know the answer.
#[cold]
#[inline(never)]
fn locate_and_cache(
    plain: &'static Vtable,
    location: &'static Location<'static>,
    named: bool,
    slot: usize,
) -> &'static Vtable {
    let plain_addr = std::ptr::from_ref(plain).addr();
    let key = std::ptr::from_ref(location).addr() | usize::from(named);
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
        cache[slot].set(CacheEntry {
            key,
            plain: plain_addr,
            located: Some(vtable),
        })
    });
    vtable
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
    /// `Handle::spawn`, `JoinSet::spawn`, a `Builder`'s spawn, ...). `None` for a
    /// task the runtime spawned for itself, and for an unnamed task of a runtime
    /// built without
    /// [`enable_spawn_locations`](crate::runtime::Builder::enable_spawn_locations)
    /// (off by default; always on under the `tracing` feature).
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
