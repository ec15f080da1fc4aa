//! Per-adapter choice of kernel variants, by measurement (Burn's named tunables, in small).
//!
//! The first matmul on a context races the fast variants, the texture one at each tile the
//! context can run ([`MatmulCandidate`]), on the shapes of a training step ([`Race`]), round
//! after round until the leader is clear, and keeps the winner. The decision
//! is stored per adapter and driver in kiln's cache folder ([`tuning`]), so every later run on
//! the machine reads it instead of racing: the same command makes the same choice every time,
//! and the race is paid once. [`ENV_MATMUL`] pins a variant instead, [`ENV_MATMUL_TILE`] a
//! tile.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use crate::context::Context;
use crate::error::Result;
use crate::kernels::{run, tuning, Dispatch, MatmulTile};
use crate::ops::matmul::{forward_with_tile, MatmulOptions};
use crate::tensor::Tensor;

/// Which matmul kernel a context uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatmulVariant {
    /// One output per invocation, no tiling: the always-correct fallback.
    Naive,
    /// Register tiles, no workgroup memory: the fast one on CPU drivers (lavapipe).
    Register,
    /// Tiles staged through workgroup memory: the classic discrete-GPU kernel.
    Workgroup,
    /// Register tiles reading operands packed into textures: on lavapipe a texel fetch is a
    /// vector gather while a storage-buffer load is a per-lane loop (`texture.wgsl`).
    Texture,
}

impl MatmulVariant {
    /// Every variant, fallback first.
    pub const ALL: [MatmulVariant; 4] = [
        MatmulVariant::Naive,
        MatmulVariant::Register,
        MatmulVariant::Workgroup,
        MatmulVariant::Texture,
    ];

    /// The lower-case name used by [`ENV_MATMUL`] and in reports.
    pub fn name(self) -> &'static str {
        match self {
            MatmulVariant::Naive => "naive",
            MatmulVariant::Register => "register",
            MatmulVariant::Workgroup => "workgroup",
            MatmulVariant::Texture => "texture",
        }
    }
}

/// Environment variable forcing the matmul variant: `naive`, `register`, `workgroup` or
/// `texture`.
pub const ENV_MATMUL: &str = "KILN_MATMUL";

/// Environment variable forcing the texture kernel's tile ([`MatmulTile::name`]: `m32n16`,
/// `m32n16b`, `m64n8b`); the race then only decides the variant.
pub const ENV_MATMUL_TILE: &str = "KILN_MATMUL_TILE";

/// One entrant of the race: a variant, and for the texture variant its tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MatmulCandidate {
    /// The variant.
    pub variant: MatmulVariant,
    /// The texture kernel's tile (what a texture matmul uses; ignored by the other variants).
    pub tile: MatmulTile,
}

impl MatmulCandidate {
    /// `register`, or `texture.m32n16b` for the texture variant.
    pub fn name(&self) -> String {
        match self.variant {
            MatmulVariant::Texture => format!("texture.{}", self.tile.name()),
            v => v.name().to_string(),
        }
    }

    /// The candidate [`Self::name`] wrote, on a context that has subgroups or not.
    fn parse(name: &str, subgroups: bool) -> Option<MatmulCandidate> {
        let (variant, tile) = match name.split_once('.') {
            Some((v, t)) => (parse_matmul_variant(v)?, MatmulTile::parse(t)?),
            None => (
                parse_matmul_variant(name)?,
                MatmulTile::default_for(subgroups),
            ),
        };
        (subgroups || !tile.broadcast).then_some(MatmulCandidate { variant, tile })
    }
}

/// Parses a value of [`ENV_MATMUL`] (case-insensitive); `None` for anything else.
pub fn parse_matmul_variant(value: &str) -> Option<MatmulVariant> {
    let v = value.trim().to_ascii_lowercase();
    MatmulVariant::ALL.into_iter().find(|m| m.name() == v)
}

