//! `reserved_string_ops`: random programs on
//! `mallocv2_collections::reserved_string::ReservedString` against std's
//! `String`, with small maximum capacities (0 to a few thousand bytes) so
//! growth past the maximum is common, and one- to four-byte characters
//! (é, €, 中, 🦀, …) so every char-boundary rule is exercised.
//!
//! Growth past the maximum: a `try_*` call must return exactly the error
//! std-like accounting predicts (`Exhausted { max_capacity }`, or
//! `CapacityOverflow` for sizes that overflow `usize` or `isize::MAX`
//! bytes) and leave the string
//! unchanged, capacity included; the panicking forms must panic and leave it
//! unchanged; `fmt::Write` must fail with nothing appended for that piece;
//! `Extend` appends the items that fit, in order, then panics. Calls std
//! would panic on (an index inside a character or past the end, an invalid
//! range) must panic here too and leave the string unchanged.
//!
//! Covers push/try_push, push_str/try_push_str/`+=`/`write_str`/`write!`,
//! pop, insert/insert_str/try_insert_str, remove, truncate, retain (also
//! with a panicking predicate), drain (consumed from both ends or dropped),
//! split_off, reserve/reserve_exact and their `try_` forms, shrink_to(_fit)
//! (also under injected OS failures), extend from chars and string pieces,
//! into_bytes/from_utf8 (valid and broken), clone, `==`/`cmp`/hash against
//! `str`, the `From` conversions, indexing, and `as_mut_str`. After every
//! operation: contents equal the model and are UTF-8, `len <= capacity <=
//! max_capacity`, the maximum never changes, and `as_ptr()` never changes
//! once the string has reserved its address space.

use std::fmt::Write as _;
use std::hash::{BuildHasher, RandomState};

use mallocv2_collections::reserved::ReservedVec;
use mallocv2_collections::reserved_string::ReservedString;
use mallocv2_collections::TryReserveError;

use super::common::{bounds, ch, check_bounds, check_text, take_ends};
use super::input::{arm_fault, must_panic, panicky, range, Input};
use super::reserved_vec::expected_for;

/// A text whose length is often close to `room` (the bytes left below the
/// maximum): just fitting, or one character too long.
fn text(inp: &mut Input, room: usize) -> String {
    // The default maximum is 1 GiB: stay well below it.
    let room = room.min(64 << 10);
    let mut s = String::new();
    match inp.u8() % 8 {
        0..=2 => (0..inp.below(9)).for_each(|_| s.push(ch(inp))),
        3 | 4 => (0..inp.below(65)).for_each(|_| s.push(ch(inp))),
        5 | 6 => {
            // Fill up to `room` (plus a little slack) with varied chars.
            let limit = room + inp.below(5);
            loop {
                let c = ch(inp);
                if s.len() + c.len_utf8() > limit || inp.is_empty() {
                    break;
                }
                s.push(c);
            }
        }
        _ => {
            let c = ch(inp);
            let n = inp.below(room / c.len_utf8() + 3);
            s.extend(std::iter::repeat_n(c, n));
        }
    }
    s
}

/// A count of bytes: small, around the room left, or up to the maximum.
fn count(inp: &mut Input, room: usize, max: usize) -> usize {
    match inp.u8() % 8 {
        0 => inp.below(max + 2),
        1 => room + inp.below(3),
        2 => room.saturating_sub(inp.below(3)),
        3 => usize::MAX - inp.below(2),
        _ => inp.below(65),
    }
}

struct State {
    s: ReservedString,
    model: String,
    max: usize,
    /// `as_ptr()` once the address space is reserved.
    ptr: Option<*const u8>,
}

