//! Pieces several collection programs share: the leak check around a run,
//! checks of results and of bounded collections, walks of double-ended
//! iterators against the model, and the generators and checks of the
//! string and ordered-map programs. Each reads the input exactly as the
//! programs did before it moved here, so the committed corpora keep their
//! paths.

use std::collections::{BTreeMap, HashMap as StdMap};
use std::fmt::Debug;
use std::ops::Bound::{self, Excluded, Included, Unbounded};

use mallocv2_collections::hash::HashMap;
use mallocv2_collections::tree::TreeMap;
use mallocv2_collections::TryReserveError;

use super::input::{Input, Tracked};

/// Runs `program` and asserts that it dropped every `Tracked` value it
/// made, once.
pub fn leak_checked(program: impl FnOnce()) {
    let base = Tracked::live();
    program();
    assert_eq!(
        Tracked::live(),
        base,
        "Tracked values leaked or dropped twice"
    );
}

// ---------------------------------------------------------------------------
// Results.

/// A failed growth under an injected OS failure must say `AllocError`.
pub fn alloc_error(e: TryReserveError, what: &str) {
    assert!(
        matches!(e, TryReserveError::AllocError { .. }),
        "{what}: {e:?}"
    );
}

/// A request for `n` more that cannot be met must fail with
/// `CapacityOverflow` or `AllocError`.
pub fn overflow_refused(r: Result<(), TryReserveError>, n: usize, what: &str) {
    assert!(
        matches!(
            r,
            Err(TryReserveError::CapacityOverflow | TryReserveError::AllocError { .. })
        ),
        "{what}({n}): {r:?}"
    );
}

/// What `try_reserve(n)` must return for a collection of `len` elements
/// (or bytes) and maximum capacity `max`.
pub fn expected(len: usize, n: usize, max: usize) -> Result<(), TryReserveError> {
    match len.checked_add(n) {
        None => Err(TryReserveError::CapacityOverflow),
        Some(need) if need > max => Err(TryReserveError::Exhausted { max_capacity: max }),
        Some(_) => Ok(()),
    }
}

/// A collection with a maximum capacity: the maximum is still `max`, and
/// `len <= capacity <= max_capacity`.
pub fn check_bounds(len: usize, capacity: usize, max_capacity: usize, max: usize, what: &str) {
    assert_eq!(max_capacity, max, "{what}: max_capacity changed");
    assert!(
        len <= capacity && capacity <= max_capacity,
        "{what}: len {len} capacity {capacity} max {max_capacity}"
    );
}

// ---------------------------------------------------------------------------
// Double-ended iterators.

/// Takes a front part of `it` and then a back part (their sizes picked by
/// the input, together at most `want.len()`), checking each item against
/// the model's items `want`; returns the two sizes.
pub fn take_ends<M: PartialEq + Debug>(
    inp: &mut Input,
    mut it: impl DoubleEndedIterator<Item = M>,
    want: impl DoubleEndedIterator<Item = M> + ExactSizeIterator + Clone,
    what: &str,
) -> (usize, usize) {
    let len = want.len();
    let front = inp.below(len + 1);
    let back = inp.below(len - front + 1);
    for m in want.clone().take(front) {
        assert_eq!(it.next(), Some(m), "{what} front");
    }
    for m in want.rev().take(back) {
        assert_eq!(it.next_back(), Some(m), "{what} back");
    }
    (front, back)
}

// ---------------------------------------------------------------------------
// Maps from `Tracked` to `Tracked` (`HashMap`, `TreeMap`) and their std
// models (from `u32` to `u32`).

/// The lookups and removals the map programs share, by the `u32` a key
/// holds; `V` is the map's key and value type.
pub trait Map<V> {
    fn remove(&mut self, k: &u32) -> Option<V>;
    fn remove_entry(&mut self, k: &u32) -> Option<(V, V)>;
    fn contains_key(&self, k: &u32) -> bool;
    fn get_key_value(&self, k: &u32) -> Option<(&V, &V)>;
    fn get_mut(&mut self, k: &u32) -> Option<&mut V>;
}

/// Forwards to the methods of the map `$ty` or, with `*`, of the map it
/// dereferences to (`HashMap` wraps hashbrown's).
macro_rules! map {
    ($($ty:ty => $v:ty $(, $deref:tt)?;)*) => {$(
        impl Map<$v> for $ty {
            fn remove(&mut self, k: &u32) -> Option<$v> {
                ($($deref)? *self).remove(k)
            }
            fn remove_entry(&mut self, k: &u32) -> Option<($v, $v)> {
                ($($deref)? *self).remove_entry(k)
            }
            fn contains_key(&self, k: &u32) -> bool {
                ($($deref)? *self).contains_key(k)
            }
            fn get_key_value(&self, k: &u32) -> Option<(&$v, &$v)> {
                ($($deref)? *self).get_key_value(k)
            }
            fn get_mut(&mut self, k: &u32) -> Option<&mut $v> {
                ($($deref)? *self).get_mut(k)
            }
        }
    )*};
}

