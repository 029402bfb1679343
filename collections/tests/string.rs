//! `String<A>`: differential tests against `std::string::String`, UTF-8
//! edge cases, panic safety, `try_reserve` boundaries and the std-like
//! traits.

use std::panic::{catch_unwind, AssertUnwindSafe};

use mallocv2_collections::String;
use mallocv2_collections::TryReserveError;
use mallocv2_collections::Vec;
use quickcheck::{Arbitrary, Gen, QuickCheck};

mod common;
use common::FailingResize;

/// One operation of a random program. Positions are reduced modulo the
/// length and moved back to a character boundary.
#[derive(Clone, Debug)]
enum Op {
    Push(char),
    PushStr(std::string::String),
    Pop,
    Insert(usize, char),
    InsertStr(usize, std::string::String),
    Remove(usize),
    Truncate(usize),
    Clear,
    Retain(u32),
    Drain(usize, usize),
    SplitOff(usize),
    Reserve(usize),
    TryReserve(usize),
    ShrinkToFit,
    ShrinkTo(usize),
    Write(u32),
    AddAssign(std::string::String),
    Clone,
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Op {
        match u8::arbitrary(g) % 18 {
            0 | 1 => Op::Push(char::arbitrary(g)),
            2 => Op::PushStr(Arbitrary::arbitrary(g)),
            3 => Op::Pop,
            4 => Op::Insert(usize::arbitrary(g), char::arbitrary(g)),
            5 => Op::InsertStr(usize::arbitrary(g), Arbitrary::arbitrary(g)),
            6 => Op::Remove(usize::arbitrary(g)),
            7 => Op::Truncate(usize::arbitrary(g)),
            8 => Op::Clear,
            9 => Op::Retain(u32::arbitrary(g) % 5 + 1),
            10 => Op::Drain(usize::arbitrary(g), usize::arbitrary(g)),
            11 => Op::SplitOff(usize::arbitrary(g)),
            12 => Op::Reserve(usize::arbitrary(g) % 10_000),
            13 => Op::TryReserve(usize::arbitrary(g)),
            14 => Op::ShrinkToFit,
            15 => Op::ShrinkTo(usize::arbitrary(g) % 100),
            16 => {
                if bool::arbitrary(g) {
                    Op::Write(u32::arbitrary(g))
                } else {
                    Op::AddAssign(Arbitrary::arbitrary(g))
                }
            }
            _ => Op::Clone,
        }
    }
}

