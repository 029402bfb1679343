//! `linked_list_ops`: random programs on
//! `mallocv2_collections::list::LinkedList<Tracked>` against std's
//! `LinkedList`: push/pop at both ends, front/back (and their `_mut`
//! forms), append, split_off, remove, retain, extend (the batch path with an
//! exact size hint, and a lower-bound hint), extend_from_slice,
//! from_iter, clone, into_iter from both ends, and cursor sessions (read
//! and edit) against a vector-and-index model of std's cursor semantics.
//! After every operation: same elements walking forwards and backwards,
//! `len`, `front`/`back`, and exactly `len` `Tracked` values alive.

use std::collections::LinkedList as StdList;

use mallocv2_collections::list::LinkedList;

use super::common::{alloc_error, leak_checked, take_ends};
use super::input::{arm_fault, must_panic, panicky, retain_model, Input, Tracked};

type List = LinkedList<Tracked>;

const MAX_LEN: usize = 3000;

fn check(l: &List, model: &StdList<u32>, base: isize, extra: usize, what: &str) {
    assert_eq!(l.len(), model.len(), "{what}: len");
    assert_eq!(l.is_empty(), model.is_empty(), "{what}: is_empty");
    assert_eq!(l.iter().len(), model.len(), "{what}: iter().len()");
    assert!(
        l.iter().map(Tracked::get).eq(model.iter().copied()),
        "{what}: forward walk differs from the model"
    );
    assert!(
        l.iter()
            .rev()
            .map(Tracked::get)
            .eq(model.iter().rev().copied()),
        "{what}: backward walk differs from the model"
    );
    assert_eq!(
        l.front().map(Tracked::get),
        model.front().copied(),
        "{what}: front"
    );
    assert_eq!(
        l.back().map(Tracked::get),
        model.back().copied(),
        "{what}: back"
    );
    assert_eq!(
        Tracked::live() - base,
        (l.len() + extra) as isize,
        "{what}: live elements"
    );
}

fn items(x: u32, n: usize) -> Vec<u32> {
    (0..n as u32)
        .map(|i| (x ^ i.wrapping_mul(7)) % 1000)
        .collect()
}

fn count(inp: &mut Input) -> usize {
    match inp.u8() % 8 {
        0 => inp.below(1000),
        1..=3 => inp.below(65),
        _ => inp.below(6),
    }
}

/// Runs one program.
pub fn run(data: &[u8]) {
    leak_checked(|| program(data));
}

