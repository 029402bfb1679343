//! `reservation_ops`: random commit/decommit/extend/write programs on a
//! `Reservation`, against a byte-for-byte model of the committed prefix,
//! with injected OS failures.

use mallocv2::fault::{self, OsOp};
use mallocv2::{Error, Reservation};

use super::input::Input;

const MAX_RESERVE: usize = 64 << 20;
/// Bytes the model tracks (writes beyond are not modelled).
const MODEL: usize = 8 << 20;

/// Runs one program.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let page = Reservation::page_size();
    let len = 1 + inp.below(MAX_RESERVE);
    let align = 1usize << inp.below(23);
    let mut r = match Reservation::with_align(len, align) {
        Ok(r) => r,
        Err(e) => panic!("reserving {len} bytes aligned to {align}: {e}"),
    };
    assert!(r.len() >= len && r.len() % page == 0);
    assert_eq!(r.as_ptr().as_ptr() as usize % align.max(page), 0);
    let base = r.as_ptr();
    // model[i] = the byte at i, for i < committed (and < MODEL).
    let mut model: Vec<u8> = Vec::new();
    let mut steps = 0;
    while !inp.is_empty() && steps < 300 {
        steps += 1;
        let fail = inp.u8() % 6 == 0;
        match inp.u8() % 5 {
            0 => {
                let want = inp.below(r.len() + r.len() / 4 + 1);
                if fail {
                    fault::fail_nth(OsOp::Commit, 1);
                }
                let before = r.committed();
                match r.commit(want) {
                    Ok(c) => {
                        assert!(c >= want && c % page == 0 && c <= r.len());
                        assert_eq!(c, r.committed());
                        let m = c.min(MODEL);
                        if model.len() < m {
                            model.resize(m, 0);
                        }
                    }
                    Err(Error::ReservationExhausted {
                        requested,
                        reserved,
                    }) => {
                        assert!(requested > reserved && want > r.len());
                        assert_eq!(r.committed(), before);
                    }
                    Err(_) => {
                        assert!(fail, "commit failed without an injected fault");
                        assert_eq!(r.committed(), before);
                    }
                }
            }
            1 => {
                let keep = inp.below(r.committed() + 1);
                if fail {
                    fault::fail_nth(OsOp::Decommit, 1);
                }
                let before = r.committed();
                match r.decommit(keep) {
                    Ok(()) => {
                        let c = r.committed();
                        assert!(c >= keep && c <= before && c % page == 0);
                        model.truncate(c.min(MODEL));
                    }
                    Err(_) => {
                        assert!(fail);
                        assert_eq!(r.committed(), before);
                    }
                }
            }
            2 => {
                let new_len = r.len() + inp.below(MAX_RESERVE);
                let before = r.len();
                match r.try_extend(new_len) {
                    Ok(()) => assert!(r.len() >= new_len),
                    Err(e) => {
                        assert_eq!(e, Error::NoSpace);
                        assert_eq!(r.len(), before);
                    }
                }
                assert_eq!(r.as_ptr(), base, "the base moved");
            }
            3 if r.committed() > 0 => {
                let at = inp.below(r.committed().clamp(1, MODEL));
                let n = inp.below(4096).min(r.committed().min(MODEL) - at);
                let v = inp.u8();
                // SAFETY: [at, at + n) is committed.
                unsafe { base.as_ptr().add(at).write_bytes(v, n) };
                model[at..at + n].fill(v);
            }
            _ => {}
        }
        fault::clear();
        assert_eq!(r.as_ptr(), base, "the base moved");
        // The committed prefix holds exactly the modelled bytes.
        let n = model.len();
        // SAFETY: `n <= committed` bytes are readable.
        let s = unsafe { std::slice::from_raw_parts(base.as_ptr(), n) };
        let step = if n > 65536 { 97 } else { 1 };
        for i in (0..n).step_by(step) {
            assert_eq!(s[i], model[i], "byte {i} of the committed prefix");
        }
    }
}
