//! `AlignedVec<T, ALIGN, A>`: the alignment holds through every growth and
//! shrink (differential test against `std::vec::Vec` checking it after each
//! operation), growth to 64 MiB copies under 1% of the final size, lane
//! helpers, zero-sized and over-aligned elements, and failures.

use mallocv2::alloc::Global;
use mallocv2::{Heap, ResizeInPlace};
use mallocv2_collections::AlignedVec;
use mallocv2_collections::TryReserveError;
use quickcheck::{Arbitrary, Gen, QuickCheck};

mod common;
use common::{in_child, limit_address_space, CHILD_OK};

#[derive(Clone, Debug)]
enum Op {
    Push(u8),
    PushMany(u8, u16),
    Pop,
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
    Reserve(usize),
    ReserveExact(usize),
    ShrinkToFit,
    ShrinkTo(usize),
    Extend(std::vec::Vec<u8>),
    Drain(usize, usize),
    Retain(u8),
    Dedup,
    Resize(usize, u8),
    SplitOff(usize),
    PadToLanes(u8),
    Clone,
    Clear,
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Op {
        match u8::arbitrary(g) % 19 {
            0 | 1 => Op::Push(u8::arbitrary(g)),
            2 => Op::PushMany(u8::arbitrary(g), u16::arbitrary(g) % 5000),
            3 => Op::Pop,
            4 => Op::Insert(usize::arbitrary(g), u8::arbitrary(g)),
            5 => Op::Remove(usize::arbitrary(g)),
            6 => Op::Truncate(usize::arbitrary(g)),
            7 => Op::Reserve(usize::arbitrary(g) % 20_000),
            8 => Op::ReserveExact(usize::arbitrary(g) % 300),
            9 => Op::ShrinkToFit,
            10 => Op::ShrinkTo(usize::arbitrary(g) % 300),
            11 => Op::Extend(Arbitrary::arbitrary(g)),
            12 => Op::Drain(usize::arbitrary(g), usize::arbitrary(g)),
            13 => Op::Retain(u8::arbitrary(g) % 3 + 1),
            14 => Op::Dedup,
            15 => Op::Resize(usize::arbitrary(g) % 3000, u8::arbitrary(g)),
            16 => Op::SplitOff(usize::arbitrary(g)),
            17 => Op::PadToLanes(u8::arbitrary(g) % 7),
            _ => {
                if bool::arbitrary(g) {
                    Op::Clone
                } else {
                    Op::Clear
                }
            }
        }
    }
}

fn check<const ALIGN: usize, A: ResizeInPlace>(v: &AlignedVec<u32, ALIGN, A>, m: &[u32]) {
    assert_eq!(v.as_slice(), m);
    assert!(
        v.len() <= v.capacity(),
        "len {} > capacity {}",
        v.len(),
        v.capacity()
    );
    assert_eq!(
        v.as_ptr() as usize % ALIGN,
        0,
        "buffer {:p} not aligned to {ALIGN}",
        v.as_ptr()
    );
}

fn run<const ALIGN: usize>(ops: std::vec::Vec<Op>) -> bool {
    let mut v: AlignedVec<u32, ALIGN> = AlignedVec::new();
    let mut m: std::vec::Vec<u32> = std::vec::Vec::new();
    for op in ops {
        let len = m.len();
        match op {
            Op::Push(x) => {
                v.push(x.into());
                m.push(x.into());
            }
            Op::PushMany(x, n) => {
                for i in 0..n as u32 {
                    v.push(i + x as u32);
                    m.push(i + x as u32);
                }
            }
            Op::Pop => assert_eq!(v.pop(), m.pop()),
            Op::Insert(i, x) => {
                v.insert(i % (len + 1), x.into());
                m.insert(i % (len + 1), x.into());
            }
            Op::Remove(i) if len > 0 => assert_eq!(v.remove(i % len), m.remove(i % len)),
            Op::Remove(_) => {}
            Op::Truncate(n) => {
                v.truncate(n % (len + 2));
                m.truncate(n % (len + 2));
            }
            Op::Reserve(n) => {
                v.reserve(n);
                assert!(v.capacity() >= len + n);
            }
            Op::ReserveExact(n) => {
                v.reserve_exact(n);
                assert!(v.capacity() >= len + n);
            }
            Op::ShrinkToFit => v.shrink_to_fit(),
            Op::ShrinkTo(n) => v.shrink_to(n),
            Op::Extend(s) => {
                v.extend(s.iter().map(|&x| x as u32));
                m.extend(s.iter().map(|&x| x as u32));
            }
            Op::Drain(a, b) => {
                let a = a % (len + 1);
                let b = a + b % (len - a + 1);
                assert!(v.drain(a..b).eq(m.drain(a..b)));
            }
            Op::Retain(k) => {
                v.retain(|x| x % k as u32 == 0);
                m.retain(|x| x % k as u32 == 0);
            }
            Op::Dedup => {
                v.dedup();
                m.dedup();
            }
            Op::Resize(n, x) => {
                v.resize(n, x.into());
                m.resize(n, x.into());
            }
            Op::SplitOff(i) => {
                let a = v.split_off(i % (len + 1));
                let b = m.split_off(i % (len + 1));
                check(&a, &b);
            }
            Op::PadToLanes(k) => {
                let lane = 4usize << k;
                let added = v.pad_to_lanes(lane, 7);
                let per = lane / 4;
                let want = (per - len % per) % per;
                assert_eq!(added, want);
                m.resize(len + want, 7);
                let (chunks, tail) = v.as_chunks::<4>();
                assert_eq!(chunks.len() * 4 + tail.len(), v.len());
            }
            Op::Clone => {
                let c = v.clone();
                check(&c, &m);
                v = c;
            }
            Op::Clear => {
                v.clear();
                m.clear();
            }
        }
        check(&v, &m);
    }
    true
}

