//! [`LinkedList`]: std's doubly linked list, with nodes allocated in batches.
//!
//! # Guarantees and costs
//!
//! - The API is std's `LinkedList` (plus the unstable cursor API, `remove`,
//!   `retain` and fallible `try_*` forms), so switching is a change of type.
//! - **Bulk operations allocate their nodes with one batch call**:
//!   [`Extend`], [`FromIterator`], [`Clone`], [`extend_from_slice`] and
//!   deserialisation ask the allocator's [`BatchAlloc::allocate_batch`] for
//!   all the nodes at once, so they sit next to each other in memory (the
//!   [`Heap`] carves them from one slab run) and a traversal walks memory
//!   mostly forwards. The batch size comes from the iterator's `size_hint`
//!   lower bound (plus the item already pulled): an exact-size iterator of
//!   `n` items makes **one** call. When the hint is too small (0 for a
//!   `filter`), further batches double in size (1, 2, 4, ... up to
//!   [`MAX_BATCH`] nodes); blocks left over when the iterator ends early (a
//!   lying hint) are handed back with one `deallocate_batch` call.
//! - A partial batch is used as far as it goes; an empty batch falls back to
//!   a single `allocate`. No element is ever lost: a failed `try_*` leaves
//!   the list as it was.
//! - Single operations (`push_*`, cursor inserts) allocate one node;
//!   removing a node (`pop_*`, `remove_current`, `remove`) frees just that
//!   node with `deallocate` (a batch block is an ordinary block).
//! - `clear` and `Drop` free all nodes with `deallocate_batch`, in chunks of
//!   [`FREE_CHUNK`] pointers gathered on the stack (no temporary allocation).
//! - Nodes never move: references to elements stay valid until the element
//!   is removed.
//!
//! ```
//! use mallocv2_collections::list::LinkedList;
//! use mallocv2::Heap;
//!
//! let before = Heap::thread_stats();
//! let list: LinkedList<u32> = (0..1000).collect();
//! assert_eq!(Heap::thread_stats().since(&before).batch_calls, 1);
//! assert_eq!(list.iter().rev().next(), Some(&999));
//! ```
//!
//! [`extend_from_slice`]: LinkedList::extend_from_slice

use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::mem::{ManuallyDrop, MaybeUninit};
use core::ptr::{self, NonNull};

use mallocv2::alloc::{AllocError, Allocator, Layout};
use mallocv2::{BatchAlloc, Heap};

use crate::TryReserveError;

/// Allocates one node for a single insertion (a list push, a tree insert):
/// from the allocator's batch call (a one-block batch), falling back to
/// `allocate`.
///
/// Nodes are small and numerous. With the `Heap`, a batch block lives in a
/// slab, while a plain small `allocate` goes to the C `malloc`; a million
/// nodes freed there leave a million chunks in glibc's fast bins, and the
/// next large `malloc` anywhere in the process pays to merge them (a sorted
/// tree build after a churned tree was 20x slower for that reason). Taking single
/// nodes from the same slabs as bulk-built ones keeps every node out of
/// `malloc`, and a node is freed by address as before.
#[inline]
pub(crate) fn allocate_node<A: Allocator + BatchAlloc>(
    alloc: &A,
    layout: Layout,
) -> Result<NonNull<u8>, AllocError> {
    let mut one = [MaybeUninit::uninit()];
    if alloc.allocate_batch(layout, &mut one).count == 1 {
        // SAFETY: the batch call initialised the first `count` (= 1) entries.
        return Ok(unsafe { one[0].assume_init() });
    }
    alloc.allocate(layout).map(NonNull::cast)
}

/// The largest number of nodes asked for in one batch call.
pub const MAX_BATCH: usize = 1 << 16;

/// How many node pointers `clear`/`Drop` gather on the stack before one
/// `deallocate_batch` call.
pub const FREE_CHUNK: usize = 1024;

/// Blocks of one layout obtained by batch calls and handed out one at a
/// time. Whatever is not taken is freed with one `deallocate_batch` call
/// when the supply is dropped (also during unwinding), so no block leaks.
pub(crate) struct NodeSupply<'a, A: BatchAlloc> {
    alloc: &'a A,
    layout: Layout,
    /// Invariant: `blocks[pos..]` are live blocks of `layout` owned by the
    /// supply; `blocks[..pos]` were handed out.
    blocks: std::vec::Vec<NonNull<u8>>,
    pos: usize,
    /// Size of the last batch asked for (for doubling).
    last: usize,
}

impl<'a, A: BatchAlloc> NodeSupply<'a, A> {
    pub(crate) fn new(alloc: &'a A, layout: Layout) -> Self {
        debug_assert!(layout.size() != 0, "node layouts are never zero-sized");
        Self {
            alloc,
            layout,
            blocks: std::vec::Vec::new(),
            pos: 0,
            last: 0,
        }
    }

    /// Blocks not yet handed out.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.blocks.len() - self.pos
    }

    /// Asks for up to `n` more blocks with one batch call (capped at
    /// [`MAX_BATCH`]). Gets at least one block or fails: an empty batch
    /// falls back to a single `allocate`.
    #[cold]
    #[inline(never)]
    pub(crate) fn obtain(&mut self, n: usize) -> Result<usize, TryReserveError> {
        let n = n.clamp(1, MAX_BATCH);
        if self.pos == self.blocks.len() {
            self.blocks.clear();
            self.pos = 0;
        }
        if self.blocks.try_reserve(n).is_err() {
            return Err(TryReserveError::AllocError {
                layout: Layout::array::<NonNull<u8>>(n).unwrap_or(self.layout),
            });
        }
        self.last = n;
        let got = self
            .alloc
            .allocate_batch_into(self.layout, n, &mut self.blocks)
            .count;
        if got > 0 {
            return Ok(got);
        }
        match self.alloc.allocate(self.layout) {
            Ok(p) => {
                self.blocks.push(p.cast());
                Ok(1)
            }
            Err(_) => Err(TryReserveError::AllocError {
                layout: self.layout,
            }),
        }
    }

    /// Makes sure at least `n` blocks are on hand, with as few batch calls
    /// as the allocator allows (one when it serves the whole batch).
    ///
    /// # Errors
    /// When the allocator refuses; the blocks obtained so far stay in the
    /// supply (and are freed when it drops).
    pub(crate) fn ensure(&mut self, n: usize) -> Result<(), TryReserveError> {
        while self.remaining() < n {
            // Keep the untaken blocks: move them to the front first.
            if self.pos > 0 {
                self.blocks.drain(..self.pos);
                self.pos = 0;
            }
            let want = n - self.remaining();
            self.obtain_append(want)?;
        }
        Ok(())
    }

    fn obtain_append(&mut self, n: usize) -> Result<(), TryReserveError> {
        let n = n.clamp(1, MAX_BATCH);
        if self.blocks.try_reserve(n).is_err() {
            return Err(TryReserveError::AllocError {
                layout: Layout::array::<NonNull<u8>>(n).unwrap_or(self.layout),
            });
        }
        let got = self
            .alloc
            .allocate_batch_into(self.layout, n, &mut self.blocks)
            .count;
        if got == 0 {
            match self.alloc.allocate(self.layout) {
                Ok(p) => self.blocks.push(p.cast()),
                Err(_) => {
                    return Err(TryReserveError::AllocError {
                        layout: self.layout,
                    })
                }
            }
        }
        Ok(())
    }

    /// The next block for an iterator whose `size_hint` lower bound is
    /// `hint` after the current item: one batch for `1 + hint` blocks, or
    /// double the last batch when the hint was too small.
    #[inline]
    pub(crate) fn next_for(&mut self, hint: usize) -> Result<NonNull<u8>, TryReserveError> {
        if self.remaining() == 0 {
            let want = hint.saturating_add(1).max(self.last.saturating_mul(2));
            self.obtain(want)?;
        }
        Ok(self.take())
    }

    /// Hands out the next block.
    ///
    /// # Panics
    /// (Debug builds) when none is left.
    #[inline]
    pub(crate) fn take(&mut self) -> NonNull<u8> {
        debug_assert!(
            self.pos < self.blocks.len(),
            "supply empty: pos {} len {}",
            self.pos,
            self.blocks.len()
        );
        let p = self.blocks[self.pos];
        self.pos += 1;
        p
    }
}

