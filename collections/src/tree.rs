//! [`TreeMap`] and [`TreeSet`]: ordered map and set (AVL trees) whose bulk
//! construction allocates every node with one batch call.
//!
//! # Why an AVL tree
//!
//! A height-balanced binary tree is small enough to get right and keeps
//! every operation `O(log n)` with at most `1.44 log2(n)` levels. Its
//! locality weakness (one node per key) is what the batch allocator
//! addresses: a tree built in bulk takes all its nodes from **one**
//! [`BatchAlloc::allocate_batch`] call and assigns them in key order, so an
//! in-order traversal walks memory forwards through consecutive slab slots.
//!
//! # Guarantees and costs
//!
//! - The API follows std's `BTreeMap`/`BTreeSet` (insert, get, get_mut,
//!   contains_key, remove, range, first/last, pop_first/pop_last, entry,
//!   iterators, std traits), so switching is mostly a change of type.
//! - **Bulk construction** ([`FromIterator`], [`from_sorted_iter`],
//!   [`Clone`], deserialisation) collects the items
//!   into a temporary `std::vec::Vec`, sorts them stably by key, removes
//!   duplicates (the **last** value wins, like `BTreeMap`), allocates all the
//!   nodes with one batch call and builds a perfectly balanced tree
//!   bottom-up. A partial batch is completed with further batch calls or
//!   single allocations; nothing leaks if the allocator gives up.
//! - **Bulk insertion** ([`try_extend`], and [`Extend`] with at least `n/8`
//!   items) sorts the new items, makes all comparisons first, allocates
//!   every new node with one batch call and relinks old and new nodes into
//!   a balanced tree (`O(n + m log m)`, no entry moves). [`append`] relinks
//!   two trees in `O(n + m)` without allocating.
//! - Single inserts allocate one node; removing a key frees just that node.
//!   `clear` and `Drop` free all nodes with `deallocate_batch` in chunks of
//!   [`FREE_CHUNK`](crate::list::FREE_CHUNK).
//! - Nodes never move: a key's entry keeps its address until it is removed.
//! - If `Ord` panics during `insert`/`remove`, the map is unchanged (all
//!   comparisons happen before any link changes).
//! - An inconsistent `Ord` (one that lies, changes its answers or panics)
//!   gives wrong results, never undefined behaviour, a leak or a double
//!   drop: no node is ever found twice by key. An entry keeps the path of
//!   its one search and inserts or removes by that path; `retain` removes
//!   nodes by identity and relinks the rest; bulk operations compare
//!   first and then relink nodes by position.
//!
//! ```
//! use mallocv2_collections::tree::TreeMap;
//! use mallocv2::Heap;
//!
//! let before = Heap::thread_stats();
//! let m: TreeMap<u32, u32> = (0..1000).rev().map(|i| (i, i * 2)).collect();
//! assert_eq!(Heap::thread_stats().since(&before).batch_calls, 1);
//! assert_eq!(m.range(10..13).map(|(k, _)| *k).collect::<Vec<_>>(), [10, 11, 12]);
//! assert_eq!(m.first_key_value(), Some((&0, &0)));
//! ```
//!
//! [`from_sorted_iter`]: TreeMap::from_sorted_iter
//! [`try_extend`]: TreeMap::try_extend
//! [`append`]: TreeMap::append

use core::borrow::Borrow;
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::{Bound, Index, RangeBounds};
use core::ptr::{self, NonNull};
use std::panic::AssertUnwindSafe;

use mallocv2::alloc::{Allocator, Layout};
use mallocv2::{BatchAlloc, Heap};

use crate::list::{allocate_node, FreeChain, NodeSupply};
use crate::TryReserveError;

type Link<K, V> = Option<NonNull<Node<K, V>>>;

/// A tree node. `height` is 1 for a leaf.
struct Node<K, V> {
    left: Link<K, V>,
    right: Link<K, V>,
    /// `1 + max(height(left), height(right))`; invariant: the two differ
    /// by at most one.
    height: u8,
    key: K,
    val: V,
}

/// The height of a subtree (0 when empty).
#[inline]
fn height<K, V>(l: Link<K, V>) -> u8 {
    // SAFETY: every link in a tree points to a live node (tree invariant).
    l.map_or(0, |n| unsafe { (*n.as_ptr()).height })
}

// The tree code below reaches nodes through raw pointers and references to
// single fields only (never `&mut Node`), so references handed out earlier
// to other fields (a key being compared, a value yielded by `IterMut`)
// stay valid while links are rewritten.

/// Recomputes `n`'s height from its children.
///
/// # Safety
/// `n` is a live node whose children are live.
#[inline]
unsafe fn fix_height<K, V>(n: NonNull<Node<K, V>>) {
    // SAFETY: caller.
    unsafe {
        let node = n.as_ptr();
        (*node).height = 1 + height((*node).left).max(height((*node).right));
    }
}

/// Rotates right around `n` (whose left child exists); returns the new
/// subtree root.
///
/// # Safety
/// `n` is a live node with a left child.
unsafe fn rotate_right<K, V>(n: NonNull<Node<K, V>>) -> NonNull<Node<K, V>> {
    // SAFETY: caller guarantees `n` and its left child are live.
    unsafe {
        let l = (*n.as_ptr()).left.expect("rotate_right needs a left child");
        (*n.as_ptr()).left = (*l.as_ptr()).right;
        (*l.as_ptr()).right = Some(n);
        fix_height(n);
        fix_height(l);
        l
    }
}

/// Rotates left around `n` (whose right child exists); returns the new
/// subtree root.
///
/// # Safety
/// `n` is a live node with a right child.
unsafe fn rotate_left<K, V>(n: NonNull<Node<K, V>>) -> NonNull<Node<K, V>> {
    // SAFETY: caller guarantees `n` and its right child are live.
    unsafe {
        let r = (*n.as_ptr())
            .right
            .expect("rotate_left needs a right child");
        (*n.as_ptr()).right = (*r.as_ptr()).left;
        (*r.as_ptr()).left = Some(n);
        fix_height(n);
        fix_height(r);
        r
    }
}

/// Restores the AVL balance at `n` (children balanced, heights differing by
/// at most two); returns the new subtree root.
///
/// # Safety
/// `n` is a live node of a tree whose subtrees are valid AVL trees.
unsafe fn rebalance<K, V>(n: NonNull<Node<K, V>>) -> NonNull<Node<K, V>> {
    // SAFETY: caller; rotations only happen on the heavier side, whose
    // child therefore exists.
    unsafe {
        let node = n.as_ptr();
        let (hl, hr) = (height((*node).left), height((*node).right));
        debug_assert!(
            hl.abs_diff(hr) <= 2,
            "unbalanced by more than 2: {hl} vs {hr}"
        );
        if hl > hr + 1 {
            let l = (*node).left.expect("heavier side exists");
            if height((*l.as_ptr()).left) < height((*l.as_ptr()).right) {
                (*node).left = Some(rotate_left(l));
            }
            rotate_right(n)
        } else if hr > hl + 1 {
            let r = (*node).right.expect("heavier side exists");
            if height((*r.as_ptr()).right) < height((*r.as_ptr()).left) {
                (*node).right = Some(rotate_right(r));
            }
            rotate_left(n)
        } else {
            (*node).height = 1 + hl.max(hr);
            n
        }
    }
}

/// Unlinks the minimum node of the non-empty subtree at `link`, rebalancing
/// on the way up; returns it (its links are stale).
///
/// # Safety
/// `*link` is `Some` and the subtree is a valid AVL tree.
unsafe fn remove_min<K, V>(link: &mut Link<K, V>) -> NonNull<Node<K, V>> {
    let n = link.expect("remove_min of an empty subtree");
    // SAFETY: `n` is live (caller); recursion stays inside its subtree.
    unsafe {
        let node = n.as_ptr();
        if (*node).left.is_none() {
            *link = (*node).right;
            n
        } else {
            let m = remove_min(&mut (*node).left);
            *link = Some(rebalance(n));
            m
        }
    }
}

/// Unlinks the maximum node of the non-empty subtree at `link`.
///
/// # Safety
/// As [`remove_min`].
unsafe fn remove_max<K, V>(link: &mut Link<K, V>) -> NonNull<Node<K, V>> {
    let n = link.expect("remove_max of an empty subtree");
    // SAFETY: as in `remove_min`.
    unsafe {
        let node = n.as_ptr();
        if (*node).right.is_none() {
            *link = (*node).left;
            n
        } else {
            let m = remove_max(&mut (*node).right);
            *link = Some(rebalance(n));
            m
        }
    }
}

/// Unlinks the node at `link` (which is `Some`), putting its successor (or
/// its only child) in its place; returns it (its links are stale).
///
/// # Safety
/// The subtree at `link` is a valid AVL tree.
unsafe fn unlink_here<K, V>(link: &mut Link<K, V>) -> NonNull<Node<K, V>> {
    let n = link.expect("unlink_here of an empty link");
    // SAFETY: `n` is live (caller); `remove_min` stays inside its subtree.
    unsafe {
        let node = n.as_ptr();
        *link = match ((*node).left, (*node).right) {
            (None, r) => r,
            (l, None) => l,
            (Some(_), Some(_)) => {
                let m = remove_min(&mut (*node).right);
                (*m.as_ptr()).left = (*node).left;
                (*m.as_ptr()).right = (*node).right;
                Some(rebalance(m))
            }
        };
        n
    }
}

/// A path from the root: the directions taken at depths `0..depth`, bit
/// `127 - i` set when the step at depth `i` went right. It names a link
/// of the tree by position, not by key, so following it again runs no
/// user code and cannot disagree with the search that made it.
///
/// An AVL tree of `n` nodes is less than `1.45 log2(n + 2)` high, under 95
/// for any `n` that fits in memory, so 127 directions always suffice.
#[derive(Clone, Copy, Debug)]
struct Path {
    bits: u128,
    depth: u8,
}

impl Path {
    const ROOT: Path = Path { bits: 0, depth: 0 };

    /// Appends one step.
    #[inline]
    fn push(&mut self, right: bool) {
        assert!(self.depth < 127, "TreeMap: path deeper than any AVL tree");
        if right {
            self.bits |= 1 << (127 - self.depth);
        }
        self.depth += 1;
    }

    /// Whether the step at depth `i` (< `depth`) went right.
    #[inline]
    fn right_at(self, i: u8) -> bool {
        debug_assert!(i < self.depth, "step {i} beyond depth {}", self.depth);
        (self.bits >> (127 - i)) & 1 == 1
    }

    /// The in-order rank of the node this path ends at, as a number that
    /// compares like the nodes' positions: a left subtree ranks below its
    /// root, a right subtree above (the path's bits followed by a 1, read
    /// as a binary fraction).
    #[inline]
    fn rank(self) -> u128 {
        self.bits | (1 << (127 - self.depth))
    }
}

/// Searches for `key`, recording the path taken: the node holding it and
/// the path to that node, or `None` and the path to the empty link where
/// it would go.
fn search<K, V, Q>(mut cur: Link<K, V>, key: &Q) -> (Link<K, V>, Path)
where
    K: Borrow<Q>,
    Q: Ord + ?Sized,
{
    let mut path = Path::ROOT;
    while let Some(n) = cur {
        // SAFETY: a live node of the tree.
        let node = unsafe { &*n.as_ptr() };
        cur = match key.cmp(node.key.borrow()) {
            Ordering::Less => {
                path.push(false);
                node.left
            }
            Ordering::Greater => {
                path.push(true);
                node.right
            }
            Ordering::Equal => return (Some(n), path),
        };
    }
    (None, path)
}

/// Links `new` (a fresh leaf) at the empty link `path` names, below `link`
/// (which is at depth `at`), and rebalances on the way up. Runs no user
/// code.
///
/// # Safety
/// The subtree is a valid AVL tree unchanged since `path` was found by
/// [`search`] (so the path ends at an empty link); `new` is a live leaf
/// (no children, height 1) not in the tree.
unsafe fn insert_at<K, V>(link: &mut Link<K, V>, path: Path, at: u8, new: NonNull<Node<K, V>>) {
    let Some(n) = *link else {
        debug_assert_eq!(at, path.depth, "the path ends at an empty link");
        *link = Some(new);
        return;
    };
    // SAFETY: `n` is a live node on the path (caller).
    unsafe {
        let node = n.as_ptr();
        let child = if path.right_at(at) {
            &mut (*node).right
        } else {
            &mut (*node).left
        };
        insert_at(child, path, at + 1, new);
        *link = Some(rebalance(n));
    }
}

