//! matmul tests: every variant against an f64 reference on awkward shapes, layouts, bias and
//! batch broadcasting; the backward against finite differences; the variant choice; errors.

use super::*;
use kiln::kernels::{parse_matmul_variant, MatmulTile, MatmulVariant};
use kiln::ops::matmul::{self, MatmulOptions};

/// f64 reference: c[b,i,j] = Σ_k op(a)[b,i,k]·op(b)[b,k,j] (+ bias[j]), with a or b broadcast
/// over the batch when `batch_a`/`batch_b` is 1.
#[allow(clippy::too_many_arguments)]
pub fn reference(
    a: &[f64],
    b: &[f64],
    bias: Option<&[f64]>,
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    opts: MatmulOptions,
) -> Vec<f64> {
    reference_with_bound(a, b, bias, batch, m, k, n, opts).0
}

/// The reference and, per element, the f32 error bound of a length-K dot product plus a bias:
/// (K+1)·2⁻²⁴·(Σ_k |a_k·b_k| + |bias|) (the textbook γ_K bound, one more rounding for the bias),
/// plus 1e-30 so that an exact 0 compares equal.
#[allow(clippy::too_many_arguments)]
pub fn reference_with_bound(
    a: &[f64],
    b: &[f64],
    bias: Option<&[f64]>,
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    opts: MatmulOptions,
) -> (Vec<f64>, Vec<f64>) {
    let a_batched = a.len() == batch * m * k && batch > 1;
    let b_batched = b.len() == batch * k * n && batch > 1;
    let mut c = vec![0.0; batch * m * n];
    let mut bound = vec![0.0; batch * m * n];
    let u = 2f64.powi(-24);
    for bi in 0..batch {
        let ao = if a_batched { bi * m * k } else { 0 };
        let bo = if b_batched { bi * k * n } else { 0 };
        for i in 0..m {
            for j in 0..n {
                let bias_v = bias.map_or(0.0, |bs| bs[j]);
                let mut acc = bias_v;
                let mut mag = bias_v.abs();
                for kk in 0..k {
                    let av = if opts.trans_a {
                        a[ao + kk * m + i]
                    } else {
                        a[ao + i * k + kk]
                    };
                    let bv = if opts.trans_b {
                        b[bo + j * k + kk]
                    } else {
                        b[bo + kk * n + j]
                    };
                    acc += av * bv;
                    mag += (av * bv).abs();
                }
                c[(bi * m + i) * n + j] = acc;
                bound[(bi * m + i) * n + j] = (k + 1) as f64 * u * mag + 1e-30;
            }
        }
    }
    (c, bound)
}

/// One test problem: sizes, layout, bias, and which operands carry the batch of 3.
#[derive(Clone, Copy, Debug)]
struct Case {
    m: usize,
    k: usize,
    n: usize,
    opts: MatmulOptions,
    bias: bool,
    a_batched: bool,
    b_batched: bool,
}

impl Case {
    fn batch(&self) -> usize {
        if self.a_batched || self.b_batched {
            3
        } else {
            1
        }
    }
    fn a_shape(&self) -> Vec<usize> {
        let s = if self.opts.trans_a {
            vec![self.k, self.m]
        } else {
            vec![self.m, self.k]
        };
        if self.a_batched {
            [vec![3], s].concat()
        } else {
            s
        }
    }
    fn b_shape(&self) -> Vec<usize> {
        let s = if self.opts.trans_b {
            vec![self.n, self.k]
        } else {
            vec![self.k, self.n]
        };
        if self.b_batched {
            [vec![3], s].concat()
        } else {
            s
        }
    }
}

/// ~30 cases over the awkward sizes: every size in every position of (M, K, N), every layout,
/// bias on and off, and the batch on both operands, on one (the other broadcast) or on neither.
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for i in 0..30 {
        let (r, q) = (i % 6, i / 6);
        let t = (i / 4) % 4;
        let batching = i % 4;
        out.push(Case {
            m: AWKWARD[r],
            k: AWKWARD[(r + q) % 6],
            n: AWKWARD[(r + 2 * q + 1) % 6],
            opts: MatmulOptions {
                trans_a: t & 1 != 0,
                trans_b: t & 2 != 0,
            },
            bias: (i / 3) % 2 == 1,
            a_batched: batching == 1 || batching == 3,
            b_batched: batching == 1 || batching == 2,
        });
    }
    out
}