/// The character boundary at or before `i % (len + 1)`.
fn boundary(s: &str, i: usize) -> usize {
    let mut i = i % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn check(s: &String, m: &str) {
    assert_eq!(s.as_str(), m);
    assert!(core::str::from_utf8(s.as_bytes()).is_ok());
    assert!(
        s.len() <= s.capacity(),
        "len {} > capacity {}",
        s.len(),
        s.capacity()
    );
}

fn run(ops: std::vec::Vec<Op>) -> bool {
    use core::fmt::Write;
    let mut s = String::new();
    let mut m = std::string::String::new();
    for op in ops {
        match op {
            Op::Push(c) => {
                if c as u32 % 2 == 0 {
                    s.push(c);
                } else {
                    s.try_push(c).unwrap();
                }
                m.push(c);
            }
            Op::PushStr(t) => {
                s.push_str(&t);
                m.push_str(&t);
            }
            Op::Pop => assert_eq!(s.pop(), m.pop()),
            Op::Insert(i, c) => {
                let i = boundary(&m, i);
                if c as u32 % 2 == 0 {
                    s.insert(i, c);
                } else {
                    s.try_insert(i, c).unwrap();
                }
                m.insert(i, c);
            }
            Op::InsertStr(i, t) => {
                let i = boundary(&m, i);
                if t.len() % 2 == 0 {
                    s.insert_str(i, &t);
                } else {
                    s.try_insert_str(i, &t).unwrap();
                }
                m.insert_str(i, &t);
            }
            Op::Remove(i) if !m.is_empty() => {
                let i = boundary(&m, i % m.len());
                assert_eq!(s.remove(i), m.remove(i));
            }
            Op::Remove(_) => {}
            Op::Truncate(i) => {
                let i = boundary(&m, i);
                s.truncate(i);
                m.truncate(i);
            }
            Op::Clear => {
                s.clear();
                m.clear();
            }
            Op::Retain(k) => {
                s.retain(|c| c as u32 % k != 0);
                m.retain(|c| c as u32 % k != 0);
            }
            Op::Drain(a, b) => {
                let a = boundary(&m, a);
                let b = boundary(&m[a..], b) + a;
                let got: std::string::String = s.drain(a..b).collect();
                let want: std::string::String = m.drain(a..b).collect();
                assert_eq!(got, want);
            }
            Op::SplitOff(i) => {
                let i = boundary(&m, i);
                let a = s.split_off(i);
                let b = m.split_off(i);
                check(&a, &b);
            }
            Op::Reserve(n) => {
                s.reserve(n);
                assert!(s.capacity() >= m.len() + n);
            }
            Op::TryReserve(n) => {
                let r = s.try_reserve(n);
                if n <= 10_000 {
                    r.unwrap();
                } else if n > isize::MAX as usize {
                    assert_eq!(r, Err(TryReserveError::CapacityOverflow));
                }
            }
            Op::ShrinkToFit => s.shrink_to_fit(),
            Op::ShrinkTo(n) => s.shrink_to(n),
            Op::Write(x) => {
                write!(s, "<{x}>").unwrap();
                write!(m, "<{x}>").unwrap();
            }
            Op::AddAssign(t) => {
                s += &t;
                m += &t;
            }
            Op::Clone => {
                let c = s.clone();
                check(&c, &m);
                s = c;
            }
        }
        check(&s, &m);
    }
    true
}

#[test]
fn differential() {
    QuickCheck::new()
        .tests(500)
        .quickcheck(run as fn(std::vec::Vec<Op>) -> bool);
}

#[test]
fn utf8_conversions() {
    let ok = String::from_utf8(Vec::from("héllo".as_bytes())).unwrap();
    assert_eq!(ok, "héllo");
    let bad = Vec::from(&b"ab\xffcd\xe2\x82"[..]);
    let e = String::from_utf8(bad).unwrap_err();
    assert_eq!(e.utf8_error().valid_up_to(), 2);
    assert_eq!(e.as_bytes(), b"ab\xffcd\xe2\x82");
    assert!(!e.to_string().is_empty());
    let bytes = e.into_bytes();
    assert_eq!(bytes.len(), 7);
    let lossy = String::from_utf8_lossy(&bytes);
    assert_eq!(lossy, std::string::String::from_utf8_lossy(&bytes));
    assert_eq!(lossy, "ab\u{FFFD}cd\u{FFFD}");
    assert_eq!(String::from_utf8_lossy(b""), "");
}

#[test]
fn boundary_violations_panic_and_keep_the_string() {
    let mut s = String::from("aé");
    let quiet = |f: &mut dyn FnMut()| catch_unwind(AssertUnwindSafe(f)).is_err();
    assert!(quiet(&mut || s.insert(2, 'x')));
    assert!(quiet(&mut || s.insert_str(usize::MAX, "x")));
    assert!(quiet(&mut || {
        s.remove(2);
    }));
    assert!(quiet(&mut || {
        s.remove(3);
    }));
    assert!(quiet(&mut || {
        s.remove(usize::MAX);
    }));
    assert!(quiet(&mut || s.truncate(2)));
    assert!(quiet(&mut || drop(s.drain(2..))));
    assert!(quiet(&mut || drop(s.drain(..usize::MAX))));
    assert!(quiet(&mut || drop(s.split_off(2))));
    assert_eq!(s, "aé");
}

#[test]
fn panicking_retain_keeps_utf8() {
    let mut s = String::from("aébécédé");
    let mut n = 0;
    let r = catch_unwind(AssertUnwindSafe(|| {
        s.retain(|c| {
            n += 1;
            if n == 5 {
                panic!("predicate");
            }
            c != 'é'
        })
    }));
    assert!(r.is_err());
    assert!(core::str::from_utf8(s.as_bytes()).is_ok());
    // The judged prefix is kept; the rest is cut off (as std does).
    assert_eq!(s, "ab");
}

#[test]
fn try_reserve_boundaries() {
    let max = isize::MAX as usize;
    let mut s = String::from("abc");
    assert_eq!(
        s.try_reserve(usize::MAX),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(
        s.try_reserve(max - 2),
        Err(TryReserveError::CapacityOverflow)
    );
    assert!(matches!(
        s.try_reserve_exact(max - 3),
        Err(TryReserveError::AllocError { .. })
    ));
    assert_eq!(
        s.try_reserve_exact(usize::MAX - 1),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(s, "abc");
    assert!(s.try_push_str("def").is_ok());
    assert_eq!(s, "abcdef");
}

#[test]
fn growth_copies_little() {
    let before = mallocv2::Heap::thread_stats();
    let mut s = String::new();
    for _ in 0..(16 << 20) / 16 {
        s.push_str("0123456789abcdef");
    }
    let d = mallocv2::Heap::thread_stats().since(&before);
    assert_eq!(s.len(), 16 << 20);
    assert!(
        d.bytes_copied <= 2 * mallocv2::LARGE_THRESHOLD as u64,
        "copied {} bytes: {d}",
        d.bytes_copied
    );
}

#[test]
fn traits_and_conversions() {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};

    let s = String::from("abc");
    let std_s = std::string::String::from("abc");
    assert_eq!(s, "abc");
    assert_eq!("abc", s);
    assert_eq!(s, *"abc");
    assert_eq!(s, std_s);
    assert_eq!(std_s, s);
    assert_eq!(s, std::borrow::Cow::Borrowed("abc"));
    assert_eq!(String::from(std_s.clone()), s);
    assert_eq!(String::from(&std_s), s);
    assert_eq!(std::string::String::from(s.clone()), std_s);
    assert_eq!(String::from_std(std_s.clone()).into_std(), std_s);
    assert_eq!(String::from('x'), "x");
    let (lo, hi) = (String::from("a"), String::from("b"));
    assert!(lo < hi);
    assert_eq!(
        String::from("a").cmp(&String::from("a")),
        std::cmp::Ordering::Equal
    );
    let hash = |x: &dyn Fn(&mut DefaultHasher)| {
        let mut h = DefaultHasher::new();
        x(&mut h);
        h.finish()
    };
    assert_eq!(hash(&|h| s.hash(h)), hash(&|h| std_s.hash(h)));
    assert_eq!(format!("{s}|{s:?}|{s:>5}"), "abc|\"abc\"|  abc");
    assert_eq!(&s[1..], "bc");
    assert_eq!(&s[..=1], "ab");
    let mut t = s.clone() + "def";
    t += "g";
    assert_eq!(t, "abcdefg");
    t[..3].make_ascii_uppercase();
    assert_eq!(t, "ABCdefg");
    let c: String = "héllo".chars().collect();
    assert_eq!(c, "héllo");
    let c: String = ['a', 'b'].iter().collect();
    assert_eq!(c, "ab");
    let c: String = ["ab", "cd"].into_iter().collect();
    assert_eq!(c, "abcd");
    let c: String = [String::from("x"), String::from("y")].into_iter().collect();
    assert_eq!(c, "xy");
    let c: String = vec!["p".to_string(), "q".to_string()].into_iter().collect();
    assert_eq!(c, "pq");
    let mut e: String = String::default();
    e.extend(['a']);
    e.extend(["bc"]);
    e.extend([String::from("d")]);
    e.extend(["e".to_string()]);
    assert_eq!(e, "abcde");
    let r: &str = e.as_ref();
    let b: &[u8] = e.as_ref();
    assert_eq!((r, b), ("abcde", &b"abcde"[..]));
    let set: std::collections::HashSet<String> = [String::from("k")].into_iter().collect();
    assert!(set.contains("k"));
    let parsed: String = "zz".parse().unwrap();
    assert_eq!(parsed, "zz");
    let v: Vec<u8> = parsed.into();
    assert_eq!(v, *b"zz");
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<String>();
}

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip() {
    let s = String::from("a\"é");
    let j = serde_json::to_string(&s).unwrap();
    assert_eq!(j, r#""a\"é""#);
    let back: String = serde_json::from_str(&j).unwrap();
    assert_eq!(back, s);
    assert!(serde_json::from_str::<String>("3").is_err());
}

#[test]
fn failed_try_forms_keep_the_string() {
    // Each form, given a character boundary `at` to insert at.
    type Op = fn(&mut String<FailingResize>, usize) -> Result<(), TryReserveError>;
    let ops: [(&str, Op); 8] = [
        ("try_push ascii", |s, _| s.try_push('x')),
        ("try_push 'é'", |s, _| s.try_push('é')),
        ("try_push '🦀'", |s, _| s.try_push('🦀')),
        ("try_push_str", |s, _| s.try_push_str("abc")),
        ("try_insert", |s, at| s.try_insert(at, 'ß')),
        ("try_insert_str", |s, at| s.try_insert_str(at, "xyz")),
        ("try_reserve", |s, _| s.try_reserve(1)),
        ("try_reserve_exact", |s, _| s.try_reserve_exact(1)),
    ];
    for (name, op) in ops {
        for start in ["", "aé", "héllo wörld, a string of some length"] {
            let alloc = FailingResize::new();
            let mut s = String::new_in(alloc.clone());
            s.push_str(start);
            // Fill the spare capacity: the next byte needs an allocation.
            while s.len() < s.capacity() {
                s.push('.');
            }
            let (before, ptr, cap) = (s.to_string(), s.as_ptr(), s.capacity());
            let at = (0..=2.min(before.len()))
                .rev()
                .find(|&i| before.is_char_boundary(i))
                .unwrap();
            alloc.arm(1);
            let r = op(&mut s, at);
            assert!(
                matches!(r, Err(TryReserveError::AllocError { .. })),
                "{name} on {before:?}: {r:?}"
            );
            assert_eq!(s, *before, "{name} changed the string");
            assert_eq!((s.as_ptr(), s.capacity()), (ptr, cap), "{name} moved it");
            // The same call succeeds once allocation works again.
            alloc.disarm();
            op(&mut s, at).unwrap_or_else(|e| panic!("{name} after the failure: {e}"));
            assert!(s.starts_with(&before[..at]) && s.len() >= before.len());
        }
    }
}

#[test]
fn try_forms_match_the_infallible_ones() {
    let mut a = String::from("ac");
    let mut b = String::from("ac");
    a.insert(1, 'b');
    b.try_insert(1, 'b').unwrap();
    a.insert_str(0, "é");
    b.try_insert_str(0, "é").unwrap();
    a.push('🦀');
    b.try_push('🦀').unwrap();
    a.insert_str(a.len(), "end");
    b.try_insert_str(b.len(), "end").unwrap();
    assert_eq!(a, "éabc🦀end");
    assert_eq!(a, b);
    // A bad index panics (it is a caller's bug, not an allocation error)
    // and leaves the string as it was.
    let r = catch_unwind(AssertUnwindSafe(|| b.try_insert(1, 'x')));
    assert!(r.is_err());
    let r = catch_unwind(AssertUnwindSafe(|| b.try_insert_str(100, "x")));
    assert!(r.is_err());
    assert_eq!(b, "éabc🦀end");
}