/// How a context's matmul variant was decided.
#[derive(Clone, Debug, PartialEq)]
pub enum ChoiceSource {
    /// [`crate::ContextOptions::matmul`] or [`ENV_MATMUL`] named it.
    Pinned,
    /// Read from the tuning file in this folder, measured by an earlier run on this adapter.
    Remembered(PathBuf),
    /// Measured now by a race; stored in the tuning file in this folder where there is one.
    Measured {
        /// Milliseconds for the race's shapes, per candidate ([`MatmulCandidate::name`]) that
        /// was still racing at the end.
        ms: Vec<(String, f64)>,
        /// Rounds the race ran.
        rounds: u32,
        /// The leader beat the runner-up by more than [`MARGIN`] (if not, and an earlier choice
        /// was within the margin of it, the earlier choice stood).
        clear: bool,
        /// Where the result was stored.
        stored: Option<PathBuf>,
    },
    /// No variant could be measured (each failed to compile or run): the named fallback.
    Fallback,
}

/// A context's matmul variant and how it was decided ([`matmul_choice`]).
#[derive(Clone, Debug, PartialEq)]
pub struct MatmulChoice {
    /// The variant every matmul on the context uses.
    pub variant: MatmulVariant,
    /// The texture kernel's tile, where the variant is the texture one.
    pub tile: MatmulTile,
    /// How it was decided.
    pub source: ChoiceSource,
}

impl std::fmt::Display for MatmulChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let candidate = MatmulCandidate {
            variant: self.variant,
            tile: self.tile,
        };
        write!(f, "matmul {}", candidate.name())?;
        match &self.source {
            ChoiceSource::Pinned => write!(
                f,
                " (pinned by the context's options or {ENV_MATMUL} / {ENV_MATMUL_TILE})"
            ),
            ChoiceSource::Remembered(dir) => {
                write!(
                    f,
                    " (measured earlier, {})",
                    tuning::tuning_file(dir).display()
                )
            }
            ChoiceSource::Measured {
                ms,
                rounds,
                clear,
                stored,
            } => {
                let times: Vec<String> = ms.iter().map(|(v, t)| format!("{v} {t:.1} ms")).collect();
                write!(f, " (measured now, {rounds} rounds: {}", times.join(", "))?;
                if !clear {
                    write!(f, "; the lead is within the {:.0} % margin", MARGIN * 100.0)?;
                }
                match stored {
                    Some(dir) => write!(f, "; saved in {})", tuning::tuning_file(dir).display()),
                    None => write!(f, "; not saved)"),
                }
            }
            ChoiceSource::Fallback => write!(f, " (fallback: no variant could be measured)"),
        }
    }
}

/// A challenger must beat the earlier choice by this fraction of its time to replace it, and
/// the leader must lead the runner-up by as much for the race to end early: below it, the
/// ranking is the machine's noise.
pub const MARGIN: f64 = 0.10;

/// The kernels whose texts key a stored choice: a change to any re-measures.
const MATMUL_SHADERS: [&str; 4] = [
    "matmul_naive",
    "matmul_register",
    "matmul_workgroup",
    "matmul_texture",
];

/// Choices already decided in this process, per adapter key.
fn decided() -> &'static Mutex<HashMap<String, MatmulChoice>> {
    static DECIDED: OnceLock<Mutex<HashMap<String, MatmulChoice>>> = OnceLock::new();
    DECIDED.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The matmul variant for `ctx` ([`matmul_choice`] without the story).
pub fn choose_matmul(ctx: &Context) -> MatmulVariant {
    matmul_choice(ctx).variant
}

/// The matmul variant for `ctx` and how it was decided: the one its options or [`ENV_MATMUL`]
/// pinned;
/// else this process's decision for the adapter; else [`choose_matmul_in`] kiln's cache folder
/// ([`tuning::cache_dir`]), so a machine measures once and every later run reads the result.
pub fn matmul_choice(ctx: &Context) -> MatmulChoice {
    if let Some(variant) = ctx.pinned_matmul() {
        return MatmulChoice {
            variant,
            tile: standing_tile(ctx),
            source: ChoiceSource::Pinned,
        };
    }
    let key = tuning_key(ctx);
    let mut done = decided().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(choice) = done.get(&key) {
        return choice.clone();
    }
    let choice = choose_matmul_in(ctx, tuning::cache_dir().as_deref());
    done.insert(key, choice.clone());
    choice
}

