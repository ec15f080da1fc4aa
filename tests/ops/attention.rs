//! attention: forward (o and lse) against an f64 reference with materialised scores, backward
//! against finite differences of that reference, and the fused kernels against the unfused
//! composition of kiln's matmul and softmax ops.

use super::*;
use kiln::kernels::run;
use kiln::ops::attention::{
    self, AttentionOptions, AttentionVariant, CONST_HEAD_DIM_MAX, TEXTURE_HEAD_DIM_MAX,
};
use kiln::{DType, Tensor};

/// The variants that take head dimension `d`: the generic kernels always, the `_hd4` ones
/// (D a pipeline constant, vec4 loads) when D % 4 == 0 and D <= CONST_HEAD_DIM_MAX, the
/// texture ones where the backend runs them (not GL: `texture_unavailable`).
fn variants(d: usize) -> Vec<AttentionVariant> {
    let mut v = vec![AttentionVariant::Generic];
    if d.is_multiple_of(4) && d <= CONST_HEAD_DIM_MAX {
        v.push(AttentionVariant::ConstHeadDim);
    }
    let texture_runs = attention::texture_unavailable(ctx()).is_none();
    if texture_runs && d.is_multiple_of(4) && d <= TEXTURE_HEAD_DIM_MAX {
        v.push(AttentionVariant::Texture);
    }
    v
}

/// The forward with an explicit variant; returns `(o, lse)`.
fn forward_with(
    variant: AttentionVariant,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    opts: AttentionOptions,
) -> (Tensor, Tensor) {
    let s = q.shape();
    let o = Tensor::zeros(ctx(), s, DType::F32).unwrap();
    let lse = Tensor::zeros(ctx(), &s[..3], DType::F32).unwrap();
    let d = attention::forward_with(ctx(), variant, q, k, v, mask, opts, &o, &lse).unwrap();
    run(ctx(), &d).unwrap();
    (o, lse)
}

/// The backward with an explicit variant; returns `(dq, dk, dv)`.
#[allow(clippy::too_many_arguments)]
fn backward_with(
    variant: AttentionVariant,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    o: &Tensor,
    lse: &Tensor,
    dout: &Tensor,
    opts: AttentionOptions,
) -> (Tensor, Tensor, Tensor) {
    let s = q.shape();
    let stats = Tensor::zeros(ctx(), &[s[0], s[1], s[2], 2], DType::F32).unwrap();
    let dq = Tensor::zeros(ctx(), s, DType::F32).unwrap();
    let dk = Tensor::zeros(ctx(), k.shape(), DType::F32).unwrap();
    let dv = Tensor::zeros(ctx(), v.shape(), DType::F32).unwrap();
    let d = attention::backward_with(
        ctx(),
        variant,
        q,
        k,
        v,
        mask,
        o,
        lse,
        dout,
        opts,
        &stats,
        &dq,
        &dk,
        &dv,
    )
    .unwrap();
    run(ctx(), &d).unwrap();
    (dq, dk, dv)
}
use kiln::ops::matmul::{matmul, MatmulOptions};
use kiln::ops::softmax;

/// f32 unit roundoff.
const U: f64 = 1.0 / (1u64 << 24) as f64;

/// Sizes of one case.
#[derive(Clone, Copy, Debug)]
struct Case {
    b: usize,
    h: usize,
    tq: usize,
    tk: usize,
    d: usize,
    causal: bool,
}

impl Case {
    fn scale(&self) -> f64 {
        1.0 / (self.d as f64).sqrt()
    }
    fn q_shape(&self) -> [usize; 4] {
        [self.b, self.h, self.tq, self.d]
    }
    fn k_shape(&self) -> [usize; 4] {
        [self.b, self.h, self.tk, self.d]
    }
}

/// What the f64 reference returns: o, lse (-inf for a row with no visible key), and per row
/// the largest Σ_d |scale q_d k_d| over its visible keys (the size of its score terms).
struct Reference {
    o: Vec<f64>,
    lse: Vec<f64>,
    score_abs: Vec<f64>,
}

/// Plain-loop attention in f64 with the score matrix materialised. `mask[b*tk + j] == 0` pads
/// key j of batch b; causal keeps j <= i + tk - tq.
fn reference(
    c: Case,
    scale: f64,
    q: &[f64],
    k: &[f64],
    v: &[f64],
    mask: Option<&[f64]>,
) -> Reference {
    let (tq, tk, d) = (c.tq, c.tk, c.d);
    let mut o = vec![0.0; c.b * c.h * tq * d];
    let mut lse = vec![f64::NEG_INFINITY; c.b * c.h * tq];
    let mut score_abs = vec![0.0; c.b * c.h * tq];
    for bh in 0..c.b * c.h {
        let b = bh / c.h;
        for i in 0..tq {
            let row = bh * tq + i;
            let mut s = vec![f64::NEG_INFINITY; tk];
            for (j, sj) in s.iter_mut().enumerate() {
                let causal_ok = !c.causal || (j as i64) <= i as i64 + tk as i64 - tq as i64;
                let pad_ok = mask.is_none_or(|m| m[b * tk + j] != 0.0);
                if causal_ok && pad_ok {
                    let mut acc = 0.0;
                    let mut abs = 0.0;
                    for e in 0..d {
                        let t = scale * q[row * d + e] * k[(bh * tk + j) * d + e];
                        acc += t;
                        abs += t.abs();
                    }
                    *sj = acc;
                    score_abs[row] = f64::max(score_abs[row], abs);
                }
            }
            let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            if m == f64::NEG_INFINITY {
                continue;
            }
            let sum: f64 = s.iter().map(|x| (x - m).exp()).sum();
            lse[row] = m + sum.ln();
            for (j, sj) in s.iter().enumerate() {
                let p = (sj - lse[row]).exp();
                for e in 0..d {
                    o[row * d + e] += p * v[(bh * tk + j) * d + e];
                }
            }
        }
    }
    Reference { o, lse, score_abs }
}

