//! `HashMap`/`HashSet`: std-style constructors over the Heap, the entry API,
//! `try_reserve` (boundaries, a failing allocator, and `RLIMIT_AS` in a
//! child process), iteration, and a differential test against std.

use std::cell::Cell;
use std::collections::HashMap as StdMap;
use std::ptr::NonNull;
use std::rc::Rc;

use mallocv2::alloc::{AllocError, Allocator, Layout};
use mallocv2::Heap;
use mallocv2_collections::hash::{DefaultHashBuilder, Entry, HashMap, HashSet};
use mallocv2_collections::TryReserveError;
use quickcheck::QuickCheck;

mod common;
use common::{in_child, limit_address_space, CHILD_OK};

/// Counts allocations and can be switched to fail.
#[derive(Clone, Debug, Default)]
struct Counting {
    allocs: Rc<Cell<usize>>,
    live: Rc<Cell<isize>>,
    fail: Rc<Cell<bool>>,
}

// SAFETY: forwards to the Heap.
unsafe impl Allocator for Counting {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        if self.fail.get() {
            return Err(AllocError);
        }
        self.allocs.set(self.allocs.get() + 1);
        self.live.set(self.live.get() + 1);
        Heap.allocate(layout)
    }
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        self.live.set(self.live.get() - 1);
        // SAFETY: forwarded from the caller.
        unsafe { Heap.deallocate(ptr, layout) }
    }
}

#[test]
fn constructors_need_no_annotations_and_use_the_heap() {
    let mut m = HashMap::new();
    m.insert(1u32, "one");
    let _: &Heap = m.allocator();
    let mut w = HashMap::with_capacity(100);
    w.insert("k", 1.5f64);
    assert!(w.capacity() >= 100);
    let mut s = HashSet::new();
    s.insert('x');
    let _: &Heap = s.allocator();
    let s2 = HashSet::<u8>::with_capacity(10);
    assert!(s2.capacity() >= 10);
    let d: HashMap<u8, u8> = HashMap::default();
    assert!(d.is_empty());
    let h: HashMap<u8, u8> = HashMap::with_hasher(DefaultHashBuilder::default());
    assert!(h.is_empty());
    let f = HashMap::from([(1, 2), (3, 4)]);
    assert_eq!(f[&3], 4);
}

#[test]
fn table_memory_comes_from_the_allocator() {
    let a = Counting::default();
    let mut m: HashMap<u64, u64, DefaultHashBuilder, Counting> = HashMap::new_in(a.clone());
    for i in 0..100_000 {
        m.insert(i, i);
    }
    // Every growth allocates a new table through `A` (hashbrown rehashes).
    assert!(a.allocs.get() >= 10, "{} allocations", a.allocs.get());
    assert_eq!(a.live.get(), 1);
    assert!(m.capacity() >= 100_000);
    drop(m);
    assert_eq!(a.live.get(), 0);
}

#[test]
fn entry_api() {
    let mut m: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, w) in "a b a c b a".split(' ').enumerate() {
        m.entry(w.to_string()).or_default().push(i as u32);
    }
    assert_eq!(m["a"], [0, 2, 5]);
    match m.entry("b".to_string()) {
        Entry::Occupied(mut o) => {
            o.get_mut().push(99);
            assert_eq!(o.key(), "b");
        }
        Entry::Vacant(_) => unreachable!(),
    }
    match m.entry("z".to_string()) {
        Entry::Vacant(v) => {
            v.insert(vec![7]);
        }
        Entry::Occupied(_) => unreachable!(),
    }
    assert_eq!(m["b"], [1, 4, 99]);
    m.entry("z".to_string())
        .and_modify(|v| v.push(8))
        .or_insert_with(Vec::new);
    assert_eq!(m["z"], [7, 8]);
    *m.entry_ref("c").or_default() = vec![];
    assert!(m["c"].is_empty());
    if let Entry::Occupied(o) = m.entry("a".to_string()) {
        assert_eq!(o.remove(), [0, 2, 5]);
    }
    assert!(!m.contains_key("a"));
    let mut counts: HashMap<char, usize> = HashMap::new();
    for c in "hello".chars() {
        *counts.entry(c).or_insert(0) += 1;
    }
    assert_eq!(counts[&'l'], 2);
}