/// The matmul variant for `ctx` with the tuning file in `dir` (none: measure, keep nothing):
/// the stored choice if it was measured with today's kernels; else a race, whose result is
/// stored. A stored choice from older kernels (or, without one, the adapter type's default:
/// the texture kernel on a CPU driver) is the incumbent a challenger must beat by [`MARGIN`].
/// A failed measurement only costs speed: it falls back to the register kernel (naive if even
/// that fails), never an error.
pub fn choose_matmul_in(ctx: &Context, dir: Option<&Path>) -> MatmulChoice {
    let key = tuning_key(ctx);
    let version = matmul_kernels_version();
    let subgroups = ctx.subgroups();
    let pinned_tile = ctx.pinned_matmul_tile();
    let earlier = dir.and_then(|d| tuning::load(d, &key));
    let earlier_candidate = earlier
        .as_ref()
        .and_then(|e| MatmulCandidate::parse(&e.matmul, subgroups))
        .filter(|c| pinned_tile.is_none_or(|t| c.variant != MatmulVariant::Texture || c.tile == t));
    if let (Some(dir), Some(e), Some(c)) = (dir, &earlier, earlier_candidate) {
        if e.kernels == version {
            return MatmulChoice {
                variant: c.variant,
                tile: c.tile,
                source: ChoiceSource::Remembered(dir.to_path_buf()),
            };
        }
    }
    let incumbent = earlier_candidate.or_else(|| preferred(ctx));
    let default_tile = standing_tile(ctx);
    let mut entrants: Vec<MatmulCandidate> = [MatmulVariant::Register, MatmulVariant::Workgroup]
        .map(|variant| MatmulCandidate {
            variant,
            tile: default_tile,
        })
        .to_vec();
    entrants.extend(
        MatmulTile::ALL
            .into_iter()
            .filter(|t| (subgroups || !t.broadcast) && pinned_tile.is_none_or(|p| p == *t))
            .map(|tile| MatmulCandidate {
                variant: MatmulVariant::Texture,
                tile,
            }),
    );
    let race = Race::run(ctx, &entrants);
    let totals = race.totals();
    if leader(&totals).is_none() {
        let fallback = [MatmulVariant::Register, MatmulVariant::Naive]
            .into_iter()
            .find(|v| {
                runs(
                    ctx,
                    MatmulCandidate {
                        variant: *v,
                        tile: default_tile,
                    },
                )
            })
            .unwrap_or(MatmulVariant::Naive);
        return MatmulChoice {
            variant: fallback,
            tile: default_tile,
            source: ChoiceSource::Fallback,
        };
    }
    let chosen = decide(&totals, incumbent);
    let ms: Vec<(String, f64)> = totals.iter().map(|(c, t)| (c.name(), t * 1e3)).collect();
    let entry = tuning::TunedChoice {
        matmul: chosen.name(),
        kernels: version,
        ms: ms.iter().cloned().collect(),
        rounds: race.rounds,
    };
    let stored = dir
        .filter(|d| tuning::store(d, &key, &entry).is_ok())
        .map(Path::to_path_buf);
    MatmulChoice {
        variant: chosen.variant,
        tile: chosen.tile,
        source: ChoiceSource::Measured {
            ms,
            rounds: race.rounds,
            clear: clear_lead(&totals).is_some(),
            stored,
        },
    }
}

/// The key of `ctx`'s choice in the tuning file and in this process: its adapter
/// ([`tuning::adapter_key`]), and whether it has subgroups, which decide the tiles it can run
/// (a host's device on the same adapter may have them off).
pub fn tuning_key(ctx: &Context) -> String {
    let key = tuning::adapter_key(ctx.adapter_info());
    if ctx.subgroups() {
        format!("{key} | subgroups")
    } else {
        key
    }
}

/// The variant that stands on an adapter of `device_type` when a race has no earlier choice
/// and no clear winner: on a CPU driver the texture kernel, whose texel fetches are vector
/// gathers where storage-buffer loads are per-lane loops (the 2-layer LM step measured 353 ms
/// against 460 with the register kernel on lavapipe, where the matmul race alone had them 7 %
/// apart). Elsewhere no default: the leader wins, however narrowly.
fn preferred(ctx: &Context) -> Option<MatmulCandidate> {
    (ctx.adapter_info().device_type == wgpu::DeviceType::Cpu).then(|| MatmulCandidate {
        variant: MatmulVariant::Texture,
        tile: standing_tile(ctx),
    })
}