impl<A: BatchAlloc> Drop for NodeSupply<'_, A> {
    fn drop(&mut self) {
        let rest = &self.blocks[self.pos..];
        if !rest.is_empty() {
            // SAFETY: `blocks[pos..]` are live blocks of `layout` from this
            // allocator, listed once and never handed out (field invariant).
            unsafe { self.alloc.deallocate_batch(rest, self.layout) };
        }
    }
}

/// Frees a chain of nodes: drops each value, gathers the node pointers on
/// the stack and frees them [`FREE_CHUNK`] at a time with
/// `deallocate_batch`. If a value's `Drop` panics, the guard's own `Drop`
/// carries on with the rest of the chain, so nothing leaks.
pub(crate) struct FreeChain<'a, N, A: BatchAlloc> {
    alloc: &'a A,
    /// Gathered node pointers: `buf[..n]` are initialised, their values
    /// already dropped.
    buf: [MaybeUninit<NonNull<u8>>; FREE_CHUNK],
    n: usize,
    _node: PhantomData<N>,
}

impl<'a, N, A: BatchAlloc> FreeChain<'a, N, A> {
    pub(crate) fn new(alloc: &'a A) -> Self {
        Self {
            alloc,
            buf: [MaybeUninit::uninit(); FREE_CHUNK],
            n: 0,
            _node: PhantomData,
        }
    }

    /// Queues a node (whose value is already dropped or moved out) for
    /// freeing.
    ///
    /// # Safety
    /// `node` is a live block of `Layout::new::<N>()` from `alloc`, queued
    /// once, and not used afterwards.
    #[inline]
    pub(crate) unsafe fn push(&mut self, node: NonNull<N>) {
        if self.n == FREE_CHUNK {
            self.flush();
        }
        self.buf[self.n].write(node.cast());
        self.n += 1;
    }

    fn flush(&mut self) {
        if self.n == 0 {
            return;
        }
        // SAFETY: `buf[..n]` were initialised by `push`.
        let blocks =
            unsafe { core::slice::from_raw_parts(self.buf.as_ptr().cast::<NonNull<u8>>(), self.n) };
        // SAFETY: every queued pointer is a live node block of this layout
        // from `alloc`, queued once (contract of `push`).
        unsafe { self.alloc.deallocate_batch(blocks, Layout::new::<N>()) };
        self.n = 0;
    }
}

impl<N, A: BatchAlloc> Drop for FreeChain<'_, N, A> {
    fn drop(&mut self) {
        self.flush();
    }
}

type Link<T> = Option<NonNull<Node<T>>>;

/// One list node.
struct Node<T> {
    next: Link<T>,
    prev: Link<T>,
    value: T,
}

/// A doubly linked list whose nodes come from `A` (the [`Heap`] by
/// default), bulk operations allocating all their nodes in one batch call.
///
/// ```
/// use mallocv2_collections::list::LinkedList;
///
/// let mut l = LinkedList::new();
/// l.push_back(2);
/// l.push_front(1);
/// l.extend([3, 4]);
/// assert_eq!(l.iter().copied().collect::<Vec<_>>(), [1, 2, 3, 4]);
/// assert_eq!(l.pop_back(), Some(4));
/// ```
pub struct LinkedList<T, A: Allocator + BatchAlloc = Heap> {
    /// First node; `None` iff `len == 0`.
    head: Link<T>,
    /// Last node; `None` iff `len == 0`.
    tail: Link<T>,
    /// Number of nodes reachable from `head` through `next`.
    len: usize,
    alloc: A,
    _owns: PhantomData<Box<Node<T>>>,
}

// SAFETY: the list owns its nodes and values like a `Box` would; sending it
// sends the `T`s and the allocator.
unsafe impl<T: Send, A: Allocator + BatchAlloc + Send> Send for LinkedList<T, A> {}
// SAFETY: `&LinkedList` only gives out `&T` and `&A`.
unsafe impl<T: Sync, A: Allocator + BatchAlloc + Sync> Sync for LinkedList<T, A> {}

impl<T> LinkedList<T> {
    /// An empty list over the [`Heap`]; allocates nothing.
    ///
    /// ```
    /// let l: mallocv2_collections::list::LinkedList<u8> =
    ///     mallocv2_collections::list::LinkedList::new();
    /// assert!(l.is_empty());
    /// ```
    #[inline]
    pub const fn new() -> Self {
        Self::new_in(Heap)
    }
}

impl<T, A: Allocator + BatchAlloc> LinkedList<T, A> {
    const NODE: Layout = Layout::new::<Node<T>>();

    /// An empty list whose nodes will come from `alloc`.
    ///
    /// ```
    /// use mallocv2_collections::list::LinkedList;
    /// let l: LinkedList<u8, std::alloc::System> = LinkedList::new_in(std::alloc::System);
    /// assert!(l.is_empty());
    /// ```
    #[inline]
    pub const fn new_in(alloc: A) -> Self {
        Self {
            head: None,
            tail: None,
            len: 0,
            alloc,
            _owns: PhantomData,
        }
    }

    /// The allocator.
    ///
    /// ```
    /// let l: mallocv2_collections::list::LinkedList<u8> = Default::default();
    /// assert_eq!(*l.allocator(), mallocv2::Heap);
    /// ```
    #[inline]
    pub fn allocator(&self) -> &A {
        &self.alloc
    }

    /// Number of elements. O(1).
    ///
    /// ```
    /// let l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// assert_eq!(l.len(), 2);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    ///
    /// ```
    /// let l: mallocv2_collections::list::LinkedList<u8> = Default::default();
    /// assert!(l.is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first element.
    ///
    /// ```
    /// let l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// assert_eq!(l.front(), Some(&1));
    /// ```
    #[inline]
    pub fn front(&self) -> Option<&T> {
        // SAFETY: `head` is a live node owned by `self` (field invariant);
        // the borrow of `self` keeps it alive.
        self.head.map(|n| unsafe { &(*n.as_ptr()).value })
    }