/// Tolerances of the forward, per element of o and per row of lse.
/// - A score is an f32 dot of D terms: |δs| <= (D + 4)·u·Σ|scale q k| (the +4 covers the
///   scaling and rounding of the result); call the row's worst value e_s.
/// - p_j = exp(s_j - m)/l: exp turns δs into a relative error of e_s (twice: in p_j and in
///   the running max/sum), and l is an f32 sum of Tk terms (relative Tk·u), the rescales of
///   the online softmax add a few u per block (<= Tk·u in all).
/// - o_d = Σ_j p_j v_jd, a sum of Tk terms: |δo_d| <= (2 e_s + (2 Tk + D + 16)·u)·Σ_j p_j |v_jd|,
///   and Σ_j p_j |v_jd| <= max|v| = 1 for these inputs. A factor 2 margin on top; atol 1e-7
///   for outputs that cancel to near 0.
/// - lse = m + log l: |δlse| <= e_s + (Tk + 16)·u·(1 + |lse|).
fn check_forward(c: Case, want: &Reference, o: &[f32], lse: &[f32], what: &str) {
    let rows = c.b * c.h * c.tq;
    let mut o_tol = vec![0.0; rows * c.d];
    let mut lse_tol = vec![0.0; rows];
    for r in 0..rows {
        let e_s = (c.d as f64 + 4.0) * U * want.score_abs[r];
        let t = 2.0 * (2.0 * e_s + (2.0 * c.tk as f64 + c.d as f64 + 16.0) * U) + 1e-7;
        o_tol[r * c.d..(r + 1) * c.d]
            .iter_mut()
            .for_each(|x| *x = t);
        lse_tol[r] = 2.0 * (e_s + (c.tk as f64 + 16.0) * U * (1.0 + want.lse[r].abs()));
    }
    assert!(o.iter().all(|x| x.is_finite()), "{what}: non-finite o");
    assert!(lse.iter().all(|x| x.is_finite()), "{what}: non-finite lse");
    assert_close_each(o, &want.o, &o_tol, &format!("{what} o"));
    // A row with no visible key: the kernel writes NEG_LARGE (-1e30) for log 0.
    let lse_want: Vec<f64> = want
        .lse
        .iter()
        .map(|&x| if x == f64::NEG_INFINITY { -1e30 } else { x })
        .collect();
    let lse_tol: Vec<f64> = lse_tol
        .iter()
        .zip(&lse_want)
        .map(|(&t, &w)| if w == -1e30 { 1e24 } else { t })
        .collect();
    assert_close_each(lse, &lse_want, &lse_tol, &format!("{what} lse"));
}

fn upload_mask(c: Case, mask: &[f64], as_u32: bool) -> kiln::Tensor {
    if as_u32 {
        let m: Vec<u32> = mask.iter().map(|&x| x as u32).collect();
        upload_u32(&[c.b, c.tk], &m)
    } else {
        let m: Vec<f32> = mask.iter().map(|&x| x as f32).collect();
        upload(&[c.b, c.tk], &m)
    }
}

/// Runs the forward on random inputs times `amp` and checks it.
fn run_forward(c: Case, seed: u64, amp: f32, mask: Option<&[f64]>, what: &str) {
    let mut rng = Rng::new(seed);
    let q: Vec<f32> = rng
        .vec(c.b * c.h * c.tq * c.d)
        .iter()
        .map(|x| x * amp)
        .collect();
    let k: Vec<f32> = rng
        .vec(c.b * c.h * c.tk * c.d)
        .iter()
        .map(|x| x * amp)
        .collect();
    let v = rng.vec(c.b * c.h * c.tk * c.d);
    let mask_t = mask.map(|m| upload_mask(c, m, seed.is_multiple_of(2)));
    let opts = AttentionOptions {
        causal: c.causal,
        scale: None,
    };
    let want = reference(c, c.scale(), &f64s(&q), &f64s(&k), &f64s(&v), mask);
    for variant in variants(c.d) {
        let (o, lse) = forward_with(
            variant,
            &upload(&c.q_shape(), &q),
            &upload(&c.k_shape(), &k),
            &upload(&c.k_shape(), &v),
            mask_t.as_ref(),
            opts,
        );
        check_forward(
            c,
            &want,
            &download(&o),
            &download(&lse),
            &format!("{what} {variant:?} {c:?}"),
        );
    }
}