/// The texture tile that stands on `ctx` without a race: the pinned one, else
/// [`MatmulTile::default_for`] its subgroups.
fn standing_tile(ctx: &Context) -> MatmulTile {
    ctx.pinned_matmul_tile()
        .unwrap_or(MatmulTile::default_for(ctx.subgroups()))
}

/// The fingerprint of today's matmul kernels ([`tuning::kernels_version`]).
fn matmul_kernels_version() -> String {
    let mut texts: Vec<String> = MATMUL_SHADERS
        .iter()
        .map(|name| crate::kernels::source(name).unwrap_or_default())
        .collect();
    texts.extend(MatmulTile::ALL.map(|t| {
        crate::kernels::generated_source(crate::kernels::Generated::MatmulTexture(t))
            .unwrap_or_default()
    }));
    tuning::kernels_version(texts.iter().map(String::as_str))
}

/// The fastest `(variant, seconds)` of `totals`.
fn leader(totals: &[(MatmulCandidate, f64)]) -> Option<(MatmulCandidate, f64)> {
    totals.iter().copied().min_by(|x, y| x.1.total_cmp(&y.1))
}

/// The leader of `totals` if the runner-up is more than [`MARGIN`] slower (or there is none).
fn clear_lead(totals: &[(MatmulCandidate, f64)]) -> Option<MatmulCandidate> {
    let (best, t) = leader(totals)?;
    let runner_up = totals
        .iter()
        .filter(|(v, _)| *v != best)
        .map(|(_, t)| *t)
        .min_by(f64::total_cmp);
    match runner_up {
        Some(r) if r <= t * (1.0 + MARGIN) => None,
        _ => Some(best),
    }
}

/// The decision from a race's `totals`: the leader, unless `incumbent` (the earlier choice) is
/// within [`MARGIN`] of it, in which case the incumbent stands.
fn decide(
    totals: &[(MatmulCandidate, f64)],
    incumbent: Option<MatmulCandidate>,
) -> MatmulCandidate {
    let Some((best, t)) = leader(totals) else {
        return incumbent.unwrap_or(MatmulCandidate {
            variant: MatmulVariant::Register,
            tile: MatmulTile::ALL[0],
        });
    };
    let held = incumbent.and_then(|i| totals.iter().find(|(v, _)| *v == i));
    match held {
        Some((v, ti)) if *ti <= t * (1.0 + MARGIN) => *v,
        _ => best,
    }
}

/// One matmul of the race: `[m, k]·[k, n]`, operands stored transposed where flagged.
struct RaceCase {
    m: usize,
    k: usize,
    n: usize,
    opts: MatmulOptions,
}

/// The shapes of a transformer block's training step at batch x sequence 1,024 rows and width
/// 128: a projection (narrow output), the feed-forward's widening forward, its input gradient
/// (B transposed) and a weight gradient (A transposed, the long contraction). Sizes that make
/// one round cost tens of milliseconds on a CPU driver: long enough to time, short enough to
/// repeat.
const RACE_CASES: [RaceCase; 4] = [
    RaceCase {
        m: 1024,
        k: 128,
        n: 128,
        opts: MatmulOptions {
            trans_a: false,
            trans_b: false,
        },
    },
    RaceCase {
        m: 1024,
        k: 128,
        n: 512,
        opts: MatmulOptions {
            trans_a: false,
            trans_b: false,
        },
    },
    RaceCase {
        m: 1024,
        k: 512,
        n: 128,
        opts: MatmulOptions {
            trans_a: false,
            trans_b: true,
        },
    },
    RaceCase {
        m: 128,
        k: 1024,
        n: 128,
        opts: MatmulOptions {
            trans_a: true,
            trans_b: false,
        },
    },
];

/// Rounds at least (the first after a warm-up that compiles) and at most.
const MIN_ROUNDS: u32 = 3;
const MAX_ROUNDS: u32 = 8;

/// A variant this many times slower than the leader after the first round is out: it cannot
/// win, and on a CPU driver the slow ones cost seconds a round.
const HOPELESS: f64 = 3.0;

/// Variants timed on [`RACE_CASES`] and an attention step ([`prepare_attention`]), interleaved
/// round by round so that the machine's drift hits every variant alike; each case keeps its
/// best time. Runs until the leader is clear by [`MARGIN`] in two consecutive rounds (at least
/// [`MIN_ROUNDS`]) or [`MAX_ROUNDS`] are done.
struct Race {
    /// Per variant still racing, its best seconds per case.
    entrants: Vec<(MatmulCandidate, Vec<Vec<Dispatch>>, Vec<f64>)>,
    rounds: u32,
}

