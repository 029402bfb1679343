//! `treeset_ops`: random programs on `mallocv2_collections::tree::TreeSet`
//! against std's `BTreeSet`, with heap-owning, drop-counted elements
//! (`Tracked`): insert/try_insert, remove, take, contains, get, first/last,
//! pop_first/pop_last, range with every kind of bound (invalid ranges must
//! panic like std's) walked from both ends, retain (also with a panicking
//! predicate: only rejected elements before the panic may go), append,
//! split_off, from_iter / from_sorted_iter / try_from_iter_in (the batch
//! builds, from sorted and unsorted input), extend (bulk merge and
//! one-by-one paths) and try_extend, the `try_*` forms under injected OS
//! failures (an error changes nothing), clone, `==`/`cmp`/hash against the
//! model, and into_iter from both ends.
//! After every operation: `check_invariants()` (order, AVL balance and
//! heights, length), the same elements as the model walking forwards and
//! backwards, `first`/`last`, and exactly `len` `Tracked` values alive.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, RandomState};

use mallocv2_collections::tree::TreeSet;

use super::common::{
    alloc_error, key_bound, leak_checked, meet_in_the_middle, take_ends, valid_range,
};
use super::input::{arm_fault, check_retained, must_panic, panicky, Input, Tracked};

type Set = TreeSet<Tracked>;

const MAX_LEN: usize = 1500;

fn check(s: &Set, model: &BTreeSet<u32>, base: isize, extra: usize, what: &str) {
    s.check_invariants();
    assert_eq!(s.len(), model.len(), "{what}: len");
    assert_eq!(s.is_empty(), model.is_empty(), "{what}: is_empty");
    assert_eq!(s.iter().len(), model.len(), "{what}: iter().len()");
    assert!(
        s.iter().map(Tracked::get).eq(model.iter().copied()),
        "{what}: forward walk differs from the model"
    );
    assert!(
        s.iter()
            .rev()
            .map(Tracked::get)
            .eq(model.iter().rev().copied()),
        "{what}: backward walk differs from the model"
    );
    assert_eq!(
        s.first().map(Tracked::get),
        model.first().copied(),
        "{what}: first"
    );
    assert_eq!(
        s.last().map(Tracked::get),
        model.last().copied(),
        "{what}: last"
    );
    assert_eq!(
        Tracked::live() - base,
        (s.len() + extra) as isize,
        "{what}: live elements"
    );
}

/// Elements for a bulk operation: sorted runs or scattered keys, with
/// repeats.
fn elems(inp: &mut Input, keys: u32) -> Vec<u32> {
    let n = match inp.u8() % 8 {
        0 if inp.u8() % 4 == 0 => inp.below(1000),
        0..=3 => inp.below(65),
        _ => inp.below(6),
    };
    let start = inp.below(keys as usize) as u32;
    let step = inp.below(8) as u32;
    let sorted = inp.bool();
    let mut v: Vec<u32> = (0..n as u32)
        .map(|i| {
            if sorted {
                start.wrapping_add(i * step) % keys
            } else {
                (start ^ i.wrapping_mul(2_654_435_761)) % keys
            }
        })
        .collect();
    if sorted {
        v.sort_unstable();
    }
    v
}

fn tracked(v: &[u32]) -> impl Iterator<Item = Tracked> + '_ {
    v.iter().map(|&k| Tracked::new(k))
}

/// Runs one program.
pub fn run(data: &[u8]) {
    leak_checked(|| program(data));
}