#[test]
fn forward_matches_reference_on_awkward_shapes() {
    let mut seed = 10;
    for &tq in AWKWARD {
        for &tk in AWKWARD {
            for (d, bh) in [
                (1, (1, 1)),
                (3, (2, 1)),
                (7, (1, 3)),
                (16, (1, 1)),
                (33, (2, 2)),
                (64, (1, 1)),
            ] {
                // Keep the sweep cheap: the largest lengths only with small head dimensions.
                if tq * tk * d * bh.0 * bh.1 > 300_000 {
                    continue;
                }
                for causal in [false, true] {
                    seed += 1;
                    let c = Case {
                        b: bh.0,
                        h: bh.1,
                        tq,
                        tk,
                        d,
                        causal,
                    };
                    run_forward(c, seed, 1.0, None, "forward");
                }
            }
        }
    }
}

/// Q, K and V in a host's storage-only buffers cannot be copied by the queue: the texture
/// forward packs them with attention_pack instead, and matches the reference as the copied
/// ones do (forward_matches_reference_on_awkward_shapes).
#[test]
fn texture_forward_packs_storage_only_buffers_with_its_kernel() {
    // The texture variant does not run on GL (`variants` leaves it out there too).
    if attention::texture_unavailable(ctx()).is_some() {
        return;
    }
    let c = Case {
        b: 2,
        h: 1,
        tq: 7,
        tk: 9,
        d: 8,
        causal: true,
    };
    let mut rng = Rng::new(41);
    let q = rng.vec(c.b * c.h * c.tq * c.d);
    let k = rng.vec(c.b * c.h * c.tk * c.d);
    let v = rng.vec(c.b * c.h * c.tk * c.d);
    let (qt, kt, vt) = (
        upload_storage_only(&c.q_shape(), &q),
        upload_storage_only(&c.k_shape(), &k),
        upload_storage_only(&c.k_shape(), &v),
    );
    let opts = AttentionOptions {
        causal: c.causal,
        scale: None,
    };
    let o = Tensor::zeros(ctx(), &c.q_shape(), DType::F32).unwrap();
    let lse = Tensor::zeros(ctx(), &c.q_shape()[..3], DType::F32).unwrap();
    let texture = AttentionVariant::Texture;
    let d = attention::forward_with(ctx(), texture, &qt, &kt, &vt, None, opts, &o, &lse).unwrap();
    let packs = d
        .iter()
        .filter(|d| d.label().ends_with(".attention_pack"))
        .count();
    let copies = d
        .iter()
        .filter(|d| d.label().ends_with(".pack_copy"))
        .count();
    assert_eq!((packs, copies), (3, 0), "Q, K, V packed by the kernel");
    run(ctx(), &d).unwrap();
    let want = reference(c, c.scale(), &f64s(&q), &f64s(&k), &f64s(&v), None);
    check_forward(
        c,
        &want,
        &download(&o),
        &download(&lse),
        "storage-only Q, K, V",
    );
}

#[test]
fn forward_head_dims_up_to_max() {
    for (i, d) in [1usize, 3, 7, 16, 33, 64, 100, 128].into_iter().enumerate() {
        let c = Case {
            b: 1,
            h: 2,
            tq: 33,
            tk: 65,
            d,
            causal: i % 2 == 1,
        };
        run_forward(c, 100 + i as u64, 1.0, None, "forward D");
    }
}

#[test]
fn forward_with_padding_mask() {
    for (i, &(tq, tk, causal)) in [
        (7, 33, false),
        (33, 33, true),
        (65, 129, false),
        (1, 7, false),
    ]
    .iter()
    .enumerate()
    {
        let c = Case {
            b: 3,
            h: 2,
            tq,
            tk,
            d: 7,
            causal,
        };
        let mut rng = Rng::new(200 + i as u64);
        let mut mask = vec![0.0; c.b * tk];
        // Batch 0: random padding with at least one kept key; batch 1: all but one key
        // padded (the last; under the causal mask only the last query sees it, so the other
        // rows of batch 1 are fully masked too); batch 2: every key padded, so every row of
        // batch 2 must give o = 0 and no NaN.
        for (j, m) in mask[..tk].iter_mut().enumerate() {
            *m = if j == 0 || rng.unit() < 0.6 { 1.0 } else { 0.0 };
        }
        mask[tk + tk - 1] = 1.0;
        run_forward(c, 200 + i as u64, 1.0, Some(&mask), "forward mask");
    }
}

#[test]
fn forward_fully_masked_rows_are_zero() {
    // Causal with Tq > Tk: the first Tq - Tk queries see no key at all.
    let c = Case {
        b: 1,
        h: 2,
        tq: 7,
        tk: 3,
        d: 5,
        causal: true,
    };
    run_forward(c, 300, 1.0, None, "forward causal Tq>Tk");
    let mut rng = Rng::new(301);
    let q = rng.vec(c.b * c.h * c.tq * c.d);
    let k = rng.vec(c.b * c.h * c.tk * c.d);
    let v = rng.vec(c.b * c.h * c.tk * c.d);
    let (o, lse) = attention::attention(
        ctx(),
        &upload(&c.q_shape(), &q),
        &upload(&c.k_shape(), &k),
        &upload(&c.k_shape(), &v),
        None,
        AttentionOptions {
            causal: true,
            scale: None,
        },
    )
    .unwrap();
    let o = download(&o);
    let lse = download(&lse);
    for bh in 0..2 {
        for i in 0..4 {
            let row = bh * 7 + i;
            assert!(
                o[row * 5..row * 5 + 5].iter().all(|&x| x == 0.0),
                "row {row} {o:?}"
            );
            assert!(lse[row] == -1e30, "row {row} lse {}", lse[row]);
        }
    }
}