fn program(data: &[u8]) {
    let mut inp = Input::new(data);
    let base = Tracked::live();
    let mut l = List::new();
    let mut model: StdList<u32> = StdList::new();
    let mut steps = 0;
    while !inp.is_empty() && steps < 300 {
        steps += 1;
        let x = u32::from(inp.u8());
        let len = model.len();
        let room = MAX_LEN.saturating_sub(len);
        let what;
        match inp.u8() % 21 {
            0 | 1 => {
                what = "push_back";
                if room > 0 {
                    if inp.bool() {
                        l.push_back(Tracked::new(x));
                    } else {
                        l.try_push_back(Tracked::new(x)).expect("try_push_back");
                    }
                    model.push_back(x);
                }
            }
            2 | 3 => {
                what = "push_front";
                if room > 0 {
                    if inp.bool() {
                        l.push_front(Tracked::new(x));
                    } else {
                        l.try_push_front(Tracked::new(x)).expect("try_push_front");
                    }
                    model.push_front(x);
                }
            }
            4 => {
                what = "pop_front";
                assert_eq!(l.pop_front().map(|e| e.get()), model.pop_front());
            }
            5 => {
                what = "pop_back";
                assert_eq!(l.pop_back().map(|e| e.get()), model.pop_back());
            }
            6 => {
                what = "front_mut/back_mut";
                let (a, b) = if inp.bool() {
                    (l.front_mut(), model.front_mut())
                } else {
                    (l.back_mut(), model.back_mut())
                };
                assert_eq!(a.as_ref().map(|e| e.get()), b.as_ref().map(|e| **e));
                if let (Some(a), Some(b)) = (a, b) {
                    *a = Tracked::new(x);
                    *b = x;
                }
            }
            7 => {
                what = "append";
                let n = count(&mut inp).min(room);
                let new = items(x, n);
                let mut other: List = new.iter().map(|&v| Tracked::new(v)).collect();
                let mut mother: StdList<u32> = new.iter().copied().collect();
                l.append(&mut other);
                model.append(&mut mother);
                assert!(
                    other.is_empty() && other.iter().next().is_none(),
                    "{what}: source"
                );
            }
            8 => {
                what = "split_off";
                let at = inp.below(len + 2);
                if at > len {
                    must_panic(what, || l.split_off(at));
                } else {
                    let mut tail = l.split_off(at);
                    let mut mtail = model.split_off(at);
                    check(&tail, &mtail, base, l.len(), "split_off tail");
                    check(&l, &model, base, tail.len(), what);
                    if inp.bool() {
                        l.append(&mut tail);
                        model.append(&mut mtail);
                    }
                }
            }
            9 => {
                what = "extend";
                let n = count(&mut inp).min(room);
                let new = items(x, n);
                match inp.u8() % 3 {
                    // Exact size hint: the nodes come from one batch call.
                    0 => l.extend(new.iter().map(|&v| Tracked::new(v))),
                    // A lower-bound hint only.
                    1 => l.extend(new.iter().filter(|_| true).map(|&v| Tracked::new(v))),
                    // A hint that is too low at first.
                    _ => l.extend(
                        new.chunks(3)
                            .flat_map(|c| c.iter().map(|&v| Tracked::new(v))),
                    ),
                }
                model.extend(new.iter().copied());
            }
            10 => {
                what = "extend_from_slice";
                let n = count(&mut inp).min(room);
                let new = items(x, n);
                let s: Vec<Tracked> = new.iter().map(|&v| Tracked::new(v)).collect();
                if inp.bool() {
                    l.extend_from_slice(&s);
                } else {
                    l.try_extend_from_slice(&s).expect("try_extend_from_slice");
                }
                drop(s);
                model.extend(new.iter().copied());
            }
            11 => {
                what = "from_iter";
                let n = count(&mut inp).min(MAX_LEN);
                let new = items(x, n);
                l = if inp.bool() {
                    new.iter().map(|&v| Tracked::new(v)).collect()
                } else {
                    new.iter()
                        .filter(|_| true)
                        .map(|&v| Tracked::new(v))
                        .collect()
                };
                model = new.iter().copied().collect();
            }
            12 => {
                what = "remove";
                let at = inp.below(len + 1);
                if at >= len {
                    must_panic(what, || l.remove(at));
                } else {
                    let mut tail = model.split_off(at);
                    let want = tail.pop_front();
                    model.append(&mut tail);
                    assert_eq!(Some(l.remove(at).get()), want, "{what}({at})");
                }
            }
            13 => {
                what = "retain";
                let p = inp.u8();
                let keep = |v: u32| (v ^ u32::from(p)) % 3 != 0;
                let at = (len > 0 && inp.u8() % 4 == 0).then(|| inp.below(len));
                let mut calls = 0;
                if let Some(at) = at {
                    // Like std's retain: the elements rejected before the
                    // panic are gone, the rest stay, in order.
                    must_panic(what, || {
                        l.retain(|e| panicky(&mut calls, Some(at), |e: &Tracked| keep(e.get()), e))
                    });
                    let mut mv: Vec<u32> = model.iter().copied().collect();
                    retain_model(&mut mv, keep, Some(at));
                    model = mv.into_iter().collect();
                } else {
                    l.retain(|e| keep(e.get()));
                    model = model.into_iter().filter(|&v| keep(v)).collect();
                }
            }
            14 => {
                what = "contains/iter_mut";
                assert_eq!(
                    l.contains(&Tracked::new(x)),
                    model.contains(&x),
                    "contains({x})"
                );
                if inp.bool() {
                    for e in l.iter_mut() {
                        *e = Tracked::new(e.get() ^ 1);
                    }
                    for e in model.iter_mut() {
                        *e ^= 1;
                    }
                } else {
                    for e in l.iter_mut().rev().step_by(2) {
                        *e = Tracked::new(e.get() + 1);
                    }
                    for e in model.iter_mut().rev().step_by(2) {
                        *e += 1;
                    }
                }
            }
            15 | 16 => {
                what = "cursor_mut";
                let mut mv: Vec<u32> = model.iter().copied().collect();
                cursor_mut(&mut inp, &mut l, &mut mv);
                model = mv.into_iter().collect();
            }
            17 => {
                what = "cursor";
                let mv: Vec<u32> = model.iter().copied().collect();
                cursor(&mut inp, &l, &mv);
            }
            18 => {
                what = "clone/into_iter";
                let c = l.clone();
                assert!(c == l, "{what}: clone !=");
                check(&c, &model, base, l.len(), "clone");
                let mut it = c.into_iter();
                let want = model.iter().copied();
                let (front, back) =
                    take_ends(&mut inp, (&mut it).map(|e| e.get()), want, "into_iter");
                assert_eq!(it.len(), len - front - back, "into_iter len");
            }
            19 => {
                what = "try_* under an injected OS failure";
                let n = count(&mut inp).min(room);
                let new = items(x, n);
                let s: Vec<Tracked> = new.iter().map(|&v| Tracked::new(v)).collect();
                let kind = inp.u8() % 3;
                arm_fault(&mut inp);
                let r = match kind {
                    0 if room > 0 => l.try_push_back(Tracked::new(x)),
                    1 if room > 0 => l.try_push_front(Tracked::new(x)),
                    _ => l.try_extend_from_slice(&s),
                };
                mallocv2::fault::clear();
                drop(s);
                match r {
                    Ok(()) => match kind {
                        0 if room > 0 => model.push_back(x),
                        1 if room > 0 => model.push_front(x),
                        _ => model.extend(new.iter().copied()),
                    },
                    Err(e) => alloc_error(e, what),
                }
            }
            _ => {
                what = "clear";
                if inp.u8() % 4 == 0 {
                    l.clear();
                    model.clear();
                }
            }
        }
        check(&l, &model, base, 0, what);
    }
}