/// Unlinks the node `path` names, below `link` (at depth `at`), and
/// rebalances on the way up; returns it. Runs no user code.
///
/// # Safety
/// The subtree is a valid AVL tree unchanged since `path` was found by
/// [`search`] (so the path ends at a node).
unsafe fn remove_at<K, V>(link: &mut Link<K, V>, path: Path, at: u8) -> NonNull<Node<K, V>> {
    let n = link.expect("the path ends at a node");
    // SAFETY: `n` is a live node on the path (caller).
    unsafe {
        if at == path.depth {
            return unlink_here(link);
        }
        let node = n.as_ptr();
        let child = if path.right_at(at) {
            &mut (*node).right
        } else {
            &mut (*node).left
        };
        let removed = remove_at(child, path, at + 1);
        *link = Some(rebalance(n));
        removed
    }
}

/// Unlinks the node with key `key` from the subtree at `link`.
///
/// # Safety
/// The subtree is a valid AVL tree. All comparisons happen before any link
/// changes, so a panicking `Ord` leaves the tree intact.
unsafe fn remove_rec<K, V, Q>(link: &mut Link<K, V>, key: &Q) -> Link<K, V>
where
    K: Borrow<Q>,
    Q: Ord + ?Sized,
{
    let n = (*link)?;
    // SAFETY: `n` is a live node of the tree (caller).
    unsafe {
        let node = n.as_ptr();
        let removed = match key.cmp((*node).key.borrow()) {
            Ordering::Less => remove_rec(&mut (*node).left, key),
            Ordering::Greater => remove_rec(&mut (*node).right, key),
            Ordering::Equal => return Some(unlink_here(link)),
        };
        if removed.is_some() {
            *link = Some(rebalance(n));
        }
        removed
    }
}

/// Outcome of an insertion attempt.
enum Ins<K, V> {
    /// The key was present; here is the old value.
    Replaced(V),
    /// A node was added.
    Inserted,
    /// The node could not be allocated; the tree is unchanged.
    Failed(K, V),
}

/// Inserts into the subtree at `link`. Comparisons all happen before the
/// new node is linked, so a panicking `Ord` leaves the tree intact.
///
/// # Safety
/// The subtree is a valid AVL tree whose nodes come from `alloc`.
unsafe fn insert_rec<K: Ord, V, A: Allocator + BatchAlloc>(
    link: &mut Link<K, V>,
    key: K,
    val: V,
    alloc: &A,
) -> Ins<K, V> {
    let Some(n) = *link else {
        let layout = Layout::new::<Node<K, V>>();
        return match allocate_node(alloc, layout) {
            Ok(p) => {
                let node = p.cast::<Node<K, V>>();
                // SAFETY: a fresh block valid for a `Node`.
                unsafe {
                    node.as_ptr().write(Node {
                        left: None,
                        right: None,
                        height: 1,
                        key,
                        val,
                    })
                };
                *link = Some(node);
                Ins::Inserted
            }
            Err(_) => Ins::Failed(key, val),
        };
    };
    // SAFETY: `n` is a live node (caller).
    unsafe {
        let node = n.as_ptr();
        let r = match key.cmp(&(*node).key) {
            Ordering::Less => insert_rec(&mut (*node).left, key, val, alloc),
            Ordering::Greater => insert_rec(&mut (*node).right, key, val, alloc),
            Ordering::Equal => return Ins::Replaced(core::mem::replace(&mut (*node).val, val)),
        };
        if let Ins::Inserted = r {
            *link = Some(rebalance(n));
        }
        r
    }
}

/// Finds the node holding `key`.
fn find<K, V, Q>(mut cur: Link<K, V>, key: &Q) -> Link<K, V>
where
    K: Borrow<Q>,
    Q: Ord + ?Sized,
{
    while let Some(n) = cur {
        // SAFETY: a live node of the tree.
        let node = unsafe { &*n.as_ptr() };
        cur = match key.cmp(node.key.borrow()) {
            Ordering::Less => node.left,
            Ordering::Greater => node.right,
            Ordering::Equal => return Some(n),
        };
    }
    None
}

/// Builds a perfectly balanced tree of `n` nodes from the next `n` items,
/// taking the nodes from `supply` in key order. Runs no user code.
///
/// # Safety
/// `supply` holds at least `n` blocks of `Layout::new::<Node<K, V>>()` and
/// `items` yields at least `n` items.
unsafe fn build<K, V, A: BatchAlloc>(
    items: &mut std::vec::IntoIter<(K, V)>,
    n: usize,
    supply: &mut NodeSupply<'_, A>,
) -> Link<K, V> {
    if n == 0 {
        return None;
    }
    let nl = n / 2;
    // SAFETY: the left part uses `nl` of the blocks and items.
    let left = unsafe { build(items, nl, supply) };
    let p = supply.take().cast::<Node<K, V>>();
    let (key, val) = items.next().expect("build: fewer items than nodes");
    // SAFETY: as above, for the rest.
    let right = unsafe { build(items, n - nl - 1, supply) };
    let h = 1 + height(left).max(height(right));
    // SAFETY: `p` is an unused block valid for a `Node`.
    unsafe {
        p.as_ptr().write(Node {
            left,
            right,
            height: h,
            key,
            val,
        })
    };
    Some(p)
}

/// Collects `items` into a `Vec`, trusting the `size_hint` only up to
/// 65536 items (std's `collect` reserves the full lower bound, which a lying
/// iterator can make absurd).
fn collect_vec<T, I: IntoIterator<Item = T>>(items: I) -> std::vec::Vec<T> {
    let mut v = std::vec::Vec::new();
    collect_into(&mut v, items);
    v
}

/// Appends `items` to the empty `v`, reserving as [`collect_vec`] does.
fn collect_into<T, I: IntoIterator<Item = T>>(v: &mut std::vec::Vec<T>, items: I) {
    let it = items.into_iter();
    v.reserve(it.size_hint().0.min(1 << 16));
    for x in it {
        v.push(x);
    }
}

/// Sorts `v` stably by key and removes duplicate keys, keeping the last
/// pair of each run (like `BTreeMap`'s `FromIterator`). Already sorted
/// input costs one `O(n)` check.
fn sort_dedup<K: Ord, V>(mut v: std::vec::Vec<(K, V)>) -> std::vec::Vec<(K, V)> {
    if !v.is_sorted_by(|a, b| a.0 < b.0) {
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.dedup_by(|later, earlier| {
            if later.0 == earlier.0 {
                core::mem::swap(later, earlier);
                true
            } else {
                false
            }
        });
    }
    v
}

/// Builds a balanced tree from sorted, unique pairs: all nodes from one
/// batch call (completed by more calls if the allocator serves only part),
/// assigned in key order.
///
/// # Errors
/// [`TryReserveError::AllocError`] if the nodes cannot all be allocated;
/// the blocks obtained are freed and the items dropped.
fn build_root<K, V, A: BatchAlloc>(
    items: std::vec::Vec<(K, V)>,
    alloc: &A,
) -> Result<Link<K, V>, TryReserveError> {
    let n = items.len();
    if n == 0 {
        return Ok(None);
    }
    let mut supply = NodeSupply::new(alloc, Layout::new::<Node<K, V>>());
    supply.ensure(n)?;
    let mut it = items.into_iter();
    // SAFETY: the supply holds `n` node blocks and `it` yields `n` items.
    Ok(unsafe { build(&mut it, n, &mut supply) })
}

/// Relinks the subtree at `root` into an in-order chain: `right` points to
/// the next node, `left` to the previous one. Returns (head, tail).
///
/// # Safety
/// The subtree is a valid tree; afterwards it is a chain only.
unsafe fn flatten<K, V>(root: Link<K, V>) -> (Link<K, V>, Link<K, V>) {
    fn go<K, V>(n: Link<K, V>, head: &mut Link<K, V>, prev: &mut Link<K, V>) {
        let Some(n) = n else { return };
        // SAFETY: live nodes of the subtree being flattened; each child link
        // is read before the node is relinked.
        unsafe {
            let (l, r) = ((*n.as_ptr()).left, (*n.as_ptr()).right);
            go(l, head, prev);
            (*n.as_ptr()).left = *prev;
            (*n.as_ptr()).right = None;
            match *prev {
                Some(p) => (*p.as_ptr()).right = Some(n),
                None => *head = Some(n),
            }
            *prev = Some(n);
            go(r, head, prev);
        }
    }
    let (mut head, mut tail) = (None, None);
    go(root, &mut head, &mut tail);
    (head, tail)
}

/// Drops the entries of a chain (linked by `right`) and frees its nodes in
/// batches; resumes in its own `Drop` if a key's or value's `Drop` panics.
struct ChainDropper<'a, K, V, A: BatchAlloc> {
    free: FreeChain<'a, Node<K, V>, A>,
    cur: Link<K, V>,
}

impl<K, V, A: BatchAlloc> ChainDropper<'_, K, V, A> {
    fn run(&mut self) {
        while let Some(n) = self.cur {
            // SAFETY: `n` is a live node of a chain nobody else refers to;
            // advance first so a panicking drop resumes after it; the node
            // is freed only when the queue is flushed, after its entry is
            // dropped (drop glue drops `val` even if `key`'s drop panics).
            unsafe {
                self.cur = (*n.as_ptr()).right;
                self.free.push(n);
                ptr::drop_in_place(n.as_ptr());
            }
        }
    }
}

impl<K, V, A: BatchAlloc> Drop for ChainDropper<'_, K, V, A> {
    fn drop(&mut self) {
        self.run();
    }
}

/// An ordered map (AVL tree) whose nodes come from `A` (the [`Heap`] by
/// default); built in bulk with one batch call.
///
/// ```
/// use mallocv2_collections::tree::TreeMap;
///
/// let mut m = TreeMap::new();
/// m.insert("b", 2);
/// m.insert("a", 1);
/// *m.entry("c").or_insert(0) += 3;
/// assert_eq!(m.iter().collect::<Vec<_>>(), [(&"a", &1), (&"b", &2), (&"c", &3)]);
/// assert_eq!(m.remove("a"), Some(1));
/// assert_eq!(m["b"], 2);
/// ```
pub struct TreeMap<K, V, A: Allocator + BatchAlloc = Heap> {
    /// The root; `None` iff `len == 0`.
    root: Link<K, V>,
    /// Number of nodes in the tree.
    len: usize,
    alloc: A,
    _owns: PhantomData<Box<Node<K, V>>>,
}

// SAFETY: the map owns its keys and values like a `Box` would.
unsafe impl<K: Send, V: Send, A: Allocator + BatchAlloc + Send> Send for TreeMap<K, V, A> {}
// SAFETY: `&TreeMap` only gives out `&K`, `&V` and `&A`.
unsafe impl<K: Sync, V: Sync, A: Allocator + BatchAlloc + Sync> Sync for TreeMap<K, V, A> {}

