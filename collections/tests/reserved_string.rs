//! Tests of `ReservedString`: differential against std `String`, stable
//! pointers, the maximum capacity, panic safety of `retain`, traits, failure
//! injection, resident memory after `try_reserve` (in child processes) and
//! serde.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};

use mallocv2::fault::{self, OsOp};
use mallocv2_collections::reserved::ReservedVec;
use mallocv2_collections::reserved_string::ReservedString;
use mallocv2_collections::TryReserveError;
use quickcheck::{Arbitrary, Gen, QuickCheck};

mod common;
use common::{in_child, statm, CHILD_OK};

/// Characters of 1 to 4 UTF-8 bytes.
const CHARS: [char; 6] = ['a', 'b', 'é', '€', '𝄞', ' '];

fn any_char(g: &mut Gen) -> char {
    CHARS[usize::arbitrary(g) % CHARS.len()]
}

fn any_str(g: &mut Gen) -> String {
    let n = usize::arbitrary(g) % 8;
    (0..n).map(|_| any_char(g)).collect()
}

#[derive(Clone, Debug)]
enum Op {
    Push(char),
    PushStr(String),
    TryPushStr(String),
    Pop,
    Insert(usize, char),
    InsertStr(usize, String),
    Remove(usize),
    Truncate(usize),
    Clear,
    Retain(u8),
    Drain(usize, usize),
    SplitOff(usize),
    ShrinkToFit,
    Reserve(usize),
    Write(u32),
    AddAssign(String),
    ExtendChars(String),
    MakeUpper,
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Op {
        let n = |g: &mut Gen| usize::arbitrary(g) % 48;
        match u8::arbitrary(g) % 18 {
            0 => Op::Push(any_char(g)),
            1 => Op::PushStr(any_str(g)),
            2 => Op::TryPushStr(any_str(g)),
            3 => Op::Pop,
            4 => Op::Insert(n(g), any_char(g)),
            5 => Op::InsertStr(n(g), any_str(g)),
            6 => Op::Remove(n(g)),
            7 => Op::Truncate(n(g)),
            8 => Op::Clear,
            9 => Op::Retain(u8::arbitrary(g)),
            10 => Op::Drain(n(g), n(g)),
            11 => Op::SplitOff(n(g)),
            12 => Op::ShrinkToFit,
            13 => Op::Reserve(n(g)),
            14 => Op::Write(u32::arbitrary(g)),
            15 => Op::AddAssign(any_str(g)),
            16 => Op::ExtendChars(any_str(g)),
            _ => Op::MakeUpper,
        }
    }
}

/// Moves `i` down to a char boundary of `s` (and to at most its length).
fn boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn run_ops(ops: Vec<Op>, max: Option<usize>) -> bool {
    let mut s = match max {
        Some(m) => ReservedString::with_max_capacity(m),
        None => ReservedString::new(),
    };
    let max = s.max_capacity();
    let mut m = String::new();
    let mut base = None;
    for op in ops {
        let fits = |extra: usize, m: &String| m.len() + extra <= max;
        match op {
            Op::Push(c) => {
                if fits(c.len_utf8(), &m) {
                    s.push(c);
                    m.push(c);
                } else {
                    assert!(s.try_push(c).is_err());
                }
            }
            Op::PushStr(x) => {
                if fits(x.len(), &m) {
                    s.push_str(&x);
                    m.push_str(&x);
                }
            }
            Op::TryPushStr(x) => {
                let r = s.try_push_str(&x);
                if fits(x.len(), &m) {
                    assert_eq!(r, Ok(()));
                    m.push_str(&x);
                } else {
                    assert_eq!(r, Err(TryReserveError::Exhausted { max_capacity: max }));
                }
            }
            Op::Pop => assert_eq!(s.pop(), m.pop()),
            Op::Insert(i, c) => {
                let i = boundary(&m, i);
                if fits(c.len_utf8(), &m) {
                    s.insert(i, c);
                    m.insert(i, c);
                }
            }
            Op::InsertStr(i, x) => {
                let i = boundary(&m, i);
                let r = s.try_insert_str(i, &x);
                if fits(x.len(), &m) {
                    assert_eq!(r, Ok(()));
                    m.insert_str(i, &x);
                } else {
                    assert!(r.is_err());
                }
            }
            Op::Remove(i) => {
                let i = boundary(&m, i);
                if i < m.len() {
                    assert_eq!(s.remove(i), m.remove(i));
                }
            }
            Op::Truncate(n) => {
                let n = boundary(&m, n);
                s.truncate(n);
                m.truncate(n);
            }
            Op::Clear => {
                s.clear();
                m.clear();
            }
            Op::Retain(k) => {
                let keep = |c: char| (c as u32 + k as u32) % 3 != 0;
                s.retain(keep);
                m.retain(keep);
            }
            Op::Drain(a, b) => {
                let (a, b) = (boundary(&m, a.min(b)), boundary(&m, a.max(b)));
                let d1: String = s.drain(a..b).collect();
                let d2: String = m.drain(a..b).collect();
                assert_eq!(d1, d2);
            }
            Op::SplitOff(at) => {
                let at = boundary(&m, at);
                let t = s.split_off(at);
                let mt = m.split_off(at);
                assert_eq!(t, mt);
                s += &t;
                m += &mt;
            }
            Op::ShrinkToFit => {
                s.shrink_to_fit();
                assert!(s.capacity() >= s.len());
            }
            Op::Reserve(n) => {
                let r = s.try_reserve(n);
                assert_eq!(r.is_ok(), fits(n, &m));
            }
            Op::Write(x) => {
                let r = write!(s, "{x}");
                if fits(x.to_string().len(), &m) {
                    assert!(r.is_ok());
                    write!(m, "{x}").unwrap();
                } else {
                    assert!(r.is_err());
                }
            }
            Op::AddAssign(x) => {
                if fits(x.len(), &m) {
                    s += &x;
                    m += &x;
                }
            }
            Op::ExtendChars(x) => {
                if fits(x.len(), &m) {
                    s.extend(x.chars());
                    m.push_str(&x);
                }
            }
            Op::MakeUpper => {
                s.make_ascii_uppercase();
                m.make_ascii_uppercase();
            }
        }
        assert_eq!(s, m);
        assert_eq!(s.as_str(), m.as_str());
        assert_eq!(s.len(), m.len());
        assert!(s.len() <= s.capacity() && s.capacity() <= s.max_capacity());
        assert!(std::str::from_utf8(s.as_bytes()).is_ok());
        if s.capacity() > 0 {
            match base {
                None => base = Some(s.as_ptr()),
                Some(p) => assert_eq!(p, s.as_ptr()),
            }
        }
    }
    true
}

