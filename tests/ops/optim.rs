//! optim: several SGD-momentum, Adam and AdamW steps against an f64 transcription of
//! PyTorch's update formulas, bias correction at t = 1, Adam's L2 against AdamW's decoupled
//! decay, the weight average's steps with their warm-up, a tensor large enough to fold the
//! grid, and shape errors.

use super::*;
use kiln::ops::optim;
use kiln::optim::{AdamConfig, SgdConfig, HYPER_LEN};

/// f64 reference of `torch.optim.SGD`'s step (`step` from 1). Hyper-parameters are taken as
/// the f32 values the kernel sees.
fn sgd_reference(cfg: &SgdConfig, step: u64, p: &mut [f64], g: &[f64], buf: &mut [f64]) {
    let (lr, mu, tau, wd) = (
        cfg.lr as f64,
        cfg.momentum as f64,
        cfg.dampening as f64,
        cfg.weight_decay as f64,
    );
    for i in 0..p.len() {
        let mut d = g[i] + wd * p[i];
        if mu != 0.0 {
            buf[i] = if step == 1 {
                d
            } else {
                mu * buf[i] + (1.0 - tau) * d
            };
            d = if cfg.nesterov {
                d + mu * buf[i]
            } else {
                buf[i]
            };
        }
        p[i] -= lr * d;
    }
}

/// f64 reference of `torch.optim.Adam` / `AdamW`'s step (`step` from 1).
fn adam_reference(
    cfg: &AdamConfig,
    step: u64,
    p: &mut [f64],
    g: &[f64],
    m: &mut [f64],
    v: &mut [f64],
) {
    let (lr, b1, b2, eps, wd) = (
        cfg.lr as f64,
        cfg.beta1 as f64,
        cfg.beta2 as f64,
        cfg.eps as f64,
        cfg.weight_decay as f64,
    );
    let bc1 = 1.0 - b1.powi(step as i32);
    let bc2 = 1.0 - b2.powi(step as i32);
    for i in 0..p.len() {
        let mut gi = g[i];
        if cfg.decoupled {
            p[i] *= 1.0 - lr * wd;
        } else {
            gi += wd * p[i];
        }
        m[i] = b1 * m[i] + (1.0 - b1) * gi;
        v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
        p[i] -= lr / bc1 * m[i] / (v[i].sqrt() / bc2.sqrt() + eps);
    }
}

// Tolerance after S steps on O(1) values: each step rounds about ten f32 operations, each
// off by at most u = 2⁻²⁴ relative to O(1) operands (|p|, |g| <= ~1, lr <= 0.1, and Adam's
// m/denom is O(1)), so the error grows by about 10·u ≈ 6e-7 per step and stays under
// S·10·u ≈ 3e-6 after S = 5 steps. rtol 1e-5 with atol 3e-6 for values that cross zero
// covers it with margin; Adam's (1 - β^t) are rounded once from f64 (another u).
const STEPS: u64 = 5;
const RTOL: f64 = 1e-5;
const ATOL: f64 = 3e-6;

#[test]
fn sgd_matches_reference_over_several_steps() {
    let mut rng = Rng::new(31);
    let configs = [
        SgdConfig::new(0.1, 0.0),
        SgdConfig::new(0.1, 0.9),
        SgdConfig {
            dampening: 0.1,
            weight_decay: 0.01,
            ..SgdConfig::new(0.05, 0.9)
        },
        SgdConfig {
            weight_decay: 0.01,
            nesterov: true,
            ..SgdConfig::new(0.05, 0.9)
        },
    ];
    for cfg in configs {
        for &n in &[1, 33, 1000] {
            let p0 = rng.vec(n);
            let param = upload(&[n], &p0);
            let buf = upload(&[n], &vec![0.0; n]);
            let grad = upload(&[n], &vec![0.0; n]);
            let hyper = upload(&[HYPER_LEN], &[0.0; HYPER_LEN]);
            // One dispatch for every step: per step, only grad and hyper are rewritten.
            let step = optim::sgd_step(ctx(), &cfg, &param, &grad, &buf, &hyper).unwrap();
            let mut p = f64s(&p0);
            let mut b = vec![0.0; n];
            for t in 1..=STEPS {
                let g = rng.vec(n);
                grad.write_f32(ctx(), &g).unwrap();
                cfg.write_hyper(ctx(), &hyper, t).unwrap();
                kiln::kernels::run(ctx(), std::slice::from_ref(&step)).unwrap();
                sgd_reference(&cfg, t, &mut p, &f64s(&g), &mut b);
            }
            let what = format!("sgd {cfg:?} n={n}");
            assert_close(&download(&param), &p, ATOL, RTOL, &what);
            if cfg.momentum != 0.0 {
                assert_close(&download(&buf), &b, ATOL, RTOL, &format!("{what} buf"));
            }
        }
    }
}

