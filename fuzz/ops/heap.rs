//! `heap_ops`: random programs of allocate, grow, shrink, in-place resize,
//! copy-free move, batch allocate/free, per-item batch requests and free on
//! the `Heap`, with injected OS failures. Every block carries a cookie
//! pattern that is checked whenever the block is resized or freed, and its
//! alignment is checked after every operation.

use std::mem::MaybeUninit;
use std::ptr::NonNull;

use mallocv2::alloc::{Allocator, Layout};
use mallocv2::fault;
use mallocv2::{BatchAlloc, BatchItem, Block, Flags, Heap, ResizeInPlace};

use super::input::{arm_fault, check, fill, Input};

struct Blk {
    ptr: NonNull<u8>,
    layout: Layout,
    /// Bytes holding the cookie pattern (written by `fill`).
    written: usize,
    cookie: u8,
}

const MAX_LIVE_BYTES: usize = 192 << 20;
const MAX_BLOCKS: usize = 512;

fn live_bytes(blocks: &[Blk]) -> usize {
    blocks.iter().map(|b| b.layout.size()).sum()
}

fn checked(b: &Blk, what: &str) {
    assert_eq!(
        b.ptr.as_ptr() as usize % b.layout.align(),
        0,
        "{what}: {:p} not aligned to {}",
        b.ptr,
        b.layout.align()
    );
    // SAFETY: the block is live and `written <= layout.size()` bytes hold
    // the pattern.
    unsafe { check(b.ptr.as_ptr(), b.written, b.written, b.cookie, what) };
}

fn refill(b: &mut Blk, cookie: u8) {
    // SAFETY: the block has `layout.size()` writable bytes.
    unsafe { fill(b.ptr.as_ptr(), b.layout.size(), cookie) };
    b.written = b.layout.size();
    b.cookie = cookie;
}

fn maybe_fault(inp: &mut Input) {
    if inp.u8() % 8 == 0 {
        arm_fault(inp);
    }
}

