//! `hashset_ops`: random programs on `mallocv2_collections::hash::HashSet`
//! against std's `HashSet`, on two sets at once (the second one is the
//! argument of the set operations). Elements are heap-owning, drop-counted
//! keys (`Tracked`) with a tag that takes no part in equality or hashing, so
//! the program also sees *which* of two equal elements a set keeps: insert
//! and extend keep the stored one, replace swaps it, get/take return it,
//! difference and symmetric_difference yield the owning set's copy.
//!
//! Covers insert, replace, remove, take, contains, get, get_or_insert(_with),
//! the entry API, retain, extract_if, extend, from_iter, drain (consumed or
//! dropped early), union/intersection/difference/symmetric_difference (the
//! iterators both ways and the `| & - ^` operators), is_subset/is_superset/
//! is_disjoint, `==`, reserve/try_reserve (also its overflow error and
//! injected OS failures: an error changes nothing), shrink_to/shrink_to_fit,
//! clear, clone, iter and into_iter. After every operation, for both sets:
//! the same elements and tags as the model (by lookup and by iteration),
//! `capacity >= len`, and exactly one live `Tracked` per element.

use std::borrow::Borrow;
use std::collections::HashSet as StdSet;
use std::hash::{Hash, Hasher};

use mallocv2_collections::hash::{set::Entry, HashSet};

use super::common::{alloc_error, leak_checked, overflow_refused};
use super::input::{arm_fault, Input, Tracked};

/// A set element: equal and hashed by `key` alone; `tag` tells equal
/// elements apart.
#[derive(Clone, Debug)]
struct Item {
    key: Tracked,
    tag: u8,
}

impl PartialEq for Item {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}

impl Eq for Item {}

impl Hash for Item {
    fn hash<H: Hasher>(&self, h: &mut H) {
        // Hashes like the `u32` it borrows as (`Tracked` hashes its `u32`).
        self.key.hash(h);
    }
}

impl Borrow<u32> for Item {
    fn borrow(&self) -> &u32 {
        self.key.borrow()
    }
}

/// The model's element: the same equality as `Item`.
#[derive(Clone, Copy, Debug)]
struct M {
    key: u32,
    tag: u8,
}

impl PartialEq for M {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}

impl Eq for M {}

impl Hash for M {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.key.hash(h);
    }
}

impl Borrow<u32> for M {
    fn borrow(&self) -> &u32 {
        &self.key
    }
}

fn item(key: u32, tag: u8) -> Item {
    Item {
        key: Tracked::new(key),
        tag,
    }
}

fn pair(i: &Item) -> (u32, u8) {
    (i.key.get(), i.tag)
}

fn mpair(m: &M) -> (u32, u8) {
    (m.key, m.tag)
}

type Set = HashSet<Item>;
type Model = StdSet<M>;

/// Checks one set against its model.
fn check_one(s: &Set, model: &Model, what: &str) {
    assert_eq!(s.len(), model.len(), "{what}: len");
    assert_eq!(s.is_empty(), model.is_empty(), "{what}: is_empty");
    assert!(
        s.capacity() >= s.len(),
        "{what}: capacity {} < len {}",
        s.capacity(),
        s.len()
    );
    for m in model {
        assert_eq!(
            s.get(&m.key).map(pair),
            Some(mpair(m)),
            "{what}: get({})",
            m.key
        );
    }
    let mut n = 0;
    for i in s.iter() {
        assert_eq!(
            model.get(&i.key.get()).map(mpair),
            Some(pair(i)),
            "{what}: iter found {i:?}"
        );
        n += 1;
    }
    assert_eq!(n, model.len(), "{what}: iteration count");
    assert_eq!(s.iter().len(), model.len(), "{what}: iter().len()");
}

struct State {
    s: Set,
    model: Model,
    o: Set,
    omodel: Model,
    base: isize,
}

impl State {
    /// Checks both sets and that exactly their elements (plus `extra`) are
    /// alive.
    fn check(&self, extra: usize, what: &str) {
        check_one(&self.s, &self.model, what);
        check_one(&self.o, &self.omodel, &format!("{what} (other set)"));
        assert_eq!(
            Tracked::live() - self.base,
            (self.s.len() + self.o.len() + extra) as isize,
            "{what}: live elements"
        );
    }
}

fn keep(k: u32, t: u8, p: u8) -> bool {
    (k.wrapping_mul(31) ^ u32::from(t) ^ u32::from(p)) % 3 != 0
}

/// `n` elements with keys spread from `k` over `0..keys` (some repeated).
fn batch(inp: &mut Input, k: u32, t: u8, keys: usize) -> Vec<M> {
    let n = match inp.u8() % 4 {
        0 => inp.below(keys + 1),
        _ => inp.below(40),
    };
    let step = 1 + inp.below(9) as u32;
    (0..n as u32)
        .map(|i| M {
            key: (k + i * step) % keys as u32,
            tag: t ^ i as u8,
        })
        .collect()
}