#[test]
fn try_reserve_boundaries() {
    let mut m: HashMap<u64, u64> = (0..10).map(|i| (i, i)).collect();
    assert_eq!(
        m.try_reserve(usize::MAX),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(
        m.try_reserve(usize::MAX / 8),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(m.len(), 10);
    m.try_reserve(1000).unwrap();
    assert!(m.capacity() >= 1010);
    let mut s: HashSet<u64> = HashSet::new();
    assert_eq!(
        s.try_reserve(usize::MAX),
        Err(TryReserveError::CapacityOverflow)
    );
    s.try_reserve(5).unwrap();
}

#[test]
fn try_reserve_with_a_failing_allocator_keeps_every_entry() {
    let a = Counting::default();
    let mut m: HashMap<u32, String, DefaultHashBuilder, Counting> = HashMap::new_in(a.clone());
    for i in 0..100 {
        m.insert(i, i.to_string());
    }
    a.fail.set(true);
    let e = m.try_reserve(10_000).unwrap_err();
    assert!(
        matches!(e, TryReserveError::AllocError { layout } if layout.size() > 0),
        "{e:?}"
    );
    assert_eq!(m.len(), 100);
    assert!((0..100).all(|i| m[&i] == i.to_string()));
    let mut s: HashSet<u32, DefaultHashBuilder, Counting> = HashSet::new_in(a.clone());
    assert!(matches!(
        s.try_reserve(1),
        Err(TryReserveError::AllocError { .. })
    ));
    a.fail.set(false);
    m.try_reserve(10_000).unwrap();
    s.insert(1);
    assert_eq!(m.len(), 100);
}

/// Under `RLIMIT_AS`, a huge `try_reserve` fails cleanly and the map keeps
/// its entries. Runs in a child process so the limit stays there.
#[test]
fn try_reserve_under_rlimit_as() {
    if in_child("try_reserve_under_rlimit_as") {
        rlimit_child();
    }
}

fn rlimit_child() {
    let mut m: HashMap<u64, u64> = (0..1000).map(|i| (i, i * 3)).collect();
    limit_address_space(256 << 20);
    // About 4 GiB of table: far above the limit.
    let e = m.try_reserve(200_000_000).unwrap_err();
    assert!(matches!(e, TryReserveError::AllocError { .. }), "{e:?}");
    assert_eq!(m.len(), 1000);
    assert!((0..1000).all(|i| m[&i] == i * 3));
    // Small growth still works under the limit.
    m.try_reserve(10_000).unwrap();
    for i in 1000..11_000 {
        m.insert(i, i * 3);
    }
    assert_eq!(m.len(), 11_000);
    println!("{CHILD_OK}");
}

#[test]
fn iteration_and_std_traits() {
    let m: HashMap<u32, u32> = (0..1000).map(|i| (i, i * i)).collect();
    let mut keys: Vec<u32> = m.keys().copied().collect();
    keys.sort_unstable();
    assert!(keys.iter().copied().eq(0..1000));
    assert_eq!(m.iter().count(), 1000);
    assert_eq!(
        (&m).into_iter().map(|(_, v)| *v as u64).sum::<u64>(),
        (0..1000u64).map(|i| i * i).sum::<u64>()
    );
    let mut c = m.clone();
    assert_eq!(c, m);
    for (_, v) in &mut c {
        *v += 1;
    }
    assert_ne!(c, m);
    c.extend([(5000, 1)]);
    c.extend([(&6000, &2)]);
    assert_eq!(c.len(), 1002);
    c.retain(|k, _| k % 2 == 0);
    assert_eq!(c.len(), 502);
    let mut vals: Vec<u32> = c.clone().into_values().collect();
    vals.sort_unstable();
    assert_eq!(vals.len(), 502);
    let drained: Vec<(u32, u32)> = c.drain().collect();
    assert_eq!(drained.len(), 502);
    assert!(c.is_empty());
    let dbg = format!("{:?}", HashMap::from([(1, 2)]));
    assert_eq!(dbg, "{1: 2}");
    let inner: hashbrown::HashMap<u32, u32, DefaultHashBuilder, Heap> = m.clone().into_inner();
    let back: HashMap<u32, u32> = inner.into();
    assert_eq!(back, m);
    fn send_sync<T: Send + Sync>() {}
    send_sync::<HashMap<u32, String>>();
    send_sync::<HashSet<u32>>();
}

#[test]
fn set_operations() {
    let a: HashSet<u32> = (0..10).collect();
    let b: HashSet<u32> = (5..15).collect();
    assert_eq!((&a | &b).len(), 15);
    assert_eq!((&a & &b).len(), 5);
    assert_eq!((&a ^ &b).len(), 10);
    assert_eq!((&a - &b).len(), 5);
    assert!(a.is_subset(&(&a | &b)));
    let mut c = a.clone();
    c.extend([100]);
    c.extend(&[200]);
    assert_eq!(c.len(), 12);
    assert!(c.remove(&100));
    assert_eq!(c.take(&200), Some(200));
    assert_eq!(c, a);
    let mut v: Vec<u32> = c.into_iter().collect();
    v.sort_unstable();
    assert!(v.into_iter().eq(0..10));
}

#[test]
fn differential_against_std() {
    fn prop(ops: Vec<(u8, u8, u16)>) -> bool {
        let mut m: HashMap<u8, u16> = HashMap::new();
        let mut s: StdMap<u8, u16> = StdMap::new();
        for (op, k, v) in ops {
            match op % 7 {
                0 | 1 => assert_eq!(m.insert(k, v), s.insert(k, v)),
                2 => assert_eq!(m.remove(&k), s.remove(&k)),
                3 => assert_eq!(m.get(&k), s.get(&k)),
                4 => {
                    *m.entry(k).or_insert(v) ^= 1;
                    *s.entry(k).or_insert(v) ^= 1;
                }
                5 => {
                    m.retain(|k, _| k % 3 != v as u8 % 3);
                    s.retain(|k, _| k % 3 != v as u8 % 3);
                }
                _ => {
                    if v % 16 == 0 {
                        m.clear();
                        s.clear();
                    } else {
                        m.shrink_to_fit();
                    }
                }
            }
            if m.len() != s.len() {
                return false;
            }
        }
        let mut a: Vec<_> = m.into_iter().collect();
        let mut b: Vec<_> = s.into_iter().collect();
        a.sort_unstable();
        b.sort_unstable();
        a == b
    }
    QuickCheck::new()
        .tests(300)
        .quickcheck(prop as fn(Vec<(u8, u8, u16)>) -> bool);
}

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip() {
    let m: HashMap<String, u32> = (0..20).map(|i| (format!("k{i}"), i)).collect();
    let s = serde_json::to_string(&m).unwrap();
    let back: HashMap<String, u32> = serde_json::from_str(&s).unwrap();
    assert_eq!(back, m);
    let set: HashSet<u32> = (0..20).collect();
    let s = serde_json::to_string(&set).unwrap();
    let back: HashSet<u32> = serde_json::from_str(&s).unwrap();
    assert_eq!(back, set);
}