    /// The first element, mutably.
    ///
    /// ```
    /// let mut l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// *l.front_mut().unwrap() = 5;
    /// assert_eq!(l.front(), Some(&5));
    /// ```
    #[inline]
    pub fn front_mut(&mut self) -> Option<&mut T> {
        // SAFETY: as in `front`; `&mut self` makes the access unique.
        self.head.map(|n| unsafe { &mut (*n.as_ptr()).value })
    }

    /// The last element.
    ///
    /// ```
    /// let l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// assert_eq!(l.back(), Some(&2));
    /// ```
    #[inline]
    pub fn back(&self) -> Option<&T> {
        // SAFETY: `tail` is a live node owned by `self` (field invariant).
        self.tail.map(|n| unsafe { &(*n.as_ptr()).value })
    }

    /// The last element, mutably.
    ///
    /// ```
    /// let mut l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// *l.back_mut().unwrap() = 7;
    /// assert_eq!(l.back(), Some(&7));
    /// ```
    #[inline]
    pub fn back_mut(&mut self) -> Option<&mut T> {
        // SAFETY: as in `back`; `&mut self` makes the access unique.
        self.tail.map(|n| unsafe { &mut (*n.as_ptr()).value })
    }

    /// Allocates one node holding `value`, unlinked.
    fn new_node(&self, value: T) -> Result<NonNull<Node<T>>, (T, TryReserveError)> {
        match allocate_node(&self.alloc, Self::NODE) {
            Ok(p) => {
                let node = p.cast::<Node<T>>();
                // SAFETY: `p` is a fresh block valid for `Node<T>`.
                unsafe {
                    node.as_ptr().write(Node {
                        next: None,
                        prev: None,
                        value,
                    })
                };
                Ok(node)
            }
            Err(_) => Err((value, TryReserveError::AllocError { layout: Self::NODE })),
        }
    }

    /// Writes `value` into the block `p` (from this allocator, layout
    /// `NODE`), unlinked.
    ///
    /// # Safety
    /// `p` is a live, unused block of `Self::NODE` from `self.alloc`.
    #[inline]
    unsafe fn init_node(p: NonNull<u8>, value: T) -> NonNull<Node<T>> {
        let node = p.cast::<Node<T>>();
        // SAFETY: `p` is valid for writes of a `Node<T>` (caller) and
        // suitably aligned (allocated with `NODE`).
        unsafe {
            node.as_ptr().write(Node {
                next: None,
                prev: None,
                value,
            })
        };
        node
    }

    /// Links an unlinked node at the back.
    ///
    /// # Safety
    /// `node` is a live, unlinked node from `self.alloc`, now owned by the
    /// list.
    #[inline]
    unsafe fn link_back(&mut self, node: NonNull<Node<T>>) {
        // SAFETY: `node` is live and exclusively ours (caller); `tail` is a
        // live node of the list (field invariant).
        unsafe {
            (*node.as_ptr()).prev = self.tail;
            (*node.as_ptr()).next = None;
            match self.tail {
                Some(t) => (*t.as_ptr()).next = Some(node),
                None => self.head = Some(node),
            }
        }
        self.tail = Some(node);
        self.len += 1;
    }

    /// Links an unlinked node at the front.
    ///
    /// # Safety
    /// As [`link_back`](Self::link_back).
    #[inline]
    unsafe fn link_front(&mut self, node: NonNull<Node<T>>) {
        // SAFETY: as in `link_back`.
        unsafe {
            (*node.as_ptr()).next = self.head;
            (*node.as_ptr()).prev = None;
            match self.head {
                Some(h) => (*h.as_ptr()).prev = Some(node),
                None => self.tail = Some(node),
            }
        }
        self.head = Some(node);
        self.len += 1;
    }

    /// Unlinks `node` from the list (does not free it).
    ///
    /// # Safety
    /// `node` is a node of this list.
    #[inline]
    unsafe fn unlink(&mut self, node: NonNull<Node<T>>) {
        // SAFETY: `node` and its neighbours are live nodes of this list
        // (caller, field invariants).
        unsafe {
            let n = &mut *node.as_ptr();
            match n.prev {
                Some(p) => (*p.as_ptr()).next = n.next,
                None => self.head = n.next,
            }
            match n.next {
                Some(x) => (*x.as_ptr()).prev = n.prev,
                None => self.tail = n.prev,
            }
            n.next = None;
            n.prev = None;
        }
        self.len -= 1;
    }

    /// Moves the value out of an unlinked node and frees just that node.
    ///
    /// # Safety
    /// `node` is an unlinked node from `self.alloc`, not used afterwards.
    #[inline]
    unsafe fn take_node(&self, node: NonNull<Node<T>>) -> T {
        // SAFETY: the node is live and initialised (caller); after the read
        // its value is owned by the caller, and the block is freed with the
        // layout it was allocated with.
        unsafe {
            let value = ptr::read(&(*node.as_ptr()).value);
            self.alloc.deallocate(node.cast(), Self::NODE);
            value
        }
    }

    /// Appends `value`; allocates one node.
    ///
    /// # Panics
    /// If the allocator fails (see [`try_push_back`](Self::try_push_back)).
    ///
    /// ```
    /// let mut l = mallocv2_collections::list::LinkedList::new();
    /// l.push_back(1);
    /// assert_eq!(l.back(), Some(&1));
    /// ```
    pub fn push_back(&mut self, value: T) {
        if let Err(e) = self.try_push_back(value) {
            alloc_failed(e)
        }
    }

    /// Appends `value`, or reports that its node could not be allocated.
    ///
    /// # Errors
    /// [`TryReserveError::AllocError`] when the allocator refuses; the list
    /// is unchanged and `value` is dropped.
    ///
    /// ```
    /// let mut l = mallocv2_collections::list::LinkedList::new();
    /// l.try_push_back(1)?;
    /// assert_eq!(l.len(), 1);
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    pub fn try_push_back(&mut self, value: T) -> Result<(), TryReserveError> {
        let node = self.new_node(value).map_err(|(_, e)| e)?;
        // SAFETY: a fresh unlinked node from our allocator.
        unsafe { self.link_back(node) };
        Ok(())
    }

    /// Prepends `value`; allocates one node.
    ///
    /// # Panics
    /// If the allocator fails (see [`try_push_front`](Self::try_push_front)).
    ///
    /// ```
    /// let mut l = mallocv2_collections::list::LinkedList::new();
    /// l.push_front(1);
    /// l.push_front(0);
    /// assert_eq!(l.front(), Some(&0));
    /// ```
    pub fn push_front(&mut self, value: T) {
        if let Err(e) = self.try_push_front(value) {
            alloc_failed(e)
        }
    }

