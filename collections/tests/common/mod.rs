//! Helpers shared by the integration tests (each test file includes this
//! module with `mod common;`): a counting, switchable failing allocator,
//! and running a test alone in a child process under `RLIMIT_AS`.

#![allow(dead_code, reason = "each test file uses a part of the helpers")]

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::rc::Rc;

use mallocv2::alloc::{AllocError, Allocator, Layout};
use mallocv2::{Batch, BatchAlloc, Error, Heap, ResizeInPlace};

// ---------------------------------------------------------------------------
// A counting, switchable failing allocator over the Heap.

/// What a [`Failing`] allocator counts, and when it fails.
#[derive(Default, Debug)]
pub struct State {
    /// Allocations attempted (single or per batch block).
    pub attempts: Cell<usize>,
    /// Every attempt with index >= this fails (persistent failure).
    pub fail_from: Cell<usize>,
    /// The attempt with this index fails (a one-off failure).
    pub fail_only: Cell<usize>,
    /// Blocks handed out per batch call at most (partial batches).
    pub batch_cap: Cell<usize>,
    /// Blocks handed out and not yet freed.
    pub live: Cell<isize>,
    pub batch_calls: Cell<usize>,
    pub single_allocs: Cell<usize>,
    pub single_frees: Cell<usize>,
    pub batch_frees: Cell<usize>,
}

/// An `Allocator + BatchAlloc` over the Heap that counts its calls and
/// fails the attempts its [`State`] says to.
#[derive(Clone, Debug)]
pub struct Failing(pub Rc<State>);

impl Failing {
    /// An allocator that never fails and hands out whole batches.
    pub fn new() -> Self {
        let s = State::default();
        s.fail_from.set(usize::MAX);
        s.fail_only.set(usize::MAX);
        s.batch_cap.set(usize::MAX);
        Failing(Rc::new(s))
    }

    /// Counts one attempt and says whether it may succeed.
    fn allowed(&self) -> bool {
        let n = self.0.attempts.get();
        self.0.attempts.set(n + 1);
        n < self.0.fail_from.get() && n != self.0.fail_only.get()
    }

    /// Blocks handed out and not yet freed.
    pub fn live(&self) -> isize {
        self.0.live.get()
    }
}

// SAFETY: forwards to the Heap, which upholds the contract.
unsafe impl Allocator for Failing {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        if !self.allowed() {
            return Err(AllocError);
        }
        let b = Heap.allocate(layout)?;
        self.0.single_allocs.set(self.0.single_allocs.get() + 1);
        self.0.live.set(self.0.live.get() + 1);
        Ok(b)
    }
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        self.0.single_frees.set(self.0.single_frees.get() + 1);
        self.0.live.set(self.0.live.get() - 1);
        // SAFETY: forwarded from the caller.
        unsafe { Heap.deallocate(ptr, layout) }
    }
}

// SAFETY: blocks come from the Heap's batch call and go back through it.
unsafe impl BatchAlloc for Failing {
    fn allocate_batch(&self, layout: Layout, out: &mut [MaybeUninit<NonNull<u8>>]) -> Batch {
        self.0.batch_calls.set(self.0.batch_calls.get() + 1);
        let want = out.len().min(self.0.batch_cap.get());
        let mut k = 0;
        while k < want && self.allowed() {
            k += 1;
        }
        let b = Heap.allocate_batch(layout, &mut out[..k]);
        self.0.live.set(self.0.live.get() + b.count as isize);
        b
    }
    unsafe fn deallocate_batch(&self, blocks: &[NonNull<u8>], layout: Layout) {
        self.0.batch_frees.set(self.0.batch_frees.get() + 1);
        self.0.live.set(self.0.live.get() - blocks.len() as isize);
        // SAFETY: forwarded from the caller.
        unsafe { Heap.deallocate_batch(blocks, layout) }
    }
}

// ---------------------------------------------------------------------------
// Child processes (the test binary re-executed), so a limit stays there.

/// Set in the child's environment.
const CHILD_ENV: &str = "MALLOCV2_TEST_CHILD";

/// What a child prints (to stdout) when its body ran to the end.
pub const CHILD_OK: &str = "CHILD OK";