impl<K, V> TreeMap<K, V> {
    /// An empty map over the [`Heap`]; allocates nothing.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = mallocv2_collections::tree::TreeMap::new();
    /// assert!(m.is_empty());
    /// ```
    #[inline]
    pub const fn new() -> Self {
        Self::new_in(Heap)
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn alloc_failed(e: TryReserveError) -> ! {
    panic!("TreeMap: node allocation failed: {e}")
}

impl<K, V, A: Allocator + BatchAlloc> TreeMap<K, V, A> {
    const NODE: Layout = Layout::new::<Node<K, V>>();

    /// An empty map whose nodes will come from `alloc`.
    ///
    /// ```
    /// use mallocv2_collections::tree::TreeMap;
    /// let m: TreeMap<u8, u8, std::alloc::System> = TreeMap::new_in(std::alloc::System);
    /// assert!(m.is_empty());
    /// ```
    #[inline]
    pub const fn new_in(alloc: A) -> Self {
        Self {
            root: None,
            len: 0,
            alloc,
            _owns: PhantomData,
        }
    }

    /// The allocator.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = Default::default();
    /// assert_eq!(*m.allocator(), mallocv2::Heap);
    /// ```
    #[inline]
    pub fn allocator(&self) -> &A {
        &self.alloc
    }

    /// Number of entries. O(1).
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = [(1, 1)].into();
    /// assert_eq!(m.len(), 1);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the map is empty.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = Default::default();
    /// assert!(m.is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Builds a map from sorted, unique `(key, value)` pairs, all nodes from
    /// one batch call (more if the allocator serves only part of it).
    fn from_sorted_vec_in(items: std::vec::Vec<(K, V)>, alloc: A) -> Result<Self, TryReserveError> {
        let mut map = Self::new_in(alloc);
        let n = items.len();
        map.root = build_root(items, &map.alloc)?;
        map.len = n;
        Ok(map)
    }

    /// Removes every entry, freeing the nodes with `deallocate_batch` in
    /// chunks.
    ///
    /// ```
    /// let mut m: mallocv2_collections::tree::TreeMap<u8, u8> = [(1, 1)].into();
    /// m.clear();
    /// assert!(m.is_empty());
    /// ```
    pub fn clear(&mut self) {
        let root = self.root.take();
        self.len = 0;
        // SAFETY: the detached tree is valid and ours alone.
        let (head, _) = unsafe { flatten(root) };
        let mut d = ChainDropper {
            free: FreeChain::new(&self.alloc),
            cur: head,
        };
        d.run();
    }

    /// The entry with the smallest key.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = [(2, 0), (1, 9)].into();
    /// assert_eq!(m.first_key_value(), Some((&1, &9)));
    /// ```
    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        let mut n = self.root?;
        // SAFETY: live nodes of the tree, borrowed with `self`.
        unsafe {
            while let Some(l) = (*n.as_ptr()).left {
                n = l;
            }
            Some((&(*n.as_ptr()).key, &(*n.as_ptr()).val))
        }
    }

    /// The entry with the largest key.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = [(2, 0), (1, 9)].into();
    /// assert_eq!(m.last_key_value(), Some((&2, &0)));
    /// ```
    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        let mut n = self.root?;
        // SAFETY: live nodes of the tree, borrowed with `self`.
        unsafe {
            while let Some(r) = (*n.as_ptr()).right {
                n = r;
            }
            Some((&(*n.as_ptr()).key, &(*n.as_ptr()).val))
        }
    }

    /// Moves the entry out of an unlinked node and frees just that node.
    ///
    /// # Safety
    /// `n` is an unlinked node from `self.alloc`, not used afterwards.
    unsafe fn take_node(&mut self, n: NonNull<Node<K, V>>) -> (K, V) {
        self.len -= 1;
        // SAFETY: the node is live and initialised (caller); the entry is
        // moved out before the block is freed with its layout.
        unsafe {
            let key = ptr::read(&(*n.as_ptr()).key);
            let val = ptr::read(&(*n.as_ptr()).val);
            self.alloc.deallocate(n.cast(), Self::NODE);
            (key, val)
        }
    }

    /// Removes the entry with the smallest key; frees just its node.
    ///
    /// ```
    /// let mut m: mallocv2_collections::tree::TreeMap<u8, u8> = [(2, 0), (1, 9)].into();
    /// assert_eq!(m.pop_first(), Some((1, 9)));
    /// assert_eq!(m.len(), 1);
    /// ```
    pub fn pop_first(&mut self) -> Option<(K, V)> {
        self.root?;
        // SAFETY: the tree is valid and non-empty; the unlinked node is ours.
        unsafe {
            let n = remove_min(&mut self.root);
            Some(self.take_node(n))
        }
    }

    /// Removes the entry with the largest key; frees just its node.
    ///
    /// ```
    /// let mut m: mallocv2_collections::tree::TreeMap<u8, u8> = [(2, 0), (1, 9)].into();
    /// assert_eq!(m.pop_last(), Some((2, 0)));
    /// ```
    pub fn pop_last(&mut self) -> Option<(K, V)> {
        self.root?;
        // SAFETY: as in `pop_first`.
        unsafe {
            let n = remove_max(&mut self.root);
            Some(self.take_node(n))
        }
    }

    /// Iterates in key order.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = [(2, 0), (1, 9)].into();
    /// assert_eq!(m.iter().rev().next(), Some((&2, &0)));
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            walk: Walk::full(self.root),
            len: self.len,
            _marker: PhantomData,
        }
    }

    /// Iterates in key order with mutable values.
    ///
    /// ```
    /// let mut m: mallocv2_collections::tree::TreeMap<u8, u8> = [(2, 0), (1, 9)].into();
    /// m.iter_mut().for_each(|(_, v)| *v += 1);
    /// assert_eq!(m[&1], 10);
    /// ```
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut {
            walk: Walk::full(self.root),
            len: self.len,
            _marker: PhantomData,
        }
    }

    /// The keys, in order.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = [(2, 0), (1, 9)].into();
    /// assert_eq!(m.keys().copied().collect::<Vec<_>>(), [1, 2]);
    /// ```
    pub fn keys(&self) -> Keys<'_, K, V> {
        Keys { inner: self.iter() }
    }

    /// The values, in key order.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = [(2, 0), (1, 9)].into();
    /// assert_eq!(m.values().copied().collect::<Vec<_>>(), [9, 0]);
    /// ```
    pub fn values(&self) -> Values<'_, K, V> {
        Values { inner: self.iter() }
    }

    /// The values, mutably, in key order.
    ///
    /// ```
    /// let mut m: mallocv2_collections::tree::TreeMap<u8, u8> = [(2, 0), (1, 9)].into();
    /// m.values_mut().for_each(|v| *v = 7);
    /// assert_eq!(m[&2], 7);
    /// ```
    pub fn values_mut(&mut self) -> ValuesMut<'_, K, V> {
        ValuesMut {
            inner: self.iter_mut(),
        }
    }

    /// The keys, consuming the map.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = [(2, 0), (1, 9)].into();
    /// assert_eq!(m.into_keys().collect::<Vec<_>>(), [1, 2]);
    /// ```
    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = K> + ExactSizeIterator {
        self.into_iter().map(|(k, _)| k)
    }

    /// The values, consuming the map.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = [(2, 0), (1, 9)].into();
    /// assert_eq!(m.into_values().collect::<Vec<_>>(), [9, 0]);
    /// ```
    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> + ExactSizeIterator {
        self.into_iter().map(|(_, v)| v)
    }

    /// Checks the tree's invariants (ordering, heights, balance, length),
    /// panicking with the offending values. For tests and fuzzing.
    #[doc(hidden)]
    pub fn check_invariants(&self)
    where
        K: Ord + fmt::Debug,
    {
        fn go<K: Ord + fmt::Debug, V>(
            l: Link<K, V>,
            lo: Option<&K>,
            hi: Option<&K>,
            count: &mut usize,
        ) -> u8 {
            let Some(n) = l else { return 0 };
            // SAFETY: live nodes of the borrowed tree.
            let node = unsafe { &*n.as_ptr() };
            if let Some(lo) = lo {
                assert!(*lo < node.key, "order: {lo:?} !< {:?}", node.key);
            }
            if let Some(hi) = hi {
                assert!(node.key < *hi, "order: {:?} !< {hi:?}", node.key);
            }
            *count += 1;
            let hl = go(node.left, lo, Some(&node.key), count);
            let hr = go(node.right, Some(&node.key), hi, count);
            assert!(
                hl.abs_diff(hr) <= 1,
                "balance at {:?}: left {hl}, right {hr}",
                node.key
            );
            assert_eq!(
                node.height,
                1 + hl.max(hr),
                "stored height at {:?}",
                node.key
            );
            node.height
        }
        let mut count = 0;
        let h = go(self.root, None, None, &mut count);
        assert_eq!(count, self.len, "len field {} but {count} nodes", self.len);
        // AVL bound: h < 1.4405 log2(n + 2).
        let bound = 1.4405 * ((self.len + 2) as f64).log2();
        assert!(
            f64::from(h) < bound + 1e-9,
            "height {h} above the AVL bound {bound} for {}",
            self.len
        );
    }
}

impl<K: Ord, V, A: Allocator + BatchAlloc> TreeMap<K, V, A> {
    /// Builds a map from `items` in `alloc`: sorts, removes duplicate keys
    /// (the last value wins) and allocates all nodes with one batch call.
    ///
    /// # Errors
    /// [`TryReserveError::AllocError`] if the nodes cannot all be allocated;
    /// the items collected so far are dropped and no block leaks.
    ///
    /// ```
    /// use mallocv2_collections::tree::TreeMap;
    /// let m = TreeMap::try_from_iter_in([(2, 'b'), (1, 'a'), (2, 'c')], mallocv2::Heap)?;
    /// assert_eq!(m[&2], 'c');
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    pub fn try_from_iter_in<I: IntoIterator<Item = (K, V)>>(
        items: I,
        alloc: A,
    ) -> Result<Self, TryReserveError> {
        let v = sort_dedup(collect_vec(items));
        Self::from_sorted_vec_in(v, alloc)
    }

    /// Builds a map from items expected in ascending key order, with one
    /// batch call for the nodes. The order is checked in `O(n)`; unsorted
    /// or duplicated input is sorted and deduplicated (the last value
    /// wins), so the result is always that of [`FromIterator`].
    ///
    /// # Panics
    /// If the allocator fails.
    ///
    /// ```
    /// use mallocv2_collections::tree::TreeMap;
    /// let m: TreeMap<u32, u32> = TreeMap::from_sorted_iter((0..100).map(|i| (i, i)));
    /// assert_eq!(m.len(), 100);
    /// ```
    pub fn from_sorted_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self
    where
        A: Default,
    {
        Self::try_from_iter_in(items, A::default()).unwrap_or_else(|e| alloc_failed(e))
    }

    /// Inserts `key → val`; returns the old value if the key was present
    /// (the key itself is not updated, like `BTreeMap`).
    ///
    /// # Panics
    /// If the allocator fails (see [`try_insert`](Self::try_insert)).
    ///
    /// ```
    /// let mut m = mallocv2_collections::tree::TreeMap::new();
    /// assert_eq!(m.insert(1, "a"), None);
    /// assert_eq!(m.insert(1, "b"), Some("a"));
    /// ```
    pub fn insert(&mut self, key: K, val: V) -> Option<V> {
        self.try_insert(key, val)
            .unwrap_or_else(|e| alloc_failed(e))
    }

    /// Inserts `key → val`, or reports that the node could not be
    /// allocated. (Unlike std's unstable `BTreeMap::try_insert`, an
    /// existing key is overwritten as with [`insert`](Self::insert): only
    /// allocation can fail.)
    ///
    /// # Errors
    /// [`TryReserveError::AllocError`] when the allocator refuses; the map
    /// is unchanged and `key`/`val` are dropped.
    ///
    /// ```
    /// let mut m = mallocv2_collections::tree::TreeMap::new();
    /// assert_eq!(m.try_insert(1, 1)?, None);
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    pub fn try_insert(&mut self, key: K, val: V) -> Result<Option<V>, TryReserveError> {
        // SAFETY: the tree is valid and its nodes come from `self.alloc`.
        match unsafe { insert_rec(&mut self.root, key, val, &self.alloc) } {
            Ins::Replaced(old) => Ok(Some(old)),
            Ins::Inserted => {
                self.len += 1;
                Ok(None)
            }
            Ins::Failed(..) => Err(TryReserveError::AllocError { layout: Self::NODE }),
        }
    }