    /// Prepends `value`, or reports that its node could not be allocated.
    ///
    /// # Errors
    /// As [`try_push_back`](Self::try_push_back).
    ///
    /// ```
    /// let mut l = mallocv2_collections::list::LinkedList::new();
    /// l.try_push_front(1)?;
    /// assert_eq!(l.front(), Some(&1));
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    pub fn try_push_front(&mut self, value: T) -> Result<(), TryReserveError> {
        let node = self.new_node(value).map_err(|(_, e)| e)?;
        // SAFETY: a fresh unlinked node from our allocator.
        unsafe { self.link_front(node) };
        Ok(())
    }

    /// Removes the first element; frees just its node.
    ///
    /// ```
    /// let mut l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// assert_eq!(l.pop_front(), Some(1));
    /// assert_eq!(l.len(), 1);
    /// ```
    pub fn pop_front(&mut self) -> Option<T> {
        let node = self.head?;
        // SAFETY: `head` is a node of this list; once unlinked it is ours
        // to take apart.
        unsafe {
            self.unlink(node);
            Some(self.take_node(node))
        }
    }

    /// Removes the last element; frees just its node.
    ///
    /// ```
    /// let mut l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// assert_eq!(l.pop_back(), Some(2));
    /// ```
    pub fn pop_back(&mut self) -> Option<T> {
        let node = self.tail?;
        // SAFETY: as in `pop_front`.
        unsafe {
            self.unlink(node);
            Some(self.take_node(node))
        }
    }

    /// Removes all elements, freeing the nodes with `deallocate_batch` in
    /// chunks of [`FREE_CHUNK`].
    ///
    /// ```
    /// let mut l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// l.clear();
    /// assert!(l.is_empty());
    /// ```
    pub fn clear(&mut self) {
        let mut cur = self.head.take();
        self.tail = None;
        self.len = 0;
        let mut guard = ChainDropper::<T, A> {
            free: FreeChain::new(&self.alloc),
            cur: &mut cur,
        };
        guard.run();
    }

    /// Whether some element equals `x`.
    ///
    /// ```
    /// let l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// assert!(l.contains(&2));
    /// ```
    pub fn contains(&self, x: &T) -> bool
    where
        T: PartialEq,
    {
        self.iter().any(|e| e == x)
    }