map! {
    HashMap<Tracked, Tracked> => Tracked, *;
    TreeMap<Tracked, Tracked> => Tracked;
    StdMap<u32, u32> => u32;
    BTreeMap<u32, u32> => u32;
}

/// `remove` or `remove_entry` of key `k`, on the map and on its model.
pub fn map_remove(
    inp: &mut Input,
    m: &mut impl Map<Tracked>,
    model: &mut impl Map<u32>,
    k: u32,
    what: &str,
) {
    if inp.bool() {
        assert_eq!(
            m.remove(&k).map(|o| o.get()),
            model.remove(&k),
            "{what}({k})"
        );
    } else {
        let got = m.remove_entry(&k).map(|(a, b)| (a.get(), b.get()));
        assert_eq!(got, model.remove_entry(&k), "remove_entry({k})");
    }
}

/// `contains_key` and `get_key_value` of key `k` agree with the model, and
/// `get_mut` finds the same entries (its value becomes `v`).
pub fn map_get(m: &mut impl Map<Tracked>, model: &mut impl Map<u32>, k: u32, v: u32) {
    assert_eq!(
        m.contains_key(&k),
        model.contains_key(&k),
        "contains_key({k})"
    );
    assert_eq!(
        m.get_key_value(&k).map(|(a, b)| (a.get(), b.get())),
        model.get_key_value(&k).map(|(a, b)| (*a, *b)),
        "get_key_value({k})"
    );
    if let Some(x) = m.get_mut(&k) {
        *x = Tracked::new(v);
        *model.get_mut(&k).expect("model has the key") = v;
    } else {
        assert!(!model.contains_key(&k), "get_mut({k}) missed");
    }
}

// ---------------------------------------------------------------------------
// Ordered maps and sets.

/// A bound over keys `0..keys + 2` (the last two are past every key).
pub fn key_bound(inp: &mut Input, keys: u32) -> Bound<u32> {
    let k = inp.below(keys as usize + 2) as u32;
    match inp.u8() % 3 {
        0 => Unbounded,
        1 => Included(k),
        _ => Excluded(k),
    }
}

/// Whether `BTreeMap::range` and `BTreeSet::range` accept the bounds.
pub fn valid_range(r: &(Bound<u32>, Bound<u32>)) -> bool {
    match *r {
        (Included(a) | Excluded(a), Included(b) | Excluded(b)) if a > b => false,
        (Excluded(a), Excluded(b)) if a == b => false,
        _ => true,
    }
}

/// Walks the range `it` (`r`) from both ends, the input picking the end
/// at each step, until they meet; every item must be the model's next
/// from that end (`want`), and there must be as many.
pub fn meet_in_the_middle<M: PartialEq + Debug>(
    inp: &mut Input,
    mut it: impl DoubleEndedIterator<Item = M>,
    want: &[M],
    r: &impl Debug,
) {
    let (mut lo, mut hi) = (0, want.len());
    loop {
        let back = inp.bool();
        let e = if back { it.next_back() } else { it.next() };
        let Some(e) = e else { break };
        assert!(lo < hi, "range {r:?}: more items than the model");
        let i = if back { hi - 1 } else { lo };
        assert_eq!(e, want[i], "range {r:?} from both ends");
        if back {
            hi -= 1;
        } else {
            lo += 1;
        }
    }
    assert_eq!(lo, hi, "range {r:?}: fewer items than the model");
}

// ---------------------------------------------------------------------------
// Strings.

/// A character of one to four bytes.
pub fn ch(inp: &mut Input) -> char {
    match inp.u8() % 8 {
        0..=2 => char::from(b'a' + inp.u8() % 26),
        3 => ['é', 'ß', 'ж', 'ñ'][inp.below(4)],
        4 => ['€', '中', '語', '\u{fffd}'][inp.below(4)],
        5 => ['😀', '𝄞', '🦀', '\u{10ffff}'][inp.below(4)],
        6 => char::from_u32(inp.u32() % 0x11_0000).unwrap_or('?'),
        _ => char::from(inp.u8() & 0x7f),
    }
}

/// A string's bytes are valid UTF-8 and equal its model's.
pub fn check_text(bytes: &[u8], model: &str, what: &str) {
    assert!(std::str::from_utf8(bytes).is_ok(), "{what}: invalid UTF-8");
    if bytes != model.as_bytes() {
        let at = bytes
            .iter()
            .zip(model.bytes())
            .position(|(&a, b)| a != b)
            .unwrap_or(0);
        panic!("{what}: contents differ from the model at byte {at}");
    }
}

/// The `[start, end)` byte offsets of a valid range.
pub fn bounds(r: (Bound<usize>, Bound<usize>), len: usize) -> (usize, usize) {
    let a = match r.0 {
        Unbounded => 0,
        Included(x) => x,
        Excluded(x) => x + 1,
    };
    let b = match r.1 {
        Unbounded => len,
        Included(x) => x + 1,
        Excluded(x) => x,
    };
    (a, b)
}
