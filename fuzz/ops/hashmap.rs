//! `hashmap_ops`: random programs on `mallocv2_collections::hash::HashMap`
//! against std's `HashMap`, with heap-owning, drop-counted keys and values
//! (`Tracked`). Covers insert, remove, the entry API, retain, extract_if,
//! drain, extend, try_reserve (also its overflow error), reserve,
//! shrink_to_fit/shrink_to, clear and clone. After every operation: the
//! same entries as the model (by lookup and by iteration), `capacity >=
//! len`, and exactly `2 * len` `Tracked` values alive.

use std::collections::HashMap as StdMap;

use mallocv2_collections::hash::{Entry, HashMap};

use super::common::{leak_checked, map_get, map_remove, overflow_refused};
use super::input::{Input, Tracked};

type Map = HashMap<Tracked, Tracked>;

fn check(m: &Map, model: &StdMap<u32, u32>, base: isize, extra: usize, what: &str) {
    assert_eq!(m.len(), model.len(), "{what}: len");
    assert_eq!(m.is_empty(), model.is_empty(), "{what}: is_empty");
    assert!(
        m.capacity() >= m.len(),
        "{what}: capacity {} < len {}",
        m.capacity(),
        m.len()
    );
    for (k, v) in model {
        assert_eq!(m.get(k).map(Tracked::get), Some(*v), "{what}: get({k})");
    }
    let mut n = 0;
    for (k, v) in m.iter() {
        assert_eq!(
            model.get(&k.get()),
            Some(&v.get()),
            "{what}: iter found {k:?}"
        );
        n += 1;
    }
    assert_eq!(n, model.len(), "{what}: iteration count");
    assert_eq!(
        Tracked::live() - base,
        (2 * m.len() + extra) as isize,
        "{what}: live keys and values"
    );
}

fn keep(k: u32, v: u32, p: u8) -> bool {
    (k.wrapping_mul(31) ^ v ^ u32::from(p)) % 3 != 0
}

/// Runs one program.
pub fn run(data: &[u8]) {
    leak_checked(|| program(data));
}