    /// Iterates front to back.
    ///
    /// ```
    /// let l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// assert_eq!(l.iter().rev().copied().collect::<Vec<_>>(), [2, 1]);
    /// ```
    #[inline]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            head: self.head,
            tail: self.tail,
            len: self.len,
            _marker: PhantomData,
        }
    }

    /// Iterates front to back, mutably.
    ///
    /// ```
    /// let mut l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// l.iter_mut().for_each(|x| *x *= 10);
    /// assert_eq!(l.iter().copied().collect::<Vec<_>>(), [10, 20]);
    /// ```
    #[inline]
    pub fn iter_mut(&mut self) -> IterMut<'_, T> {
        IterMut {
            head: self.head,
            tail: self.tail,
            len: self.len,
            _marker: PhantomData,
        }
    }

    /// Moves all of `other`'s elements to the back of `self` in O(1);
    /// `other` ends empty.
    ///
    /// The nodes keep coming from the allocator they were allocated with,
    /// so the two allocators must be interchangeable (always true for the
    /// zero-sized [`Heap`], `Global` and `System`).
    ///
    /// ```
    /// let mut a: mallocv2_collections::list::LinkedList<u8> = [1].into();
    /// let mut b: mallocv2_collections::list::LinkedList<u8> = [2, 3].into();
    /// a.append(&mut b);
    /// assert!(b.is_empty());
    /// assert_eq!(a.len(), 3);
    /// ```
    pub fn append(&mut self, other: &mut Self) {
        let (Some(oh), Some(ot)) = (other.head, other.tail) else {
            return;
        };
        match self.tail {
            // SAFETY: `t` and `oh` are live nodes of the two lists.
            Some(t) => unsafe {
                (*t.as_ptr()).next = Some(oh);
                (*oh.as_ptr()).prev = Some(t);
            },
            None => self.head = Some(oh),
        }
        self.tail = Some(ot);
        self.len += other.len;
        other.head = None;
        other.tail = None;
        other.len = 0;
    }

    /// Splits the list at `at`: `self` keeps `[0, at)`, the result holds
    /// `[at, len)`. O(min(at, len - at)); allocates nothing.
    ///
    /// # Panics
    /// If `at > len`.
    ///
    /// ```
    /// let mut a: mallocv2_collections::list::LinkedList<u8> = [1, 2, 3].into();
    /// let b = a.split_off(1);
    /// assert_eq!(a.len(), 1);
    /// assert_eq!(b.iter().copied().collect::<Vec<_>>(), [2, 3]);
    /// ```
    pub fn split_off(&mut self, at: usize) -> Self
    where
        A: Clone,
    {
        let len = self.len;
        assert!(
            at <= len,
            "LinkedList::split_off: index {at} out of bounds (len {len})"
        );
        let mut rest = Self::new_in(self.alloc.clone());
        if at == len {
            return rest;
        }
        if at == 0 {
            core::mem::swap(self, &mut rest);
            // The allocators are interchangeable clones; keep ours in `self`.
            core::mem::swap(&mut self.alloc, &mut rest.alloc);
            return rest;
        }
        let first = self.node_at(at);
        // SAFETY: `first` is a node of this list with a predecessor
        // (`0 < at < len`).
        unsafe {
            let prev = (*first.as_ptr())
                .prev
                .expect("a node past the head has a predecessor");
            (*prev.as_ptr()).next = None;
            (*first.as_ptr()).prev = None;
            rest.head = Some(first);
            rest.tail = self.tail;
            rest.len = len - at;
            self.tail = Some(prev);
            self.len = at;
        }
        rest
    }

    /// The node at `at < len`, walking from the nearer end.
    fn node_at(&self, at: usize) -> NonNull<Node<T>> {
        debug_assert!(at < self.len, "node_at({at}) with len {}", self.len);
        if at <= self.len / 2 {
            let mut n = self.head.expect("non-empty");
            for _ in 0..at {
                // SAFETY: `n` is a live node with at least `len - at` successors.
                n = unsafe { (*n.as_ptr()).next.expect("in bounds") };
            }
            n
        } else {
            let mut n = self.tail.expect("non-empty");
            for _ in 0..self.len - 1 - at {
                // SAFETY: as above, walking backwards.
                n = unsafe { (*n.as_ptr()).prev.expect("in bounds") };
            }
            n
        }
    }

    /// Removes and returns the element at `at`; frees just its node.
    ///
    /// # Panics
    /// If `at >= len`.
    ///
    /// ```
    /// let mut l: mallocv2_collections::list::LinkedList<u8> = [1, 2, 3].into();
    /// assert_eq!(l.remove(1), 2);
    /// ```
    pub fn remove(&mut self, at: usize) -> T {
        let len = self.len;
        assert!(
            at < len,
            "LinkedList::remove: index {at} out of bounds (len {len})"
        );
        let node = self.node_at(at);
        // SAFETY: `node` is a node of this list.
        unsafe {
            self.unlink(node);
            self.take_node(node)
        }
    }

    /// Keeps only the elements for which `f` returns `true`; each removed
    /// node is freed on its own. If `f` panics, the list stays valid.
    ///
    /// ```
    /// let mut l: mallocv2_collections::list::LinkedList<u8> = [1, 2, 3, 4].into();
    /// l.retain(|x| x % 2 == 0);
    /// assert_eq!(l.iter().copied().collect::<Vec<_>>(), [2, 4]);
    /// ```
    pub fn retain<F: FnMut(&T) -> bool>(&mut self, mut f: F) {
        let mut cur = self.head;
        while let Some(node) = cur {
            // SAFETY: `node` is a live node of this list.
            let (keep, next) = unsafe { (f(&(*node.as_ptr()).value), (*node.as_ptr()).next) };
            if !keep {
                // SAFETY: `node` is a node of this list.
                drop(unsafe {
                    self.unlink(node);
                    self.take_node(node)
                });
            }
            cur = next;
        }
    }

    /// Appends `items`' items, allocating their nodes in one batch call
    /// (see the module docs for how the batch is sized).
    ///
    /// # Panics
    /// If the allocator fails; the elements appended so far stay.
    fn extend_iter<I: Iterator<Item = T>>(&mut self, mut items: I) {
        let mut supply = NodeSupply::new(&self.alloc, Self::NODE);
        while let Some(value) = items.next() {
            let p = match supply.next_for(items.size_hint().0) {
                Ok(p) => p,
                Err(e) => alloc_failed(e),
            };
            // SAFETY: `p` is an unused block of `NODE` from `self.alloc`.
            let node = unsafe { Self::init_node(p, value) };
            // SAFETY: the node is fresh and unlinked. Linking touches only
            // `head`/`tail`/`len`, fields disjoint from the borrowed `alloc`.
            unsafe {
                (*node.as_ptr()).prev = self.tail;
                match self.tail {
                    Some(t) => (*t.as_ptr()).next = Some(node),
                    None => self.head = Some(node),
                }
            }
            self.tail = Some(node);
            self.len += 1;
        }
    }

    /// Appends clones of `items`, all nodes allocated before any element is
    /// cloned (one batch call when the allocator serves it whole).
    ///
    /// # Panics
    /// If the allocator fails (see
    /// [`try_extend_from_slice`](Self::try_extend_from_slice)).
    ///
    /// ```
    /// let mut l = mallocv2_collections::list::LinkedList::new();
    /// l.extend_from_slice(&[1, 2, 3]);
    /// assert_eq!(l.len(), 3);
    /// ```
    pub fn extend_from_slice(&mut self, items: &[T])
    where
        T: Clone,
    {
        if let Err(e) = self.try_extend_from_slice(items) {
            alloc_failed(e)
        }
    }

    /// Appends clones of `items`, or nothing at all.
    ///
    /// # Errors
    /// [`TryReserveError::AllocError`] when the nodes cannot all be
    /// allocated; the list is then unchanged (the blocks obtained are
    /// freed). If a `clone` panics, the clones made so far are dropped and
    /// the list is unchanged too.
    ///
    /// ```
    /// let mut l = mallocv2_collections::list::LinkedList::new();
    /// l.try_extend_from_slice(&["a", "b"])?;
    /// assert_eq!(l.back(), Some(&"b"));
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    pub fn try_extend_from_slice(&mut self, items: &[T]) -> Result<(), TryReserveError>
    where
        T: Clone,
    {
        if items.is_empty() {
            return Ok(());
        }
        let mut supply = NodeSupply::new(&self.alloc, Self::NODE);
        supply.ensure(items.len())?;
        // Build a detached chain first, so a panicking `clone` leaves `self`
        // untouched; the chain is freed by its own guard.
        let mut chain = Chain::<T, A> {
            head: None,
            tail: None,
            len: 0,
            alloc: &self.alloc,
        };
        for item in items {
            let value = item.clone();
            // SAFETY: `supply` holds `items.len()` blocks of `NODE`.
            let node = unsafe { Self::init_node(supply.take(), value) };
            chain.push(node);
        }
        let (head, tail, n) = chain.into_parts();
        if let (Some(h), Some(t)) = (head, tail) {
            // SAFETY: `h..=t` is a well-formed chain of `n` fresh nodes from
            // our allocator; `self.tail` is our last node.
            unsafe {
                match self.tail {
                    Some(st) => {
                        (*st.as_ptr()).next = Some(h);
                        (*h.as_ptr()).prev = Some(st);
                    }
                    None => self.head = Some(h),
                }
            }
            self.tail = Some(t);
            self.len += n;
        }
        Ok(())
    }

    /// Checks the links (every `prev` mirrors a `next`, `tail` is the last
    /// node, `len` counts the nodes), panicking with the offending values.
    /// For tests and fuzzing.
    #[doc(hidden)]
    pub fn check_invariants(&self) {
        let mut n = 0usize;
        let mut prev: Link<T> = None;
        let mut cur = self.head;
        while let Some(c) = cur {
            // SAFETY: nodes of this list are live while it is borrowed.
            let (p, next) = unsafe { ((*c.as_ptr()).prev, (*c.as_ptr()).next) };
            assert_eq!(p, prev, "node {n} at {c:p}: prev {p:?}, expected {prev:?}");
            prev = cur;
            cur = next;
            n += 1;
            assert!(n <= self.len, "more nodes than len {}", self.len);
        }
        assert_eq!(
            prev, self.tail,
            "tail {:?} is not the last node {prev:?}",
            self.tail
        );
        assert_eq!(n, self.len, "len {} but {n} nodes", self.len);
        assert_eq!(
            self.head.is_none(),
            self.len == 0,
            "head {:?} with len {}",
            self.head,
            self.len
        );
    }

    /// A cursor at the first element (the "ghost" position if empty).
    ///
    /// ```
    /// let l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// assert_eq!(l.cursor_front().current(), Some(&1));
    /// ```
    pub fn cursor_front(&self) -> Cursor<'_, T, A> {
        Cursor {
            index: 0,
            current: self.head,
            list: self,
        }
    }

    /// A cursor at the last element (the "ghost" position if empty).
    ///
    /// ```
    /// let l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// assert_eq!(l.cursor_back().current(), Some(&2));
    /// ```
    pub fn cursor_back(&self) -> Cursor<'_, T, A> {
        Cursor {
            index: self.len.saturating_sub(1),
            current: self.tail,
            list: self,
        }
    }

    /// A mutable cursor at the first element (the "ghost" if empty).
    ///
    /// ```
    /// let mut l: mallocv2_collections::list::LinkedList<u8> = [1, 3].into();
    /// let mut c = l.cursor_front_mut();
    /// c.insert_after(2);
    /// assert_eq!(l.iter().copied().collect::<Vec<_>>(), [1, 2, 3]);
    /// ```
    pub fn cursor_front_mut(&mut self) -> CursorMut<'_, T, A> {
        CursorMut {
            index: 0,
            current: self.head,
            list: self,
        }
    }

    /// A mutable cursor at the last element (the "ghost" if empty).
    ///
    /// ```
    /// let mut l: mallocv2_collections::list::LinkedList<u8> = [1, 2].into();
    /// let mut c = l.cursor_back_mut();
    /// assert_eq!(c.remove_current(), Some(2));
    /// assert_eq!(l.len(), 1);
    /// ```
    pub fn cursor_back_mut(&mut self) -> CursorMut<'_, T, A> {
        CursorMut {
            index: self.len.saturating_sub(1),
            current: self.tail,
            list: self,
        }
    }
}

