//! `tree_ops`: random programs on `mallocv2_collections::tree::TreeMap`
//! against std's `BTreeMap`, with heap-owning, drop-counted keys and values
//! (`Tracked`): insert/try_insert, remove, get/get_mut, first/last,
//! pop_first/pop_last, range/range_mut with every kind of bound (invalid
//! ranges must panic like std's), the entry API, retain, from_iter (the
//! batch-built bulk path), extend (bulk merge and one-by-one),
//! try_extend, split_off, append, clone, iteration both ways and into_iter.
//! After every operation: `check_invariants()` (order, AVL balance and
//! heights, length), the same entries as the model walking forwards and
//! backwards, and exactly `2 * len` `Tracked` values alive.

use std::collections::BTreeMap;

use mallocv2_collections::tree::{Entry, TreeMap};

use super::common::{
    alloc_error, key_bound, leak_checked, map_get, map_remove, meet_in_the_middle, take_ends,
    valid_range,
};
use super::input::{arm_fault, check_retained, must_panic, panicky, Input, Tracked};

type Map = TreeMap<Tracked, Tracked>;

const MAX_LEN: usize = 1500;

fn check(m: &Map, model: &BTreeMap<u32, u32>, base: isize, extra: usize, what: &str) {
    m.check_invariants();
    assert_eq!(m.len(), model.len(), "{what}: len");
    assert_eq!(m.is_empty(), model.is_empty(), "{what}: is_empty");
    assert_eq!(m.iter().len(), model.len(), "{what}: iter().len()");
    assert!(
        m.iter()
            .map(|(k, v)| (k.get(), v.get()))
            .eq(model.iter().map(|(k, v)| (*k, *v))),
        "{what}: forward walk differs from the model"
    );
    assert!(
        m.iter()
            .rev()
            .map(|(k, v)| (k.get(), v.get()))
            .eq(model.iter().rev().map(|(k, v)| (*k, *v))),
        "{what}: backward walk differs from the model"
    );
    assert_eq!(
        m.first_key_value().map(|(k, v)| (k.get(), v.get())),
        model.first_key_value().map(|(k, v)| (*k, *v)),
        "{what}: first_key_value"
    );
    assert_eq!(
        m.last_key_value().map(|(k, v)| (k.get(), v.get())),
        model.last_key_value().map(|(k, v)| (*k, *v)),
        "{what}: last_key_value"
    );
    assert_eq!(
        Tracked::live() - base,
        (2 * m.len() + extra) as isize,
        "{what}: live keys and values"
    );
}

fn pairs(inp: &mut Input, keys: u32) -> Vec<(u32, u32)> {
    let n = match inp.u8() % 8 {
        0 if inp.u8() % 4 == 0 => inp.below(1000),
        0..=3 => inp.below(65),
        _ => inp.below(6),
    };
    let start = inp.below(keys as usize) as u32;
    let step = 1 + inp.below(8) as u32;
    let sorted = inp.bool();
    let mut v: Vec<(u32, u32)> = (0..n as u32)
        .map(|i| {
            let k = if sorted {
                start.wrapping_add(i * step) % keys
            } else {
                (start ^ i.wrapping_mul(2_654_435_761)) % keys
            };
            (k, i)
        })
        .collect();
    if sorted {
        v.sort_by_key(|p| p.0);
    }
    v
}

fn tracked(v: &[(u32, u32)]) -> impl Iterator<Item = (Tracked, Tracked)> + '_ {
    v.iter().map(|&(k, x)| (Tracked::new(k), Tracked::new(x)))
}

/// Runs one program.
pub fn run(data: &[u8]) {
    leak_checked(|| program(data));
}

