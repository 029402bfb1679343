//! `string_ops`: random programs on `mallocv2_collections::string::String`
//! against std's `String`, with one- to four-byte characters so every
//! char-boundary rule is exercised. After every operation: contents equal
//! the model, `capacity >= len`, the bytes are valid UTF-8. Calls std would
//! panic on (an index inside a character or past the end) must panic here
//! too and leave the string unchanged.

use std::fmt::Write as _;

use super::common::{alloc_error, bounds, ch, check_text, overflow_refused};
use super::input::{arm_fault, must_panic, range, Input};
use mallocv2_collections::string::String as MString;
use mallocv2_collections::vec::Vec as MVec;

/// Longest string a program builds, in bytes.
const MAX_LEN: usize = 300 << 10;

fn text(inp: &mut Input, room: usize) -> std::string::String {
    let n = match inp.u8() % 8 {
        0 => inp.below(4096),
        1..=3 => inp.below(33),
        _ => inp.below(5),
    };
    let mut s = std::string::String::new();
    if inp.u8() % 64 == 0 {
        // Long runs reach the Heap's large blocks.
        let c = ch(inp);
        let k = inp.below(room / 4 + 1);
        s.extend(std::iter::repeat_n(c, k));
    } else {
        for _ in 0..n {
            s.push(ch(inp));
        }
    }
    while s.len() > room {
        s.pop();
    }
    s
}

fn check(s: &MString, model: &str, what: &str) {
    assert_eq!(s.len(), model.len(), "{what}: len");
    assert!(
        s.capacity() >= s.len(),
        "{what}: capacity {} < len {}",
        s.capacity(),
        s.len()
    );
    check_text(s.as_bytes(), model, what);
}