#[test]
fn forward_is_stable_for_large_scores() {
    // Scores around ±1000 overflow exp without the running max; amp 40 on q and k with D = 16
    // and scale 1/4 gives |s| up to 40·40·16/4 = 6400.
    for (i, causal) in [false, true].into_iter().enumerate() {
        let c = Case {
            b: 1,
            h: 2,
            tq: 33,
            tk: 65,
            d: 16,
            causal,
        };
        run_forward(c, 400 + i as u64, 40.0, None, "forward large");
    }
}

#[test]
fn forward_custom_scale() {
    let c = Case {
        b: 2,
        h: 1,
        tq: 7,
        tk: 33,
        d: 3,
        causal: false,
    };
    let mut rng = Rng::new(500);
    let q = rng.vec(c.b * c.h * c.tq * c.d);
    let k = rng.vec(c.b * c.h * c.tk * c.d);
    let v = rng.vec(c.b * c.h * c.tk * c.d);
    let (o, lse) = attention::attention(
        ctx(),
        &upload(&c.q_shape(), &q),
        &upload(&c.k_shape(), &k),
        &upload(&c.k_shape(), &v),
        None,
        AttentionOptions {
            causal: false,
            scale: Some(2.5),
        },
    )
    .unwrap();
    let want = reference(c, 2.5, &f64s(&q), &f64s(&k), &f64s(&v), None);
    check_forward(
        c,
        &want,
        &download(&o),
        &download(&lse),
        "forward scale 2.5",
    );
}

/// Inputs and upstream gradient of a backward case.
struct Grads {
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    w: Vec<f64>,
    dq: Vec<f32>,
    dk: Vec<f32>,
    dv: Vec<f32>,
}

/// Runs the fused forward and backward on random inputs, loss ⟨o, w⟩ for a random w.
fn gpu_grads(variant: AttentionVariant, c: Case, seed: u64, mask: Option<&[f64]>) -> Grads {
    let mut rng = Rng::new(seed);
    let q = rng.vec(c.b * c.h * c.tq * c.d);
    let k = rng.vec(c.b * c.h * c.tk * c.d);
    let v = rng.vec(c.b * c.h * c.tk * c.d);
    let w = rng.vec(c.b * c.h * c.tq * c.d);
    let opts = AttentionOptions {
        causal: c.causal,
        scale: None,
    };
    let (qt, kt, vt) = (
        upload(&c.q_shape(), &q),
        upload(&c.k_shape(), &k),
        upload(&c.k_shape(), &v),
    );
    let mask_t = mask.map(|m| upload_mask(c, m, seed % 2 == 1));
    let (o, lse) = forward_with(variant, &qt, &kt, &vt, mask_t.as_ref(), opts);
    let dout = upload(&c.q_shape(), &w);
    let (dq, dk, dv) = backward_with(
        variant,
        &qt,
        &kt,
        &vt,
        mask_t.as_ref(),
        &o,
        &lse,
        &dout,
        opts,
    );
    Grads {
        dq: download(&dq),
        dk: download(&dk),
        dv: download(&dv),
        w: f64s(&w),
        q,
        k,
        v,
    }
}