#[test]
fn adam_and_adamw_match_reference_over_several_steps() {
    let mut rng = Rng::new(32);
    let configs = [
        AdamConfig::adam(1e-2),
        AdamConfig {
            weight_decay: 0.1,
            ..AdamConfig::adam(1e-2)
        },
        AdamConfig::adamw(1e-2, 0.1),
        AdamConfig {
            beta1: 0.8,
            beta2: 0.95,
            eps: 1e-6,
            ..AdamConfig::adamw(3e-2, 0.01)
        },
    ];
    for cfg in configs {
        for &n in &[1, 7, 129, 1000] {
            let p0 = rng.vec(n);
            let param = upload(&[n], &p0);
            let m_t = upload(&[n], &vec![0.0; n]);
            let v_t = upload(&[n], &vec![0.0; n]);
            let grad = upload(&[n], &vec![0.0; n]);
            let hyper = upload(&[HYPER_LEN], &[0.0; HYPER_LEN]);
            let step = optim::adam_step(ctx(), &cfg, &param, &grad, &m_t, &v_t, &hyper).unwrap();
            let mut p = f64s(&p0);
            let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
            for t in 1..=STEPS {
                let g = rng.vec(n);
                grad.write_f32(ctx(), &g).unwrap();
                cfg.write_hyper(ctx(), &hyper, t).unwrap();
                kiln::kernels::run(ctx(), std::slice::from_ref(&step)).unwrap();
                adam_reference(&cfg, t, &mut p, &f64s(&g), &mut m, &mut v);
            }
            let what = format!("adam {cfg:?} n={n}");
            assert_close(&download(&param), &p, ATOL, RTOL, &what);
            assert_close(&download(&m_t), &m, ATOL, RTOL, &format!("{what} m"));
            // v is a sum of squares of O(1) values scaled by 1-β2: same relative budget.
            assert_close(&download(&v_t), &v, 1e-9, RTOL, &format!("{what} v"));
        }
    }
}

#[test]
fn adam_first_step_is_bias_corrected() {
    // At t = 1 from zero state, m/bc1 = g and sqrt(v/bc2) = |g|, so every element moves by
    // lr·g/(|g| + eps) ≈ lr·sign(g): without the corrections it would move by lr·0.1/sqrt(0.001).
    let mut rng = Rng::new(33);
    let n = 65;
    let p0 = rng.vec(n);
    let g: Vec<f32> = rng.vec(n).iter().map(|v| v + v.signum() * 0.1).collect();
    let cfg = AdamConfig::adam(1e-3);
    let param = upload(&[n], &p0);
    let zeros = vec![0.0; n];
    optim::adam(
        ctx(),
        &cfg,
        1,
        &param,
        &upload(&[n], &g),
        &upload(&[n], &zeros),
        &upload(&[n], &zeros),
    )
    .unwrap();
    let want: Vec<f64> = p0
        .iter()
        .zip(&g)
        .map(|(&p, &gi)| p as f64 - 1e-3 * gi as f64 / (gi.abs() as f64 + 1e-8))
        .collect();
    // |p| <= 1: the step's roundings stay below 8·u·(|p| + lr).
    assert_close(
        &download(&param),
        &want,
        8.0 * 2f64.powi(-24),
        0.0,
        "adam t=1",
    );
}

#[test]
fn adam_l2_and_adamw_decoupled_decay_differ_as_pytorch() {
    // Zero gradient isolates the decay: AdamW scales p by (1 - lr·λ) exactly, its moments stay
    // 0 and add nothing; Adam's L2 term λp becomes the gradient, so at t = 1 p moves by
    // lr·λp/(|λp| + eps) ≈ lr·sign(p).
    let mut rng = Rng::new(34);
    let n = 33;
    let p0: Vec<f32> = rng.vec(n).iter().map(|v| v + v.signum() * 0.1).collect();
    let zeros = vec![0.0; n];
    for cfg in [
        AdamConfig::adamw(0.01, 0.1),
        AdamConfig {
            weight_decay: 0.1,
            ..AdamConfig::adam(0.01)
        },
    ] {
        let param = upload(&[n], &p0);
        let m_t = upload(&[n], &zeros);
        optim::adam(
            ctx(),
            &cfg,
            1,
            &param,
            &upload(&[n], &zeros),
            &m_t,
            &upload(&[n], &zeros),
        )
        .unwrap();
        let want: Vec<f64> = p0
            .iter()
            .map(|&p| {
                let p = p as f64;
                if cfg.decoupled {
                    p * (1.0 - 0.01 * 0.1)
                } else {
                    p - 0.01 * (0.1 * p) / ((0.1 * p).abs() + 1e-8)
                }
            })
            .collect();
        assert_close(
            &download(&param),
            &want,
            8.0 * 2f64.powi(-24),
            0.0,
            &format!("decay {cfg:?}"),
        );
        let m = download(&m_t);
        assert_eq!(
            m.iter().all(|&v| v == 0.0),
            cfg.decoupled,
            "AdamW keeps zero moments, Adam does not"
        );
    }
}