/// The model of std's cursor: `None` is the "ghost" between the back and
/// the front.
fn step_next(idx: Option<usize>, len: usize) -> Option<usize> {
    match idx {
        None if len > 0 => Some(0),
        None => None,
        Some(i) if i + 1 < len => Some(i + 1),
        Some(_) => None,
    }
}

fn step_prev(idx: Option<usize>, len: usize) -> Option<usize> {
    match idx {
        None => len.checked_sub(1),
        Some(0) => None,
        Some(i) => Some(i - 1),
    }
}

fn peek_next(mv: &[u32], idx: Option<usize>) -> Option<u32> {
    match idx {
        None => mv.first().copied(),
        Some(i) => mv.get(i + 1).copied(),
    }
}

fn peek_prev(mv: &[u32], idx: Option<usize>) -> Option<u32> {
    match idx {
        None => mv.last().copied(),
        Some(i) => i.checked_sub(1).map(|j| mv[j]),
    }
}

/// Where a cursor starts: the front or the back, or the ghost if empty.
fn start(mv: &[u32], front: bool) -> Option<usize> {
    if mv.is_empty() {
        None
    } else if front {
        Some(0)
    } else {
        Some(mv.len() - 1)
    }
}

fn cursor_mut(inp: &mut Input, l: &mut List, mv: &mut Vec<u32>) {
    let front = inp.bool();
    let mut idx = start(mv, front);
    let mut c = if front {
        l.cursor_front_mut()
    } else {
        l.cursor_back_mut()
    };
    for _ in 0..inp.below(40) {
        assert_eq!(c.index(), idx, "cursor index");
        let x = u32::from(inp.u8());
        match inp.u8() % 9 {
            0 | 1 => {
                c.move_next();
                idx = step_next(idx, mv.len());
            }
            2 => {
                c.move_prev();
                idx = step_prev(idx, mv.len());
            }
            3 => {
                assert_eq!(c.current().map(|e| e.get()), idx.map(|i| mv[i]), "current");
                if let (Some(e), Some(i)) = (c.current(), idx) {
                    *e = Tracked::new(x);
                    mv[i] = x;
                }
            }
            4 => {
                assert_eq!(
                    c.peek_next().map(|e| e.get()),
                    peek_next(mv, idx),
                    "peek_next"
                );
                assert_eq!(
                    c.peek_prev().map(|e| e.get()),
                    peek_prev(mv, idx),
                    "peek_prev"
                );
                let r = c.as_cursor();
                assert_eq!(r.index(), idx, "as_cursor index");
                assert_eq!(
                    r.current().map(Tracked::get),
                    idx.map(|i| mv[i]),
                    "as_cursor"
                );
            }
            5 if mv.len() < MAX_LEN => {
                c.insert_after(Tracked::new(x));
                match idx {
                    None => mv.insert(0, x),
                    Some(i) => mv.insert(i + 1, x),
                }
            }
            6 if mv.len() < MAX_LEN => {
                c.insert_before(Tracked::new(x));
                match idx {
                    None => mv.push(x),
                    Some(i) => {
                        mv.insert(i, x);
                        idx = Some(i + 1);
                    }
                }
            }
            7 | 8 => {
                let got = c.remove_current().map(|e| e.get());
                match idx {
                    None => assert_eq!(got, None, "remove_current at the ghost"),
                    Some(i) => {
                        assert_eq!(got, Some(mv.remove(i)), "remove_current");
                        idx = if i < mv.len() { Some(i) } else { None };
                    }
                }
            }
            _ => {}
        }
    }
    assert_eq!(c.index(), idx, "cursor index");
}

fn cursor(inp: &mut Input, l: &List, mv: &[u32]) {
    let front = inp.bool();
    let mut idx = start(mv, front);
    let mut c = if front {
        l.cursor_front()
    } else {
        l.cursor_back()
    };
    for _ in 0..inp.below(40) {
        if inp.u8() % 3 == 0 {
            c.move_prev();
            idx = step_prev(idx, mv.len());
        } else {
            c.move_next();
            idx = step_next(idx, mv.len());
        }
        assert_eq!(c.index(), idx, "cursor index");
        assert_eq!(c.current().map(Tracked::get), idx.map(|i| mv[i]), "current");
        assert_eq!(
            c.peek_next().map(Tracked::get),
            peek_next(mv, idx),
            "peek_next"
        );
        assert_eq!(
            c.peek_prev().map(Tracked::get),
            peek_prev(mv, idx),
            "peek_prev"
        );
    }
}