/// Per-element gradient tolerances, from the sizes of the terms each gradient sums (f64):
/// with dS_ij = p_ij (dP_ij - D_i), |dS|_ij = p_ij (Σ_d |w_id v_jd| + Σ_d |w_id o_id|) bounds
/// every term, and
///   |dq_id| <= scale Σ_j |dS|_ij |k_jd|,  |dk_jd| <= scale Σ_i |dS|_ij |q_id|,
///   |dv_jd| <= Σ_i p_ij |w_id|.
/// Each term carries the forward's relative error in p (2 e_s + (2 T + 16) u with
/// e_s = (D + 4) u max Σ|scale q k|), the f32 dots of dP and D (D u each) and the sum over up
/// to T = max(Tq, Tk) terms (T u): rel = 2 e_s + (3 T + 2 D + 32) u. tol = 2·rel·bound + 1e-7
/// (a factor 2 of margin; atol for gradients that are exactly 0 in f64 but not in f32).
/// Returns (dq, dk, dv) tolerances.
fn grad_tol(
    c: Case,
    s: f64,
    q: &[f64],
    k: &[f64],
    v: &[f64],
    mask: Option<&[f64]>,
    w: &[f64],
) -> [Vec<f64>; 3] {
    let r = reference(c, s, q, k, v, mask);
    let (tq, tk, d) = (c.tq, c.tk, c.d);
    let mut mq = vec![0.0; q.len()];
    let mut mk = vec![0.0; k.len()];
    let mut mv = vec![0.0; v.len()];
    let e_s = r.score_abs.iter().cloned().fold(0.0, f64::max) * (d as f64 + 4.0) * U;
    let t = tq.max(tk) as f64;
    let rel = 2.0 * e_s + (3.0 * t + 2.0 * d as f64 + 32.0) * U;
    for bh in 0..c.b * c.h {
        let b = bh / c.h;
        for i in 0..tq {
            let row = bh * tq + i;
            if r.lse[row] == f64::NEG_INFINITY {
                continue;
            }
            let abs_d: f64 = (0..d)
                .map(|e| (w[row * d + e] * r.o[row * d + e]).abs())
                .sum();
            for j in 0..tk {
                let causal_ok = !c.causal || (j as i64) <= i as i64 + tk as i64 - tq as i64;
                if !causal_ok || mask.is_some_and(|m| m[b * tk + j] == 0.0) {
                    continue;
                }
                let kj = (bh * tk + j) * d;
                let sij: f64 = (0..d).map(|e| s * q[row * d + e] * k[kj + e]).sum();
                let p = (sij - r.lse[row]).exp();
                let abs_dp: f64 = (0..d).map(|e| (w[row * d + e] * v[kj + e]).abs()).sum();
                let ds = p * (abs_dp + abs_d);
                for e in 0..d {
                    mq[row * d + e] += s * ds * k[kj + e].abs();
                    mk[kj + e] += s * ds * q[row * d + e].abs();
                    mv[kj + e] += p * w[row * d + e].abs();
                }
            }
        }
    }
    [mq, mk, mv].map(|m| m.iter().map(|x| 2.0 * rel * x + 1e-7).collect())
}

fn check_backward_fd(c: Case, seed: u64, mask: Option<&[f64]>) {
    for variant in variants(c.d) {
        check_backward_fd_with(variant, c, seed, mask);
    }
}

fn check_backward_fd_with(variant: AttentionVariant, c: Case, seed: u64, mask: Option<&[f64]>) {
    let g = gpu_grads(variant, c, seed, mask);
    let (q, k, v) = (f64s(&g.q), f64s(&g.k), f64s(&g.v));
    let s = c.scale();
    let loss = |q: &[f64], k: &[f64], v: &[f64]| dot(&reference(c, s, q, k, v, mask).o, &g.w);
    let [tq, tk, tv] = grad_tol(c, s, &q, &k, &v, mask, &g.w);
    let dq = numeric_grad(&q, |x| loss(x, &k, &v));
    assert_close_each(&g.dq, &dq, &tq, &format!("dq {variant:?} {c:?}"));
    let dk = numeric_grad(&k, |x| loss(&q, x, &v));
    assert_close_each(&g.dk, &dk, &tk, &format!("dk {variant:?} {c:?}"));
    let dv = numeric_grad(&v, |x| loss(&q, &k, x));
    assert_close_each(&g.dv, &dv, &tv, &format!("dv {variant:?} {c:?}"));
}

#[test]
fn backward_matches_finite_differences() {
    let cases = [
        Case {
            b: 1,
            h: 1,
            tq: 1,
            tk: 1,
            d: 1,
            causal: false,
        },
        Case {
            b: 1,
            h: 2,
            tq: 7,
            tk: 7,
            d: 3,
            causal: false,
        },
        Case {
            b: 2,
            h: 1,
            tq: 7,
            tk: 7,
            d: 3,
            causal: true,
        },
        // Cross attention, both ways round, with and without the causal mask.
        Case {
            b: 1,
            h: 2,
            tq: 3,
            tk: 7,
            d: 5,
            causal: false,
        },
        Case {
            b: 1,
            h: 1,
            tq: 7,
            tk: 3,
            d: 4,
            causal: true,
        },
        Case {
            b: 1,
            h: 1,
            tq: 5,
            tk: 9,
            d: 7,
            causal: true,
        },
        // D = 8 and 16 also run the ConstHeadDim kernels (HD4 = 2 and 4).
        Case {
            b: 1,
            h: 2,
            tq: 7,
            tk: 3,
            d: 8,
            causal: false,
        },
        Case {
            b: 1,
            h: 1,
            tq: 7,
            tk: 9,
            d: 16,
            causal: true,
        },
    ];
    for (i, c) in cases.into_iter().enumerate() {
        check_backward_fd(c, 600 + i as u64, None);
    }
}