    /// The value for `key`.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = [(1, 2)].into();
    /// assert_eq!(m.get(&1), Some(&2));
    /// assert_eq!(m.get(&3), None);
    /// ```
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        // SAFETY: a live node, borrowed with `self`.
        find(self.root, key).map(|n| unsafe { &(*n.as_ptr()).val })
    }

    /// The stored key and value for `key`.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = [(1, 2)].into();
    /// assert_eq!(m.get_key_value(&1), Some((&1, &2)));
    /// ```
    pub fn get_key_value<Q: Ord + ?Sized>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
    {
        // SAFETY: a live node, borrowed with `self`.
        find(self.root, key).map(|n| unsafe { (&(*n.as_ptr()).key, &(*n.as_ptr()).val) })
    }

    /// The value for `key`, mutably.
    ///
    /// ```
    /// let mut m: mallocv2_collections::tree::TreeMap<u8, u8> = [(1, 2)].into();
    /// *m.get_mut(&1).unwrap() = 5;
    /// assert_eq!(m[&1], 5);
    /// ```
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        // SAFETY: a live node; `&mut self` makes the access unique.
        find(self.root, key).map(|n| unsafe { &mut (*n.as_ptr()).val })
    }

    /// Whether `key` is present.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u8, u8> = [(1, 2)].into();
    /// assert!(m.contains_key(&1));
    /// ```
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        find(self.root, key).is_some()
    }

    /// Removes `key`, returning its value; frees just its node.
    ///
    /// ```
    /// let mut m: mallocv2_collections::tree::TreeMap<u8, u8> = [(1, 2)].into();
    /// assert_eq!(m.remove(&1), Some(2));
    /// assert_eq!(m.remove(&1), None);
    /// ```
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Removes `key`, returning the stored key and value.
    ///
    /// ```
    /// let mut m: mallocv2_collections::tree::TreeMap<u8, u8> = [(1, 2)].into();
    /// assert_eq!(m.remove_entry(&1), Some((1, 2)));
    /// ```
    pub fn remove_entry<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
    {
        // SAFETY: the tree is valid; the unlinked node is ours.
        unsafe {
            let n = remove_rec(&mut self.root, key)?;
            Some(self.take_node(n))
        }
    }

    /// Keeps only the entries for which `f` returns `true`, visiting them
    /// in key order. `O(n)`: the kept nodes are relinked into a balanced
    /// tree, each removed node is freed on its own; no key is compared.
    ///
    /// If `f` (or the drop of a removed entry) panics, the entries removed
    /// before stay removed and all the others stay in the map, as with
    /// `BTreeMap::retain`.
    ///
    /// ```
    /// let mut m: mallocv2_collections::tree::TreeMap<u8, u8> = [(1, 1), (2, 2)].into();
    /// m.retain(|k, _| *k == 2);
    /// assert_eq!(m.len(), 1);
    /// ```
    pub fn retain<F: FnMut(&K, &mut V) -> bool>(&mut self, mut f: F) {
        let nodes = self.nodes_in_order();
        self.root = None;
        let mut g = Retain {
            map: self,
            nodes,
            kept: 0,
            next: 0,
        };
        while g.next < g.nodes.len() {
            let n = g.nodes[g.next];
            // SAFETY: `n` is a live node; the map is detached and borrowed
            // by the guard, so these are the only references to its entry.
            let keep = unsafe { f(&(*n.as_ptr()).key, &mut (*n.as_ptr()).val) };
            g.next += 1;
            if keep {
                g.nodes[g.kept] = n;
                g.kept += 1;
            } else {
                // SAFETY: `n` is no longer in `nodes[..kept]` or
                // `nodes[next..]`, the only nodes the guard relinks.
                drop(unsafe { g.map.take_node(n) });
            }
        }
    }

    /// The entry for `key`, for in-place insert-or-update.
    ///
    /// ```
    /// let mut m = mallocv2_collections::tree::TreeMap::new();
    /// for w in ["a", "b", "a"] {
    ///     *m.entry(w).or_insert(0) += 1;
    /// }
    /// assert_eq!(m["a"], 2);
    /// ```
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V, A> {
        // The entry keeps the path of this one search: inserting or
        // removing through it follows the path and compares nothing, so
        // an `Ord` that changes its mind cannot make them disagree.
        match search(self.root, &key) {
            (Some(node), path) => Entry::Occupied(OccupiedEntry {
                map: self,
                node,
                path,
            }),
            (None, path) => Entry::Vacant(VacantEntry {
                map: self,
                key,
                path,
            }),
        }
    }

    /// Iterates over the entries whose keys lie in `range`, in order.
    ///
    /// # Panics
    /// Like `BTreeMap::range`: if the start is above the end, or both are
    /// equal and excluded.
    ///
    /// ```
    /// let m: mallocv2_collections::tree::TreeMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    /// assert_eq!(m.range(3..=5).map(|(k, _)| *k).collect::<Vec<_>>(), [3, 4, 5]);
    /// assert_eq!(m.range(..2).rev().map(|(k, _)| *k).collect::<Vec<_>>(), [1, 0]);
    /// ```
    pub fn range<Q, R>(&self, range: R) -> Range<'_, K, V>
    where
        Q: Ord + ?Sized,
        K: Borrow<Q>,
        R: RangeBounds<Q>,
    {
        Range {
            walk: Walk::range(self.root, range.start_bound(), range.end_bound()),
            _marker: PhantomData,
        }
    }

    /// Iterates mutably over the entries whose keys lie in `range`.
    ///
    /// # Panics
    /// As [`range`](Self::range).
    ///
    /// ```
    /// let mut m: mallocv2_collections::tree::TreeMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    /// m.range_mut(5..).for_each(|(_, v)| *v = 0);
    /// assert_eq!(m.values().sum::<u32>(), 10);
    /// ```
    pub fn range_mut<Q, R>(&mut self, range: R) -> RangeMut<'_, K, V>
    where
        Q: Ord + ?Sized,
        K: Borrow<Q>,
        R: RangeBounds<Q>,
    {
        RangeMut {
            walk: Walk::range(self.root, range.start_bound(), range.end_bound()),
            _marker: PhantomData,
        }
    }
}

/// The state of a [`TreeMap::retain`]: the map's nodes in key order,
/// those before `kept` kept, those from `next` on not yet visited (the
/// ones between were removed). Dropping it, at the end or when the
/// predicate panics, relinks the kept and unvisited nodes into the map.
struct Retain<'a, K, V, A: Allocator + BatchAlloc> {
    map: &'a mut TreeMap<K, V, A>,
    nodes: std::vec::Vec<NonNull<Node<K, V>>>,
    kept: usize,
    next: usize,
}

impl<K, V, A: Allocator + BatchAlloc> Drop for Retain<'_, K, V, A> {
    fn drop(&mut self) {
        debug_assert!(self.kept <= self.next && self.next <= self.nodes.len());
        self.nodes.copy_within(self.next.., self.kept);
        self.nodes
            .truncate(self.kept + (self.nodes.len() - self.next));
        // SAFETY: the remaining nodes are live, distinct and in key order
        // (a sub-sequence of the map's in-order nodes), and no longer
        // linked anywhere else.
        self.map.root = unsafe { relink(&self.nodes) };
        self.map.len = self.nodes.len();
    }
}

impl<K, V, A: Allocator + BatchAlloc> Drop for TreeMap<K, V, A> {
    fn drop(&mut self) {
        self.clear();
    }
}

/// The in-order walk shared by the borrowing iterators: two stacks closing
/// in from both ends.
///
/// Invariant: the top of `front` is the next node from the front and the
/// top of `back` the next from the back; once they have met (`done`),
/// nothing more is yielded.
struct Walk<K, V> {
    front: std::vec::Vec<NonNull<Node<K, V>>>,
    back: std::vec::Vec<NonNull<Node<K, V>>>,
    done: bool,
}

impl<K, V> Walk<K, V> {
    fn full(root: Link<K, V>) -> Self {
        let cap = usize::from(height(root));
        let mut w = Walk {
            front: std::vec::Vec::with_capacity(cap),
            back: std::vec::Vec::with_capacity(cap),
            done: root.is_none(),
        };
        w.push_left(root);
        w.push_right(root);
        w
    }

    fn range<Q>(root: Link<K, V>, lo: Bound<&Q>, hi: Bound<&Q>) -> Self
    where
        Q: Ord + ?Sized,
        K: Borrow<Q>,
    {
        match (lo, hi) {
            (Bound::Excluded(a), Bound::Excluded(b)) if a == b => {
                panic!("range start and end are equal and excluded in TreeMap")
            }
            (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b))
                if a > b =>
            {
                panic!("range start is greater than range end in TreeMap")
            }
            _ => {}
        }
        let cap = usize::from(height(root));
        let mut w = Walk {
            front: std::vec::Vec::with_capacity(cap),
            back: std::vec::Vec::with_capacity(cap),
            done: false,
        };
        // Front: the path to the first key >= (or >) `lo`; `first` is the
        // rank of the top of `front`.
        let (mut cur, mut path, mut first) = (root, Path::ROOT, None);
        while let Some(n) = cur {
            // SAFETY: live nodes of the borrowed tree.
            let node = unsafe { &*n.as_ptr() };
            let k = node.key.borrow();
            let in_lo = match lo {
                Bound::Included(a) => k >= a,
                Bound::Excluded(a) => k > a,
                Bound::Unbounded => true,
            };
            if in_lo {
                w.front.push(n);
                first = Some(path.rank());
                cur = node.left;
            } else {
                cur = node.right;
            }
            path.push(!in_lo);
        }
        let (mut cur, mut path, mut last) = (root, Path::ROOT, None);
        while let Some(n) = cur {
            // SAFETY: live nodes of the borrowed tree.
            let node = unsafe { &*n.as_ptr() };
            let k = node.key.borrow();
            let in_hi = match hi {
                Bound::Included(b) => k <= b,
                Bound::Excluded(b) => k < b,
                Bound::Unbounded => true,
            };
            if in_hi {
                w.back.push(n);
                last = Some(path.rank());
                cur = node.right;
            } else {
                cur = node.left;
            }
            path.push(in_hi);
        }
        // Empty when the first node in range lies after the last one. The
        // positions are compared, not the keys: no user code runs, and if
        // an inconsistent `Ord` made the two descents cross, the range is
        // empty rather than everything outside it.
        w.done = match (first, last) {
            (Some(f), Some(l)) => f > l,
            _ => true,
        };
        w
    }

    fn push_left(&mut self, mut l: Link<K, V>) {
        while let Some(n) = l {
            self.front.push(n);
            // SAFETY: a live node of the borrowed tree.
            l = unsafe { (*n.as_ptr()).left };
        }
    }

    fn push_right(&mut self, mut l: Link<K, V>) {
        while let Some(n) = l {
            self.back.push(n);
            // SAFETY: a live node of the borrowed tree.
            l = unsafe { (*n.as_ptr()).right };
        }
    }

    fn next_front(&mut self) -> Link<K, V> {
        if self.done {
            return None;
        }
        let n = self.front.pop()?;
        if self.back.last() == Some(&n) {
            self.done = true;
        } else {
            // SAFETY: a live node of the borrowed tree.
            self.push_left(unsafe { (*n.as_ptr()).right });
        }
        Some(n)
    }

    fn next_back(&mut self) -> Link<K, V> {
        if self.done {
            return None;
        }
        let n = self.back.pop()?;
        if self.front.last() == Some(&n) {
            self.done = true;
        } else {
            // SAFETY: a live node of the borrowed tree.
            self.push_right(unsafe { (*n.as_ptr()).left });
        }
        Some(n)
    }
}

impl<K, V> Clone for Walk<K, V> {
    fn clone(&self) -> Self {
        Walk {
            front: self.front.clone(),
            back: self.back.clone(),
            done: self.done,
        }
    }
}

/// Iterator over `(&K, &V)` in key order; see [`TreeMap::iter`].
pub struct Iter<'a, K, V> {
    walk: Walk<K, V>,
    len: usize,
    _marker: PhantomData<&'a Node<K, V>>,
}

// SAFETY: only hands out shared references.
unsafe impl<K: Sync, V: Sync> Send for Iter<'_, K, V> {}
// SAFETY: as above.
unsafe impl<K: Sync, V: Sync> Sync for Iter<'_, K, V> {}