#[test]
fn differential_align_16() {
    QuickCheck::new()
        .tests(150)
        .quickcheck(run::<16> as fn(std::vec::Vec<Op>) -> bool);
}

#[test]
fn differential_align_64() {
    QuickCheck::new()
        .tests(150)
        .quickcheck(run::<64> as fn(std::vec::Vec<Op>) -> bool);
}

#[test]
fn differential_align_4096() {
    QuickCheck::new()
        .tests(60)
        .quickcheck(run::<4096> as fn(std::vec::Vec<Op>) -> bool);
}

#[test]
fn differential_align_65536() {
    QuickCheck::new()
        .tests(30)
        .quickcheck(run::<65536> as fn(std::vec::Vec<Op>) -> bool);
}

#[test]
fn growth_to_64_mib_keeps_alignment_and_copies_under_one_percent() {
    let before = Heap::thread_stats();
    let mut v: AlignedVec<u8, 64> = AlignedVec::new();
    let n = 64usize << 20;
    let mut last_ptr = v.as_ptr();
    let mut moves = 0;
    // Push in 4 KiB slices (a byte at a time is slow in debug builds);
    // the growth path is the same.
    let chunk = [0xA5u8; 4096];
    while v.len() < n {
        v.extend_from_slice(&chunk);
        assert_eq!(v.as_ptr() as usize % 64, 0);
        if v.as_ptr() != last_ptr {
            moves += 1;
            last_ptr = v.as_ptr();
        }
    }
    let d = Heap::thread_stats().since(&before);
    println!("AlignedVec<u8, 64> to 64 MiB: {moves} moves; {d}");
    assert_eq!(v.len(), n);
    assert!(v.iter().step_by(4093).all(|&b| b == 0xA5));
    assert!(
        d.bytes_copied < (n as u64) / 100,
        "copied {} bytes growing to {n}: {d}",
        d.bytes_copied
    );
    // Shrink keeps the alignment and the contents.
    v.truncate(1000);
    v.shrink_to_fit();
    assert_eq!(v.as_ptr() as usize % 64, 0);
    assert!(v.capacity() < 1 << 20);
    assert!(v.iter().all(|&b| b == 0xA5));
}