#[test]
fn backward_with_padding_mask_matches_finite_differences() {
    // Batch 0 keeps keys {0, 3, 4}, batch 1 keeps only key 6, batch 2 pads every key (its
    // gradients must be exactly 0).
    // D = 3 (generic kernels only) and D = 8 (both variants).
    for (n, dim) in [3usize, 8].into_iter().enumerate() {
        let seed = 700 + 3 * n as u64;
        let c = Case {
            b: 3,
            h: 1,
            tq: 5,
            tk: 7,
            d: dim,
            causal: false,
        };
        let mut mask = vec![0.0; 3 * 7];
        for j in [0, 3, 4] {
            mask[j] = 1.0;
        }
        mask[7 + 6] = 1.0;
        check_backward_fd(c, seed, Some(&mask));
        check_backward_fd(Case { causal: true, ..c }, seed + 1, Some(&mask));
        for variant in variants(dim) {
            let g = gpu_grads(variant, c, seed + 2, Some(&mask));
            let what = format!("{variant:?} D = {dim}");
            assert!(
                g.dq[2 * 5 * dim..].iter().all(|&x| x == 0.0),
                "dq of a fully masked batch, {what}"
            );
            assert!(
                g.dk[2 * 7 * dim..].iter().all(|&x| x == 0.0),
                "dk of a fully masked batch, {what}"
            );
            assert!(
                g.dv[2 * 7 * dim..].iter().all(|&x| x == 0.0),
                "dv of a fully masked batch, {what}"
            );
            assert!(
                g.dq.iter().chain(&g.dk).chain(&g.dv).all(|x| x.is_finite()),
                "{what}"
            );
        }
    }
}

#[test]
fn backward_is_exactly_zero_where_each_query_sees_one_key() {
    // With one visible key, p = 1, O = V and dP_i = dO_i·V = D_i, so dS = 0 and dQ = dK = 0
    // exactly (an f32 reference gets 0 too). Only D_i and dP computed by the same sums give
    // exactly 0; two summation orders leave about one ulp. Cases: one query and one key
    // (causal); five queries, causal, all keys but the first padded away.
    for dim in [5usize, 8, 64] {
        let single = Case {
            b: 2,
            h: 3,
            tq: 1,
            tk: 1,
            d: dim,
            causal: true,
        };
        let first_key = Case {
            tq: 5,
            tk: 5,
            ..single
        };
        let mut mask = [0.0; 2 * 5];
        mask[0] = 1.0;
        mask[5] = 1.0;
        for variant in variants(dim) {
            for (n, (c, m)) in [(single, None), (first_key, Some(&mask[..]))]
                .into_iter()
                .enumerate()
            {
                let g = gpu_grads(variant, c, 900 + n as u64, m);
                let what = format!("{variant:?} D = {dim}, Tq = {}", c.tq);
                let worst = g.dq.iter().chain(&g.dk).fold(0f32, |a, x| a.max(x.abs()));
                assert_eq!(worst, 0.0, "largest |dQ|, |dK|: {what}");
                assert!(g.dv.iter().any(|&x| x != 0.0), "dV is not zero: {what}");
            }
        }
    }
}

#[test]
fn backward_across_blocks_matches_directional_derivative() {
    // T = 65 and 129 cross the 64-row workgroup and the 16-key online-softmax block (and
    // 128 or more, the texture kernels' long tiles). A full FD
    // gradient would cost 2·numel reference runs, so check ⟨∇x, u⟩ against
    // (f(x + h u) - f(x - h u)) / 2h for a random direction u per input instead.
    for (i, c, variant) in [
        Case {
            b: 1,
            h: 2,
            tq: 65,
            tk: 65,
            d: 5,
            causal: true,
        },
        Case {
            b: 1,
            h: 1,
            tq: 129,
            tk: 33,
            d: 3,
            causal: false,
        },
        Case {
            b: 1,
            h: 1,
            tq: 33,
            tk: 129,
            d: 3,
            causal: true,
        },
        // The ConstHeadDim kernels across blocks (D = 16 also runs the generic ones).
        Case {
            b: 1,
            h: 2,
            tq: 65,
            tk: 65,
            d: 16,
            causal: true,
        },
        Case {
            b: 1,
            h: 1,
            tq: 129,
            tk: 33,
            d: 16,
            causal: false,
        },
        // The texture kernels' long tiles (both counts from 128), 64- and 128-wide.
        Case {
            b: 1,
            h: 1,
            tq: 129,
            tk: 131,
            d: 16,
            causal: true,
        },
        Case {
            b: 1,
            h: 1,
            tq: 130,
            tk: 128,
            d: 100,
            causal: false,
        },
    ]
    .into_iter()
    .enumerate()
    .flat_map(|(i, c)| variants(c.d).into_iter().map(move |v| (i, c, v)))
    {
        let g = gpu_grads(variant, c, 800 + i as u64, None);
        let (q, k, v) = (f64s(&g.q), f64s(&g.k), f64s(&g.v));
        let s = c.scale();
        let loss = |q: &[f64], k: &[f64], v: &[f64]| dot(&reference(c, s, q, k, v, None).o, &g.w);
        let mut rng = Rng::new(900 + i as u64);
        let h = 1e-6;
        let tols = grad_tol(c, s, &q, &k, &v, None, &g.w);
        for (name, which, got) in [("dq", 0, &g.dq), ("dk", 1, &g.dk), ("dv", 2, &g.dv)] {
            let x = [&q, &k, &v][which];
            let u = f64s(&rng.vec(x.len()));
            let shifted = |sign: f64| {
                let xs: Vec<f64> = x.iter().zip(&u).map(|(a, b)| a + sign * h * b).collect();
                match which {
                    0 => loss(&xs, &k, &v),
                    1 => loss(&q, &xs, &v),
                    _ => loss(&q, &k, &xs),
                }
            };
            let want = (shifted(1.0) - shifted(-1.0)) / (2.0 * h);
            let got_dir = dot(&f64s(got), &u);
            // The per-element tolerances weighted by |u_i|, summed; plus the FD's own error
            // (about 1e-10 relative, see numeric_grad).
            let allowed = dot(&tols[which], &u.iter().map(|x| x.abs()).collect::<Vec<_>>())
                + 1e-9 * want.abs();
            assert!(
                (got_dir - want).abs() <= allowed,
                "{name} {variant:?} {c:?}: directional {got_dir} vs FD {want}, allowed {allowed:e}"
            );
        }
    }
}