impl<K, V> Clone for Iter<'_, K, V> {
    fn clone(&self) -> Self {
        Iter {
            walk: self.walk.clone(),
            len: self.len,
            _marker: PhantomData,
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Iter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);
    fn next(&mut self) -> Option<(&'a K, &'a V)> {
        let n = self.walk.next_front()?;
        self.len -= 1;
        // SAFETY: a live node of the tree borrowed for `'a`.
        unsafe { Some((&(*n.as_ptr()).key, &(*n.as_ptr()).val)) }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl<'a, K, V> DoubleEndedIterator for Iter<'a, K, V> {
    fn next_back(&mut self) -> Option<(&'a K, &'a V)> {
        let n = self.walk.next_back()?;
        self.len -= 1;
        // SAFETY: a live node of the tree borrowed for `'a`.
        unsafe { Some((&(*n.as_ptr()).key, &(*n.as_ptr()).val)) }
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}
impl<K, V> FusedIterator for Iter<'_, K, V> {}

/// Iterator over `(&K, &mut V)` in key order; see [`TreeMap::iter_mut`].
pub struct IterMut<'a, K, V> {
    walk: Walk<K, V>,
    len: usize,
    _marker: PhantomData<&'a mut Node<K, V>>,
}

// SAFETY: hands out `&K` and `&mut V`.
unsafe impl<K: Sync, V: Send> Send for IterMut<'_, K, V> {}
// SAFETY: `&IterMut` gives no access to entries.
unsafe impl<K: Sync, V: Sync> Sync for IterMut<'_, K, V> {}

impl<K, V> fmt::Debug for IterMut<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut").field("len", &self.len).finish()
    }
}

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);
    fn next(&mut self) -> Option<(&'a K, &'a mut V)> {
        let n = self.walk.next_front()?;
        self.len -= 1;
        // SAFETY: each node is yielded once, so the `&mut V` are disjoint;
        // the tree is mutably borrowed for `'a`.
        unsafe { Some((&(*n.as_ptr()).key, &mut (*n.as_ptr()).val)) }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl<'a, K, V> DoubleEndedIterator for IterMut<'a, K, V> {
    fn next_back(&mut self) -> Option<(&'a K, &'a mut V)> {
        let n = self.walk.next_back()?;
        self.len -= 1;
        // SAFETY: as in `next`.
        unsafe { Some((&(*n.as_ptr()).key, &mut (*n.as_ptr()).val)) }
    }
}

impl<K, V> ExactSizeIterator for IterMut<'_, K, V> {}
impl<K, V> FusedIterator for IterMut<'_, K, V> {}

/// Iterator over a key range; see [`TreeMap::range`].
pub struct Range<'a, K, V> {
    walk: Walk<K, V>,
    _marker: PhantomData<&'a Node<K, V>>,
}

// SAFETY: only hands out shared references.
unsafe impl<K: Sync, V: Sync> Send for Range<'_, K, V> {}
// SAFETY: as above.
unsafe impl<K: Sync, V: Sync> Sync for Range<'_, K, V> {}

impl<K, V> Clone for Range<'_, K, V> {
    fn clone(&self) -> Self {
        Range {
            walk: self.walk.clone(),
            _marker: PhantomData,
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Range<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a, K, V> Iterator for Range<'a, K, V> {
    type Item = (&'a K, &'a V);
    fn next(&mut self) -> Option<(&'a K, &'a V)> {
        let n = self.walk.next_front()?;
        // SAFETY: a live node of the tree borrowed for `'a`.
        unsafe { Some((&(*n.as_ptr()).key, &(*n.as_ptr()).val)) }
    }
}

impl<'a, K, V> DoubleEndedIterator for Range<'a, K, V> {
    fn next_back(&mut self) -> Option<(&'a K, &'a V)> {
        let n = self.walk.next_back()?;
        // SAFETY: a live node of the tree borrowed for `'a`.
        unsafe { Some((&(*n.as_ptr()).key, &(*n.as_ptr()).val)) }
    }
}

impl<K, V> FusedIterator for Range<'_, K, V> {}

/// Mutable iterator over a key range; see [`TreeMap::range_mut`].
pub struct RangeMut<'a, K, V> {
    walk: Walk<K, V>,
    _marker: PhantomData<&'a mut Node<K, V>>,
}

// SAFETY: hands out `&K` and `&mut V`.
unsafe impl<K: Sync, V: Send> Send for RangeMut<'_, K, V> {}
// SAFETY: `&RangeMut` gives no access to entries.
unsafe impl<K: Sync, V: Sync> Sync for RangeMut<'_, K, V> {}

impl<K, V> fmt::Debug for RangeMut<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RangeMut")
    }
}

impl<'a, K, V> Iterator for RangeMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);
    fn next(&mut self) -> Option<(&'a K, &'a mut V)> {
        let n = self.walk.next_front()?;
        // SAFETY: each node is yielded once; the tree is mutably borrowed.
        unsafe { Some((&(*n.as_ptr()).key, &mut (*n.as_ptr()).val)) }
    }
}

impl<'a, K, V> DoubleEndedIterator for RangeMut<'a, K, V> {
    fn next_back(&mut self) -> Option<(&'a K, &'a mut V)> {
        let n = self.walk.next_back()?;
        // SAFETY: as in `next`.
        unsafe { Some((&(*n.as_ptr()).key, &mut (*n.as_ptr()).val)) }
    }
}

impl<K, V> FusedIterator for RangeMut<'_, K, V> {}

/// The keys in order; see [`TreeMap::keys`].
pub struct Keys<'a, K, V> {
    inner: Iter<'a, K, V>,
}

impl<K, V> Clone for Keys<'_, K, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K: fmt::Debug, V> fmt::Debug for Keys<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a, K, V> Iterator for Keys<'a, K, V> {
    type Item = &'a K;
    fn next(&mut self) -> Option<&'a K> {
        self.inner.next().map(|(k, _)| k)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<'a, K, V> DoubleEndedIterator for Keys<'a, K, V> {
    fn next_back(&mut self) -> Option<&'a K> {
        self.inner.next_back().map(|(k, _)| k)
    }
}

impl<K, V> ExactSizeIterator for Keys<'_, K, V> {}
impl<K, V> FusedIterator for Keys<'_, K, V> {}

/// The values in key order; see [`TreeMap::values`].
pub struct Values<'a, K, V> {
    inner: Iter<'a, K, V>,
}

impl<K, V> Clone for Values<'_, K, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V: fmt::Debug> fmt::Debug for Values<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a, K, V> Iterator for Values<'a, K, V> {
    type Item = &'a V;
    fn next(&mut self) -> Option<&'a V> {
        self.inner.next().map(|(_, v)| v)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<'a, K, V> DoubleEndedIterator for Values<'a, K, V> {
    fn next_back(&mut self) -> Option<&'a V> {
        self.inner.next_back().map(|(_, v)| v)
    }
}

impl<K, V> ExactSizeIterator for Values<'_, K, V> {}
impl<K, V> FusedIterator for Values<'_, K, V> {}

/// The values, mutably, in key order; see [`TreeMap::values_mut`].
#[derive(Debug)]
pub struct ValuesMut<'a, K, V> {
    inner: IterMut<'a, K, V>,
}

impl<'a, K, V> Iterator for ValuesMut<'a, K, V> {
    type Item = &'a mut V;
    fn next(&mut self) -> Option<&'a mut V> {
        self.inner.next().map(|(_, v)| v)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<'a, K, V> DoubleEndedIterator for ValuesMut<'a, K, V> {
    fn next_back(&mut self) -> Option<&'a mut V> {
        self.inner.next_back().map(|(_, v)| v)
    }
}

impl<K, V> ExactSizeIterator for ValuesMut<'_, K, V> {}
impl<K, V> FusedIterator for ValuesMut<'_, K, V> {}

/// Owning iterator in key order. The tree is relinked into an in-order
/// chain when the iterator is made (`O(n)`, no allocation); each step then
/// frees one node, and the rest are freed in batches when it drops.
pub struct IntoIter<K, V, A: Allocator + BatchAlloc = Heap> {
    /// Chain linked by `right` (next) and `left` (previous); `None` iff
    /// `len == 0`.
    head: Link<K, V>,
    tail: Link<K, V>,
    len: usize,
    alloc: A,
    _owns: PhantomData<Box<Node<K, V>>>,
}

// SAFETY: owns its entries like the map.
unsafe impl<K: Send, V: Send, A: Allocator + BatchAlloc + Send> Send for IntoIter<K, V, A> {}
// SAFETY: `&IntoIter` gives no access to entries.
unsafe impl<K: Sync, V: Sync, A: Allocator + BatchAlloc + Sync> Sync for IntoIter<K, V, A> {}

impl<K, V, A: Allocator + BatchAlloc> fmt::Debug for IntoIter<K, V, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter").field("len", &self.len).finish()
    }
}

impl<K, V, A: Allocator + BatchAlloc> IntoIter<K, V, A> {
    /// Moves the entry out of chain node `n` and frees just that node.
    ///
    /// # Safety
    /// `n` is a node just unlinked from the chain.
    unsafe fn take(&mut self, n: NonNull<Node<K, V>>) -> (K, V) {
        self.len -= 1;
        // SAFETY: the node is live and initialised; the entry is moved out
        // before the block is freed with its layout.
        unsafe {
            let key = ptr::read(&(*n.as_ptr()).key);
            let val = ptr::read(&(*n.as_ptr()).val);
            self.alloc.deallocate(n.cast(), Layout::new::<Node<K, V>>());
            (key, val)
        }
    }
}

impl<K, V, A: Allocator + BatchAlloc> Iterator for IntoIter<K, V, A> {
    type Item = (K, V);
    fn next(&mut self) -> Option<(K, V)> {
        let n = self.head?;
        // SAFETY: `n` is the chain's first node; unlink it, then take it.
        unsafe {
            self.head = (*n.as_ptr()).right;
            match self.head {
                Some(h) => (*h.as_ptr()).left = None,
                None => self.tail = None,
            }
            Some(self.take(n))
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl<K, V, A: Allocator + BatchAlloc> DoubleEndedIterator for IntoIter<K, V, A> {
    fn next_back(&mut self) -> Option<(K, V)> {
        let n = self.tail?;
        // SAFETY: `n` is the chain's last node; unlink it, then take it.
        unsafe {
            self.tail = (*n.as_ptr()).left;
            match self.tail {
                Some(t) => (*t.as_ptr()).right = None,
                None => self.head = None,
            }
            Some(self.take(n))
        }
    }
}

impl<K, V, A: Allocator + BatchAlloc> ExactSizeIterator for IntoIter<K, V, A> {}
impl<K, V, A: Allocator + BatchAlloc> FusedIterator for IntoIter<K, V, A> {}

impl<K, V, A: Allocator + BatchAlloc> Drop for IntoIter<K, V, A> {
    fn drop(&mut self) {
        self.tail = None;
        self.len = 0;
        let mut d = ChainDropper {
            free: FreeChain::new(&self.alloc),
            cur: self.head.take(),
        };
        d.run();
    }
}

impl<K, V, A: Allocator + BatchAlloc> IntoIterator for TreeMap<K, V, A> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V, A>;
    fn into_iter(self) -> IntoIter<K, V, A> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the allocator is moved out
        // exactly once; the tree is ours and becomes the chain.
        let (alloc, (head, tail)) = unsafe { (ptr::read(&this.alloc), flatten(this.root)) };
        IntoIter {
            head,
            tail,
            len: this.len,
            alloc,
            _owns: PhantomData,
        }
    }
}

impl<'a, K, V, A: Allocator + BatchAlloc> IntoIterator for &'a TreeMap<K, V, A> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<'a, K, V, A: Allocator + BatchAlloc> IntoIterator for &'a mut TreeMap<K, V, A> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;
    fn into_iter(self) -> IterMut<'a, K, V> {
        self.iter_mut()
    }
}

/// A view into one key's slot; see [`TreeMap::entry`].
pub enum Entry<'a, K, V, A: Allocator + BatchAlloc = Heap> {
    /// The key is absent.
    Vacant(VacantEntry<'a, K, V, A>),
    /// The key is present.
    Occupied(OccupiedEntry<'a, K, V, A>),
}

/// An absent key's slot.
pub struct VacantEntry<'a, K, V, A: Allocator + BatchAlloc = Heap> {
    map: &'a mut TreeMap<K, V, A>,
    key: K,
    /// The empty link where the key goes (the tree cannot change while
    /// the map is borrowed).
    path: Path,
}

/// A present key's slot.
pub struct OccupiedEntry<'a, K, V, A: Allocator + BatchAlloc = Heap> {
    map: &'a mut TreeMap<K, V, A>,
    /// The key's node (nodes never move while the map is borrowed).
    node: NonNull<Node<K, V>>,
    /// The path from the root to `node`.
    path: Path,
}