impl<T, A: Allocator + BatchAlloc + Default> LinkedList<T, A> {
    /// Builds a list from `items`, allocating all nodes with one batch call
    /// (for an exact-size iterator). Used by `FromIterator`.
    fn from_iter_default<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut l = Self::new_in(A::default());
        l.extend_iter(items.into_iter());
        l
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn alloc_failed(e: TryReserveError) -> ! {
    panic!("LinkedList: node allocation failed: {e}")
}

/// A detached chain of nodes under construction; drops its values and frees
/// its nodes if abandoned (a panicking `clone`).
struct Chain<'a, T, A: BatchAlloc> {
    head: Link<T>,
    tail: Link<T>,
    len: usize,
    alloc: &'a A,
}

impl<T, A: BatchAlloc> Chain<'_, T, A> {
    fn push(&mut self, node: NonNull<Node<T>>) {
        // SAFETY: `node` is fresh and unlinked; `tail` is the chain's last
        // node.
        unsafe {
            (*node.as_ptr()).prev = self.tail;
            match self.tail {
                Some(t) => (*t.as_ptr()).next = Some(node),
                None => self.head = Some(node),
            }
        }
        self.tail = Some(node);
        self.len += 1;
    }

    fn into_parts(self) -> (Link<T>, Link<T>, usize) {
        let this = ManuallyDrop::new(self);
        (this.head, this.tail, this.len)
    }
}

impl<T, A: BatchAlloc> Drop for Chain<'_, T, A> {
    fn drop(&mut self) {
        let mut cur = self.head.take();
        let mut guard = ChainDropper::<T, A> {
            free: FreeChain::new(self.alloc),
            cur: &mut cur,
        };
        guard.run();
    }
}

/// Drops the values of a chain and frees its nodes in batches; resumes in
/// its own `Drop` if a value's `Drop` panics.
struct ChainDropper<'a, 'c, T, A: BatchAlloc> {
    free: FreeChain<'a, Node<T>, A>,
    /// The rest of the chain, not yet dropped.
    cur: &'c mut Link<T>,
}

impl<T, A: BatchAlloc> ChainDropper<'_, '_, T, A> {
    fn run(&mut self) {
        while let Some(node) = *self.cur {
            // SAFETY: `node` is a live node of a chain nobody else refers
            // to any more; advance first so a panicking drop resumes after
            // it, then queue it (freed after its value is dropped, since the
            // queue is flushed later) and drop the value in place.
            unsafe {
                *self.cur = (*node.as_ptr()).next;
                self.free.push(node);
                ptr::drop_in_place(&raw mut (*node.as_ptr()).value);
            }
        }
    }
}

impl<T, A: BatchAlloc> Drop for ChainDropper<'_, '_, T, A> {
    fn drop(&mut self) {
        // Normally the chain is already empty; after a panic in a value's
        // `Drop`, carry on with the rest.
        self.run();
    }
}

impl<T, A: Allocator + BatchAlloc> Drop for LinkedList<T, A> {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Iterator over `&T`, front to back; see [`LinkedList::iter`].
pub struct Iter<'a, T> {
    head: Link<T>,
    tail: Link<T>,
    len: usize,
    _marker: PhantomData<&'a Node<T>>,
}

// SAFETY: an `Iter` only hands out `&T`.
unsafe impl<T: Sync> Send for Iter<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for Iter<'_, T> {}

impl<T> Clone for Iter<'_, T> {
    fn clone(&self) -> Self {
        Self { ..*self }
    }
}

impl<T: fmt::Debug> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;

    #[inline]
    fn next(&mut self) -> Option<&'a T> {
        if self.len == 0 {
            return None;
        }
        let n = self.head?;
        self.len -= 1;
        // SAFETY: `len > 0` so `n` is a live node between the ends, borrowed
        // for `'a`.
        unsafe {
            self.head = (*n.as_ptr()).next;
            Some(&(*n.as_ptr()).value)
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl<'a, T> DoubleEndedIterator for Iter<'a, T> {
    #[inline]
    fn next_back(&mut self) -> Option<&'a T> {
        if self.len == 0 {
            return None;
        }
        let n = self.tail?;
        self.len -= 1;
        // SAFETY: as in `next`.
        unsafe {
            self.tail = (*n.as_ptr()).prev;
            Some(&(*n.as_ptr()).value)
        }
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}
impl<T> FusedIterator for Iter<'_, T> {}

/// Iterator over `&mut T`, front to back; see [`LinkedList::iter_mut`].
pub struct IterMut<'a, T> {
    head: Link<T>,
    tail: Link<T>,
    len: usize,
    _marker: PhantomData<&'a mut Node<T>>,
}

// SAFETY: an `IterMut` hands out `&mut T` (needs `T: Send` to cross threads).
unsafe impl<T: Send> Send for IterMut<'_, T> {}
// SAFETY: `&IterMut` gives no access to elements.
unsafe impl<T: Sync> Sync for IterMut<'_, T> {}

impl<T: fmt::Debug> fmt::Debug for IterMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut").field("len", &self.len).finish()
    }
}

impl<'a, T> Iterator for IterMut<'a, T> {
    type Item = &'a mut T;

    #[inline]
    fn next(&mut self) -> Option<&'a mut T> {
        if self.len == 0 {
            return None;
        }
        let n = self.head?;
        self.len -= 1;
        // SAFETY: each node is yielded once (the ends close in), so the
        // `&mut` are disjoint; the list is mutably borrowed for `'a`.
        unsafe {
            self.head = (*n.as_ptr()).next;
            Some(&mut (*n.as_ptr()).value)
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl<'a, T> DoubleEndedIterator for IterMut<'a, T> {
    #[inline]
    fn next_back(&mut self) -> Option<&'a mut T> {
        if self.len == 0 {
            return None;
        }
        let n = self.tail?;
        self.len -= 1;
        // SAFETY: as in `next`.
        unsafe {
            self.tail = (*n.as_ptr()).prev;
            Some(&mut (*n.as_ptr()).value)
        }
    }
}

impl<T> ExactSizeIterator for IterMut<'_, T> {}
impl<T> FusedIterator for IterMut<'_, T> {}

/// Owning iterator; each step frees one node. The rest is freed in batches
/// when it drops.
pub struct IntoIter<T, A: Allocator + BatchAlloc = Heap> {
    list: LinkedList<T, A>,
}

impl<T: fmt::Debug, A: Allocator + BatchAlloc> fmt::Debug for IntoIter<T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IntoIter").field(&self.list).finish()
    }
}

