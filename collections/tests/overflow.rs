//! One rule for every collection's `try_reserve`: a request whose length
//! (`len + additional`) or byte size overflows, or passes `isize::MAX`
//! bytes, is [`TryReserveError::CapacityOverflow`], as in std; a request
//! that fits in `isize` but not in a reservation is `Exhausted`; and the
//! collection keeps every element either way.

use mallocv2_collections::aligned::AlignedVec;
use mallocv2_collections::hash::{HashMap, HashSet};
use mallocv2_collections::reserved::ReservedVec;
use mallocv2_collections::reserved_string::ReservedString;
use mallocv2_collections::string::String;
use mallocv2_collections::vec::Vec;
use mallocv2_collections::TryReserveError;

/// `additional` values that overflow for a collection holding `len`
/// elements of `elem` bytes: `len + additional` past `usize`, and a byte
/// size past `isize::MAX`.
fn overflowing(len: usize, elem: usize) -> [usize; 3] {
    [
        usize::MAX,
        usize::MAX - len + 1,
        (isize::MAX as usize) / elem.max(1) - len + 1,
    ]
}

fn assert_overflow(what: &str, additional: usize, r: Result<(), TryReserveError>) {
    assert_eq!(
        r,
        Err(TryReserveError::CapacityOverflow),
        "{what}: try_reserve({additional})"
    );
}

#[test]
fn vec_and_string_overflow() {
    let mut v: Vec<u64> = (0..10).collect();
    for add in overflowing(10, 8) {
        assert_overflow("Vec<u64>", add, v.try_reserve(add));
        assert_overflow("Vec<u64> exact", add, v.try_reserve_exact(add));
    }
    assert!(v.iter().copied().eq(0..10));
    let mut s = String::from("abc");
    for add in overflowing(3, 1) {
        assert_overflow("String", add, s.try_reserve(add));
        assert_overflow("String exact", add, s.try_reserve_exact(add));
    }
    assert_eq!(s.as_str(), "abc");
}

#[test]
fn aligned_vec_overflow() {
    let mut v: AlignedVec<u32, 64> = AlignedVec::new();
    v.extend(0..10u32);
    for add in overflowing(10, 4) {
        assert_overflow("AlignedVec", add, v.try_reserve(add));
        assert_overflow("AlignedVec exact", add, v.try_reserve_exact(add));
    }
    assert!(v.iter().copied().eq(0..10));
}

#[test]
fn reserved_overflow_and_exhaustion() {
    let mut v: ReservedVec<u64> = ReservedVec::with_max_capacity(1000);
    v.extend(0..10u64);
    for add in overflowing(10, 8) {
        assert_overflow("ReservedVec", add, v.try_reserve(add));
        assert_overflow("ReservedVec exact", add, v.try_reserve_exact(add));
    }
    // Fits in isize, not in the reservation.
    let max = v.max_capacity();
    assert!(matches!(
        v.try_reserve(max),
        Err(TryReserveError::Exhausted { max_capacity }) if max_capacity == max
    ));
    assert!(v.iter().copied().eq(0..10));

    let mut s = ReservedString::with_max_capacity(1000);
    s.push_str("abc");
    for add in overflowing(3, 1) {
        assert_overflow("ReservedString", add, s.try_reserve(add));
        assert_overflow("ReservedString exact", add, s.try_reserve_exact(add));
    }
    let max = s.max_capacity();
    assert!(matches!(
        s.try_reserve(max),
        Err(TryReserveError::Exhausted { .. })
    ));
    assert_eq!(s.as_str(), "abc");
}

#[test]
fn hash_overflow() {
    let mut m: HashMap<u64, u64> = (0..10).map(|i| (i, i)).collect();
    assert_overflow("HashMap", usize::MAX, m.try_reserve(usize::MAX));
    assert_overflow("HashMap", usize::MAX / 2, m.try_reserve(usize::MAX / 2));
    assert_eq!(m.len(), 10);
    let mut s: HashSet<u64> = (0..10).collect();
    assert_overflow("HashSet", usize::MAX, s.try_reserve(usize::MAX));
    assert_eq!(s.len(), 10);
}