fn program(data: &[u8]) {
    let mut inp = Input::new(data);
    let base = Tracked::live();
    let keys = [8u32, 100, 4000][inp.below(3)];
    let mut m = Map::new();
    let mut model: BTreeMap<u32, u32> = BTreeMap::new();
    let mut steps = 0;
    while !inp.is_empty() && steps < 300 {
        steps += 1;
        let k = inp.below(keys as usize) as u32;
        let v = u32::from(inp.u8());
        let full = model.len() >= MAX_LEN;
        let what;
        match inp.u8() % 23 {
            0..=3 => {
                what = "insert";
                if !full {
                    let old = if inp.bool() {
                        m.insert(Tracked::new(k), Tracked::new(v))
                    } else {
                        m.try_insert(Tracked::new(k), Tracked::new(v))
                            .expect("try_insert")
                    };
                    assert_eq!(old.map(|o| o.get()), model.insert(k, v), "{what}({k})");
                }
            }
            4 | 5 => {
                what = "remove";
                map_remove(&mut inp, &mut m, &mut model, k, what);
            }
            6 => {
                what = "get";
                assert_eq!(m.get(&k).map(Tracked::get), model.get(&k).copied());
                map_get(&mut m, &mut model, k, v);
            }
            7 => {
                what = "pop";
                if inp.bool() {
                    let got = m.pop_first().map(|(a, b)| (a.get(), b.get()));
                    assert_eq!(got, model.pop_first(), "pop_first");
                } else {
                    let got = m.pop_last().map(|(a, b)| (a.get(), b.get()));
                    assert_eq!(got, model.pop_last(), "pop_last");
                }
            }
            8 | 9 => {
                what = "range";
                let r = (key_bound(&mut inp, keys), key_bound(&mut inp, keys));
                if !valid_range(&r) {
                    must_panic(what, || m.range(r).count());
                    must_panic("range_mut", || m.range_mut(r).count());
                } else {
                    let want: Vec<(u32, u32)> = model.range(r).map(|(a, b)| (*a, *b)).collect();
                    let got: Vec<(u32, u32)> =
                        m.range(r).map(|(a, b)| (a.get(), b.get())).collect();
                    assert_eq!(got, want, "range {r:?}");
                    let back: Vec<(u32, u32)> =
                        m.range(r).rev().map(|(a, b)| (a.get(), b.get())).collect();
                    assert!(back.iter().rev().eq(want.iter()), "range {r:?} reversed");
                    let it = m.range(r).map(|(a, b)| (a.get(), b.get()));
                    meet_in_the_middle(&mut inp, it, &want, &r);
                    if inp.bool() {
                        for (_, x) in m.range_mut(r) {
                            *x = Tracked::new(x.get() ^ 3);
                        }
                        for (_, x) in model.range_mut(r) {
                            *x ^= 3;
                        }
                    }
                }
            }
            10 | 11 => {
                what = "entry";
                match inp.u8() % 4 {
                    0 if !full => {
                        let e = m.entry(Tracked::new(k)).or_insert(Tracked::new(v));
                        let f = model.entry(k).or_insert(v);
                        assert_eq!(e.get(), *f, "or_insert({k})");
                        *e = Tracked::new(v ^ 1);
                        *f = v ^ 1;
                    }
                    1 if !full => {
                        let e = m.entry(Tracked::new(k));
                        assert_eq!(e.key().get(), k);
                        e.and_modify(|x| *x = Tracked::new(x.get() + 1))
                            .or_insert_with(|| Tracked::new(v));
                        model.entry(k).and_modify(|x| *x += 1).or_insert(v);
                    }
                    2 => match (m.entry(Tracked::new(k)), model.entry(k)) {
                        (Entry::Occupied(o), std::collections::btree_map::Entry::Occupied(p)) => {
                            assert_eq!(o.key().get(), k);
                            assert_eq!(o.get().get(), *p.get(), "occupied({k})");
                            if inp.bool() {
                                assert_eq!(o.remove().get(), p.remove(), "remove({k})");
                            } else {
                                let (a, b) = o.remove_entry();
                                assert_eq!((a.get(), b.get()), p.remove_entry());
                            }
                        }
                        (Entry::Vacant(o), std::collections::btree_map::Entry::Vacant(p)) => {
                            assert_eq!(o.key().get(), k);
                            if full || inp.bool() {
                                assert_eq!(o.into_key().get(), k);
                            } else {
                                o.insert(Tracked::new(v));
                                p.insert(v);
                            }
                        }
                        _ => panic!("entry({k}): occupied/vacant differs from the model"),
                    },
                    _ => match (m.entry(Tracked::new(k)), model.entry(k)) {
                        (
                            Entry::Occupied(mut o),
                            std::collections::btree_map::Entry::Occupied(mut p),
                        ) => {
                            let old = o.insert(Tracked::new(v));
                            assert_eq!(old.get(), p.insert(v), "occupied insert({k})");
                            *o.get_mut() = Tracked::new(v ^ 2);
                            *p.get_mut() = v ^ 2;
                            let r = o.into_mut();
                            assert_eq!(r.get(), v ^ 2);
                        }
                        (Entry::Vacant(_), std::collections::btree_map::Entry::Vacant(_)) => {}
                        _ => panic!("entry({k}): occupied/vacant differs from the model"),
                    },
                }
            }
            12 => {
                what = "retain";
                let p = inp.u8();
                let keep = |a: u32, b: u32| (a.wrapping_mul(31) ^ b ^ u32::from(p)) % 3 != 0;
                let len = model.len();
                if len > 0 && inp.u8() % 4 == 0 {
                    // A panicking predicate: the map must stay valid and
                    // keep the removals made before the panic, like std.
                    let at = inp.below(len);
                    let mut calls = 0;
                    must_panic(what, || {
                        m.retain(|a, b| {
                            panicky(&mut calls, Some(at), |_: &()| keep(a.get(), b.get()), &())
                        })
                    });
                    let before: Vec<(u32, u32)> = model.iter().map(|(a, b)| (*a, *b)).collect();
                    let after: Vec<(u32, u32)> =
                        m.iter().map(|(a, b)| (a.get(), b.get())).collect();
                    check_retained(&before, &after, |(a, b)| keep(a, b), at, what);
                    let mut calls = 0;
                    must_panic(what, || {
                        model.retain(|a, b| {
                            panicky(&mut calls, Some(at), |_: &()| keep(*a, *b), &())
                        })
                    });
                    check(&m, &model, base, 0, what);
                    continue;
                }
                m.retain(|a, b| {
                    let r = keep(a.get(), b.get());
                    if r && p % 2 == 0 {
                        *b = Tracked::new(b.get() + 1);
                    }
                    r
                });
                model.retain(|a, b| {
                    let r = keep(*a, *b);
                    if r && p % 2 == 0 {
                        *b += 1;
                    }
                    r
                });
            }
            13 => {
                what = "from_iter";
                let items = pairs(&mut inp, keys);
                m = match inp.u8() % 3 {
                    0 => tracked(&items).collect(),
                    1 => TreeMap::from_sorted_iter(tracked(&items)),
                    _ => TreeMap::try_from_iter_in(tracked(&items), mallocv2::Heap)
                        .expect("try_from_iter_in"),
                };
                model = items.iter().copied().collect();
            }
            14 | 15 => {
                what = "extend";
                if model.len() < MAX_LEN {
                    let items = pairs(&mut inp, keys);
                    match inp.u8() % 4 {
                        0 if !items.is_empty() => {
                            // The iterator panics: the items before the
                            // panic are added (like std); try_extend adds
                            // none.
                            let at = inp.below(items.len());
                            let failing = |n: &mut usize, e: &(u32, u32)| {
                                assert!(*n != at, "extend iterator panics at item {at}");
                                *n += 1;
                                (Tracked::new(e.0), Tracked::new(e.1))
                            };
                            let mut n = 0;
                            if inp.bool() {
                                must_panic(what, || {
                                    m.extend(items.iter().map(|e| failing(&mut n, e)))
                                });
                                model.extend(items[..at].iter().copied());
                            } else {
                                must_panic(what, || {
                                    m.try_extend(items.iter().map(|e| failing(&mut n, e)))
                                });
                            }
                        }
                        0 | 1 => {
                            m.extend(tracked(&items));
                            model.extend(items.iter().copied());
                        }
                        _ => {
                            m.try_extend(tracked(&items)).expect("try_extend");
                            model.extend(items.iter().copied());
                        }
                    }
                }
            }
            16 => {
                what = "split_off/append";
                let at = inp.below(keys as usize + 1) as u32;
                let mut tail = m.split_off(&at);
                let mut mtail = model.split_off(&at);
                check(&tail, &mtail, base, 2 * m.len(), "split_off tail");
                check(&m, &model, base, 2 * tail.len(), what);
                match inp.u8() % 3 {
                    0 => {
                        m.append(&mut tail);
                        model.append(&mut mtail);
                        assert!(tail.is_empty());
                    }
                    1 => {
                        // Overlapping keys: `tail`'s values win.
                        let items = pairs(&mut inp, keys);
                        tail.extend(tracked(&items));
                        mtail.extend(items.iter().copied());
                        m.append(&mut tail);
                        model.append(&mut mtail);
                        assert!(tail.is_empty());
                    }
                    _ => {}
                }
            }
            17 => {
                what = "clone";
                let c = m.clone();
                assert!(c == m, "{what}: clone !=");
                check(&c, &model, base, 2 * m.len(), "clone");
            }
            18 => {
                what = "into_iter";
                let c = m.clone();
                let len = model.len();
                match inp.u8() % 3 {
                    0 => {
                        let mut it = c.into_iter();
                        let got = (&mut it).map(|(x, y)| (x.get(), y.get()));
                        let want = model.iter().map(|(a, b)| (*a, *b));
                        let (front, back) = take_ends(&mut inp, got, want, what);
                        assert_eq!(it.len(), len - front - back, "into_iter len");
                    }
                    1 => assert!(c.into_keys().map(|k| k.get()).eq(model.keys().copied())),
                    _ => assert!(c
                        .into_values()
                        .rev()
                        .map(|v| v.get())
                        .eq(model.values().rev().copied())),
                }
            }
            19 => {
                what = "iter_mut/values_mut";
                if inp.bool() {
                    for (_, x) in m.iter_mut().rev() {
                        *x = Tracked::new(x.get() + 1);
                    }
                } else {
                    for x in m.values_mut() {
                        *x = Tracked::new(x.get() + 1);
                    }
                }
                for x in model.values_mut() {
                    *x += 1;
                }
                assert!(m.keys().map(Tracked::get).eq(model.keys().copied()), "keys");
                assert!(
                    m.values().map(Tracked::get).eq(model.values().copied()),
                    "values"
                );
            }
            20 => {
                what = "index";
                if model.contains_key(&k) {
                    assert_eq!(m[&k].get(), model[&k], "index({k})");
                } else {
                    must_panic(what, || m[&k].get());
                }
            }
            21 => {
                what = "try_* under an injected OS failure";
                let items = if model.len() < MAX_LEN {
                    pairs(&mut inp, keys)
                } else {
                    Vec::new()
                };
                let kind = inp.u8() % 3;
                arm_fault(&mut inp);
                let r = match kind {
                    0 if !full => m
                        .try_insert(Tracked::new(k), Tracked::new(v))
                        .map(|old| old.map(|o| o.get())),
                    1 => m.try_extend(tracked(&items)).map(|()| None),
                    _ => TreeMap::try_from_iter_in(tracked(&items), mallocv2::Heap).map(|t| {
                        m = t;
                        None
                    }),
                };
                mallocv2::fault::clear();
                match r {
                    Ok(old) => match kind {
                        0 if !full => assert_eq!(old, model.insert(k, v), "try_insert({k})"),
                        1 => model.extend(items.iter().copied()),
                        _ => model = items.iter().copied().collect(),
                    },
                    Err(e) => alloc_error(e, what),
                }
            }
            _ => {
                what = "clear";
                if inp.u8() % 4 == 0 {
                    m.clear();
                    model.clear();
                }
            }
        }
        check(&m, &model, base, 0, what);
    }
}