/// Every variant, the texture one at each tile this context runs (the broadcast tiles where it
/// has subgroups; CI also runs these tests with `KILN_SUBGROUPS=off` and on GL, which has none).
fn every_config() -> Vec<(MatmulVariant, MatmulTile)> {
    let mut configs = Vec::new();
    for variant in MatmulVariant::ALL {
        if variant == MatmulVariant::Texture {
            let runs = |t: &MatmulTile| ctx().subgroups() || !t.broadcast;
            configs.extend(
                MatmulTile::ALL
                    .into_iter()
                    .filter(runs)
                    .map(|t| (variant, t)),
            );
        } else {
            configs.push((variant, MatmulTile::ALL[0]));
        }
    }
    configs
}

fn check_forward((variant, tile): (MatmulVariant, MatmulTile), case: Case, rng: &mut Rng) {
    let (a_shape, b_shape) = (case.a_shape(), case.b_shape());
    let a = rng.vec(a_shape.iter().product());
    let b = rng.vec(b_shape.iter().product());
    let bias = rng.vec(case.n);
    let bias_t = upload(&[case.n], &bias);
    let batch = case.batch();
    let mut c_shape = vec![case.m, case.n];
    if batch > 1 {
        c_shape.insert(0, batch);
    }
    let c = kiln::Tensor::zeros(ctx(), &c_shape, kiln::DType::F32).unwrap();
    let d = matmul::forward_with_tile(
        ctx(),
        variant,
        tile,
        &upload(&a_shape, &a),
        &upload(&b_shape, &b),
        case.bias.then_some(&bias_t),
        &c,
        case.opts,
    )
    .unwrap();
    kiln::kernels::run(ctx(), &d).unwrap();
    let bias64 = f64s(&bias);
    let (want, tol) = reference_with_bound(
        &f64s(&a),
        &f64s(&b),
        case.bias.then_some(&bias64[..]),
        batch,
        case.m,
        case.k,
        case.n,
        case.opts,
    );
    let what = format!("{variant:?} {} {case:?}", tile.name());
    assert_close_each(&download(&c), &want, &tol, &what);
}

#[test]
fn every_variant_matches_reference() {
    for config in every_config() {
        let mut rng = Rng::new(11);
        for case in cases() {
            check_forward(config, case, &mut rng);
        }
    }
}

#[test]
fn every_variant_matches_reference_on_a_bigger_case() {
    for config in every_config() {
        let mut rng = Rng::new(12);
        for t in 0..4 {
            let case = Case {
                m: 129,
                k: 257,
                n: 65,
                opts: MatmulOptions {
                    trans_a: t & 1 != 0,
                    trans_b: t & 2 != 0,
                },
                bias: t == 1,
                a_batched: false,
                b_batched: false,
            };
            check_forward(config, case, &mut rng);
        }
    }
}

/// Sizes in whole texels, which the texture variant packs with vec4 loads (`matmul_pack4`,
/// and the 4x4-block transposing `matmul_pack_t4`), with K both whole and ragged: AWKWARD's
/// odd sizes only reach the scalar packs.
#[test]
fn every_variant_matches_reference_on_whole_texel_sizes() {
    for config in every_config() {
        let mut rng = Rng::new(13);
        for (i, &(m, k, n)) in [(12, 9, 20), (36, 16, 8), (4, 4, 4), (8, 33, 12)]
            .iter()
            .enumerate()
        {
            for t in 0..4 {
                let batching = (i + t) % 4;
                let case = Case {
                    m,
                    k,
                    n,
                    opts: MatmulOptions {
                        trans_a: t & 1 != 0,
                        trans_b: t & 2 != 0,
                    },
                    bias: t == 2,
                    a_batched: batching == 1 || batching == 3,
                    b_batched: batching == 1 || batching == 2,
                };
                check_forward(config, case, &mut rng);
            }
        }
    }
}

#[test]
fn eager_matmul_uses_a_real_variant() {
    let mut rng = Rng::new(10);
    for &(m, k, n) in &[(1, 1, 1), (3, 7, 33), (65, 3, 7), (33, 129, 1)] {
        let a = rng.vec(m * k);
        let b = rng.vec(k * n);
        let opts = MatmulOptions::default();
        let c = matmul::matmul(
            ctx(),
            &upload(&[m, k], &a),
            &upload(&[k, n], &b),
            None,
            opts,
        )
        .unwrap();
        let (want, tol) = reference_with_bound(&f64s(&a), &f64s(&b), None, 1, m, k, n, opts);
        assert_close_each(&download(&c), &want, &tol, &format!("matmul {m}x{k}x{n}"));
    }
}

