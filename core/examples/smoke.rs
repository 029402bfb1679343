//! Quick smoke run of the primitives.
use mallocv2::alloc::{Allocator, Layout};
use mallocv2::{BatchAlloc, Heap, ResizeInPlace};

fn main() {
    let l = Layout::from_size_align(1 << 20, 8).unwrap();
    let g = Heap
        .allocate_with(l, 256 << 20, mallocv2::Flags::NONE)
        .unwrap();
    println!("grant {:?} reserved {}", g.ptr(), g.reserved);
    unsafe { g.ptr().as_ptr().write_bytes(1, 1 << 20) };
    let s0 = Heap::thread_stats();
    let n = unsafe { Heap.try_grow_in_place(g.ptr(), l, 256 << 20) }.unwrap();
    println!("grew to {n}: {}", Heap::thread_stats().since(&s0));
    let l2 = Layout::from_size_align(n, 8).unwrap();
    // remap beyond
    let b =
        unsafe { Heap.grow(g.ptr(), l2, Layout::from_size_align(1 << 30, 8).unwrap()) }.unwrap();
    println!(
        "grow to 1G moved={} {}",
        b.cast::<u8>() != g.ptr(),
        Heap::thread_stats().since(&s0)
    );
    assert_eq!(unsafe { *b.cast::<u8>().as_ptr().add(12345) }, 1);
    unsafe { Heap.deallocate(b.cast(), Layout::from_size_align(b.len(), 8).unwrap()) };
    // aligned
    let la = Layout::from_size_align(64 << 20, 64).unwrap();
    let p = Heap.allocate(la).unwrap();
    let q =
        unsafe { Heap.grow(p.cast(), la, Layout::from_size_align(1 << 30, 64).unwrap()) }.unwrap();
    println!(
        "aligned grow {:?} {}",
        q.cast::<u8>(),
        Heap::thread_stats().since(&s0)
    );
    unsafe { Heap.deallocate(q.cast(), Layout::from_size_align(1 << 30, 64).unwrap()) };
    let l3 = Layout::from_size_align(4096, 1 << 21).unwrap();
    let p = Heap.allocate(l3).unwrap();
    assert_eq!(p.cast::<u8>().as_ptr() as usize % (1 << 21), 0);
    let q = unsafe {
        Heap.grow(
            p.cast(),
            l3,
            Layout::from_size_align(64 << 20, 1 << 21).unwrap(),
        )
    }
    .unwrap();
    assert_eq!(q.cast::<u8>().as_ptr() as usize % (1 << 21), 0);
    unsafe {
        Heap.deallocate(
            q.cast(),
            Layout::from_size_align(64 << 20, 1 << 21).unwrap(),
        )
    };
    // batch
    let lb = Layout::new::<[u8; 32]>();
    let mut v = Vec::new();
    let t = std::time::Instant::now();
    let r = Heap.allocate_batch_into(lb, 4_000_000, &mut v);
    unsafe { Heap.deallocate_batch(&v, lb) };
    println!("batch {:?} in {:?}", r, t.elapsed());
    v.clear();
    let t = std::time::Instant::now();
    let r = Heap.allocate_batch_into(lb, 4_000_000, &mut v);
    for p in &v {
        unsafe { p.as_ptr().write(1) }
    }
    unsafe { Heap.deallocate_batch(&v, lb) };
    println!("batch warm {:?} in {:?}", r, t.elapsed());
    let t = std::time::Instant::now();
    let mut w: Vec<*mut u8> = Vec::with_capacity(4_000_000);
    for _ in 0..4_000_000 {
        w.push(unsafe { std::alloc::alloc(lb) });
    }
    for p in &w {
        unsafe { std::alloc::dealloc(*p, lb) }
    }
    println!("system loop {:?}", t.elapsed());
    println!("{}", Heap::stats());
}