impl State {
    fn check(&mut self, what: &str) {
        let (s, model) = (&self.s, &self.model);
        if self.ptr.is_none() && s.max_capacity() != self.max {
            // A `new()` string reserves its address space at the first
            // growth, a smaller one if the OS refuses the default (an
            // injected failure): the maximum may drop then, never later.
            assert!(
                s.max_capacity() < self.max,
                "{what}: max_capacity grew from {} to {}",
                self.max,
                s.max_capacity()
            );
            self.max = s.max_capacity();
        }
        assert_eq!(s.len(), model.len(), "{what}: len");
        assert_eq!(s.is_empty(), model.is_empty(), "{what}: is_empty");
        check_bounds(s.len(), s.capacity(), s.max_capacity(), self.max, what);
        check_text(s.as_bytes(), model, what);
        assert!(*s == *model && *s == model.as_str(), "{what}: PartialEq");
        match self.ptr {
            Some(p) => assert_eq!(s.as_ptr(), p, "{what}: the string moved"),
            None if s.capacity() > 0 || self.max == 0 => self.ptr = Some(s.as_ptr()),
            None => {}
        }
    }
}

/// Runs one program.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let s = match inp.u8() % 8 {
        0 => ReservedString::with_max_capacity(0),
        1 | 2 => ReservedString::with_max_capacity(inp.below(9)),
        3 | 4 => ReservedString::with_max_capacity(inp.below(65)),
        5 => ReservedString::with_max_capacity(inp.below(600)),
        6 => ReservedString::with_max_capacity(inp.below(6000)),
        // The default maximum (1 GiB); the address space is reserved at
        // the first growth.
        _ => ReservedString::new(),
    };
    let mut st = State {
        max: s.max_capacity(),
        s,
        model: String::new(),
        ptr: None,
    };
    st.check("new");
    let mut steps = 0;
    while !inp.is_empty() && steps < 300 {
        steps += 1;
        let max = st.max;
        let len = st.model.len();
        let room = max - len;
        let cap = st.s.capacity();
        let (s, model) = (&mut st.s, &mut st.model);
        let what;
        match inp.u8() % 22 {
            0 | 1 => {
                what = "push";
                let c = ch(&mut inp);
                let want = expected_for::<u8>(len, c.len_utf8(), max);
                match inp.u8() % 3 {
                    0 => assert_eq!(s.try_push(c), want, "try_push({c:?})"),
                    1 => assert_eq!(s.write_char(c).is_ok(), want.is_ok(), "write_char"),
                    _ if want.is_err() => must_panic(what, || s.push(c)),
                    _ => s.push(c),
                }
                if want.is_ok() {
                    model.push(c);
                } else {
                    assert_eq!(s.capacity(), cap, "{what}: a failed push changed capacity");
                }
            }
            2 | 3 => {
                what = "push_str";
                let t = text(&mut inp, room);
                let want = expected_for::<u8>(len, t.len(), max);
                match inp.u8() % 4 {
                    0 => assert_eq!(s.try_push_str(&t), want, "try_push_str"),
                    1 => assert_eq!(s.write_str(&t).is_ok(), want.is_ok(), "write_str"),
                    k if want.is_err() => {
                        must_panic(what, || if k == 2 { s.push_str(&t) } else { *s += &t })
                    }
                    2 => s.push_str(&t),
                    _ => *s += &t,
                }
                if want.is_ok() {
                    model.push_str(&t);
                } else {
                    assert_eq!(s.capacity(), cap, "{what}: a failed push changed capacity");
                }
            }
            4 => {
                what = "write!";
                // Each piece is one `write_str`: the pieces that fit are
                // appended, up to the first that does not.
                let a = text(&mut inp, room);
                let b = text(&mut inp, room.saturating_sub(a.len() + 1));
                let r = write!(s, "{a}|{b}");
                let mut ok = true;
                for piece in [a.as_str(), "|", b.as_str()] {
                    if piece.is_empty() {
                        continue;
                    }
                    if model.len() + piece.len() > max {
                        ok = false;
                        break;
                    }
                    model.push_str(piece);
                }
                assert_eq!(r.is_ok(), ok, "{what}: result");
            }
            5 => {
                what = "pop";
                assert_eq!(s.pop(), model.pop());
            }
            6 | 7 => {
                what = "insert";
                let i = inp.below(len + 2);
                let t = if inp.bool() {
                    ch(&mut inp).to_string()
                } else {
                    text(&mut inp, room)
                };
                let want = expected_for::<u8>(len, t.len(), max);
                let kind = inp.u8() % 3;
                let go = |s: &mut ReservedString| match kind {
                    0 => s.try_insert_str(i, &t),
                    1 => {
                        s.insert_str(i, &t);
                        Ok(())
                    }
                    _ => {
                        let mut cs = t.chars();
                        match (cs.next(), cs.next()) {
                            (Some(c), None) => s.insert(i, c),
                            _ => s.insert_str(i, &t),
                        }
                        Ok(())
                    }
                };
                if !model.is_char_boundary(i) || (want.is_err() && kind != 0) {
                    must_panic(what, || go(s));
                } else {
                    assert_eq!(go(s), want, "{what}({i})");
                    if want.is_ok() {
                        model.insert_str(i, &t);
                    } else {
                        assert_eq!(
                            s.capacity(),
                            cap,
                            "{what}: a failed insert changed capacity"
                        );
                    }
                }
            }
            8 => {
                what = "remove";
                let i = inp.below(len + 1);
                if i >= len || !model.is_char_boundary(i) {
                    must_panic(what, || s.remove(i));
                } else {
                    assert_eq!(s.remove(i), model.remove(i), "{what}({i})");
                }
            }
            9 => {
                what = "truncate";
                let n = inp.below(len + 2);
                if n <= len && !model.is_char_boundary(n) {
                    must_panic(what, || s.truncate(n));
                } else {
                    s.truncate(n);
                    model.truncate(n);
                }
            }
            10 => {
                what = "retain";
                let k = inp.u8();
                let keep = |c: char| (u32::from(c) ^ u32::from(k)) % 3 != 0;
                let n = model.chars().count();
                if n > 0 && inp.u8() % 4 == 0 {
                    // A panicking predicate: the characters accepted before
                    // the panic stay, the rest is gone (std's rule).
                    let at = inp.below(n);
                    let mut calls = 0;
                    must_panic(what, || {
                        s.retain(|c| panicky(&mut calls, Some(at), |&c: &char| keep(c), &c))
                    });
                    *model = model.chars().take(at).filter(|&c| keep(c)).collect();
                } else {
                    s.retain(keep);
                    model.retain(keep);
                }
            }
            11 => {
                what = "drain";
                let (r, valid) = range(&mut inp, len);
                let ok = valid && {
                    let (a, b) = bounds(r, len);
                    model.is_char_boundary(a) && model.is_char_boundary(b)
                };
                if !ok {
                    must_panic(what, || drop(s.drain(r)));
                } else {
                    let expect: Vec<char> = model.drain(r).collect();
                    let mut d = s.drain(r);
                    assert!(
                        d.as_str().chars().eq(expect.iter().copied()),
                        "drain as_str"
                    );
                    let want = expect.iter().copied();
                    let (front, back) = take_ends(&mut inp, &mut d, want, what);
                    let rest: String = expect[front..expect.len() - back].iter().collect();
                    assert_eq!(d.as_str(), rest, "drain rest");
                }
            }
            12 => {
                what = "split_off";
                let at = inp.below(len + 2);
                if !model.is_char_boundary(at) {
                    must_panic(what, || s.split_off(at));
                } else {
                    let tail = s.split_off(at);
                    let mtail = model.split_off(at);
                    assert!(tail == mtail, "split_off tail");
                    assert_eq!(tail.max_capacity(), max, "split_off tail max");
                    assert!(tail.capacity() <= max, "split_off tail capacity");
                    if inp.bool() {
                        // Put it back (the room is there: it came from us).
                        s.try_push_str(&tail)
                            .expect("split_off: push the tail back");
                        model.push_str(&mtail);
                    }
                }
            }
            13 => {
                what = "reserve";
                let n = count(&mut inp, room.min(1 << 20), max.min(1 << 20));
                let want = expected_for::<u8>(len, n, max);
                match inp.u8() % 4 {
                    0 => assert_eq!(s.try_reserve(n), want, "try_reserve({n})"),
                    1 => assert_eq!(s.try_reserve_exact(n), want, "try_reserve_exact({n})"),
                    k if want.is_err() => must_panic(what, || {
                        if k == 2 {
                            s.reserve(n)
                        } else {
                            s.reserve_exact(n)
                        }
                    }),
                    2 => s.reserve(n),
                    _ => s.reserve_exact(n),
                }
                if want.is_ok() {
                    assert!(
                        s.capacity() >= len + n && s.capacity() >= cap,
                        "{what}({n})"
                    );
                } else {
                    assert_eq!(
                        s.capacity(),
                        cap,
                        "{what}: a failed reserve changed capacity"
                    );
                }
            }
            14 => {
                what = "shrink";
                let under_fault = inp.u8() % 4 == 0;
                if under_fault {
                    arm_fault(&mut inp);
                }
                if inp.bool() {
                    s.shrink_to_fit();
                } else {
                    let n = inp.below(len + 64);
                    s.shrink_to(n);
                    if !under_fault {
                        assert!(s.capacity() >= len.max(n).min(cap), "{what}: below {n}");
                    }
                }
                mallocv2::fault::clear();
                assert!(s.capacity() <= cap, "{what}: grew");
            }
            15 => {
                what = "extend";
                let t = text(&mut inp, room);
                // Items are appended while they fit; the first that does
                // not panics.
                let kind = inp.u8() % 5;
                let pieces: Vec<String> = if kind <= 1 {
                    t.chars().map(String::from).collect()
                } else {
                    t.split_inclusive(' ').map(String::from).collect()
                };
                let go = |s: &mut ReservedString| match kind {
                    0 => s.extend(t.chars()),
                    1 => s.extend(t.chars().collect::<Vec<char>>().iter()),
                    2 => s.extend(pieces.iter().map(String::as_str)),
                    3 => s.extend(pieces.iter().cloned()),
                    _ => s.extend(
                        pieces
                            .iter()
                            .map(|p| std::borrow::Cow::Borrowed(p.as_str())),
                    ),
                };
                if t.len() > room {
                    must_panic(what, || go(s));
                    for p in &pieces {
                        if model.len() + p.len() > max {
                            break;
                        }
                        model.push_str(p);
                    }
                } else {
                    go(s);
                    model.push_str(&t);
                }
            }
            16 => {
                what = "bytes round trip";
                let p = s.as_ptr();
                let bytes: ReservedVec<u8> = std::mem::take(s).into_bytes();
                assert_eq!(&bytes[..], model.as_bytes(), "into_bytes");
                assert_eq!(bytes.as_ptr(), p, "into_bytes moved the text");
                assert_eq!(bytes.max_capacity(), max, "into_bytes max");
                *s = ReservedString::from_utf8(bytes).expect("from_utf8");
                if len > 0 {
                    // Break one byte of a copy: from_utf8 must refuse it
                    // and hand the bytes back untouched.
                    let mut b: ReservedVec<u8> = ReservedVec::with_max_capacity(len);
                    b.extend_from_slice(model.as_bytes());
                    let i = inp.below(len);
                    b[i] = [0xff, 0x80, 0xc0][inp.below(3)];
                    let invalid = std::str::from_utf8(&b).err();
                    match ReservedString::from_utf8(b) {
                        Ok(x) => assert!(invalid.is_none() && x.len() == len, "{what}: accepted"),
                        Err(e) => {
                            assert_eq!(Some(e.utf8_error()), invalid, "{what}: utf8_error");
                            let mut back = e.into_bytes();
                            back[i] = model.as_bytes()[i];
                            assert_eq!(&back[..], model.as_bytes(), "{what}: bytes changed");
                        }
                    }
                }
            }
            17 => {
                what = "clone/compare/convert";
                let c = s.clone();
                assert!(c == *s && c == *model, "clone");
                assert_eq!(c.max_capacity(), max, "clone max");
                let t = text(&mut inp, room);
                let other = ReservedString::from(t.as_str());
                assert_eq!(other, t, "From<&str>");
                assert_eq!(Ord::cmp(&*s, &other), model.as_str().cmp(t.as_str()), "cmp");
                assert_eq!((*s == other), (*model == t), "==");
                let rs = RandomState::new();
                assert_eq!(
                    rs.hash_one(&*s),
                    rs.hash_one(model.as_str()),
                    "hash like str"
                );
                let std_s: String = c.into();
                assert_eq!(std_s, *model, "into String");
                let d: ReservedString = model.chars().collect();
                assert_eq!(d, *model, "collect chars");
                let e: ReservedString = model.parse().expect("FromStr");
                assert_eq!(e + "!", format!("{model}!"), "Add");
                if let Some(c0) = model.chars().next() {
                    assert_eq!(ReservedString::from(c0), c0.to_string(), "From<char>");
                }
                assert_eq!(format!("{s}"), *model, "Display");
                assert_eq!(format!("{s:?}"), format!("{model:?}"), "Debug");
            }
            18 => {
                what = "index/as_mut_str";
                let a = inp.below(len + 2);
                let b = inp.below(len + 2);
                if a <= b && b <= len && model.is_char_boundary(a) && model.is_char_boundary(b) {
                    assert_eq!(&s[a..b], &model[a..b], "{what}: [{a}..{b}]");
                } else {
                    must_panic(what, || s[a..b].len());
                }
                if inp.bool() {
                    s.as_mut_str().make_ascii_uppercase();
                    model.make_ascii_uppercase();
                } else {
                    s.make_ascii_lowercase();
                    model.make_ascii_lowercase();
                }
            }
            19 => {
                what = "try_* under an injected OS failure";
                let t = text(&mut inp, room);
                let n = count(&mut inp, room.min(1 << 20), max.min(1 << 20));
                let i = inp.below(len + 1);
                let kind = inp.u8() % 4;
                let i = if kind == 3 && !model.is_char_boundary(i) {
                    len
                } else {
                    i
                };
                arm_fault(&mut inp);
                let r = match kind {
                    0 => s.try_reserve(n),
                    1 => s.try_reserve_exact(n),
                    2 => s.try_push_str(&t),
                    _ => s.try_insert_str(i, &t),
                };
                mallocv2::fault::clear();
                let want = expected_for::<u8>(len, if kind >= 2 { t.len() } else { n }, max);
                match r {
                    Ok(()) => {
                        assert_eq!(want, Ok(()), "{what}: succeeded past the maximum");
                        match kind {
                            2 => model.push_str(&t),
                            3 => model.insert_str(i, &t),
                            _ => assert!(s.capacity() >= len + n, "{what}: capacity"),
                        }
                    }
                    Err(TryReserveError::AllocError { .. }) => {
                        assert_eq!(want, Ok(()), "{what}: AllocError instead of {want:?}");
                        assert_eq!(s.capacity(), cap, "{what}: a failed call changed capacity");
                    }
                    Err(e) => {
                        assert_eq!(Err(e), want, "{what}");
                        assert_eq!(s.capacity(), cap, "{what}: a failed call changed capacity");
                    }
                }
            }
            20 => {
                what = "chars";
                assert!(s.chars().rev().eq(model.chars().rev()), "{what}: backwards");
                assert_eq!(
                    s.char_indices().last(),
                    model.char_indices().last(),
                    "{what}"
                );
            }
            _ => {
                what = "clear";
                if inp.u8() % 4 == 0 {
                    s.clear();
                    model.clear();
                    assert_eq!(s.capacity(), cap, "{what}: capacity changed");
                } else {
                    assert_eq!(
                        <ReservedString as AsRef<[u8]>>::as_ref(s),
                        model.as_bytes(),
                        "{what}: as_ref"
                    );
                }
            }
        }
        st.check(what);
    }
}