#[test]
fn fused_matches_unfused_composition() {
    // The same math from kiln's own ops: S = (scale q) kᵀ, P = softmax(S), O = P v; backward
    // dP = dO vᵀ, dS = softmax_backward(P, dP), dq = scale·dS k, dk = dSᵀ (scale q), dv = Pᵀ dO.
    // Both sides are f32 with the error model of grad_tol (the composition's matmuls and
    // softmax obey the same bounds), so twice the per-side tolerance covers their difference.
    let c = Case {
        b: 2,
        h: 3,
        tq: 33,
        tk: 65,
        d: 16,
        causal: false,
    };
    let g = gpu_grads(AttentionVariant::Generic, c, 1000, None);
    let bh = c.b * c.h;
    let s = c.scale() as f32;
    let qs: Vec<f32> = g.q.iter().map(|x| x * s).collect();
    let qs_t = upload(&[bh, c.tq, c.d], &qs);
    let k_t = upload(&[bh, c.tk, c.d], &g.k);
    let v_t = upload(&[bh, c.tk, c.d], &g.v);
    let w: Vec<f32> = g.w.iter().map(|&x| x as f32).collect();
    let do_t = upload(&[bh, c.tq, c.d], &w);
    let nt = MatmulOptions {
        trans_a: false,
        trans_b: true,
    };
    let tn = MatmulOptions {
        trans_a: true,
        trans_b: false,
    };
    let nn = MatmulOptions::default();
    let scores = matmul(ctx(), &qs_t, &k_t, None, nt).unwrap();
    let p = softmax::softmax(ctx(), &scores).unwrap();
    let o = matmul(ctx(), &p, &v_t, None, nn).unwrap();
    let dp = matmul(ctx(), &do_t, &v_t, None, nt).unwrap();
    let ds = softmax::softmax_backward(ctx(), &p, &dp).unwrap();
    let dq: Vec<f64> = download(&matmul(ctx(), &ds, &k_t, None, nn).unwrap())
        .iter()
        .map(|&x| x as f64 * c.scale())
        .collect();
    let dk = f64s(&download(&matmul(ctx(), &ds, &qs_t, None, tn).unwrap()));
    let dv = f64s(&download(&matmul(ctx(), &p, &do_t, None, tn).unwrap()));
    let tols = grad_tol(
        c,
        c.scale(),
        &f64s(&g.q),
        &f64s(&g.k),
        &f64s(&g.v),
        None,
        &g.w,
    );
    let twice = |t: &Vec<f64>| t.iter().map(|x| 2.0 * x).collect::<Vec<_>>();
    let (o_fused, _) = attention::attention(
        ctx(),
        &upload(&c.q_shape(), &g.q),
        &upload(&c.k_shape(), &g.k),
        &upload(&c.k_shape(), &g.v),
        None,
        AttentionOptions::default(),
    )
    .unwrap();
    // o: twice the forward budget of check_forward (|s| <= D·scale = 4 here).
    let e_s = (c.d as f64 + 4.0) * U * c.d as f64 * c.scale();
    let o_tol = 4.0 * (2.0 * (2.0 * e_s + (2.0 * c.tk as f64 + c.d as f64 + 16.0) * U)) + 1e-7;
    assert_close(
        &download(&o_fused),
        &f64s(&download(&o)),
        o_tol,
        0.0,
        "o fused vs unfused",
    );
    // The same seed gives the same inputs to both variants.
    for variant in variants(c.d) {
        let g = gpu_grads(variant, c, 1000, None);
        let what = format!("{variant:?} fused vs unfused");
        assert_close_each(&g.dq, &dq, &twice(&tols[0]), &format!("dq {what}"));
        assert_close_each(&g.dk, &dk, &twice(&tols[1]), &format!("dk {what}"));
        assert_close_each(&g.dv, &dv, &twice(&tols[2]), &format!("dv {what}"));
    }
}

/// The error message of a forward with `variant` forced at head size `d`.
fn forward_error(variant: AttentionVariant, d: usize) -> String {
    let q = upload(&[1, 1, 3, d], &vec![0.0; 3 * d]);
    let o = Tensor::zeros(ctx(), &[1, 1, 3, d], DType::F32).unwrap();
    let lse = Tensor::zeros(ctx(), &[1, 1, 3], DType::F32).unwrap();
    let opts = AttentionOptions::default();
    attention::forward_with(ctx(), variant, &q, &q, &q, None, opts, &o, &lse)
        .unwrap_err()
        .to_string()
}