impl Race {
    /// Prepares each of `variants` on every case (a variant that fails to prepare or to run its
    /// warm-up is left out), then races them.
    fn run(ctx: &Context, variants: &[MatmulCandidate]) -> Race {
        let mut entrants = Vec::new();
        for &v in variants {
            let prepared: Result<Vec<Vec<Dispatch>>> = RACE_CASES
                .iter()
                .map(|c| prepare_case(ctx, v, c))
                .chain([prepare_attention(ctx, v)])
                .collect();
            let Ok(prepared) = prepared else { continue };
            let warm = prepared.iter().try_for_each(|d| {
                run(ctx, d)?;
                ctx.wait(None)
            });
            if warm.is_ok() {
                let cases = prepared.len();
                entrants.push((v, prepared, vec![f64::INFINITY; cases]));
            }
        }
        let mut race = Race {
            entrants,
            rounds: 0,
        };
        let mut clear_rounds = 0;
        let mut last_clear = None;
        while race.rounds < MAX_ROUNDS && race.entrants.len() > 1 {
            race.round(ctx);
            let totals = race.totals();
            if race.rounds == 1 {
                if let Some((_, t)) = leader(&totals) {
                    race.entrants.retain(|(v, _, _)| {
                        totals.iter().any(|(w, tw)| w == v && *tw <= t * HOPELESS)
                    });
                }
            }
            let clear = clear_lead(&race.totals());
            clear_rounds = if clear.is_some() && clear == last_clear {
                clear_rounds + 1
            } else {
                usize::from(clear.is_some())
            };
            last_clear = clear;
            if race.rounds >= MIN_ROUNDS && clear_rounds >= 2 {
                break;
            }
        }
        race
    }

    /// Times every entrant once on every case, the entrants' order rotating each round.
    fn round(&mut self, ctx: &Context) {
        let n = self.entrants.len();
        let start = self.rounds as usize % n.max(1);
        for i in 0..n {
            let (_, prepared, best) = &mut self.entrants[(start + i) % n];
            for (dispatches, b) in prepared.iter().zip(best.iter_mut()) {
                let t0 = Instant::now();
                if run(ctx, dispatches).and_then(|_| ctx.wait(None)).is_ok() {
                    *b = b.min(t0.elapsed().as_secs_f64());
                }
            }
        }
        self.rounds += 1;
    }

    /// Per entrant, the sum of its best seconds over the cases.
    fn totals(&self) -> Vec<(MatmulCandidate, f64)> {
        self.entrants
            .iter()
            .map(|(v, _, best)| (*v, best.iter().sum::<f64>()))
            .filter(|(_, t)| t.is_finite())
            .collect()
    }
}

/// The dispatches of one race case with `variant`, on fresh operands.
fn prepare_case(ctx: &Context, c: MatmulCandidate, case: &RaceCase) -> Result<Vec<Dispatch>> {
    let (m, k, n) = (case.m, case.k, case.n);
    let a_shape = if case.opts.trans_a { [k, m] } else { [m, k] };
    let b_shape = if case.opts.trans_b { [n, k] } else { [k, n] };
    let a = Tensor::from_f32(ctx, &a_shape, &vec![0.5; m * k])?;
    let b = Tensor::from_f32(ctx, &b_shape, &vec![0.25; k * n])?;
    let out = Tensor::zeros(ctx, &[m, n], crate::tensor::DType::F32)?;
    forward_with_tile(ctx, c.variant, c.tile, &a, &b, None, &out, case.opts)
}