fn program(data: &[u8]) {
    let mut inp = Input::new(data);
    let base = Tracked::live();
    let keys = [8, 64, 512][inp.below(3)];
    let mut m: Map = if inp.bool() {
        HashMap::new()
    } else {
        HashMap::with_capacity(inp.below(300))
    };
    let mut model: StdMap<u32, u32> = StdMap::new();
    let mut steps = 0;
    while !inp.is_empty() && steps < 300 {
        steps += 1;
        let k = inp.below(keys) as u32;
        let v = u32::from(inp.u8());
        let what;
        match inp.u8() % 20 {
            0..=3 => {
                what = "insert";
                let old = m.insert(Tracked::new(k), Tracked::new(v));
                assert_eq!(old.map(|o| o.get()), model.insert(k, v), "{what}({k})");
            }
            4 | 5 => {
                what = "remove";
                map_remove(&mut inp, &mut m, &mut model, k, what);
            }
            6 => {
                what = "get";
                map_get(&mut m, &mut model, k, v);
            }
            7..=9 => {
                what = "entry";
                match inp.u8() % 4 {
                    0 => {
                        let e = m.entry(Tracked::new(k)).or_insert(Tracked::new(v));
                        let f = model.entry(k).or_insert(v);
                        assert_eq!(e.get(), *f, "or_insert({k})");
                        *e = Tracked::new(v ^ 1);
                        *f = v ^ 1;
                    }
                    1 => {
                        m.entry(Tracked::new(k))
                            .and_modify(|x| *x = Tracked::new(x.get() + 1))
                            .or_insert_with(|| Tracked::new(v));
                        model.entry(k).and_modify(|x| *x += 1).or_insert(v);
                    }
                    2 => match (m.entry(Tracked::new(k)), model.entry(k)) {
                        (Entry::Occupied(o), std::collections::hash_map::Entry::Occupied(p)) => {
                            assert_eq!(o.key().get(), k);
                            assert_eq!(o.get().get(), *p.get(), "occupied({k})");
                            if inp.bool() {
                                assert_eq!(o.remove().get(), p.remove(), "remove({k})");
                            } else {
                                let (a, b) = o.remove_entry();
                                assert_eq!((a.get(), b.get()), p.remove_entry());
                            }
                        }
                        (Entry::Vacant(o), std::collections::hash_map::Entry::Vacant(p)) => {
                            assert_eq!(o.key().get(), k);
                            o.insert(Tracked::new(v));
                            p.insert(v);
                        }
                        _ => panic!("entry({k}): occupied/vacant differs from the model"),
                    },
                    _ => match (m.entry(Tracked::new(k)), model.entry(k)) {
                        (
                            Entry::Occupied(mut o),
                            std::collections::hash_map::Entry::Occupied(mut p),
                        ) => {
                            let old = o.insert(Tracked::new(v));
                            assert_eq!(old.get(), p.insert(v), "occupied insert({k})");
                            *o.get_mut() = Tracked::new(v ^ 2);
                            *p.get_mut() = v ^ 2;
                        }
                        (Entry::Vacant(_), std::collections::hash_map::Entry::Vacant(_)) => {}
                        _ => panic!("entry({k}): occupied/vacant differs from the model"),
                    },
                }
            }
            10 => {
                what = "retain";
                let p = inp.u8();
                m.retain(|a, b| keep(a.get(), b.get(), p));
                model.retain(|a, b| keep(*a, *b, p));
            }
            11 => {
                what = "extract_if";
                let p = inp.u8();
                let mut got: Vec<(u32, u32)> = m
                    .extract_if(|a, b| !keep(a.get(), b.get(), p))
                    .map(|(a, b)| (a.get(), b.get()))
                    .collect();
                let mut want: Vec<(u32, u32)> = model
                    .iter()
                    .filter(|(a, b)| !keep(**a, **b, p))
                    .map(|(a, b)| (*a, *b))
                    .collect();
                model.retain(|a, b| keep(*a, *b, p));
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "{what}");
            }
            12 => {
                what = "try_reserve";
                let n = inp.below(1000);
                m.try_reserve(n).expect("try_reserve");
                assert!(m.capacity() >= m.len() + n, "{what}({n})");
            }
            13 => {
                what = "try_reserve overflow";
                let n = if inp.bool() {
                    usize::MAX
                } else {
                    usize::MAX / 2 - inp.below(64)
                };
                overflow_refused(m.try_reserve(n), n, what);
            }
            14 => {
                what = "reserve/shrink";
                let cap = m.capacity();
                match inp.u8() % 3 {
                    0 => {
                        let n = inp.below(1000);
                        m.reserve(n);
                        assert!(m.capacity() >= m.len() + n, "reserve({n})");
                    }
                    1 => m.shrink_to_fit(),
                    _ => {
                        let n = inp.below(600);
                        m.shrink_to(n);
                        assert!(m.capacity() >= m.len().max(n).min(cap), "shrink_to({n})");
                    }
                }
            }
            15 => {
                what = "extend";
                let n = inp.below(64);
                let items: Vec<(u32, u32)> = (0..n)
                    .map(|i| ((k + i as u32 * 7) % keys as u32, v ^ i as u32))
                    .collect();
                m.extend(
                    items
                        .iter()
                        .map(|&(a, b)| (Tracked::new(a), Tracked::new(b))),
                );
                model.extend(items.iter().copied());
            }
            16 => {
                what = "drain";
                let mut got: Vec<(u32, u32)> = m.drain().map(|(a, b)| (a.get(), b.get())).collect();
                let mut want: Vec<(u32, u32)> = model.drain().collect();
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "{what}");
            }
            17 => {
                what = "clone";
                let c = m.clone();
                assert!(c == m, "{what}: clone !=");
                check(&c, &model, base, 2 * m.len(), what);
            }
            18 => {
                what = "into_iter/collect";
                let mut got: Vec<(u32, u32)> = std::mem::take(&mut m)
                    .into_iter()
                    .map(|(a, b)| (a.get(), b.get()))
                    .collect();
                got.sort_unstable();
                let mut want: Vec<(u32, u32)> = model.iter().map(|(a, b)| (*a, *b)).collect();
                want.sort_unstable();
                assert_eq!(got, want, "{what}");
                m = got
                    .iter()
                    .map(|&(a, b)| (Tracked::new(a), Tracked::new(b)))
                    .collect();
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