impl<T, A: Allocator + BatchAlloc> Iterator for IntoIter<T, A> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        self.list.pop_front()
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.list.len, Some(self.list.len))
    }
}

impl<T, A: Allocator + BatchAlloc> DoubleEndedIterator for IntoIter<T, A> {
    #[inline]
    fn next_back(&mut self) -> Option<T> {
        self.list.pop_back()
    }
}

impl<T, A: Allocator + BatchAlloc> ExactSizeIterator for IntoIter<T, A> {}
impl<T, A: Allocator + BatchAlloc> FusedIterator for IntoIter<T, A> {}

impl<T, A: Allocator + BatchAlloc> IntoIterator for LinkedList<T, A> {
    type Item = T;
    type IntoIter = IntoIter<T, A>;
    #[inline]
    fn into_iter(self) -> IntoIter<T, A> {
        IntoIter { list: self }
    }
}

impl<'a, T, A: Allocator + BatchAlloc> IntoIterator for &'a LinkedList<T, A> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;
    #[inline]
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<'a, T, A: Allocator + BatchAlloc> IntoIterator for &'a mut LinkedList<T, A> {
    type Item = &'a mut T;
    type IntoIter = IterMut<'a, T>;
    #[inline]
    fn into_iter(self) -> IterMut<'a, T> {
        self.iter_mut()
    }
}

/// A read-only cursor over a [`LinkedList`] (std's unstable cursor API).
/// Between the tail and the head sits a "ghost" position where `current`
/// is `None`.
pub struct Cursor<'a, T, A: Allocator + BatchAlloc = Heap> {
    index: usize,
    current: Link<T>,
    list: &'a LinkedList<T, A>,
}

impl<T, A: Allocator + BatchAlloc> Clone for Cursor<'_, T, A> {
    fn clone(&self) -> Self {
        Self {
            index: self.index,
            current: self.current,
            list: self.list,
        }
    }
}

impl<T: fmt::Debug, A: Allocator + BatchAlloc> fmt::Debug for Cursor<'_, T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cursor")
            .field(&self.index())
            .field(&self.current())
            .finish()
    }
}

impl<'a, T, A: Allocator + BatchAlloc> Cursor<'a, T, A> {
    /// The current index, `None` at the ghost.
    pub fn index(&self) -> Option<usize> {
        self.current.map(|_| self.index)
    }

    /// Moves to the next element (from the tail to the ghost, from the
    /// ghost to the head).
    pub fn move_next(&mut self) {
        match self.current {
            // SAFETY: `c` is a live node of the borrowed list.
            Some(c) => unsafe {
                self.current = (*c.as_ptr()).next;
                self.index += 1;
            },
            None => {
                self.current = self.list.head;
                self.index = 0;
            }
        }
    }

    /// Moves to the previous element (from the head to the ghost, from the
    /// ghost to the tail).
    pub fn move_prev(&mut self) {
        match self.current {
            // SAFETY: `c` is a live node of the borrowed list.
            Some(c) => unsafe {
                self.current = (*c.as_ptr()).prev;
                self.index = self.index.checked_sub(1).unwrap_or(self.list.len);
            },
            None => {
                self.current = self.list.tail;
                self.index = self.list.len.saturating_sub(1);
            }
        }
    }

    /// The current element, `None` at the ghost.
    pub fn current(&self) -> Option<&'a T> {
        // SAFETY: a live node of the list borrowed for `'a`.
        self.current.map(|c| unsafe { &(*c.as_ptr()).value })
    }

    /// The next element (the head when at the ghost).
    pub fn peek_next(&self) -> Option<&'a T> {
        let next = match self.current {
            // SAFETY: a live node of the list.
            Some(c) => unsafe { (*c.as_ptr()).next },
            None => self.list.head,
        };
        // SAFETY: a live node of the list borrowed for `'a`.
        next.map(|n| unsafe { &(*n.as_ptr()).value })
    }

    /// The previous element (the tail when at the ghost).
    pub fn peek_prev(&self) -> Option<&'a T> {
        let prev = match self.current {
            // SAFETY: a live node of the list.
            Some(c) => unsafe { (*c.as_ptr()).prev },
            None => self.list.tail,
        };
        // SAFETY: a live node of the list borrowed for `'a`.
        prev.map(|n| unsafe { &(*n.as_ptr()).value })
    }
}

/// A cursor that can edit a [`LinkedList`] (std's unstable `CursorMut`).
pub struct CursorMut<'a, T, A: Allocator + BatchAlloc = Heap> {
    index: usize,
    current: Link<T>,
    list: &'a mut LinkedList<T, A>,
}

impl<T: fmt::Debug, A: Allocator + BatchAlloc> fmt::Debug for CursorMut<'_, T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CursorMut").field(&self.index()).finish()
    }
}