#[test]
fn backward_matches_finite_differences() {
    let mut rng = Rng::new(13);
    let (m, k, n) = (3, 7, 5);
    for i in 0..16 {
        let batching = i % 4;
        let case = Case {
            m,
            k,
            n,
            opts: MatmulOptions {
                trans_a: (i / 4) & 1 != 0,
                trans_b: (i / 4) & 2 != 0,
            },
            bias: i % 2 == 1 || i % 3 == 0,
            a_batched: batching == 1 || batching == 3,
            b_batched: batching == 1 || batching == 2,
        };
        let batch = case.batch();
        let (a_shape, b_shape) = (case.a_shape(), case.b_shape());
        let a = rng.vec(a_shape.iter().product());
        let b = rng.vec(b_shape.iter().product());
        let bias = rng.vec(n);
        let w = rng.vec(batch * m * n);
        let mut c_shape = vec![m, n];
        if batch > 1 {
            c_shape.insert(0, batch);
        }
        let (da, db, dbias) = matmul::matmul_backward(
            ctx(),
            &upload(&a_shape, &a),
            &upload(&b_shape, &b),
            &upload(&c_shape, &w),
            case.opts,
            case.bias,
        )
        .unwrap();
        let (a64, b64, bias64, w64) = (f64s(&a), f64s(&b), f64s(&bias), f64s(&w));
        let opts = case.opts;
        let loss = |a: &[f64], b: &[f64], bias: &[f64]| {
            dot(&reference(a, b, Some(bias), batch, m, k, n, opts), &w64)
        };
        let want_da = numeric_grad(&a64, |x| loss(x, &b64, &bias64));
        let want_db = numeric_grad(&b64, |x| loss(&a64, x, &bias64));
        let want_dbias = numeric_grad(&bias64, |x| loss(&a64, &b64, x));
        // Each gradient element is an f32 sum of at most batch·max(M, N, K) = 21 products of
        // values in [-1, 1): |error| <= 21·2⁻²⁴·21 ≈ 2.6e-5. The loss is bilinear, so central
        // differences have no truncation error, only rounding ≈ 1e-16·|loss|/h ≈ 1e-9.
        let terms = (batch * m.max(n).max(k)) as f64;
        let atol = terms * terms * 2f64.powi(-24) + 1e-7;
        let what = format!("{case:?}");
        assert_close(&download(&da), &want_da, atol, 0.0, &format!("dA {what}"));
        assert_close(&download(&db), &want_db, atol, 0.0, &format!("dB {what}"));
        match dbias {
            Some(t) => assert_close(
                &download(&t),
                &want_dbias,
                atol,
                0.0,
                &format!("dbias {what}"),
            ),
            None => assert!(!case.bias, "dbias missing for {what}"),
        }
    }
}

/// The texture variant shares one packed texture per operand across matmuls: a small product
/// after a big one reuses the big texture, whose stale texels past the small operands hold NaN
/// here. K = 7 is not a whole number of texels, so the kernel reads the zero padding of the
/// last texel and must not see the stale NaNs beyond it. A bigger product after that grows the
/// texture while the earlier dispatches, which keep the old one, stay valid.
/// An operand used as stored is packed by the queue's buffer-to-texture copy; one in a buffer
/// the queue cannot copy from (a host's, STORAGE without COPY_SRC) takes the pack kernel. Both
/// give the reference's product.
#[test]
fn texture_packs_copy_where_they_can_and_run_the_kernel_where_they_cannot() {
    let (m, k, n) = (12, 8, 20);
    let mut rng = Rng::new(31);
    let (a, b) = (rng.vec(m * k), rng.vec(k * n));
    let opts = MatmulOptions::default();
    let (want, tol) = reference_with_bound(&f64s(&a), &f64s(&b), None, 1, m, k, n, opts);
    for copyable in [true, false] {
        let host = |data: &[f32], shape: &[usize]| {
            if copyable {
                upload(shape, data)
            } else {
                upload_storage_only(shape, data)
            }
        };
        let c = kiln::Tensor::zeros(ctx(), &[m, n], kiln::DType::F32).unwrap();
        let (at, bt) = (host(&a, &[m, k]), host(&b, &[k, n]));
        let d =
            matmul::forward_with(ctx(), MatmulVariant::Texture, &at, &bt, None, &c, opts).unwrap();
        let packs: Vec<&str> = d[..2].iter().map(|d| d.label()).collect();
        let expected = if copyable {
            "kiln.matmul_texture.pack_copy"
        } else {
            "kiln.matmul_texture.matmul_pack4"
        };
        assert_eq!(packs, [expected; 2], "copy source: {copyable}");
        kiln::kernels::run(ctx(), &d).unwrap();
        assert_close_each(
            &download(&c),
            &want,
            &tol,
            &format!("texture product, copy source {copyable}"),
        );
    }
}