fn items(ms: &[M]) -> impl Iterator<Item = Item> + '_ {
    ms.iter().map(|m| item(m.key, m.tag))
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort_unstable();
    v
}

/// Runs one program.
pub fn run(data: &[u8]) {
    leak_checked(|| program(data));
}

fn program(data: &[u8]) {
    let mut inp = Input::new(data);
    let keys = [8, 64, 512][inp.below(3)];
    let s = match inp.u8() % 3 {
        0 => Set::new(),
        1 => Set::with_capacity(inp.below(300)),
        _ => Set::default(),
    };
    let mut st = State {
        s,
        model: Model::new(),
        o: Set::new(),
        omodel: Model::new(),
        base: Tracked::live(),
    };
    st.check(0, "new");
    let mut steps = 0;
    while !inp.is_empty() && steps < 300 {
        steps += 1;
        let k = inp.below(keys) as u32;
        let t = inp.u8();
        let what;
        let State {
            s,
            model,
            o,
            omodel,
            ..
        } = &mut st;
        match inp.u8() % 20 {
            0 | 1 => {
                what = "insert";
                // An element already there stays, with its tag.
                assert_eq!(
                    s.insert(item(k, t)),
                    model.insert(M { key: k, tag: t }),
                    "{what}({k})"
                );
            }
            2 => {
                what = "replace";
                assert_eq!(
                    s.replace(item(k, t)).as_ref().map(pair),
                    model.replace(M { key: k, tag: t }).as_ref().map(mpair),
                    "{what}({k})"
                );
            }
            3 => {
                what = "remove/take";
                if inp.bool() {
                    assert_eq!(s.remove(&k), model.remove(&k), "remove({k})");
                } else {
                    assert_eq!(
                        s.take(&k).as_ref().map(pair),
                        model.take(&k).as_ref().map(mpair),
                        "take({k})"
                    );
                }
            }
            4 => {
                what = "contains/get";
                assert_eq!(s.contains(&k), model.contains(&k), "contains({k})");
                assert_eq!(s.get(&k).map(pair), model.get(&k).map(mpair), "get({k})");
            }
            5 => {
                what = "get_or_insert/entry";
                let want = *model.get(&k).unwrap_or(&M { key: k, tag: t });
                match inp.u8() % 3 {
                    0 => {
                        let got = pair(s.get_or_insert(item(k, t)));
                        assert_eq!(got, mpair(&want), "get_or_insert({k})");
                        model.insert(want);
                    }
                    1 => {
                        let got = pair(s.get_or_insert_with(&k, |&k| item(k, t)));
                        assert_eq!(got, mpair(&want), "get_or_insert_with({k})");
                        model.insert(want);
                    }
                    _ => match s.entry(item(k, t)) {
                        Entry::Occupied(e) => {
                            assert!(model.contains(&k), "entry({k}): occupied, not in the model");
                            assert_eq!(pair(e.get()), mpair(&want), "occupied entry({k})");
                            if inp.bool() {
                                assert_eq!(pair(&e.remove()), mpair(&want), "entry remove");
                                model.remove(&k);
                            }
                        }
                        Entry::Vacant(e) => {
                            assert!(!model.contains(&k), "entry({k}): vacant, in the model");
                            assert_eq!(pair(e.get()), (k, t), "vacant entry({k})");
                            if inp.bool() {
                                assert_eq!(pair(e.insert().get()), (k, t), "vacant insert");
                                model.insert(want);
                            } else {
                                assert_eq!(pair(&e.into_value()), (k, t), "into_value");
                            }
                        }
                    },
                }
            }
            6 => {
                what = "retain";
                let p = inp.u8();
                s.retain(|i| keep(i.key.get(), i.tag, p));
                model.retain(|m| keep(m.key, m.tag, p));
            }
            7 => {
                what = "extract_if";
                let p = inp.u8();
                let stop = inp.below(model.len() + 1);
                // Dropping the iterator early keeps the rest: taking
                // `stop` elements removes exactly those.
                let got: Vec<(u32, u8)> = s
                    .extract_if(|i| !keep(i.key.get(), i.tag, p))
                    .take(stop)
                    .map(|i| pair(&i))
                    .collect();
                let mut seen = StdSet::new();
                for &(key, tag) in &got {
                    assert!(seen.insert(key), "{what}: {key} extracted twice");
                    assert!(!keep(key, tag, p), "{what}: extracted a kept {key}");
                    assert_eq!(
                        model.take(&key).as_ref().map(mpair),
                        Some((key, tag)),
                        "{what}: extracted {key}"
                    );
                }
                if got.len() < stop {
                    // Ran to the end: nothing rejected is left.
                    model.retain(|m| keep(m.key, m.tag, p));
                }
            }
            8 => {
                what = "extend/from_iter";
                let ms = batch(&mut inp, k, t, keys);
                if inp.u8() % 4 == 0 {
                    *s = items(&ms).collect();
                    *model = ms.iter().copied().collect();
                } else {
                    // Equal elements already there stay (also within `ms`:
                    // the first one wins).
                    s.extend(items(&ms));
                    model.extend(ms.iter().copied());
                }
            }
            9 => {
                what = "drain";
                let take = inp.below(model.len() + 1);
                let got: Vec<(u32, u8)> = s.drain().take(take).map(|i| pair(&i)).collect();
                assert_eq!(got.len(), take, "{what}: yielded too few");
                let mut seen = StdSet::new();
                for &(key, tag) in &got {
                    assert!(seen.insert(key), "{what}: {key} drained twice");
                    assert_eq!(
                        model.get(&key).map(mpair),
                        Some((key, tag)),
                        "{what}: drained {key}"
                    );
                }
                // The rest is dropped with the iterator.
                model.clear();
            }
            10 | 11 => {
                what = "set operations";
                let (a, am, b, bm) = if inp.bool() {
                    (&*s, &*model, &*o, &*omodel)
                } else {
                    (&*o, &*omodel, &*s, &*model)
                };
                set_ops(&mut inp, a, am, b, bm);
            }
            12 => {
                what = "relations";
                assert_eq!(s.is_subset(o), model.is_subset(omodel), "is_subset");
                assert_eq!(s.is_superset(o), model.is_superset(omodel), "is_superset");
                assert_eq!(o.is_subset(s), omodel.is_subset(model), "is_subset back");
                assert_eq!(s.is_disjoint(o), model.is_disjoint(omodel), "is_disjoint");
                assert_eq!(*s == *o, *model == *omodel, "==");
                assert_eq!(*o == *s, *omodel == *model, "== back");
            }
            13 => {
                what = "change the other set";
                match inp.u8() % 6 {
                    0 => {
                        assert_eq!(o.insert(item(k, t)), omodel.insert(M { key: k, tag: t }));
                    }
                    1 => assert_eq!(o.remove(&k), omodel.remove(&k)),
                    2 => {
                        // A copy of the main set with a few changes, so the
                        // relations come out true now and then.
                        *o = s.clone();
                        *omodel = model.clone();
                        let p = inp.u8();
                        if inp.bool() {
                            o.retain(|i| keep(i.key.get(), i.tag, p));
                            omodel.retain(|m| keep(m.key, m.tag, p));
                        }
                    }
                    3 => {
                        o.clear();
                        omodel.clear();
                    }
                    4 => {
                        let ms = batch(&mut inp, k, t, keys);
                        o.extend(items(&ms));
                        omodel.extend(ms.iter().copied());
                    }
                    _ => {
                        std::mem::swap(s, o);
                        std::mem::swap(model, omodel);
                    }
                }
            }
            14 => {
                what = "try_reserve";
                let n = inp.below(1000);
                s.try_reserve(n).expect("try_reserve");
                assert!(s.capacity() >= s.len() + n, "{what}({n})");
            }
            15 => {
                what = "try_reserve overflow";
                let n = if inp.bool() {
                    usize::MAX
                } else {
                    usize::MAX / 2 - inp.below(64)
                };
                let cap = s.capacity();
                overflow_refused(s.try_reserve(n), n, what);
                assert_eq!(s.capacity(), cap, "{what}: a failed call changed capacity");
            }
            16 => {
                what = "reserve/shrink";
                let cap = s.capacity();
                match inp.u8() % 4 {
                    0 => {
                        let n = inp.below(1000);
                        s.reserve(n);
                        assert!(s.capacity() >= s.len() + n, "reserve({n})");
                    }
                    // `capacity()` is `len + growth_left`, and deleted
                    // slots (tombstones) use up growth: a shrink that
                    // rebuilds the table for fewer buckets can report more
                    // capacity than before (std's HashSet does the same).
                    // What it may not do is leave a table larger than the
                    // one sized for the target: under `2 * target`, or 14
                    // for the smallest tables.
                    1 => {
                        s.shrink_to_fit();
                        let c = s.capacity();
                        assert!(c >= s.len(), "shrink_to_fit: {c} < len");
                        assert!(
                            c <= cap || c <= (2 * s.len()).max(14),
                            "shrink_to_fit grew from {cap} to {c} for len {}",
                            s.len()
                        );
                    }
                    2 => {
                        let n = inp.below(600);
                        s.shrink_to(n);
                        let c = s.capacity();
                        assert!(c >= s.len().max(n).min(cap), "shrink_to({n})");
                        assert!(
                            c <= cap || c <= (2 * s.len().max(n)).max(14),
                            "shrink_to({n}) grew from {cap} to {c} for len {}",
                            s.len()
                        );
                    }
                    _ => {
                        // An injected OS failure: Ok with the room, or
                        // AllocError with nothing changed.
                        let n = match inp.u8() % 4 {
                            0 => inp.below(1 << 20),
                            _ => inp.below(5000),
                        };
                        arm_fault(&mut inp);
                        let r = s.try_reserve(n);
                        mallocv2::fault::clear();
                        match r {
                            Ok(()) => assert!(s.capacity() >= s.len() + n, "try_reserve({n})"),
                            Err(e) => {
                                alloc_error(e, what);
                                assert_eq!(
                                    s.capacity(),
                                    cap,
                                    "{what}: a failed call changed capacity"
                                );
                            }
                        }
                    }
                }
            }
            17 => {
                what = "clone";
                let c = s.clone();
                assert!(c == *s, "{what}: clone !=");
                check_one(&c, model, what);
                st.check(c.len(), what);
                continue;
            }
            18 => {
                what = "into_iter/collect";
                let got: Vec<(u32, u8)> = std::mem::take(s).into_iter().map(|i| pair(&i)).collect();
                assert_eq!(
                    sorted(got.clone()),
                    sorted(model.iter().map(mpair).collect()),
                    "{what}"
                );
                *s = match inp.u8() % 3 {
                    0 => got.iter().map(|&(a, b)| item(a, b)).collect(),
                    1 if got.len() >= 2 => {
                        let mut n = Set::from([item(got[0].0, got[0].1), item(got[1].0, got[1].1)]);
                        n.extend(got[2..].iter().map(|&(a, b)| item(a, b)));
                        n
                    }
                    _ => {
                        let mut n = Set::with_capacity(got.len());
                        let cap = n.capacity();
                        n.extend(got.iter().map(|&(a, b)| item(a, b)));
                        assert_eq!(n.capacity(), cap, "{what}: grew past with_capacity");
                        n
                    }
                };
            }
            _ => {
                what = "clear";
                if inp.u8() % 4 == 0 {
                    s.clear();
                    model.clear();
                } else {
                    let n: usize = (&*s).into_iter().count();
                    assert_eq!(n, model.len(), "{what}: (&set).into_iter()");
                }
            }
        }
        st.check(0, what);
    }
}