impl<T, A: Allocator + BatchAlloc> CursorMut<'_, T, A> {
    /// The current index, `None` at the ghost.
    pub fn index(&self) -> Option<usize> {
        self.current.map(|_| self.index)
    }

    /// Moves to the next element (tail → ghost → head).
    pub fn move_next(&mut self) {
        match self.current {
            // SAFETY: `c` is a live node of the borrowed list.
            Some(c) => unsafe {
                self.current = (*c.as_ptr()).next;
                self.index += 1;
            },
            None => {
                self.current = self.list.head;
                self.index = 0;
            }
        }
    }

    /// Moves to the previous element (head → ghost → tail).
    pub fn move_prev(&mut self) {
        match self.current {
            // SAFETY: `c` is a live node of the borrowed list.
            Some(c) => unsafe {
                self.current = (*c.as_ptr()).prev;
                self.index = self.index.checked_sub(1).unwrap_or(self.list.len);
            },
            None => {
                self.current = self.list.tail;
                self.index = self.list.len.saturating_sub(1);
            }
        }
    }

    /// The current element, `None` at the ghost.
    pub fn current(&mut self) -> Option<&mut T> {
        // SAFETY: a live node of the mutably borrowed list.
        self.current.map(|c| unsafe { &mut (*c.as_ptr()).value })
    }

    /// The next element (the head at the ghost).
    pub fn peek_next(&mut self) -> Option<&mut T> {
        let next = match self.current {
            // SAFETY: a live node of the list.
            Some(c) => unsafe { (*c.as_ptr()).next },
            None => self.list.head,
        };
        // SAFETY: a live node of the mutably borrowed list.
        next.map(|n| unsafe { &mut (*n.as_ptr()).value })
    }

    /// The previous element (the tail at the ghost).
    pub fn peek_prev(&mut self) -> Option<&mut T> {
        let prev = match self.current {
            // SAFETY: a live node of the list.
            Some(c) => unsafe { (*c.as_ptr()).prev },
            None => self.list.tail,
        };
        // SAFETY: a live node of the mutably borrowed list.
        prev.map(|n| unsafe { &mut (*n.as_ptr()).value })
    }

    /// Inserts `value` after the current element (at the front when at the
    /// ghost); allocates one node.
    ///
    /// # Panics
    /// If the allocator fails.
    pub fn insert_after(&mut self, value: T) {
        let node = match self.list.new_node(value) {
            Ok(n) => n,
            Err((_, e)) => alloc_failed(e),
        };
        match self.current {
            None => {
                // SAFETY: a fresh unlinked node.
                unsafe { self.list.link_front(node) };
            }
            Some(c) => {
                // SAFETY: `c` is a node of the list; `node` is fresh.
                unsafe {
                    let next = (*c.as_ptr()).next;
                    (*node.as_ptr()).prev = Some(c);
                    (*node.as_ptr()).next = next;
                    (*c.as_ptr()).next = Some(node);
                    match next {
                        Some(n) => (*n.as_ptr()).prev = Some(node),
                        None => self.list.tail = Some(node),
                    }
                }
                self.list.len += 1;
            }
        }
        if self.current.is_none() {
            // The ghost's index is `len`.
            self.index = self.list.len;
        }
    }

    /// Inserts `value` before the current element (at the back when at the
    /// ghost); allocates one node.
    ///
    /// # Panics
    /// If the allocator fails.
    pub fn insert_before(&mut self, value: T) {
        let node = match self.list.new_node(value) {
            Ok(n) => n,
            Err((_, e)) => alloc_failed(e),
        };
        match self.current {
            None => {
                // SAFETY: a fresh unlinked node.
                unsafe { self.list.link_back(node) };
                self.index = self.list.len;
            }
            Some(c) => {
                // SAFETY: `c` is a node of the list; `node` is fresh.
                unsafe {
                    let prev = (*c.as_ptr()).prev;
                    (*node.as_ptr()).next = Some(c);
                    (*node.as_ptr()).prev = prev;
                    (*c.as_ptr()).prev = Some(node);
                    match prev {
                        Some(p) => (*p.as_ptr()).next = Some(node),
                        None => self.list.head = Some(node),
                    }
                }
                self.list.len += 1;
                self.index += 1;
            }
        }
    }

    /// Removes the current element and moves to the next one; frees just
    /// its node. `None` at the ghost.
    pub fn remove_current(&mut self) -> Option<T> {
        let node = self.current?;
        // SAFETY: `node` is a node of the list.
        unsafe {
            self.current = (*node.as_ptr()).next;
            self.list.unlink(node);
            Some(self.list.take_node(node))
        }
    }

    /// A read-only cursor at the same position.
    pub fn as_cursor(&self) -> Cursor<'_, T, A> {
        Cursor {
            index: self.index,
            current: self.current,
            list: self.list,
        }
    }
}

impl<T, A: Allocator + BatchAlloc + Default> Default for LinkedList<T, A> {
    #[inline]
    fn default() -> Self {
        Self::new_in(A::default())
    }
}

impl<T: Clone, A: Allocator + BatchAlloc + Clone> Clone for LinkedList<T, A> {
    /// Clones with one batch call for all the nodes.
    fn clone(&self) -> Self {
        let mut l = Self::new_in(self.alloc.clone());
        l.extend_iter(self.iter().cloned());
        l
    }
}

impl<T: fmt::Debug, A: Allocator + BatchAlloc> fmt::Debug for LinkedList<T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq, A: Allocator + BatchAlloc> PartialEq for LinkedList<T, A> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Eq, A: Allocator + BatchAlloc> Eq for LinkedList<T, A> {}

impl<T: PartialOrd, A: Allocator + BatchAlloc> PartialOrd for LinkedList<T, A> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.iter().partial_cmp(other.iter())
    }
}

impl<T: Ord, A: Allocator + BatchAlloc> Ord for LinkedList<T, A> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.iter().cmp(other.iter())
    }
}

impl<T: Hash, A: Allocator + BatchAlloc> Hash for LinkedList<T, A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len);
        for e in self {
            e.hash(state);
        }
    }
}

impl<T, A: Allocator + BatchAlloc + Default> FromIterator<T> for LinkedList<T, A> {
    /// Allocates all nodes with one batch call when the iterator's
    /// `size_hint` is exact.
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::from_iter_default(iter)
    }
}

impl<T, A: Allocator + BatchAlloc> Extend<T> for LinkedList<T, A> {
    /// Allocates the new nodes with one batch call when the iterator's
    /// `size_hint` is exact.
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.extend_iter(iter.into_iter());
    }
}

impl<'a, T: 'a + Copy, A: Allocator + BatchAlloc> Extend<&'a T> for LinkedList<T, A> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.extend_iter(iter.into_iter().copied());
    }
}

/// For the [`Heap`] only, like std's (so `LinkedList::from([..])` needs no
/// annotation).
impl<T, const N: usize> From<[T; N]> for LinkedList<T> {
    fn from(arr: [T; N]) -> Self {
        Self::from_iter_default(arr)
    }
}

#[cfg(feature = "serde")]
impl<T: serde::Serialize, A: Allocator + BatchAlloc> serde::Serialize for LinkedList<T, A> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(feature = "serde")]
impl<'de, T, A> serde::Deserialize<'de> for LinkedList<T, A>
where
    T: serde::Deserialize<'de>,
    A: Allocator + BatchAlloc + Default,
{
    /// Reads the sequence into a temporary `std::vec::Vec`, then builds the
    /// list with one batch call.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = <std::vec::Vec<T> as serde::Deserialize>::deserialize(d)?;
        Ok(Self::from_iter_default(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: fmt::Debug, A: Allocator + BatchAlloc>(l: &LinkedList<T, A>) {
        let mut n = 0;
        let mut prev: Link<T> = None;
        let mut cur = l.head;
        while let Some(c) = cur {
            // SAFETY: nodes of a live list.
            unsafe {
                assert_eq!((*c.as_ptr()).prev, prev, "back link broken at {n}");
                prev = cur;
                cur = (*c.as_ptr()).next;
            }
            n += 1;
        }
        assert_eq!(prev, l.tail);
        assert_eq!(n, l.len);
    }

    #[test]
    fn cursor_edits() {
        let mut l: LinkedList<i32> = (1..=5).collect();
        let mut c = l.cursor_front_mut();
        c.move_next();
        assert_eq!(c.remove_current(), Some(2));
        assert_eq!(c.index(), Some(1));
        c.insert_before(20);
        assert_eq!(c.index(), Some(2));
        c.move_prev();
        c.move_prev();
        c.move_prev();
        assert_eq!(c.index(), None);
        c.insert_after(0);
        c.insert_before(9);
        check(&l);
        assert_eq!(
            l.iter().copied().collect::<std::vec::Vec<_>>(),
            [0, 1, 20, 3, 4, 5, 9]
        );
    }

    #[test]
    fn split_and_append() {
        let mut l: LinkedList<i32> = (0..10).collect();
        let mut r = l.split_off(4);
        check(&l);
        check(&r);
        let r2 = r.split_off(0);
        assert!(r.is_empty());
        l.append(&mut r2.into_iter().collect());
        check(&l);
        assert_eq!(
            l.iter().copied().collect::<std::vec::Vec<_>>(),
            (0..10).collect::<std::vec::Vec<_>>()
        );
    }
}