#[test]
fn texture_variant_reuses_its_textures_without_stale_values() {
    for (v, tile) in every_config() {
        if v == MatmulVariant::Texture {
            reuses_textures_without_stale_values(tile);
        }
    }
}

fn reuses_textures_without_stale_values(tile: MatmulTile) {
    let v = MatmulVariant::Texture;
    let run_one = |m: usize, k: usize, n: usize, fill: Option<f32>, seed: u64| {
        let mut rng = Rng::new(seed);
        let a = match fill {
            Some(x) => vec![x; m * k],
            None => rng.vec(m * k),
        };
        let b = match fill {
            Some(x) => vec![x; k * n],
            None => rng.vec(k * n),
        };
        let c = kiln::Tensor::zeros(ctx(), &[m, n], kiln::DType::F32).unwrap();
        let opts = MatmulOptions::default();
        let d = matmul::forward_with_tile(
            ctx(),
            v,
            tile,
            &upload(&[m, k], &a),
            &upload(&[k, n], &b),
            None,
            &c,
            opts,
        )
        .unwrap();
        (a, b, c, d)
    };
    let (_, _, _, big) = run_one(65, 129, 33, Some(f32::NAN), 1);
    kiln::kernels::run(ctx(), &big).unwrap();
    let (a, b, c, small) = run_one(33, 7, 3, None, 2);
    let (_, _, _, bigger) = run_one(129, 257, 65, Some(1.0), 3);
    // Recorded after the bigger one was prepared: the small product still uses its own textures.
    kiln::kernels::run(ctx(), &small).unwrap();
    let (want, tol) = reference_with_bound(
        &f64s(&a),
        &f64s(&b),
        None,
        1,
        33,
        7,
        3,
        MatmulOptions::default(),
    );
    assert_close_each(
        &download(&c),
        &want,
        &tol,
        &format!("small product after a NaN-filled one, {}", tile.name()),
    );
    kiln::kernels::run(ctx(), &bigger).unwrap();
}

#[test]
fn variant_override_parses_and_choice_is_real() {
    assert_eq!(parse_matmul_variant("naive"), Some(MatmulVariant::Naive));
    assert_eq!(
        parse_matmul_variant(" Register "),
        Some(MatmulVariant::Register)
    );
    assert_eq!(
        parse_matmul_variant("WORKGROUP"),
        Some(MatmulVariant::Workgroup)
    );
    assert_eq!(
        parse_matmul_variant("texture"),
        Some(MatmulVariant::Texture)
    );
    assert_eq!(parse_matmul_variant("tiled"), None);
    assert_eq!(parse_matmul_variant(""), None);
    let v = matmul::variant(ctx());
    assert!(MatmulVariant::ALL.contains(&v));
    // Without the override the choice is a measured, fast one; with it, the named one.
    match std::env::var(kiln::kernels::ENV_MATMUL)
        .ok()
        .as_deref()
        .and_then(parse_matmul_variant)
    {
        Some(forced) => assert_eq!(v, forced),
        None => assert_ne!(v, MatmulVariant::Naive),
    }
    assert_eq!(matmul::variant(ctx()), v, "the choice is cached");
}