impl<K: fmt::Debug, V: fmt::Debug, A: Allocator + BatchAlloc> fmt::Debug for Entry<'_, K, V, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Vacant(v) => f.debug_tuple("Vacant").field(&v.key).finish(),
            Entry::Occupied(o) => f
                .debug_tuple("Occupied")
                .field(o.key())
                .field(o.get())
                .finish(),
        }
    }
}

impl<'a, K: Ord, V, A: Allocator + BatchAlloc> Entry<'a, K, V, A> {
    /// The value, inserting `default` if the key is absent.
    ///
    /// # Panics
    /// If the allocator fails.
    pub fn or_insert(self, default: V) -> &'a mut V {
        match self {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(default),
        }
    }

    /// The value, inserting `f()` if the key is absent.
    ///
    /// # Panics
    /// If the allocator fails.
    pub fn or_insert_with<F: FnOnce() -> V>(self, f: F) -> &'a mut V {
        match self {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(f()),
        }
    }

    /// The value, inserting `V::default()` if the key is absent.
    ///
    /// # Panics
    /// If the allocator fails.
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Applies `f` to the value if present.
    pub fn and_modify<F: FnOnce(&mut V)>(mut self, f: F) -> Self {
        if let Entry::Occupied(o) = &mut self {
            f(o.get_mut());
        }
        self
    }

    /// The key.
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(o) => o.key(),
            Entry::Vacant(v) => &v.key,
        }
    }
}

impl<'a, K: Ord, V, A: Allocator + BatchAlloc> VacantEntry<'a, K, V, A> {
    /// The key that would be inserted.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// Takes the key back.
    pub fn into_key(self) -> K {
        self.key
    }

    /// Inserts `value`; allocates one node. The entry goes where
    /// [`TreeMap::entry`]'s search found the key absent; nothing is
    /// compared again.
    ///
    /// # Panics
    /// If the allocator fails.
    pub fn insert(self, value: V) -> &'a mut V {
        let layout = TreeMap::<K, V, A>::NODE;
        let Ok(p) = allocate_node(&self.map.alloc, layout) else {
            alloc_failed(TryReserveError::AllocError { layout })
        };
        let node = p.cast::<Node<K, V>>();
        // SAFETY: a fresh block valid for a `Node`; the tree is unchanged
        // since `entry` found `path` (the map is borrowed by the entry), so
        // the path ends at an empty link; the node is then live, and the
        // map stays mutably borrowed for `'a`.
        unsafe {
            node.as_ptr().write(Node {
                left: None,
                right: None,
                height: 1,
                key: self.key,
                val: value,
            });
            insert_at(&mut self.map.root, self.path, 0, node);
            self.map.len += 1;
            &mut (*node.as_ptr()).val
        }
    }
}

impl<'a, K, V, A: Allocator + BatchAlloc> OccupiedEntry<'a, K, V, A> {
    /// The stored key.
    pub fn key(&self) -> &K {
        // SAFETY: a live node of the borrowed map.
        unsafe { &(*self.node.as_ptr()).key }
    }

    /// The value.
    pub fn get(&self) -> &V {
        // SAFETY: a live node of the borrowed map.
        unsafe { &(*self.node.as_ptr()).val }
    }

    /// The value, mutably.
    pub fn get_mut(&mut self) -> &mut V {
        // SAFETY: a live node of the mutably borrowed map.
        unsafe { &mut (*self.node.as_ptr()).val }
    }

    /// The value, mutably, for the map's borrow.
    pub fn into_mut(self) -> &'a mut V {
        // SAFETY: a live node; the map stays mutably borrowed for `'a`.
        unsafe { &mut (*self.node.as_ptr()).val }
    }

    /// Replaces the value, returning the old one.
    pub fn insert(&mut self, value: V) -> V {
        core::mem::replace(self.get_mut(), value)
    }
}

impl<K: Ord, V, A: Allocator + BatchAlloc> OccupiedEntry<'_, K, V, A> {
    /// Removes the entry; frees just its node. Nothing is compared: the
    /// node is unlinked by the path [`TreeMap::entry`] found.
    pub fn remove_entry(self) -> (K, V) {
        // SAFETY: the tree is unchanged since `entry` found `path` (the map
        // is borrowed by the entry), so the path ends at `node`.
        let n = unsafe { remove_at(&mut self.map.root, self.path, 0) };
        debug_assert_eq!(n, self.node, "the path leads to the entry's node");
        // SAFETY: the node is unlinked and ours.
        unsafe { self.map.take_node(n) }
    }

    /// Removes the entry, returning the value.
    pub fn remove(self) -> V {
        self.remove_entry().1
    }
}

impl<K, V, A: Allocator + BatchAlloc + Default> Default for TreeMap<K, V, A> {
    fn default() -> Self {
        Self::new_in(A::default())
    }
}

impl<K: Clone, V: Clone, A: Allocator + BatchAlloc + Clone> Clone for TreeMap<K, V, A> {
    /// Clones into a temporary `Vec` (already sorted) and builds the copy
    /// with one batch call.
    fn clone(&self) -> Self {
        let items: std::vec::Vec<(K, V)> =
            self.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        Self::from_sorted_vec_in(items, self.alloc.clone()).unwrap_or_else(|e| alloc_failed(e))
    }
}

impl<K: fmt::Debug, V: fmt::Debug, A: Allocator + BatchAlloc> fmt::Debug for TreeMap<K, V, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: PartialEq, V: PartialEq, A: Allocator + BatchAlloc> PartialEq for TreeMap<K, V, A> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<K: Eq, V: Eq, A: Allocator + BatchAlloc> Eq for TreeMap<K, V, A> {}

impl<K: PartialOrd, V: PartialOrd, A: Allocator + BatchAlloc> PartialOrd for TreeMap<K, V, A> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.iter().partial_cmp(other.iter())
    }
}

impl<K: Ord, V: Ord, A: Allocator + BatchAlloc> Ord for TreeMap<K, V, A> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.iter().cmp(other.iter())
    }
}

impl<K: Hash, V: Hash, A: Allocator + BatchAlloc> Hash for TreeMap<K, V, A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len);
        for e in self {
            e.hash(state);
        }
    }
}

impl<K, Q, V, A> Index<&Q> for TreeMap<K, V, A>
where
    K: Borrow<Q> + Ord,
    Q: Ord + ?Sized,
    A: Allocator + BatchAlloc,
{
    type Output = V;

    /// # Panics
    /// If the key is absent.
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("TreeMap: key not present")
    }
}

impl<K: Ord, V, A: Allocator + BatchAlloc + Default> FromIterator<(K, V)> for TreeMap<K, V, A> {
    /// Sorts, deduplicates (the last value wins) and builds the tree with
    /// one batch call for all nodes.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self::from_sorted_iter(iter)
    }
}

impl<K: Ord, V, A: Allocator + BatchAlloc> Extend<(K, V)> for TreeMap<K, V, A> {
    /// Collects the items; when they are at least an eighth of the map's
    /// size (always for an empty map) they are merged in bulk like
    /// [`TreeMap::try_extend`] (one batch call for the new nodes, `O(n + m
    /// log m)`); otherwise each is inserted on its own (`O(m log n)`).
    /// A repeated key keeps its last value.
    ///
    /// If the iterator panics, the items it yielded before are added (as
    /// `BTreeMap::extend` would have inserted them), then the panic goes
    /// on. If `Ord` panics during a bulk merge, nothing is added and the
    /// items are dropped.
    ///
    /// # Panics
    /// If the allocator fails (the map is then unchanged on the bulk path).
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        let mut items = std::vec::Vec::new();
        // `items` is whole whenever the iterator panics (a push completes
        // or does not happen), and nothing else is touched before the
        // panic is resumed.
        let got = std::panic::catch_unwind(AssertUnwindSafe(|| collect_into(&mut items, iter)));
        self.add_collected(items);
        if let Err(panic) = got {
            std::panic::resume_unwind(panic);
        }
    }
}

impl<K: Ord, V, A: Allocator + BatchAlloc> TreeMap<K, V, A> {
    /// The second half of [`Extend::extend`]: adds collected items in bulk
    /// or one by one.
    fn add_collected(&mut self, items: std::vec::Vec<(K, V)>) {
        if items.len().saturating_mul(8) >= self.len {
            if let Err(e) = self.merge_sorted(sort_dedup(items)) {
                alloc_failed(e)
            }
        } else {
            for (k, v) in items {
                self.insert(k, v);
            }
        }
    }
}

/// One step of a merge: keep an existing node, add an item as a new node,
/// or put an item's value into the existing node of its key.
#[derive(Clone, Copy)]
enum Step {
    Old,
    New,
    Replace,
}

/// Relinks `nodes` (in key order) into a perfectly balanced tree, the same
/// shape [`build`] makes. Runs no user code.
///
/// # Safety
/// `nodes` are distinct live nodes in ascending key order, owned by the
/// caller; their old links are overwritten.
unsafe fn relink<K, V>(nodes: &[NonNull<Node<K, V>>]) -> Link<K, V> {
    if nodes.is_empty() {
        return None;
    }
    let mid = nodes.len() / 2;
    // SAFETY: the halves are disjoint sub-slices of the caller's nodes.
    let (left, right) = unsafe { (relink(&nodes[..mid]), relink(&nodes[mid + 1..])) };
    let n = nodes[mid];
    // SAFETY: `n` is live and ours (caller).
    unsafe {
        (*n.as_ptr()).left = left;
        (*n.as_ptr()).right = right;
        (*n.as_ptr()).height = 1 + height(left).max(height(right));
    }
    Some(n)
}

impl<K: Ord, V, A: Allocator + BatchAlloc> TreeMap<K, V, A> {
    /// The map's nodes in key order.
    fn nodes_in_order(&self) -> std::vec::Vec<NonNull<Node<K, V>>> {
        let mut v = std::vec::Vec::with_capacity(self.len);
        let mut w = Walk::full(self.root);
        while let Some(n) = w.next_front() {
            v.push(n);
        }
        debug_assert_eq!(
            v.len(),
            self.len,
            "walk found {} of {} nodes",
            v.len(),
            self.len
        );
        v
    }

    /// Merges sorted, unique `items` into the map: all comparisons first
    /// (a panicking `Ord` changes nothing), then one batch call for the new
    /// nodes (an allocation failure changes nothing), then the tree is
    /// relinked around old and new nodes without moving any entry.
    fn merge_sorted(&mut self, items: std::vec::Vec<(K, V)>) -> Result<(), TryReserveError> {
        if items.is_empty() {
            return Ok(());
        }
        let old = self.nodes_in_order();
        let mut plan = std::vec::Vec::with_capacity(old.len() + items.len());
        let (mut i, mut j, mut fresh) = (0, 0, 0);
        while i < old.len() && j < items.len() {
            // SAFETY: `old[i]` is a live node of the intact tree.
            let key = unsafe { &(*old[i].as_ptr()).key };
            match items[j].0.cmp(key) {
                Ordering::Less => {
                    plan.push(Step::New);
                    fresh += 1;
                    j += 1;
                }
                Ordering::Greater => {
                    plan.push(Step::Old);
                    i += 1;
                }
                Ordering::Equal => {
                    plan.push(Step::Replace);
                    i += 1;
                    j += 1;
                }
            }
        }
        plan.extend(core::iter::repeat_n(Step::Old, old.len() - i));
        plan.extend(core::iter::repeat_n(Step::New, items.len() - j));
        fresh += items.len() - j;
        let mut supply = NodeSupply::new(&self.alloc, Self::NODE);
        supply.ensure(fresh)?;
        let mut nodes = std::vec::Vec::with_capacity(plan.len());
        let mut replaced = std::vec::Vec::with_capacity(items.len() - fresh);
        // From here on no user code runs until `replaced` is dropped, after
        // the tree is whole again.
        let mut olds = old.into_iter();
        let mut news = items.into_iter();
        for step in plan {
            match step {
                Step::Old => nodes.push(olds.next().expect("planned")),
                Step::New => {
                    let (key, val) = news.next().expect("planned");
                    let p = supply.take().cast::<Node<K, V>>();
                    // SAFETY: an unused block of `NODE` from the supply.
                    unsafe {
                        p.as_ptr().write(Node {
                            left: None,
                            right: None,
                            height: 1,
                            key,
                            val,
                        })
                    };
                    nodes.push(p);
                }
                Step::Replace => {
                    let n = olds.next().expect("planned");
                    let (key, val) = news.next().expect("planned");
                    // SAFETY: `n` is a live node of the map; only its value
                    // field is touched.
                    let old_val = unsafe { core::mem::replace(&mut (*n.as_ptr()).val, val) };
                    replaced.push((key, old_val));
                    nodes.push(n);
                }
            }
        }
        // SAFETY: `nodes` are all the map's nodes plus the new ones, in key
        // order (the plan followed the merge order).
        self.root = unsafe { relink(&nodes) };
        self.len = nodes.len();
        drop(nodes);
        drop(replaced);
        Ok(())
    }