/// The forward and backward of causal attention at a transformer block's shape (B 16, H 4,
/// T 64, D 32) with the attention kernels that come with matmul `variant`: the texture
/// kernels with the texture matmul (see [`crate::ops::attention::variant_for`]), else the
/// plain ones. The choice decides both, so the race measures both: on lavapipe the matmul
/// shapes alone had the texture and register kernels 7-12 % apart, once 19 % the wrong way,
/// while with attention the 2-layer LM's step is 320 ms against 445.
fn prepare_attention(ctx: &Context, c: MatmulCandidate) -> Result<Vec<Dispatch>> {
    use crate::ops::attention::{self, AttentionOptions, AttentionVariant};
    let (b, h, t, d) = (16, 4, 64, 32);
    let shape = [b, h, t, d];
    let n = b * h * t * d;
    let tensor = |fill: f32| Tensor::from_f32(ctx, &shape, &vec![fill; n]);
    let (q, k, v, dout) = (tensor(0.5)?, tensor(0.25)?, tensor(0.125)?, tensor(1.0)?);
    let (o, dq, dk, dv) = (tensor(0.0)?, tensor(0.0)?, tensor(0.0)?, tensor(0.0)?);
    let lse = Tensor::zeros(ctx, &[b, h, t], crate::tensor::DType::F32)?;
    let dims = attention::shape(&shape, &shape, &shape, None)?;
    let scratch = Tensor::zeros(
        ctx,
        &attention::stats_shape(dims),
        crate::tensor::DType::F32,
    )?;
    let kernels = match (c.variant, attention::texture_fits(ctx, dims)) {
        (MatmulVariant::Texture, true) => AttentionVariant::Texture,
        _ => attention::variant(d),
    };
    let opts = AttentionOptions {
        causal: true,
        scale: None,
    };
    let mut dispatches = attention::forward_with(ctx, kernels, &q, &k, &v, None, opts, &o, &lse)?;
    dispatches.extend(attention::backward_with(
        ctx, kernels, &q, &k, &v, None, &o, &lse, &dout, opts, &scratch, &dq, &dk, &dv,
    )?);
    Ok(dispatches)
}

/// Whether `variant` compiles and runs the race's first case.
fn runs(ctx: &Context, candidate: MatmulCandidate) -> bool {
    prepare_case(ctx, candidate, &RACE_CASES[0])
        .and_then(|d| run(ctx, &d))
        .and_then(|_| ctx.wait(None))
        .is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entrant(variant: MatmulVariant, tile: usize) -> MatmulCandidate {
        MatmulCandidate {
            variant,
            tile: MatmulTile::ALL[tile],
        }
    }

    #[test]
    fn a_leader_within_the_margin_does_not_unseat_the_earlier_choice() {
        let register = entrant(MatmulVariant::Register, 0);
        let workgroup = entrant(MatmulVariant::Workgroup, 0);
        let texture = entrant(MatmulVariant::Texture, 0);
        let broadcast = entrant(MatmulVariant::Texture, 1);
        let totals = [(register, 0.100), (texture, 0.095), (workgroup, 0.9)];
        assert_eq!(decide(&totals, Some(register)), register);
        assert_eq!(decide(&totals, None), texture);
        assert_eq!(clear_lead(&totals), None);
        let totals = [(register, 0.200), (texture, 0.095)];
        assert_eq!(decide(&totals, Some(register)), texture);
        assert_eq!(clear_lead(&totals), Some(texture));
        // Two tiles of one variant are two entrants.
        let totals = [(texture, 0.100), (broadcast, 0.060)];
        assert_eq!(decide(&totals, Some(texture)), broadcast);
        assert_eq!(
            decide(&[(texture, 0.100), (broadcast, 0.095)], Some(texture)),
            texture
        );
        // An incumbent that did not race (it failed here) cannot stand.
        assert_eq!(decide(&[(texture, 0.1)], Some(workgroup)), texture);
        assert_eq!(decide(&[], Some(workgroup)), workgroup);
    }

    #[test]
    fn a_candidate_reads_back_from_its_name() {
        for tile in MatmulTile::ALL {
            let c = MatmulCandidate {
                variant: MatmulVariant::Texture,
                tile,
            };
            assert_eq!(MatmulCandidate::parse(&c.name(), true), Some(c));
            // A broadcast tile needs subgroups.
            let without = MatmulCandidate::parse(&c.name(), false);
            assert_eq!(without, (!tile.broadcast).then_some(c));
        }
        // A name from before tiles were raced: the variant, and the default tile.
        let old = MatmulCandidate::parse("texture", true).unwrap();
        assert_eq!(old.tile, MatmulTile::default_for(true));
        assert_eq!(
            MatmulCandidate::parse("register", false).unwrap().variant,
            MatmulVariant::Register
        );
        assert_eq!(MatmulCandidate::parse("texture.m7n7", true), None);
    }
}