/// Runs one program.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let mut s = MString::new();
    let mut model = std::string::String::new();
    let mut steps = 0;
    while !inp.is_empty() && steps < 300 {
        steps += 1;
        let len = model.len();
        let room = MAX_LEN - len;
        let what;
        match inp.u8() % 23 {
            0 | 1 => {
                what = "push";
                let c = ch(&mut inp);
                if c.len_utf8() <= room {
                    s.push(c);
                    model.push(c);
                }
            }
            2 | 3 => {
                what = "push_str";
                let t = text(&mut inp, room);
                match inp.u8() % 4 {
                    0 => s.push_str(&t),
                    1 => s.try_push_str(&t).expect("try_push_str"),
                    2 => s += &t,
                    _ => s.write_str(&t).expect("write_str"),
                }
                model.push_str(&t);
            }
            4 => {
                what = "pop";
                assert_eq!(s.pop(), model.pop());
            }
            5 => {
                what = "insert";
                let i = inp.below(len + 2);
                let c = ch(&mut inp);
                if !model.is_char_boundary(i) {
                    must_panic(what, || s.insert(i, c));
                } else if c.len_utf8() <= room {
                    s.insert(i, c);
                    model.insert(i, c);
                }
            }
            6 => {
                what = "insert_str";
                let i = inp.below(len + 2);
                let t = text(&mut inp, room);
                if !model.is_char_boundary(i) {
                    must_panic(what, || s.insert_str(i, &t));
                } else {
                    s.insert_str(i, &t);
                    model.insert_str(i, &t);
                }
            }
            7 => {
                what = "remove";
                let i = inp.below(len + 1);
                if i >= len || !model.is_char_boundary(i) {
                    must_panic(what, || s.remove(i));
                } else {
                    assert_eq!(s.remove(i), model.remove(i));
                }
            }
            8 => {
                what = "truncate";
                let n = inp.below(len + 2);
                if n <= len && !model.is_char_boundary(n) {
                    must_panic(what, || s.truncate(n));
                } else {
                    s.truncate(n);
                    model.truncate(n);
                }
            }
            9 => {
                what = "retain";
                let k = inp.u8();
                let keep = |c: char| (u32::from(c) ^ u32::from(k)) % 3 != 0;
                s.retain(keep);
                model.retain(keep);
            }
            10 => {
                what = "drain";
                let (r, valid) = range(&mut inp, len);
                let ok = valid && {
                    let (a, b) = bounds(r, len);
                    model.is_char_boundary(a) && model.is_char_boundary(b)
                };
                if !ok {
                    must_panic(what, || drop(s.drain(r)));
                } else {
                    let expect: std::string::String = model.drain(r).collect();
                    let mut d = s.drain(r);
                    assert_eq!(d.as_str(), expect, "drain as_str");
                    let take = inp.below(expect.chars().count() + 1);
                    let mut got = std::string::String::new();
                    if inp.bool() {
                        got.extend((&mut d).take(take));
                        assert!(expect.starts_with(&got), "drain front");
                    } else {
                        got.extend((&mut d).rev().take(take));
                        let back: std::string::String = expect.chars().rev().take(take).collect();
                        assert_eq!(got, back, "drain back");
                    }
                }
            }
            11 => {
                what = "split_off";
                let at = inp.below(len + 2);
                if !model.is_char_boundary(at) {
                    must_panic(what, || s.split_off(at));
                } else {
                    let tail = s.split_off(at);
                    let mtail = model.split_off(at);
                    assert_eq!(tail.as_str(), mtail, "split_off tail");
                    if inp.bool() {
                        s.push_str(&tail);
                        model.push_str(&mtail);
                    }
                }
            }
            12 => {
                what = "reserve";
                let n = inp.below(room + 1);
                let cap = s.capacity();
                match inp.u8() % 4 {
                    0 => s.reserve(n),
                    1 => s.reserve_exact(n),
                    2 => s.try_reserve(n).expect("try_reserve"),
                    _ => s.try_reserve_exact(n).expect("try_reserve_exact"),
                }
                assert!(s.capacity() >= len + n && s.capacity() >= cap, "{what}");
            }
            13 => {
                what = "try_reserve overflow";
                let n = if inp.bool() {
                    usize::MAX
                } else {
                    usize::MAX - len.saturating_sub(1)
                };
                overflow_refused(s.try_reserve(n), n, what);
            }
            14 => {
                what = "shrink";
                let cap = s.capacity();
                if inp.bool() {
                    s.shrink_to_fit();
                } else {
                    let n = inp.below(len + 64);
                    s.shrink_to(n);
                    assert!(s.capacity() >= len.max(n).min(cap), "{what}: below {n}");
                }
            }
            15 => {
                what = "extend";
                let t = text(&mut inp, room);
                match inp.u8() % 3 {
                    0 => s.extend(t.chars()),
                    1 => s.extend(t.split_inclusive(' ')),
                    _ => s.extend(t.chars().collect::<Vec<char>>().iter()),
                }
                model.push_str(&t);
            }
            16 => {
                what = "bytes round trip";
                let bytes: MVec<u8> = std::mem::take(&mut s).into_bytes();
                assert_eq!(&bytes[..], model.as_bytes());
                s = MString::from_utf8(bytes).expect("from_utf8");
            }
            17 => {
                what = "from_utf8 invalid";
                if len > 0 {
                    // Break one byte: from_utf8 must refuse it and hand the
                    // bytes back untouched.
                    let mut b: MVec<u8> = MVec::from(model.as_bytes());
                    let i = inp.below(len);
                    b[i] = 0xff;
                    let e = MString::from_utf8(b).expect_err("invalid UTF-8 accepted");
                    assert!(e.utf8_error().valid_up_to() <= i, "{what}: valid_up_to");
                    let mut back = e.into_bytes();
                    back[i] = model.as_bytes()[i];
                    assert_eq!(&back[..], model.as_bytes());
                }
            }
            18 => {
                what = "clone/collect/std";
                let c = s.clone();
                assert!(c == s && c.as_str() == model, "clone");
                let d: MString = model.chars().collect();
                assert_eq!(d.as_str(), model);
                let e: std::string::String = c.into_std();
                assert_eq!(e, model);
            }
            19 => {
                what = "as_mut_str";
                s.as_mut_str().make_ascii_uppercase();
                model.make_ascii_uppercase();
            }
            20 => {
                what = "with_capacity";
                let n = inp.below(room + 1);
                let w = MString::with_capacity(n);
                assert!(w.capacity() >= n && w.is_empty(), "{what}");
            }
            21 => {
                what = "try_* under an injected OS failure";
                let t = text(&mut inp, room);
                let n = inp.below(room + 1);
                let cap = s.capacity();
                let kind = inp.u8() % 3;
                arm_fault(&mut inp);
                let r = match kind {
                    0 => s.try_reserve(n),
                    1 => s.try_reserve_exact(n),
                    _ => s.try_push_str(&t),
                };
                mallocv2::fault::clear();
                match r {
                    Ok(()) if kind == 2 => model.push_str(&t),
                    Ok(()) => assert!(s.capacity() >= len + n, "{what}: capacity"),
                    Err(e) => {
                        alloc_error(e, what);
                        assert_eq!(s.capacity(), cap, "{what}: a failed call changed capacity");
                    }
                }
            }
            _ => {
                what = "clear";
                if inp.u8() % 4 == 0 {
                    s.clear();
                    model.clear();
                }
            }
        }
        check(&s, &model, what);
    }
}