/// The race's result is stored in the tuning file and read back instead of racing again; a
/// corrupt file or one measured with other kernels is measured over (the stored choice from
/// other kernels is only the incumbent), and the decision's story says which happened.
#[test]
fn the_matmul_choice_is_measured_once_and_then_read_from_the_tuning_file() {
    use kiln::kernels::{choose_matmul_in, tuning, ChoiceSource};
    let dir = std::env::temp_dir().join(format!("kiln-choice-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = choose_matmul_in(ctx(), Some(&dir));
    let ChoiceSource::Measured {
        ms, rounds, stored, ..
    } = &first.source
    else {
        panic!("an empty folder must race: {first}");
    };
    assert!(
        *rounds >= 1
            && ms
                .iter()
                .any(|(name, _)| name.starts_with(first.variant.name())),
        "{first}"
    );
    assert!(ms.iter().all(|(_, t)| t.is_finite() && *t > 0.0), "{first}");
    assert_ne!(first.variant, MatmulVariant::Naive, "{first}");
    assert_eq!(stored.as_deref(), Some(dir.as_path()), "{first}");
    let key = kiln::kernels::tuning_key(ctx());
    let entry = tuning::load(&dir, &key).expect("the race stored its result");
    assert!(
        entry.matmul.starts_with(first.variant.name()),
        "{}",
        entry.matmul
    );

    let second = choose_matmul_in(ctx(), Some(&dir));
    assert_eq!(second.variant, first.variant);
    assert_eq!(
        second.source,
        ChoiceSource::Remembered(dir.clone()),
        "{second}"
    );
    assert!(second.to_string().contains("tuning.json"), "{second}");

    // Measured with other kernels: raced again, and the file records today's kernels.
    let stale = tuning::TunedChoice {
        kernels: "0.0.0-stale".into(),
        ..entry.clone()
    };
    tuning::store(&dir, &key, &stale).unwrap();
    let third = choose_matmul_in(ctx(), Some(&dir));
    assert!(
        matches!(third.source, ChoiceSource::Measured { .. }),
        "{third}"
    );
    assert_eq!(tuning::load(&dir, &key).unwrap().kernels, entry.kernels);

    std::fs::write(tuning::tuning_file(&dir), b"{ not json").unwrap();
    let fourth = choose_matmul_in(ctx(), Some(&dir));
    assert!(
        matches!(fourth.source, ChoiceSource::Measured { .. }),
        "{fourth}"
    );
    assert!(
        tuning::load(&dir, &key).is_some(),
        "the corrupt file was replaced"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // No folder: measured, nothing stored.
    let fifth = choose_matmul_in(ctx(), None);
    assert!(
        matches!(fifth.source, ChoiceSource::Measured { stored: None, .. }),
        "{fifth}"
    );
}

#[test]
fn bad_shapes_name_op_and_shapes() {
    let a = upload(&[3, 4], &[0.0; 12]);
    let b = upload(&[5, 6], &[0.0; 30]);
    let err = matmul::matmul(ctx(), &a, &b, None, MatmulOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("matmul") && msg.contains("[3, 4]") && msg.contains("[5, 6]"),
        "{msg}"
    );
    let b3 = upload(&[2, 4, 6], &[0.0; 48]);
    let a3 = upload(&[3, 3, 4], &[0.0; 36]);
    let err = matmul::matmul(ctx(), &a3, &b3, None, MatmulOptions::default()).unwrap_err();
    assert!(err.to_string().contains("[3, 3, 4]"), "{err}");
}

/// llvmpipe stops every loop of an invocation after 65,535 passes in all, silently. A long
/// contraction (a weight gradient over B·H·W) must then either run on a kernel whose loop fits
/// and match the reference, or be refused with an error that says why; never come back wrong.
#[test]
fn long_contractions_are_right_or_refused_never_wrong() {
    let mut rng = Rng::new(65_536);
    for k in [65_536usize, 70_000, 300_000] {
        let (m, n) = (4, 4);
        let a = rng.vec(m * k);
        let b = rng.vec(k * n);
        let (a_t, b_t) = (upload(&[m, k], &a), upload(&[k, n], &b));
        let (want, tol) =
            reference_with_bound(&f64s(&a), &f64s(&b), None, 1, m, k, n, Default::default());
        let variants = [
            MatmulVariant::Naive,
            MatmulVariant::Register,
            MatmulVariant::Workgroup,
            MatmulVariant::Texture,
        ];
        for variant in variants.into_iter().map(Some).chain([None]) {
            let c = kiln::Tensor::zeros(ctx(), &[m, n], kiln::DType::F32).unwrap();
            let prepared = match variant {
                Some(v) => matmul::forward_with(ctx(), v, &a_t, &b_t, None, &c, Default::default()),
                None => matmul::forward(ctx(), &a_t, &b_t, None, &c, Default::default()),
            };
            match prepared {
                Ok(d) => {
                    kiln::kernels::run(ctx(), &d).unwrap();
                    let what = format!("K {k}, {variant:?} (None: the context's choice)");
                    assert_close_each(&download(&c), &want, &tol, &what);
                }
                Err(kiln::Error::Unsupported(why)) => {
                    assert!(
                        kiln::kernels::loops_limited(ctx()),
                        "refused off llvmpipe: {why}"
                    );
                    assert!(
                        why.contains("matmul") && why.contains(&k.to_string()),
                        "{why}"
                    );
                    // The texture kernel steps 4 K per pass: it must be used up to 262,140.
                    assert!(k > 262_140, "K {k} fits the texture kernel: {why}");
                }
                Err(e) => panic!("K {k}, {variant:?}: {e}"),
            }
        }
    }
}