#[test]
fn differential_default_max() {
    QuickCheck::new()
        .tests(300)
        .quickcheck((|ops| run_ops(ops, None)) as fn(Vec<Op>) -> bool);
}

#[test]
fn differential_small_max() {
    QuickCheck::new()
        .tests(300)
        .quickcheck((|ops| run_ops(ops, Some(30))) as fn(Vec<Op>) -> bool);
}

#[test]
fn stable_pointer_and_shrink() {
    let mut s = ReservedString::from("start");
    let p = s.as_ptr();
    for i in 0..100_000 {
        write!(s, "{i},").unwrap();
    }
    assert_eq!(s.as_ptr(), p);
    let cap = s.capacity();
    s.truncate(5);
    s.shrink_to_fit();
    assert!(s.capacity() < cap);
    assert_eq!(s, "start");
    assert_eq!(s.as_ptr(), p);
}

#[test]
fn maximum_capacity() {
    let mut s = ReservedString::with_max_capacity(5);
    s.push_str("abc");
    assert_eq!(
        s.try_push_str("def"),
        Err(TryReserveError::Exhausted { max_capacity: 5 })
    );
    assert!(write!(s, "xyz").is_err());
    assert_eq!(s, "abc");
    s.push('é');
    assert_eq!(
        s.try_push('a'),
        Err(TryReserveError::Exhausted { max_capacity: 5 })
    );
    assert_eq!(
        s.try_reserve(usize::MAX),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(s, "abcé");
}

#[test]
fn overflow_is_capacity_overflow_and_exhausted_means_a_valid_size() {
    for reserved_now in [false, true] {
        let mut s = if reserved_now {
            ReservedString::with_max_capacity(100)
        } else {
            ReservedString::new()
        };
        let exhausted = TryReserveError::Exhausted {
            max_capacity: s.max_capacity(),
        };
        let top = isize::MAX as usize;
        assert_eq!(
            s.try_reserve(usize::MAX),
            Err(TryReserveError::CapacityOverflow)
        );
        assert_eq!(
            s.try_reserve(top + 1),
            Err(TryReserveError::CapacityOverflow)
        );
        assert_eq!(s.try_reserve(top), Err(exhausted));
        s.push_str("ab");
        for r in [s.try_reserve(top - 1), s.try_reserve_exact(top - 1)] {
            assert_eq!(r, Err(TryReserveError::CapacityOverflow));
        }
        for r in [s.try_reserve(top - 2), s.try_reserve_exact(top - 2)] {
            assert_eq!(r, Err(exhausted));
        }
        assert_eq!(s, "ab");
    }
}

/// Resident bytes a `try_reserve` may add: one commit step at most (none
/// is faulted in), plus slack for the harness's own allocations.
const RESERVE_RSS_SLACK: usize = 16 << 20;

#[test]
fn reserve_adds_no_resident_memory_child() {
    if !in_child("reserve_adds_no_resident_memory_child") {
        return;
    }
    const BIG: usize = 256 << 20;
    let mut s = ReservedString::with_max_capacity(1 << 30);
    s.push('x');
    let (_, before) = statm();
    s.try_reserve(BIG).unwrap();
    let (_, after) = statm();
    println!("try_reserve: RSS {before} -> {after}");
    assert!(s.capacity() - s.len() >= BIG);
    assert!(
        after <= before + RESERVE_RSS_SLACK,
        "try_reserve({BIG}) raised RSS from {before} to {after}"
    );
    println!("{CHILD_OK}");
}

#[test]
#[should_panic(expected = "maximum capacity of 2 bytes")]
fn push_str_past_max_panics() {
    let mut s = ReservedString::with_max_capacity(2);
    s.push_str("abc");
}

#[test]
#[should_panic(expected = "char boundary")]
fn insert_inside_a_char_panics() {
    let mut s = ReservedString::from("é");
    s.insert(1, 'a');
}

#[test]
#[should_panic]
fn remove_at_usize_max_panics() {
    let mut s = ReservedString::from("a");
    s.remove(usize::MAX);
}

#[test]
fn panicking_retain_keeps_valid_utf8() {
    let mut s = ReservedString::from("aébc€d");
    let r = catch_unwind(AssertUnwindSafe(|| {
        s.retain(|c| {
            if c == 'c' {
                panic!("predicate");
            }
            c != 'é'
        })
    }));
    assert!(r.is_err());
    // What was accepted before the panic stays; the rest is dropped.
    assert_eq!(s, "ab");
    assert!(std::str::from_utf8(s.as_bytes()).is_ok());
}

#[test]
fn drain_not_consumed_still_removes() {
    let mut s = ReservedString::from("a€b");
    {
        let d = s.drain(1..4);
        assert_eq!(d.as_str(), "€");
        assert_eq!(d.size_hint().1, Some(3));
    }
    assert_eq!(s, "ab");
    // A forgotten drain leaves valid UTF-8.
    let mut t = ReservedString::from("x€y");
    std::mem::forget(t.drain(..));
    assert!(std::str::from_utf8(t.as_bytes()).is_ok());
}

#[test]
fn traits() {
    let s = ReservedString::from("hello");
    assert_eq!(s, "hello");
    assert_eq!("hello", s);
    assert_eq!(s, String::from("hello"));
    assert_eq!(String::from("hello"), s);
    assert_eq!(*"hello", s);
    assert_eq!(s, std::borrow::Cow::Borrowed("hello"));
    let bigger = ReservedString::from("help");
    assert!(s < bigger);
    assert_eq!(format!("{s}"), "hello");
    assert_eq!(format!("{s:?}"), "\"hello\"");
    assert_eq!(format!("{s:>7}"), "  hello");
    let h = |x: &dyn Fn(&mut DefaultHasher)| {
        let mut st = DefaultHasher::new();
        x(&mut st);
        st.finish()
    };
    assert_eq!(h(&|st| s.hash(st)), h(&|st| "hello".hash(st)));
    assert_eq!(h(&|st| s.hash(st)), h(&|st| String::from("hello").hash(st)));
    let set: HashSet<ReservedString> = [s.clone()].into_iter().collect();
    assert!(set.contains("hello"));
    assert_eq!(&s[1..3], "el");
    assert_eq!(s.to_uppercase(), "HELLO");
    let c: ReservedString = "abc".chars().collect();
    assert_eq!(c, "abc");
    let c: ReservedString = ["ab", "cd"].into_iter().collect();
    assert_eq!(c, "abcd");
    let c: ReservedString = [String::from("x")].into_iter().collect();
    assert_eq!(c, "x");
    let mut e = ReservedString::default();
    e.extend(['a', 'b'].iter());
    e.extend(["c"]);
    e += "d";
    let e = e + "e";
    assert_eq!(e, "abcde");
    let std_s: String = e.clone().into();
    assert_eq!(std_s, "abcde");
    let parsed: ReservedString = "xyz".parse().unwrap();
    assert_eq!(parsed, "xyz");
    assert_eq!(ReservedString::from('é'), "é");
    let bytes: ReservedVec<u8> = parsed.into_bytes();
    assert_eq!(ReservedString::from_utf8(bytes).unwrap(), "xyz");
    let bad = ReservedString::from_utf8(ReservedVec::from([b'a', 0xff])).unwrap_err();
    assert_eq!(bad.utf8_error().valid_up_to(), 1);
    assert!(!bad.to_string().is_empty());

    fn send_sync<T: Send + Sync>() {}
    send_sync::<ReservedString>();
}

#[test]
fn failed_commit_keeps_the_text() {
    let mut s = ReservedString::new();
    s.push('a');
    let cap = s.capacity();
    while s.len() < cap {
        s.push('a');
    }
    fault::fail_nth(OsOp::Commit, 1);
    let r = s.try_push_str("bcd");
    fault::clear();
    assert!(
        matches!(r, Err(TryReserveError::AllocError { .. })),
        "{r:?}"
    );
    assert_eq!(s.len(), cap);
    assert!(s.bytes().all(|b| b == b'a'));
    s.push_str("bcd");
    assert!(s.ends_with("abcd"));
}

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip() {
    let s = ReservedString::from("héllo \"world\"");
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(json, serde_json::to_string("héllo \"world\"").unwrap());
    let back: ReservedString = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    assert!(serde_json::from_str::<ReservedString>("3").is_err());
}