    /// Adds all of `items` or none: sorts and deduplicates them (the last
    /// value wins), allocates every new node with one batch call, and
    /// relinks the tree around old and new nodes (`O(n + m log m)`; no
    /// entry moves). An existing key keeps its key and takes the new value,
    /// as with [`insert`](Self::insert).
    ///
    /// All or none holds for panics too: if the iterator or `Ord` panics,
    /// nothing is added (where [`Extend::extend`] keeps what the iterator
    /// yielded before its panic).
    ///
    /// # Errors
    /// [`TryReserveError::AllocError`] if the new nodes cannot all be
    /// allocated; the map is then unchanged and the items are dropped.
    ///
    /// ```
    /// use mallocv2_collections::tree::TreeMap;
    /// let mut m: TreeMap<u32, &str> = [(1, "a"), (3, "c")].into();
    /// m.try_extend([(2, "b"), (3, "C")])?;
    /// assert_eq!(m.values().copied().collect::<Vec<_>>(), ["a", "b", "C"]);
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    pub fn try_extend<I: IntoIterator<Item = (K, V)>>(
        &mut self,
        items: I,
    ) -> Result<(), TryReserveError> {
        self.merge_sorted(sort_dedup(collect_vec(items)))
    }

    /// Splits the map at `key`: `self` keeps the keys below it, the result
    /// holds `key` and everything above. `O(n)`: both halves are relinked
    /// from the existing nodes, nothing is allocated or moved.
    ///
    /// ```
    /// use mallocv2_collections::tree::TreeMap;
    /// let mut a: TreeMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    /// let b = a.split_off(&4);
    /// assert_eq!(a.len(), 4);
    /// assert_eq!(b.first_key_value(), Some((&4, &4)));
    /// ```
    pub fn split_off<Q: Ord + ?Sized>(&mut self, key: &Q) -> Self
    where
        K: Borrow<Q>,
        A: Clone,
    {
        let nodes = self.nodes_in_order();
        // Comparisons first: a panicking `Ord` leaves the map intact.
        // SAFETY: live nodes of the intact tree.
        let at = nodes.partition_point(|n| unsafe { (*n.as_ptr()).key.borrow() < key });
        let mut rest = Self::new_in(self.alloc.clone());
        // SAFETY: the two halves are disjoint, each in key order, and
        // together all of the map's nodes.
        unsafe {
            self.root = relink(&nodes[..at]);
            rest.root = relink(&nodes[at..]);
        }
        self.len = at;
        rest.len = nodes.len() - at;
        rest
    }

    /// Moves all of `other`'s entries into `self` in `O(n + m)`, without
    /// allocating or moving an entry: the nodes of both trees are relinked
    /// into one. For a key in both, `other`'s value wins (like
    /// `BTreeMap::append`); the duplicate node is freed. `other` ends
    /// empty. The two allocators must be interchangeable (always true for
    /// the zero-sized [`Heap`]).
    ///
    /// ```
    /// use mallocv2_collections::tree::TreeMap;
    /// let mut a: TreeMap<u32, char> = [(1, 'a'), (2, 'b')].into();
    /// let mut b: TreeMap<u32, char> = [(2, 'B'), (3, 'C')].into();
    /// a.append(&mut b);
    /// assert!(b.is_empty());
    /// assert_eq!(a.values().collect::<String>(), "aBC");
    /// ```
    pub fn append(&mut self, other: &mut Self) {
        if other.is_empty() {
            return;
        }
        let mine = self.nodes_in_order();
        let theirs = other.nodes_in_order();
        // Comparisons first: a panicking `Ord` leaves both maps intact.
        let mut plan = std::vec::Vec::with_capacity(mine.len() + theirs.len());
        let (mut i, mut j) = (0, 0);
        while i < mine.len() && j < theirs.len() {
            // SAFETY: live nodes of the two intact trees.
            let ord = unsafe { (*theirs[j].as_ptr()).key.cmp(&(*mine[i].as_ptr()).key) };
            plan.push(match ord {
                Ordering::Less => {
                    j += 1;
                    Step::New
                }
                Ordering::Greater => {
                    i += 1;
                    Step::Old
                }
                Ordering::Equal => {
                    i += 1;
                    j += 1;
                    Step::Replace
                }
            });
        }
        plan.extend(core::iter::repeat_n(Step::Old, mine.len() - i));
        plan.extend(core::iter::repeat_n(Step::New, theirs.len() - j));
        let mut nodes = std::vec::Vec::with_capacity(plan.len());
        let mut dropped = std::vec::Vec::new();
        let (mut mi, mut ti) = (mine.into_iter(), theirs.into_iter());
        other.root = None;
        other.len = 0;
        for step in plan {
            match step {
                Step::Old => nodes.push(mi.next().expect("planned")),
                Step::New => nodes.push(ti.next().expect("planned")),
                Step::Replace => {
                    let n = mi.next().expect("planned");
                    let t = ti.next().expect("planned");
                    // SAFETY: `t` was a node of `other`, now detached; its
                    // entry is moved out and its block freed with its
                    // layout. `n` stays in `self`; only its value changes.
                    unsafe {
                        let key = ptr::read(&(*t.as_ptr()).key);
                        let val = ptr::read(&(*t.as_ptr()).val);
                        other.alloc.deallocate(t.cast(), Self::NODE);
                        let old_val = core::mem::replace(&mut (*n.as_ptr()).val, val);
                        dropped.push((key, old_val));
                    }
                    nodes.push(n);
                }
            }
        }
        // SAFETY: the nodes of both trees, duplicates removed, in key order.
        self.root = unsafe { relink(&nodes) };
        self.len = nodes.len();
        drop(nodes);
        drop(dropped);
    }
}

impl<'a, K: Ord + Copy, V: Copy, A: Allocator + BatchAlloc> Extend<(&'a K, &'a V)>
    for TreeMap<K, V, A>
{
    fn extend<I: IntoIterator<Item = (&'a K, &'a V)>>(&mut self, iter: I) {
        self.extend(iter.into_iter().map(|(k, v)| (*k, *v)));
    }
}

/// For the [`Heap`] only (so `TreeMap::from([..])` needs no annotation).
impl<K: Ord, V, const N: usize> From<[(K, V); N]> for TreeMap<K, V> {
    fn from(arr: [(K, V); N]) -> Self {
        Self::from_sorted_iter(arr)
    }
}

#[cfg(feature = "serde")]
impl<K: serde::Serialize, V: serde::Serialize, A: Allocator + BatchAlloc> serde::Serialize
    for TreeMap<K, V, A>
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

#[cfg(feature = "serde")]
impl<'de, K, V, A> serde::Deserialize<'de> for TreeMap<K, V, A>
where
    K: serde::Deserialize<'de> + Ord,
    V: serde::Deserialize<'de>,
    A: Allocator + BatchAlloc + Default,
{
    /// Reads the entries into a temporary `Vec`, then builds the tree with
    /// one batch call (a repeated key keeps its last value).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<K, V>(PhantomData<(K, V)>);
        impl<'de, K: serde::Deserialize<'de>, V: serde::Deserialize<'de>> serde::de::Visitor<'de>
            for V2<K, V>
        {
            type Value = std::vec::Vec<(K, V)>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Self::Value, M::Error> {
                let mut v = std::vec::Vec::with_capacity(m.size_hint().unwrap_or(0).min(4096));
                while let Some(e) = m.next_entry()? {
                    v.push(e);
                }
                Ok(v)
            }
        }
        let items = d.deserialize_map(V2(PhantomData))?;
        Ok(Self::from_sorted_iter(items))
    }
}

/// An ordered set (an AVL tree of keys) whose nodes come from `A`; built in
/// bulk with one batch call. A thin wrapper over [`TreeMap<T, ()>`].
///
/// ```
/// use mallocv2_collections::tree::TreeSet;
///
/// let mut s: TreeSet<i32> = [5, 1, 3].into_iter().collect();
/// assert!(s.insert(2));
/// assert!(!s.insert(3));
/// assert_eq!(s.iter().copied().collect::<Vec<_>>(), [1, 2, 3, 5]);
/// assert_eq!(s.range(2..4).count(), 2);
/// ```
pub struct TreeSet<T, A: Allocator + BatchAlloc = Heap> {
    map: TreeMap<T, (), A>,
}

impl<T> TreeSet<T> {
    /// An empty set over the [`Heap`].
    ///
    /// ```
    /// let s: mallocv2_collections::tree::TreeSet<u8> = mallocv2_collections::tree::TreeSet::new();
    /// assert!(s.is_empty());
    /// ```
    pub const fn new() -> Self {
        Self {
            map: TreeMap::new(),
        }
    }
}

impl<T, A: Allocator + BatchAlloc> TreeSet<T, A> {
    /// An empty set in `alloc`.
    ///
    /// ```
    /// use mallocv2_collections::tree::TreeSet;
    /// let s: TreeSet<u8, std::alloc::System> = TreeSet::new_in(std::alloc::System);
    /// assert!(s.is_empty());
    /// ```
    pub const fn new_in(alloc: A) -> Self {
        Self {
            map: TreeMap::new_in(alloc),
        }
    }

    /// The allocator.
    ///
    /// ```
    /// let s: mallocv2_collections::tree::TreeSet<u8> = Default::default();
    /// assert_eq!(*s.allocator(), mallocv2::Heap);
    /// ```
    #[inline]
    pub fn allocator(&self) -> &A {
        self.map.allocator()
    }

    /// Number of elements.
    ///
    /// ```
    /// let s: mallocv2_collections::tree::TreeSet<u8> = [1, 1].into();
    /// assert_eq!(s.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the set is empty.
    ///
    /// ```
    /// let s: mallocv2_collections::tree::TreeSet<u8> = Default::default();
    /// assert!(s.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Removes every element.
    ///
    /// ```
    /// let mut s: mallocv2_collections::tree::TreeSet<u8> = [1].into();
    /// s.clear();
    /// assert!(s.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Iterates in order.
    ///
    /// ```
    /// let s: mallocv2_collections::tree::TreeSet<u8> = [2, 1].into();
    /// assert_eq!(s.iter().rev().copied().collect::<Vec<_>>(), [2, 1]);
    /// ```
    pub fn iter(&self) -> SetIter<'_, T> {
        SetIter {
            inner: self.map.keys(),
        }
    }

    /// The smallest element.
    ///
    /// ```
    /// let s: mallocv2_collections::tree::TreeSet<u8> = [2, 1].into();
    /// assert_eq!(s.first(), Some(&1));
    /// ```
    pub fn first(&self) -> Option<&T> {
        self.map.first_key_value().map(|(k, _)| k)
    }

    /// The largest element.
    ///
    /// ```
    /// let s: mallocv2_collections::tree::TreeSet<u8> = [2, 1].into();
    /// assert_eq!(s.last(), Some(&2));
    /// ```
    pub fn last(&self) -> Option<&T> {
        self.map.last_key_value().map(|(k, _)| k)
    }

    /// Removes the smallest element.
    ///
    /// ```
    /// let mut s: mallocv2_collections::tree::TreeSet<u8> = [2, 1].into();
    /// assert_eq!(s.pop_first(), Some(1));
    /// ```
    pub fn pop_first(&mut self) -> Option<T> {
        self.map.pop_first().map(|(k, _)| k)
    }

    /// Removes the largest element.
    ///
    /// ```
    /// let mut s: mallocv2_collections::tree::TreeSet<u8> = [2, 1].into();
    /// assert_eq!(s.pop_last(), Some(2));
    /// ```
    pub fn pop_last(&mut self) -> Option<T> {
        self.map.pop_last().map(|(k, _)| k)
    }

    /// Checks the tree's invariants; for tests and fuzzing.
    #[doc(hidden)]
    pub fn check_invariants(&self)
    where
        T: Ord + fmt::Debug,
    {
        self.map.check_invariants();
    }
}

