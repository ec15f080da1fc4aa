//! Graph, autodiff, planner and training tests: whole graphs against f64 CPU references and
//! central finite differences, training runs that must learn, memory planning, determinism and
//! the errors bad input gets; checkpoints, pictures. One binary, one module per topic, one shared
//! context.

mod batch_norm;
mod cli;
mod contrastive;
mod conv;
mod corrupt;
mod data;
mod decode;
mod embed;
mod gan;
mod graph;
mod images;
mod index;
mod interrupted;
mod io;
mod nn;
mod plan;
mod pretrained;
mod seq2seq;
mod source;
mod tokenizer;
mod train;

use std::sync::OnceLock;

use kiln::Context;

/// Counts the bytes each thread holds and the most it held since the last reset, so a test can
/// bound what one call allocates (a corrupted file whose header lies must not make its loader
/// reserve the size it claims). Per thread, because the other tests run beside it.
pub mod meter {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Meter;

    thread_local! {
        static HELD: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    fn add(bytes: isize) {
        // `try_with`: the allocator also runs while a thread's locals are torn down.
        let _ = HELD.try_with(|held| {
            let now = held.get() + bytes;
            held.set(now);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
        });
    }

    // SAFETY: every call is forwarded to the system allocator unchanged; the counters are
    // const-initialised thread locals, which allocate nothing.
    unsafe impl GlobalAlloc for Meter {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            add(layout.size() as isize);
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            add(-(layout.size() as isize));
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            add(layout.size() as isize);
            unsafe { System.alloc_zeroed(layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            add(new_size as isize - layout.size() as isize);
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    /// Runs `f` and returns its value with the most bytes this thread held above its level
    /// at the start.
    pub fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
        let base = HELD.with(Cell::get);
        PEAK.with(|p| p.set(base));
        let value = f();
        let peak = PEAK.with(Cell::get);
        (value, (peak - base).max(0) as usize)
    }
}

#[global_allocator]
static METER: meter::Meter = meter::Meter;

/// The context every test shares.
pub fn ctx() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| match Context::new() {
        Ok(c) => c,
        Err(e) => panic!("the model tests need a wgpu adapter: {e}"),
    })
}

/// SplitMix64: a tiny seeded generator, so every test is reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// `n` values uniform in [-1, 1), as f32.
    pub fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| (2.0 * self.unit() - 1.0) as f32).collect()
    }
    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Asserts `|got - want| <= atol + rtol·|want|` everywhere, reporting the worst element.
pub fn assert_close(got: &[f32], want: &[f64], atol: f64, rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut worst = (0usize, 0.0f64);
    let mut fails = 0;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        let excess = err - (atol + rtol * w.abs());
        if excess > 0.0 || !g.is_finite() {
            fails += 1;
        }
        if excess > worst.1 || (!g.is_finite() && fails == 1) {
            worst = (i, excess);
        }
    }
    assert!(
        fails == 0,
        "{what}: {fails} of {} elements out of tolerance (atol {atol}, rtol {rtol}); worst at {}: got {}, want {}",
        got.len(),
        worst.0,
        got[worst.0],
        want[worst.0]
    );
}

/// Central finite differences of `f` at `x`, step `h`, for every coordinate.
pub fn numeric_grad(x: &[f64], h: f64, f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let mut x = x.to_vec();
    (0..x.len())
        .map(|i| {
            let keep = x[i];
            x[i] = keep + h;
            let up = f(&x);
            x[i] = keep - h;
            let down = f(&x);
            x[i] = keep;
            (up - down) / (2.0 * h)
        })
        .collect()
}

pub fn f64s(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

/// A hand-built safetensors file: the 8-byte little-endian header length, the JSON header,
/// then `data`.
pub fn safetensors_bytes(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}