/// Runs one program.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let mut blocks: Vec<Blk> = Vec::new();
    let mut steps = 0;
    while !inp.is_empty() && steps < 400 {
        steps += 1;
        maybe_fault(&mut inp);
        let cookie = inp.u8();
        match inp.u8() % 12 {
            0 | 1 => {
                let (size, align) = (inp.size(), inp.align());
                if blocks.len() >= MAX_BLOCKS || live_bytes(&blocks) + size > MAX_LIVE_BYTES {
                    continue;
                }
                let Ok(layout) = Layout::from_size_align(size, align) else {
                    continue;
                };
                let zeroed = inp.bool();
                let r = if zeroed {
                    Heap.allocate_zeroed(layout)
                } else {
                    Heap.allocate(layout)
                };
                if let Ok(p) = r {
                    assert!(p.len() >= size, "usable {} < {size}", p.len());
                    if zeroed {
                        // SAFETY: `p.len()` zeroed bytes.
                        let s =
                            unsafe { std::slice::from_raw_parts(p.cast::<u8>().as_ptr(), p.len()) };
                        assert!(
                            s.iter().all(|&b| b == 0),
                            "allocate_zeroed gave non-zero bytes"
                        );
                    }
                    let mut b = Blk {
                        ptr: p.cast(),
                        layout: Layout::from_size_align(p.len(), align).unwrap(),
                        written: 0,
                        cookie,
                    };
                    refill(&mut b, cookie);
                    checked(&b, "allocate");
                    blocks.push(b);
                }
            }
            2 | 3 if !blocks.is_empty() => {
                // grow or shrink through the Allocator trait
                let i = inp.below(blocks.len());
                let new_size = inp.size();
                let b = &blocks[i];
                if live_bytes(&blocks) + new_size > MAX_LIVE_BYTES {
                    continue;
                }
                let Ok(new) = Layout::from_size_align(new_size, b.layout.align()) else {
                    continue;
                };
                let grow = new_size >= b.layout.size();
                // SAFETY: live block of `b.layout`.
                let r = unsafe {
                    if grow {
                        Heap.grow(b.ptr, b.layout, new)
                    } else {
                        Heap.shrink(b.ptr, b.layout, new)
                    }
                };
                match r {
                    Ok(p) => {
                        let keep = b.written.min(new_size);
                        let (old_written, old_cookie) = (b.written, b.cookie);
                        // SAFETY: the first `min(old, new)` bytes moved with it.
                        unsafe {
                            check(
                                p.cast::<u8>().as_ptr(),
                                old_written,
                                keep,
                                old_cookie,
                                "grow/shrink",
                            )
                        };
                        let b = &mut blocks[i];
                        b.ptr = p.cast();
                        b.layout = Layout::from_size_align(p.len(), new.align()).unwrap();
                        refill(b, cookie);
                    }
                    Err(_) => checked(&blocks[i], "failed grow/shrink"),
                }
            }
            4 if !blocks.is_empty() => {
                let i = inp.below(blocks.len());
                let b = &blocks[i];
                let new_size = b.layout.size() + inp.size();
                if live_bytes(&blocks) + new_size > MAX_LIVE_BYTES {
                    continue;
                }
                // SAFETY: live block.
                match unsafe { Heap.try_grow_in_place(b.ptr, b.layout, new_size) } {
                    Ok(n) => {
                        assert!(n >= new_size);
                        checked(&blocks[i], "grown in place");
                        let b = &mut blocks[i];
                        b.layout = Layout::from_size_align(n, b.layout.align()).unwrap();
                        refill(b, cookie);
                    }
                    Err(_) => checked(&blocks[i], "refused in-place grow"),
                }
            }
            5 if !blocks.is_empty() => {
                let i = inp.below(blocks.len());
                let b = &blocks[i];
                let new_size = inp.below(b.layout.size() + 1);
                // SAFETY: live block.
                match unsafe { Heap.try_shrink_in_place(b.ptr, b.layout, new_size) } {
                    Ok(n) => {
                        assert!(n >= new_size);
                        let b = &mut blocks[i];
                        // SAFETY: the prefix stays.
                        unsafe {
                            check(
                                b.ptr.as_ptr(),
                                b.written,
                                new_size,
                                b.cookie,
                                "shrunk in place",
                            )
                        };
                        b.layout = Layout::from_size_align(n, b.layout.align()).unwrap();
                        refill(b, cookie);
                    }
                    Err(_) => checked(&blocks[i], "refused in-place shrink"),
                }
            }
            6 if !blocks.is_empty() => {
                let i = inp.below(blocks.len());
                let b = &blocks[i];
                let new_size = b.layout.size() + inp.size();
                if live_bytes(&blocks) + new_size > MAX_LIVE_BYTES {
                    continue;
                }
                // SAFETY: live block.
                match unsafe { Heap.try_remap(b.ptr, b.layout, new_size) } {
                    Ok(p) => {
                        assert!(p.len() >= new_size);
                        let (w, c) = (b.written, b.cookie);
                        // SAFETY: the old bytes moved with the pages.
                        unsafe { check(p.cast::<u8>().as_ptr(), w, w, c, "remapped") };
                        let b = &mut blocks[i];
                        b.ptr = p.cast();
                        b.layout = Layout::from_size_align(p.len(), b.layout.align()).unwrap();
                        refill(b, cookie);
                    }
                    Err(_) => checked(&blocks[i], "refused remap"),
                }
            }
            7 if !blocks.is_empty() => {
                // the protocol, copying only `live` bytes
                let i = inp.below(blocks.len());
                let b = &blocks[i];
                let new_size = b.layout.size() + inp.size();
                let live = inp.below(b.written + 1);
                if live_bytes(&blocks) + new_size > MAX_LIVE_BYTES {
                    continue;
                }
                let new = Layout::from_size_align(new_size, b.layout.align()).unwrap();
                // SAFETY: live block; `live <= written <= size`.
                match unsafe { Heap.grow_live(b.ptr, b.layout, new, live) } {
                    Ok(p) => {
                        let (w, c) = (b.written, b.cookie);
                        // SAFETY: the first `live` bytes are kept.
                        unsafe { check(p.cast::<u8>().as_ptr(), w, live, c, "grow_live") };
                        let b = &mut blocks[i];
                        b.ptr = p.cast();
                        b.layout = Layout::from_size_align(p.len(), new.align()).unwrap();
                        refill(b, cookie);
                    }
                    Err(_) => checked(&blocks[i], "failed grow_live"),
                }
            }
            8 => {
                let n = inp.below(200);
                let (size, align) = (inp.below(3000), 1 << inp.below(8));
                let layout = Layout::from_size_align(size, align).unwrap();
                if blocks.len() + n > MAX_BLOCKS * 2 {
                    continue;
                }
                let mut out = vec![MaybeUninit::uninit(); n];
                let zeroed = inp.bool();
                let r = if zeroed {
                    Heap.allocate_batch_zeroed(layout, &mut out)
                } else {
                    Heap.allocate_batch(layout, &mut out)
                };
                assert!(r.count <= n);
                for o in &out[..r.count] {
                    // SAFETY: the first `count` were written.
                    let p = unsafe { o.assume_init() };
                    if zeroed {
                        // SAFETY: `size` zeroed bytes.
                        let s = unsafe { std::slice::from_raw_parts(p.as_ptr(), size) };
                        assert!(s.iter().all(|&b| b == 0), "zeroed batch block not zero");
                    }
                    let mut b = Blk {
                        ptr: p,
                        layout,
                        written: 0,
                        cookie,
                    };
                    refill(&mut b, cookie);
                    blocks.push(b);
                }
                for b in &blocks {
                    checked(b, "after batch");
                }
            }
            9 if !blocks.is_empty() => {
                // free a random subset with one batch call, grouped by layout
                let layout = blocks[inp.below(blocks.len())].layout;
                let mut ptrs = Vec::new();
                let mut k = 0;
                while k < blocks.len() {
                    if blocks[k].layout == layout && inp.bool() {
                        let b = blocks.swap_remove(k);
                        checked(&b, "batch free");
                        ptrs.push(b.ptr);
                    } else {
                        k += 1;
                    }
                }
                // SAFETY: live blocks of `layout`, each once.
                unsafe { Heap.deallocate_batch(&ptrs, layout) };
            }
            10 => {
                // per-item requests
                let n = inp.below(6);
                let mut items = Vec::new();
                let mut owners = Vec::new();
                // The size each resize item asks for: what the move must
                // keep is `min(old size, requested)`; the usable size it
                // reports can be larger (malloc's slack), and bytes there
                // are not the old block's.
                let mut wanted = Vec::new();
                for _ in 0..n {
                    let kind = inp.u8() % 4;
                    if kind == 0 || blocks.is_empty() {
                        let size = inp.size().min(1 << 20);
                        let mut it = BatchItem::alloc(size, inp.align().min(1 << 16));
                        it.reserve = inp.below(4) * size;
                        if inp.bool() {
                            it.flags |= Flags::ZERO_MEMORY;
                        }
                        items.push(it);
                        owners.push(None);
                        wanted.push(0);
                    } else {
                        let b = blocks.swap_remove(inp.below(blocks.len()));
                        checked(&b, "batch item");
                        let block = Block {
                            ptr: b.ptr,
                            layout: b.layout,
                        };
                        let it = match kind {
                            1 => {
                                wanted.push(0);
                                BatchItem::free(block)
                            }
                            _ => {
                                let size = inp.size().max(1);
                                wanted.push(size);
                                let mut it = BatchItem::resize(block, size);
                                if kind == 3 {
                                    it.flags |= Flags::PREVENT_MOVE;
                                }
                                it
                            }
                        };
                        items.push(it);
                        owners.push(Some(b));
                    }
                }
                // SAFETY: every block given is live and listed once.
                let ok = unsafe { Heap.batch(&mut items) };
                assert_eq!(ok, items.iter().filter(|i| i.result.is_ok()).count());
                for ((it, owner), want) in items.iter().zip(owners).zip(wanted) {
                    match (it.result, owner) {
                        (Ok(()), Some(old)) => {
                            if let Some(nb) = it.block {
                                assert!(
                                    nb.layout.size() >= want,
                                    "batch resize: usable below {want}"
                                );
                                let keep = old.written.min(want);
                                // SAFETY: the kept prefix moved with the block.
                                unsafe {
                                    check(
                                        nb.ptr.as_ptr(),
                                        old.written,
                                        keep,
                                        old.cookie,
                                        "batch resize",
                                    )
                                };
                                let mut b = Blk {
                                    ptr: nb.ptr,
                                    layout: nb.layout,
                                    written: 0,
                                    cookie,
                                };
                                refill(&mut b, cookie);
                                blocks.push(b);
                            }
                        }
                        (Ok(()), None) => {
                            if let Some(nb) = it.block {
                                assert!(it.size >= nb.layout.size().min(it.size));
                                let mut b = Blk {
                                    ptr: nb.ptr,
                                    layout: nb.layout,
                                    written: 0,
                                    cookie,
                                };
                                refill(&mut b, cookie);
                                blocks.push(b);
                            }
                        }
                        (Err(_), Some(old)) => {
                            // A failed item leaves its block untouched.
                            checked(&old, "failed batch item");
                            blocks.push(old);
                        }
                        (Err(_), None) => {}
                    }
                }
            }
            _ if !blocks.is_empty() => {
                let b = blocks.swap_remove(inp.below(blocks.len()));
                checked(&b, "free");
                // SAFETY: live block of its layout.
                unsafe { Heap.deallocate(b.ptr, b.layout) };
            }
            _ => {}
        }
        fault::clear();
        if let Some(b) = blocks.last() {
            checked(b, "last block");
        }
    }
    fault::clear();
    for b in blocks {
        checked(&b, "final");
        // SAFETY: live block of its layout.
        unsafe { Heap.deallocate(b.ptr, b.layout) };
    }
}