/// Set operations on `a` against `b` (models `am`, `bm`): the iterators
/// and the operators that build new sets.
fn set_ops(inp: &mut Input, a: &Set, am: &Model, b: &Set, bm: &Model) {
    let live = Tracked::live();
    // An element of both sets may come from either (as std says).
    let either = |(key, tag): (u32, u8), what: &str| {
        let ta = am.get(&key).map(|m| m.tag);
        let tb = bm.get(&key).map(|m| m.tag);
        assert!(
            Some(tag) == ta || Some(tag) == tb,
            "{what}: {key} with tag {tag}, the sets have {ta:?} and {tb:?}"
        );
    };
    let keys = |v: &[(u32, u8)]| sorted(v.iter().map(|p| p.0).collect::<Vec<u32>>());
    let op = inp.u8() % 4;
    let got: Vec<(u32, u8)> = if inp.bool() {
        match op {
            0 => a.union(b).map(pair).collect(),
            1 => a.intersection(b).map(pair).collect(),
            2 => a.difference(b).map(pair).collect(),
            _ => a.symmetric_difference(b).map(pair).collect(),
        }
    } else {
        let n = match op {
            0 => a | b,
            1 => a & b,
            2 => a - b,
            _ => a ^ b,
        };
        assert_eq!(
            Tracked::live() - live,
            n.len() as isize,
            "set operator: live elements of the result"
        );
        let v = n.iter().map(pair).collect();
        drop(n);
        v
    };
    let want: Vec<(u32, u8)> = match op {
        0 => am.union(bm).map(mpair).collect(),
        1 => am.intersection(bm).map(mpair).collect(),
        2 => am.difference(bm).map(mpair).collect(),
        _ => am.symmetric_difference(bm).map(mpair).collect(),
    };
    let what = [
        "union",
        "intersection",
        "difference",
        "symmetric_difference",
    ][op as usize];
    let gk = keys(&got);
    assert!(
        gk.windows(2).all(|w| w[0] < w[1]),
        "{what}: an element twice"
    );
    assert_eq!(gk, keys(&want), "{what}: elements");
    if op >= 2 {
        // Each element is in one set only: its tag is that set's.
        assert_eq!(sorted(got), sorted(want), "{what}: tags");
    } else {
        for p in got {
            either(p, what);
        }
    }
    assert_eq!(Tracked::live(), live, "set operations leaked");
}