/// Runs the test `name` alone in a child process and asserts that it
/// succeeded and printed [`CHILD_OK`]. Returns whether this is the child:
/// then the caller runs the body.
pub fn in_child(name: &str) -> bool {
    if std::env::var_os(CHILD_ENV).is_some() {
        return true;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        // A panic under RLIMIT_AS must not try to print a backtrace: that
        // allocates, fails, and deadlocks on the backtrace lock.
        .env("RUST_BACKTRACE", "0")
        .env(CHILD_ENV, "1")
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .output()
        .expect("spawn child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(CHILD_OK),
        "child {name} failed: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    false
}

/// `/proc/self/statm`: (virtual size, resident) in bytes.
pub fn statm() -> (usize, usize) {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    let mut it = s.split_whitespace().map(|x| x.parse::<usize>().unwrap());
    let page = mallocv2::Reservation::page_size();
    (it.next().unwrap() * page, it.next().unwrap() * page)
}

/// Limits the address space of this process (`RLIMIT_AS`) to what is
/// mapped now plus `extra` bytes.
pub fn limit_address_space(extra: usize) {
    let bytes = statm().0 + extra;
    let lim = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit reads a valid rlimit struct; only this (child)
    // process is affected.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) };
    assert_eq!(rc, 0, "setrlimit failed");
}

// ---------------------------------------------------------------------------
// Requests larger than the machine, run without touching them.

/// Twice the machine's RAM + swap (`/proc/meminfo`): a request the kernel
/// refuses to commit under its default overcommit heuristic.
pub fn twice_the_machine() -> usize {
    let info = std::fs::read_to_string("/proc/meminfo").expect("read /proc/meminfo");
    let kib = |key: &str| -> usize {
        info.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in /proc/meminfo"))
    };
    2 * (kib("MemTotal:") + kib("SwapTotal:")) * 1024
}

/// `vm.overcommit_memory`: 0 heuristic (the default), 1 always, 2 strict.
pub fn overcommit_mode() -> u8 {
    std::fs::read_to_string("/proc/sys/vm/overcommit_memory")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Starts a thread that ends this (child) process if its resident set grows
/// by more than `max_growth` bytes from now, or if it runs longer than
/// `max_secs`: a test of a request larger than the machine must never touch
/// that memory, and must fail fast rather than wait for the OOM killer.
pub fn memory_watchdog(max_growth: usize, max_secs: u64) {
    let start = statm().1;
    let t0 = std::time::Instant::now();
    std::thread::spawn(move || loop {
        let rss = statm().1;
        if rss > start + max_growth {
            eprintln!(
                "WATCHDOG: resident set grew by {} MiB (limit {} MiB)",
                (rss - start) >> 20,
                max_growth >> 20
            );
            std::process::abort();
        }
        if t0.elapsed().as_secs() > max_secs {
            eprintln!("WATCHDOG: still running after {max_secs} s");
            std::process::abort();
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    });
}

// ---------------------------------------------------------------------------
// A failing allocator with the in-place and remap steps (`ResizeInPlace`).

/// Forwards to `Heap`, but from the `fail_from`-th operation (allocate,
/// grow in place, remap) on, every operation fails.
#[derive(Clone)]
pub struct FailingResize {
    ops: Rc<Cell<usize>>,
    fail_from: Rc<Cell<usize>>,
}

impl FailingResize {
    /// An allocator that fails nothing until armed.
    pub fn new() -> Self {
        FailingResize {
            ops: Rc::new(Cell::new(0)),
            fail_from: Rc::new(Cell::new(usize::MAX)),
        }
    }

    fn fails(&self) -> bool {
        let n = self.ops.get() + 1;
        self.ops.set(n);
        n >= self.fail_from.get()
    }

    /// From the `nth` operation after this call on (1-based), every
    /// operation fails; `arm(1)` fails everything.
    pub fn arm(&self, nth: usize) {
        self.ops.set(0);
        self.fail_from.set(nth);
    }

    /// Nothing fails any more.
    pub fn disarm(&self) {
        self.fail_from.set(usize::MAX);
    }
}

// SAFETY: every block comes from `Heap` and goes back to it.
unsafe impl Allocator for FailingResize {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        if self.fails() {
            return Err(AllocError);
        }
        Heap.allocate(layout)
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { Heap.deallocate(ptr, layout) }
    }
}

// SAFETY: forwards to `Heap`'s implementation or refuses without touching
// the block.
unsafe impl ResizeInPlace for FailingResize {
    unsafe fn try_grow_in_place(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Result<usize, Error> {
        if self.fails() {
            return Err(Error::NoSpace);
        }
        // SAFETY: forwarded from the caller.
        unsafe { Heap.try_grow_in_place(ptr, layout, new_size) }
    }

    unsafe fn try_shrink_in_place(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Result<usize, Error> {
        if self.fails() {
            return Err(Error::NoSpace);
        }
        // SAFETY: forwarded from the caller.
        unsafe { Heap.try_shrink_in_place(ptr, layout, new_size) }
    }

    unsafe fn usable_size(&self, ptr: NonNull<u8>, layout: Layout) -> usize {
        // SAFETY: forwarded from the caller.
        unsafe { Heap.usable_size(ptr, layout) }
    }

    unsafe fn try_remap(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Result<NonNull<[u8]>, Error> {
        if self.fails() {
            return Err(Error::NoSpace);
        }
        // SAFETY: forwarded from the caller.
        unsafe { Heap.try_remap(ptr, layout, new_size) }
    }
}