fn program(data: &[u8]) {
    let mut inp = Input::new(data);
    let base = Tracked::live();
    let keys = [8u32, 100, 4000][inp.below(3)];
    let mut s = Set::new();
    let mut model: BTreeSet<u32> = BTreeSet::new();
    let mut steps = 0;
    while !inp.is_empty() && steps < 300 {
        steps += 1;
        let k = inp.below(keys as usize) as u32;
        let full = model.len() >= MAX_LEN;
        let what;
        match inp.u8() % 20 {
            0..=3 => {
                what = "insert";
                if full {
                    // No room for more: an element already there must
                    // still be refused.
                    if let Some(&e) = model.iter().nth(k as usize % model.len()) {
                        assert!(!s.insert(Tracked::new(e)), "{what}: {e} twice");
                    }
                } else {
                    let new = if inp.bool() {
                        s.insert(Tracked::new(k))
                    } else {
                        s.try_insert(Tracked::new(k)).expect("try_insert")
                    };
                    assert_eq!(new, model.insert(k), "{what}({k})");
                }
            }
            4 | 5 => {
                what = "remove/take";
                if inp.bool() {
                    assert_eq!(s.remove(&k), model.remove(&k), "remove({k})");
                } else {
                    assert_eq!(s.take(&k).map(|e| e.get()), model.take(&k), "take({k})");
                }
            }
            6 => {
                what = "contains/get";
                assert_eq!(s.contains(&k), model.contains(&k), "contains({k})");
                assert_eq!(
                    s.get(&k).map(Tracked::get),
                    model.get(&k).copied(),
                    "get({k})"
                );
            }
            7 => {
                what = "pop";
                if inp.bool() {
                    assert_eq!(
                        s.pop_first().map(|e| e.get()),
                        model.pop_first(),
                        "pop_first"
                    );
                } else {
                    assert_eq!(s.pop_last().map(|e| e.get()), model.pop_last(), "pop_last");
                }
            }
            8 | 9 => {
                what = "range";
                let r = (key_bound(&mut inp, keys), key_bound(&mut inp, keys));
                if !valid_range(&r) {
                    must_panic(what, || s.range(r).count());
                } else {
                    let want: Vec<u32> = model.range(r).copied().collect();
                    let got: Vec<u32> = s.range(r).map(Tracked::get).collect();
                    assert_eq!(got, want, "range {r:?}");
                    assert!(
                        s.range(r)
                            .rev()
                            .map(Tracked::get)
                            .eq(want.iter().rev().copied()),
                        "range {r:?} reversed"
                    );
                    let mut it = s.range(r).map(Tracked::get);
                    meet_in_the_middle(&mut inp, &mut it, &want, &r);
                    assert_eq!(it.next(), None, "range {r:?}: not fused");
                }
            }
            10 => {
                what = "retain";
                let p = inp.u8();
                let keep = |a: u32| (a.wrapping_mul(31) ^ u32::from(p)) % 3 != 0;
                let len = model.len();
                if len > 0 && inp.u8() % 4 == 0 {
                    // A panicking predicate: the set must stay valid and
                    // keep the removals made before the panic, like std.
                    let at = inp.below(len);
                    let mut calls = 0;
                    must_panic(what, || {
                        s.retain(|a| panicky(&mut calls, Some(at), |_: &()| keep(a.get()), &()))
                    });
                    let before: Vec<u32> = model.iter().copied().collect();
                    let after: Vec<u32> = s.iter().map(Tracked::get).collect();
                    check_retained(&before, &after, keep, at, what);
                    let mut calls = 0;
                    must_panic(what, || {
                        model.retain(|a| panicky(&mut calls, Some(at), |_: &()| keep(*a), &()))
                    });
                } else {
                    s.retain(|a| keep(a.get()));
                    model.retain(|&a| keep(a));
                }
            }
            11 => {
                what = "from_iter";
                let items = elems(&mut inp, keys);
                s = match inp.u8() % 3 {
                    0 => tracked(&items).collect(),
                    1 => TreeSet::from_sorted_iter(tracked(&items)),
                    _ => TreeSet::try_from_iter_in(tracked(&items), mallocv2::Heap)
                        .expect("try_from_iter_in"),
                };
                model = items.iter().copied().collect();
            }
            12 | 13 => {
                what = "extend";
                let items = if full {
                    Vec::new()
                } else {
                    elems(&mut inp, keys)
                };
                match inp.u8() % 4 {
                    0 if !items.is_empty() => {
                        // The iterator panics: the elements before the
                        // panic are added (like std); try_extend adds none.
                        let at = inp.below(items.len());
                        let failing = |n: &mut usize, e: u32| {
                            assert!(*n != at, "extend iterator panics at item {at}");
                            *n += 1;
                            Tracked::new(e)
                        };
                        let mut n = 0;
                        if inp.bool() {
                            must_panic(what, || {
                                s.extend(items.iter().map(|&e| failing(&mut n, e)))
                            });
                            model.extend(items[..at].iter().copied());
                        } else {
                            must_panic(what, || {
                                s.try_extend(items.iter().map(|&e| failing(&mut n, e)))
                            });
                        }
                    }
                    0 | 1 => {
                        s.extend(tracked(&items));
                        model.extend(items.iter().copied());
                    }
                    _ => {
                        s.try_extend(tracked(&items)).expect("try_extend");
                        model.extend(items.iter().copied());
                    }
                }
            }
            14 => {
                what = "split_off/append";
                let at = inp.below(keys as usize + 1) as u32;
                let mut tail = s.split_off(&at);
                let mut mtail = model.split_off(&at);
                check(&tail, &mtail, base, s.len(), "split_off tail");
                check(&s, &model, base, tail.len(), what);
                match inp.u8() % 3 {
                    0 => {
                        s.append(&mut tail);
                        model.append(&mut mtail);
                    }
                    1 => {
                        // Overlapping elements: one copy of each stays.
                        let items = elems(&mut inp, keys);
                        tail.extend(tracked(&items));
                        mtail.extend(items.iter().copied());
                        check(&tail, &mtail, base, s.len(), "extended tail");
                        s.append(&mut tail);
                        model.append(&mut mtail);
                    }
                    _ => {
                        // Append into the tail instead (our part is the
                        // smaller keys).
                        tail.append(&mut s);
                        mtail.append(&mut model);
                        std::mem::swap(&mut s, &mut tail);
                        std::mem::swap(&mut model, &mut mtail);
                    }
                }
                assert!(tail.is_empty(), "{what}: append left {} behind", tail.len());
                check(&tail, &BTreeSet::new(), base, s.len(), "appended tail");
            }
            15 => {
                what = "clone/eq/cmp/hash";
                let mut c = s.clone();
                let mut cm = model.clone();
                check(&c, &cm, base, s.len(), "clone");
                assert!(c == s, "{what}: clone !=");
                let rs = RandomState::new();
                assert_eq!(rs.hash_one(&c), rs.hash_one(&s), "{what}: hash of a clone");
                // Change the clone a little, then compare like std does.
                match inp.u8() % 3 {
                    0 => {
                        c.insert(Tracked::new(k));
                        cm.insert(k);
                    }
                    1 => {
                        c.remove(&k);
                        cm.remove(&k);
                    }
                    _ => {
                        c.pop_last();
                        cm.pop_last();
                    }
                }
                check(&c, &cm, base, s.len(), "changed clone");
                assert_eq!(c == s, cm == model, "{what}: ==");
                assert_eq!(c.cmp(&s), cm.cmp(&model), "{what}: cmp");
                assert_eq!(
                    s.partial_cmp(&c),
                    model.partial_cmp(&cm),
                    "{what}: partial_cmp"
                );
            }
            16 => {
                what = "into_iter";
                let c = s.clone();
                let len = model.len();
                let mut it = c.into_iter();
                let want = model.iter().copied();
                let (front, back) = take_ends(&mut inp, (&mut it).map(|e| e.get()), want, what);
                assert_eq!(it.len(), len - front - back, "into_iter len");
                // The rest is dropped with the iterator.
            }
            17 => {
                what = "try_* under an injected OS failure";
                let items = if full {
                    Vec::new()
                } else {
                    elems(&mut inp, keys)
                };
                let kind = inp.u8() % 3;
                arm_fault(&mut inp);
                let r = match kind {
                    0 if !full => s.try_insert(Tracked::new(k)).map(Some),
                    1 => s.try_extend(tracked(&items)).map(|()| None),
                    _ => TreeSet::try_from_iter_in(tracked(&items), mallocv2::Heap).map(|t| {
                        s = t;
                        None
                    }),
                };
                mallocv2::fault::clear();
                match r {
                    Ok(new) => match kind {
                        0 if !full => assert_eq!(new, Some(model.insert(k)), "try_insert({k})"),
                        1 => model.extend(items.iter().copied()),
                        _ => model = items.iter().copied().collect(),
                    },
                    // The set is checked unchanged below.
                    Err(e) => alloc_error(e, what),
                }
            }
            18 => {
                what = "from";
                let a = inp.below(keys as usize) as u32;
                s = TreeSet::from([Tracked::new(k), Tracked::new(a), Tracked::new(k)]);
                model = BTreeSet::from([k, a, k]);
            }
            _ => {
                what = "clear";
                if inp.u8() % 4 == 0 {
                    s.clear();
                    model.clear();
                } else {
                    let n = (&s).into_iter().count();
                    assert_eq!(n, model.len(), "{what}: (&set).into_iter()");
                }
            }
        }
        check(&s, &model, base, 0, what);
    }
}