#[test]
fn const_head_dim_variant_rejects_other_head_dims() {
    for d in [5, CONST_HEAD_DIM_MAX + 4] {
        let msg = forward_error(AttentionVariant::ConstHeadDim, d);
        assert!(
            msg.contains("attention") && msg.contains(&format!("D = {d}")),
            "{msg}"
        );
    }
}

#[test]
fn shape_errors_name_the_op() {
    let q = upload(&[2, 3, 5, 4], &[0.0; 120]);
    let k = upload(&[2, 3, 7, 4], &[0.0; 168]);
    let v_bad = upload(&[2, 3, 6, 4], &[0.0; 144]);
    let opts = AttentionOptions::default();
    let msg = attention::attention(ctx(), &q, &k, &v_bad, None, opts)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("attention")
            && msg.contains("[2, 3, 5, 4]")
            && msg.contains("[2, 3, 7, 4]")
            && msg.contains("[2, 3, 6, 4]"),
        "{msg}"
    );
    let k_bad = upload(&[2, 2, 7, 4], &[0.0; 112]);
    let msg = attention::attention(ctx(), &q, &k_bad, &k_bad, None, opts)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("attention") && msg.contains("heads") && msg.contains("[2, 2, 7, 4]"),
        "{msg}"
    );
    let mask_bad = upload(&[2, 5], &[1.0; 10]);
    let msg = attention::attention(ctx(), &q, &k, &k, Some(&mask_bad), opts)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("attention") && msg.contains("[2, 7]") && msg.contains("[2, 5]"),
        "{msg}"
    );
    let big = upload(&[1, 1, 1, 129], &[0.0; 129]);
    let msg = attention::attention(ctx(), &big, &big, &big, None, opts)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("attention") && msg.contains("128") && msg.contains("129"),
        "{msg}"
    );
}

#[test]
fn texture_tiles_hold_head_sizes_up_to_128() {
    // Each generated tile at the head sizes it holds, awkward ones included: 64 (the 64-wide
    // tiles full), 68 and 100 (the 128-wide tiles, most of their chunks switched off by D4),
    // 128 (full); causal and not, Tq != Tk, rows past one workgroup's 32 or 64. The short
    // tiles below 128 queries or keys, the long ones from there. Forward against the f64
    // reference, backward against central differences (the long tiles' backward, whose
    // central differences would cost minutes, in the directional test below), tolerances as
    // above.
    use kiln::kernels::AttentionTile;
    assert_eq!(TEXTURE_HEAD_DIM_MAX, 128);
    // This context runs the broadcast tiles where it has subgroups (CI also runs these tests
    // with KILN_SUBGROUPS=off, so both kinds run).
    for broadcast in [false, true] {
        let b = if broadcast { "b" } else { "" };
        let tile = |d, tq, tk| AttentionTile::for_shape(d, tq, tk, broadcast).map(|t| t.name());
        assert_eq!(tile(64, 70, 37), Some(format!("r4k8d64{b}")));
        assert_eq!(tile(68, 5, 9), Some(format!("r4k8d128{b}")));
        assert_eq!(tile(64, 130, 128), Some(format!("r8k16d64{b}")));
        assert_eq!(tile(100, 128, 131), Some(format!("r8k16d128{b}")));
        assert_eq!(tile(64, 127, 1000), Some(format!("r4k8d64{b}")));
        assert_eq!(tile(132, 9, 9), None);
    }
    if let Some(why) = attention::texture_unavailable(ctx()) {
        // The backend refuses the tiles by name (GL), and every other test here runs the
        // storage-buffer kernels that replace them.
        let msg = forward_error(AttentionVariant::Texture, 64);
        assert!(msg.contains(why) && msg.contains("D = 64"), "{msg}");
        return;
    }
    // (D, Tq, Tk, causal): the forward on rows past one workgroup, the backward's central
    // differences on fewer rows (each element costs two f64 passes).
    let forward = [
        (64, 70, 37, true),
        (68, 5, 9, false),
        (100, 37, 21, true),
        (128, 33, 33, true),
        (64, 130, 128, true),
        (100, 128, 131, false),
        (128, 129, 129, true),
    ];
    let backward = [
        (64, 9, 9, true),
        (68, 5, 9, false),
        (100, 9, 5, true),
        (128, 6, 6, true),
    ];
    for (i, (d, tq, tk, causal)) in forward.into_iter().enumerate() {
        let c = Case {
            b: 1,
            h: 2,
            tq,
            tk,
            d,
            causal,
        };
        run_forward(c, 900 + i as u64, 1.0, None, "forward tile");
    }
    for (i, (d, tq, tk, causal)) in backward.into_iter().enumerate() {
        let c = Case {
            b: 1,
            h: 1,
            tq,
            tk,
            d,
            causal,
        };
        check_backward_fd_with(AttentionVariant::Texture, c, 950 + i as u64, None);
    }
}

#[test]
fn texture_variant_rejects_head_sizes_past_its_tiles() {
    // D = 6 is refused by the texture variant itself, D = 132 by every variant's limit.
    for d in [6, TEXTURE_HEAD_DIM_MAX + 4] {
        let msg = forward_error(AttentionVariant::Texture, d);
        assert!(
            msg.contains("attention") && msg.contains(&d.to_string()),
            "{msg}"
        );
    }
}