#[test]
fn weight_average_matches_reference_over_steps_with_warm_up() {
    // An odd length (1,031) leaves a partial workgroup. Decay 0.9: the warm-up
    // (1 + t) / (10 + t) gives 0.18, 0.25, 0.31, … and reaches 0.9 only at t = 80, so steps 1-3
    // check the warm-up and step 100 the plain decay.
    let n = 1031;
    let mut rng = Rng::new(12);
    let a0 = rng.vec(n);
    let average = upload(&[n], &a0);
    let mut want: Vec<f64> = a0.iter().map(|&v| v as f64).collect();
    for step in [1u64, 2, 3, 100] {
        let p = rng.vec(n);
        optim::average(ctx(), 0.9, step, &upload(&[n], &p), &average).unwrap();
        let d = kiln::optim::average_decay(0.9, step) as f64;
        let expected = if step < 80 {
            (1.0 + step as f64) / (10.0 + step as f64)
        } else {
            0.9
        };
        assert!((d - expected).abs() < 1e-7, "decay at step {step}: {d}");
        for (w, &pi) in want.iter_mut().zip(&p) {
            *w = d * *w + (1.0 - d) * pi as f64;
        }
        // Two products and a sum of O(1) values per step, each rounded: a few ulps, carried
        // over four steps of a contraction; 1e-6 absolute is well above that.
        assert_close(&download(&average), &want, 1e-6, 1e-6, "weight average");
    }
    let wrong = upload(&[n + 1], &vec![0.0; n + 1]);
    let msg = optim::average(ctx(), 0.9, 1, &wrong, &average)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("average") && msg.contains("1031"), "{msg}");
}

#[test]
fn sgd_folds_a_grid_past_65535_workgroups() {
    // 65,535 workgroups of 256 cover 16,776,960 elements; three more need the second grid row.
    let n = 65535 * 256 + 3;
    let p0: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 * 1e-3).collect();
    let g: Vec<f32> = (0..n).map(|i| ((i % 7) as f32 - 3.0) * 0.25).collect();
    let param = upload(&[n], &p0);
    let cfg = SgdConfig::new(0.5, 0.0);
    let buf = kiln::Tensor::zeros(ctx(), &[n], kiln::DType::F32).unwrap();
    optim::sgd(ctx(), &cfg, 1, &param, &upload(&[n], &g), &buf).unwrap();
    let got = download(&param);
    // p - 0.5·g with g a multiple of 1/4: one rounding, within u·|p| + u.
    let idx: Vec<usize> = (0..n).step_by(4099).chain(n - 300..n).collect();
    let got_s: Vec<f32> = idx.iter().map(|&i| got[i]).collect();
    let want: Vec<f64> = idx
        .iter()
        .map(|&i| p0[i] as f64 - 0.5 * g[i] as f64)
        .collect();
    assert_close(
        &got_s,
        &want,
        2f64.powi(-23),
        2f64.powi(-23),
        "sgd folded grid",
    );
}

#[test]
fn shape_errors_name_the_op() {
    let p = upload(&[3, 7], &[0.0; 21]);
    let g = upload(&[7, 3], &[0.0; 21]);
    let b = upload(&[3, 7], &[0.0; 21]);
    let hyper = upload(&[HYPER_LEN], &[0.0; HYPER_LEN]);
    let msg = optim::sgd_step(ctx(), &SgdConfig::new(0.1, 0.9), &p, &g, &b, &hyper)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("sgd") && msg.contains("[3, 7]") && msg.contains("[7, 3]"),
        "{msg}"
    );
    let msg = optim::adam_step(ctx(), &AdamConfig::adamw(0.1, 0.01), &p, &b, &g, &b, &hyper)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("adamw") && msg.contains("[3, 7]") && msg.contains("[7, 3]"),
        "{msg}"
    );
    let short = upload(&[3], &[0.0; 3]);
    let msg = optim::adam_step(ctx(), &AdamConfig::adam(0.1), &p, &b, &b, &b, &short)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("adam") && msg.contains("[3]"), "{msg}");
    assert!(AdamConfig::adam(0.1).hyper(0).is_err());
    assert!(SgdConfig::new(0.1, 0.9).hyper(0).is_err());
}