impl<T: Ord, A: Allocator + BatchAlloc> TreeSet<T, A> {
    /// Builds a set from `items` in `alloc` with one batch call.
    ///
    /// # Errors
    /// As [`TreeMap::try_from_iter_in`].
    ///
    /// ```
    /// use mallocv2_collections::tree::TreeSet;
    /// let s = TreeSet::try_from_iter_in([3, 1, 3], mallocv2::Heap)?;
    /// assert_eq!(s.len(), 2);
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    pub fn try_from_iter_in<I: IntoIterator<Item = T>>(
        items: I,
        alloc: A,
    ) -> Result<Self, TryReserveError> {
        TreeMap::try_from_iter_in(items.into_iter().map(|t| (t, ())), alloc).map(|map| Self { map })
    }

    /// Builds a set from items expected in ascending order (checked; other
    /// input is sorted and deduplicated), with one batch call.
    ///
    /// # Panics
    /// If the allocator fails.
    ///
    /// ```
    /// let s: mallocv2_collections::tree::TreeSet<u32> =
    ///     mallocv2_collections::tree::TreeSet::from_sorted_iter(0..10);
    /// assert_eq!(s.len(), 10);
    /// ```
    pub fn from_sorted_iter<I: IntoIterator<Item = T>>(items: I) -> Self
    where
        A: Default,
    {
        Self {
            map: TreeMap::from_sorted_iter(items.into_iter().map(|t| (t, ()))),
        }
    }

    /// Adds `value`; `false` if it was already present (the set keeps the
    /// stored element).
    ///
    /// # Panics
    /// If the allocator fails (see [`try_insert`](Self::try_insert)).
    ///
    /// ```
    /// let mut s = mallocv2_collections::tree::TreeSet::new();
    /// assert!(s.insert(1));
    /// assert!(!s.insert(1));
    /// ```
    pub fn insert(&mut self, value: T) -> bool {
        self.map.insert(value, ()).is_none()
    }

    /// Adds `value`, or reports that the node could not be allocated.
    ///
    /// # Errors
    /// [`TryReserveError::AllocError`]; the set is unchanged.
    ///
    /// ```
    /// let mut s = mallocv2_collections::tree::TreeSet::new();
    /// assert!(s.try_insert(1)?);
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    pub fn try_insert(&mut self, value: T) -> Result<bool, TryReserveError> {
        self.map.try_insert(value, ()).map(|old| old.is_none())
    }

    /// Whether `value` is present.
    ///
    /// ```
    /// let s: mallocv2_collections::tree::TreeSet<u8> = [1].into();
    /// assert!(s.contains(&1));
    /// ```
    pub fn contains<Q: Ord + ?Sized>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.map.contains_key(value)
    }

    /// The stored element equal to `value`.
    ///
    /// ```
    /// let s: mallocv2_collections::tree::TreeSet<u8> = [1].into();
    /// assert_eq!(s.get(&1), Some(&1));
    /// ```
    pub fn get<Q: Ord + ?Sized>(&self, value: &Q) -> Option<&T>
    where
        T: Borrow<Q>,
    {
        self.map.get_key_value(value).map(|(k, _)| k)
    }

    /// Removes `value`; `true` if it was present.
    ///
    /// ```
    /// let mut s: mallocv2_collections::tree::TreeSet<u8> = [1].into();
    /// assert!(s.remove(&1));
    /// ```
    pub fn remove<Q: Ord + ?Sized>(&mut self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.map.remove(value).is_some()
    }

    /// Removes and returns the stored element equal to `value`.
    ///
    /// ```
    /// let mut s: mallocv2_collections::tree::TreeSet<u8> = [1].into();
    /// assert_eq!(s.take(&1), Some(1));
    /// ```
    pub fn take<Q: Ord + ?Sized>(&mut self, value: &Q) -> Option<T>
    where
        T: Borrow<Q>,
    {
        self.map.remove_entry(value).map(|(k, _)| k)
    }

    /// Keeps the elements for which `f` returns `true`, in order. If `f`
    /// panics, the elements removed before stay removed (see
    /// [`TreeMap::retain`]).
    ///
    /// ```
    /// let mut s: mallocv2_collections::tree::TreeSet<u8> = [1, 2, 3].into();
    /// s.retain(|x| x % 2 == 1);
    /// assert_eq!(s.len(), 2);
    /// ```
    pub fn retain<F: FnMut(&T) -> bool>(&mut self, mut f: F) {
        self.map.retain(|k, _| f(k));
    }

    /// Moves all of `other`'s elements into `self` without allocating (see
    /// [`TreeMap::append`]).
    ///
    /// ```
    /// use mallocv2_collections::tree::TreeSet;
    /// let mut a: TreeSet<u8> = [1, 2].into();
    /// let mut b: TreeSet<u8> = [2, 3].into();
    /// a.append(&mut b);
    /// assert_eq!(a.len(), 3);
    /// ```
    pub fn append(&mut self, other: &mut Self) {
        self.map.append(&mut other.map);
    }

    /// Splits the set at `value` (see [`TreeMap::split_off`]).
    ///
    /// ```
    /// let mut a: mallocv2_collections::tree::TreeSet<u8> = (0..10).collect();
    /// let b = a.split_off(&7);
    /// assert_eq!((a.len(), b.len()), (7, 3));
    /// ```
    pub fn split_off<Q: Ord + ?Sized>(&mut self, value: &Q) -> Self
    where
        T: Borrow<Q>,
        A: Clone,
    {
        Self {
            map: self.map.split_off(value),
        }
    }

    /// Adds all of `items` or none, with one batch call for the new nodes
    /// (see [`TreeMap::try_extend`]).
    ///
    /// # Errors
    /// [`TryReserveError::AllocError`]; the set is then unchanged.
    ///
    /// ```
    /// let mut s: mallocv2_collections::tree::TreeSet<u8> = [1].into();
    /// s.try_extend([3, 2, 1])?;
    /// assert_eq!(s.len(), 3);
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    pub fn try_extend<I: IntoIterator<Item = T>>(
        &mut self,
        items: I,
    ) -> Result<(), TryReserveError> {
        self.map.try_extend(items.into_iter().map(|t| (t, ())))
    }

    /// Iterates over the elements in `range`, in order.
    ///
    /// # Panics
    /// As [`TreeMap::range`].
    ///
    /// ```
    /// let s: mallocv2_collections::tree::TreeSet<u8> = (0..10).collect();
    /// assert_eq!(s.range(8..).copied().collect::<Vec<_>>(), [8, 9]);
    /// ```
    pub fn range<Q, R>(&self, range: R) -> SetRange<'_, T>
    where
        Q: Ord + ?Sized,
        T: Borrow<Q>,
        R: RangeBounds<Q>,
    {
        SetRange {
            inner: self.map.range(range),
        }
    }
}

/// Iterator over a [`TreeSet`], in order.
pub struct SetIter<'a, T> {
    inner: Keys<'a, T, ()>,
}

impl<T> Clone for SetIter<'_, T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for SetIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a, T> Iterator for SetIter<'a, T> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        self.inner.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<'a, T> DoubleEndedIterator for SetIter<'a, T> {
    fn next_back(&mut self) -> Option<&'a T> {
        self.inner.next_back()
    }
}

impl<T> ExactSizeIterator for SetIter<'_, T> {}
impl<T> FusedIterator for SetIter<'_, T> {}

/// Iterator over a range of a [`TreeSet`].
pub struct SetRange<'a, T> {
    inner: Range<'a, T, ()>,
}

impl<T> Clone for SetRange<'_, T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for SetRange<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a, T> Iterator for SetRange<'a, T> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        self.inner.next().map(|(k, _)| k)
    }
}

impl<'a, T> DoubleEndedIterator for SetRange<'a, T> {
    fn next_back(&mut self) -> Option<&'a T> {
        self.inner.next_back().map(|(k, _)| k)
    }
}

impl<T> FusedIterator for SetRange<'_, T> {}

/// Owning iterator over a [`TreeSet`], in order.
#[derive(Debug)]
pub struct SetIntoIter<T, A: Allocator + BatchAlloc = Heap> {
    inner: IntoIter<T, (), A>,
}

impl<T, A: Allocator + BatchAlloc> Iterator for SetIntoIter<T, A> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.inner.next().map(|(k, _)| k)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T, A: Allocator + BatchAlloc> DoubleEndedIterator for SetIntoIter<T, A> {
    fn next_back(&mut self) -> Option<T> {
        self.inner.next_back().map(|(k, _)| k)
    }
}

impl<T, A: Allocator + BatchAlloc> ExactSizeIterator for SetIntoIter<T, A> {}
impl<T, A: Allocator + BatchAlloc> FusedIterator for SetIntoIter<T, A> {}

impl<T, A: Allocator + BatchAlloc> IntoIterator for TreeSet<T, A> {
    type Item = T;
    type IntoIter = SetIntoIter<T, A>;
    fn into_iter(self) -> SetIntoIter<T, A> {
        SetIntoIter {
            inner: self.map.into_iter(),
        }
    }
}

impl<'a, T, A: Allocator + BatchAlloc> IntoIterator for &'a TreeSet<T, A> {
    type Item = &'a T;
    type IntoIter = SetIter<'a, T>;
    fn into_iter(self) -> SetIter<'a, T> {
        self.iter()
    }
}

impl<T, A: Allocator + BatchAlloc + Default> Default for TreeSet<T, A> {
    fn default() -> Self {
        Self::new_in(A::default())
    }
}

impl<T: Clone, A: Allocator + BatchAlloc + Clone> Clone for TreeSet<T, A> {
    fn clone(&self) -> Self {
        Self {
            map: self.map.clone(),
        }
    }
}

impl<T: fmt::Debug, A: Allocator + BatchAlloc> fmt::Debug for TreeSet<T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<T: PartialEq, A: Allocator + BatchAlloc> PartialEq for TreeSet<T, A> {
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}

impl<T: Eq, A: Allocator + BatchAlloc> Eq for TreeSet<T, A> {}

impl<T: PartialOrd, A: Allocator + BatchAlloc> PartialOrd for TreeSet<T, A> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.iter().partial_cmp(other.iter())
    }
}

impl<T: Ord, A: Allocator + BatchAlloc> Ord for TreeSet<T, A> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.iter().cmp(other.iter())
    }
}

impl<T: Hash, A: Allocator + BatchAlloc> Hash for TreeSet<T, A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        for e in self {
            e.hash(state);
        }
    }
}

impl<T: Ord, A: Allocator + BatchAlloc + Default> FromIterator<T> for TreeSet<T, A> {
    /// Sorts, deduplicates and builds with one batch call.
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::from_sorted_iter(iter)
    }
}

impl<T: Ord, A: Allocator + BatchAlloc> Extend<T> for TreeSet<T, A> {
    /// As [`TreeMap`]'s `extend`: in bulk or one by one; if the iterator
    /// panics, the elements it yielded before are added.
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.map.extend(iter.into_iter().map(|t| (t, ())));
    }
}

impl<'a, T: Ord + Copy + 'a, A: Allocator + BatchAlloc> Extend<&'a T> for TreeSet<T, A> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

/// For the [`Heap`] only (so `TreeSet::from([..])` needs no annotation).
impl<T: Ord, const N: usize> From<[T; N]> for TreeSet<T> {
    fn from(arr: [T; N]) -> Self {
        Self::from_sorted_iter(arr)
    }
}

#[cfg(feature = "serde")]
impl<T: serde::Serialize, A: Allocator + BatchAlloc> serde::Serialize for TreeSet<T, A> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(feature = "serde")]
impl<'de, T, A> serde::Deserialize<'de> for TreeSet<T, A>
where
    T: serde::Deserialize<'de> + Ord,
    A: Allocator + BatchAlloc + Default,
{
    /// Reads into a temporary `Vec`, then builds with one batch call.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = <std::vec::Vec<T> as serde::Deserialize>::deserialize(d)?;
        Ok(Self::from_sorted_iter(items))
    }
}