#[test]
fn push_one_at_a_time_keeps_alignment_for_many_alignments() {
    fn go<const ALIGN: usize>() {
        let mut v: AlignedVec<u16, ALIGN> = AlignedVec::new();
        assert_eq!(v.as_ptr() as usize % ALIGN, 0);
        for i in 0..40_000u16 {
            v.push(i);
            assert_eq!(v.as_ptr() as usize % ALIGN, 0, "len {}", v.len());
        }
        for _ in 0..39_990 {
            v.pop();
        }
        v.shrink_to_fit();
        assert_eq!(v.as_ptr() as usize % ALIGN, 0);
        assert_eq!(v, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    go::<2>();
    go::<32>();
    go::<128>();
    go::<1024>();
    go::<8192>();
    go::<{ 1 << 20 }>();
}

#[test]
fn overaligned_and_zero_sized_elements() {
    #[repr(align(256))]
    #[derive(Clone, Debug, PartialEq)]
    struct A256(u32);
    let mut v: AlignedVec<A256, 512> = AlignedVec::new();
    for cycle in 0..3 {
        for _ in 0..2000 {
            v.push(A256(v.len() as u32));
            assert_eq!(v.as_ptr() as usize % 512, 0);
        }
        v.truncate(cycle * 3 + 1);
        v.shrink_to_fit();
        assert_eq!(v.as_ptr() as usize % 512, 0);
        assert!(v.iter().enumerate().all(|(i, x)| x.0 == i as u32));
    }

    let mut z: AlignedVec<(), 64> = AlignedVec::new();
    assert_eq!(z.capacity(), usize::MAX);
    for _ in 0..100 {
        z.push(());
    }
    assert_eq!(z.as_ptr() as usize % 64, 0);
    assert_eq!(z.len(), 100);
    assert_eq!(z.into_iter().count(), 100);
}

#[test]
fn lane_helpers() {
    let mut v: AlignedVec<f32, 32> = (0..13).map(|i| i as f32).collect();
    assert_eq!(v.pad_to_lanes(32, 0.0), 3);
    assert_eq!(v.len(), 16);
    let (lanes, tail) = v.as_chunks::<8>();
    assert_eq!((lanes.len(), tail.len()), (2, 0));
    for lane in lanes {
        assert_eq!(lane.as_ptr() as usize % 32, 0);
    }
    assert_eq!(lanes[1][4], 12.0);
    assert_eq!(lanes[1][5..], [0.0; 3]);
    let (chunks, rest) = v.as_chunks_mut::<3>();
    assert_eq!((chunks.len(), rest.len()), (5, 1));
    chunks[0][0] = 100.0;
    assert_eq!(v[0], 100.0);
    assert_eq!(v.as_aligned_ptr() as usize % 32, 0);
    let empty: AlignedVec<f32, 32> = AlignedVec::new();
    assert_eq!(empty.as_chunks::<8>().0.len(), 0);
    assert_eq!(empty.as_aligned_ptr() as usize % 32, 0);
    let r = std::panic::catch_unwind(|| {
        let mut w: AlignedVec<u32, 16> = AlignedVec::new();
        w.pad_to_lanes(6, 0);
    });
    assert!(r.is_err());
}

#[test]
fn try_reserve_boundaries_and_other_allocators() {
    let mut v: AlignedVec<u64, 128> = AlignedVec::from([1, 2]);
    assert_eq!(
        v.try_reserve(usize::MAX),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(
        v.try_reserve(isize::MAX as usize / 8),
        Err(TryReserveError::CapacityOverflow)
    );
    assert!(matches!(
        v.try_reserve(1 << 58),
        Err(TryReserveError::AllocError { .. })
    ));
    assert_eq!(v, [1, 2]);

    let mut g: AlignedVec<u8, 256, Global> = AlignedVec::new_in(Global);
    for i in 0..100_000u32 {
        g.push(i as u8);
        assert_eq!(g.as_ptr() as usize % 256, 0);
    }
    g.truncate(3);
    g.shrink_to_fit();
    assert_eq!(g, [0, 1, 2]);
    assert_eq!(g.as_ptr() as usize % 256, 0);
}

#[test]
fn traits() {
    let a: AlignedVec<u8, 64> = AlignedVec::from(&[1u8, 2, 3][..]);
    let b: AlignedVec<u8, 16> = AlignedVec::from([1, 2, 3]);
    assert_eq!(a, b);
    assert_eq!(a, [1, 2, 3]);
    assert_eq!(a, vec![1, 2, 3]);
    assert_eq!(a, mallocv2_collections::Vec::from([1, 2, 3]));
    let hi: AlignedVec<u8, 64> = AlignedVec::from([1, 2, 4]);
    assert!(a < hi);
    assert_eq!(format!("{a:?}"), "[1, 2, 3]");
    assert_eq!(a[1..], [2, 3]);
    let mut c = a.clone();
    assert_eq!(c.as_ptr() as usize % 64, 0);
    let mut d = c.split_off(0);
    assert_eq!(d.as_ptr() as usize % 64, 0);
    std::io::Write::write_all(&mut d, b"xy").unwrap();
    assert_eq!(d, [1, 2, 3, b'x', b'y']);
    let v = d.into_vec();
    assert_eq!(v.as_ptr() as usize % 64, 0);
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AlignedVec<u8, 64>>();
}

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip() {
    let a: AlignedVec<u16, 64> = AlignedVec::from([1, 2, 3]);
    let j = serde_json::to_string(&a).unwrap();
    assert_eq!(j, "[1,2,3]");
    let back: AlignedVec<u16, 64> = serde_json::from_str(&j).unwrap();
    assert_eq!(back, a);
    assert_eq!(back.as_ptr() as usize % 64, 0);
}

/// Under `RLIMIT_AS` (in a child process, so the limit stays there), growth
/// of an aligned vector fails with an error and keeps every element and
/// the alignment.
#[test]
fn rlimit_as_child() {
    if in_child("rlimit_as_child") {
        rlimit_child_body();
    }
}

fn rlimit_child_body() {
    limit_address_space(192 << 20);

    let mut v: AlignedVec<u32, 4096> = AlignedVec::new();
    let chunk: std::vec::Vec<u32> = (0..1024).collect();
    let err = loop {
        if let Err(e) = v.try_reserve(chunk.len()) {
            break e;
        }
        v.extend_from_slice(&chunk);
        assert_eq!(v.as_ptr() as usize % 4096, 0);
        assert!(v.len() < 1 << 30, "the limit never hit");
    };
    assert!(matches!(err, TryReserveError::AllocError { .. }), "{err:?}");
    assert_eq!(v.as_ptr() as usize % 4096, 0);
    assert!(v.iter().enumerate().all(|(i, &x)| x == i as u32 % 1024));
    println!("{CHILD_OK}: {} elements before the limit", v.len());
}
