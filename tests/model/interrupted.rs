//! A training example killed with SIGKILL at random moments and resumed with `--resume`, again
//! and again, must end exactly where the same run ends uninterrupted: the same weights and
//! optimizer state bit for bit, and logs that hold every step once. The binary is the
//! `train_lm` that `cargo test` builds beside this test, on a tiny model and text.

use super::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kiln::io::checkpoint::{self, Checkpoint};
use kiln::io::CHECKPOINT_FILE;

const EPOCHS: &str = "24";

fn train_lm() -> PathBuf {
    // target/<profile>/deps/model-<hash> -> target/<profile>/examples/train_lm
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("train_lm")
}

/// A small text (about 4 KB of 12 words in random order): 32 steps an epoch.
fn write_text(path: &Path) {
    let words = [
        "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and", "cat", "sat", "mat",
    ];
    let mut rng = Rng::new(5);
    let lines: Vec<String> = (0..120)
        .map(|_| {
            let line: Vec<&str> = (0..8).map(|_| words[rng.below(words.len())]).collect();
            line.join(" ")
        })
        .collect();
    std::fs::write(path, lines.join("\n")).unwrap();
}

/// `train_lm` on `text` into `out` (resuming the run there when `resume`), tiny sizes, the
/// matmul variant pinned so that every process runs the same kernels.
fn command(text: &Path, out: &Path, resume: bool) -> Command {
    let mut cmd = Command::new(train_lm());
    cmd.arg("--data").arg(text).arg("--out").arg(out);
    if resume {
        cmd.arg("--resume").arg(out);
    }
    cmd.args([
        "--epochs",
        EPOCHS,
        "--d-model",
        "16",
        "--heads",
        "2",
        "--layers",
        "1",
    ])
    .args([
        "--d-ff", "32", "--batch", "8", "--window", "16", "--warmup", "5",
    ])
    .args(["--eval-batches", "1", "--max-new", "4"])
    .env("KILN_MATMUL", "register")
    .env("KILN_CACHE_DIR", "none")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    cmd
}

/// The columns of a CSV log that do not depend on timing (every one but `elapsed_s` and the
/// rate), row by row.
fn timeless_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| header[i] != "elapsed_s" && !header[i].ends_with("_per_s"))
        .collect();
    lines
        .map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            keep.iter().map(|&i| fields[i].to_string()).collect()
        })
        .collect()
}

fn assert_same_checkpoint(a: &Checkpoint, b: &Checkpoint) {
    assert_eq!(a.step(), b.step());
    assert_eq!(a.epoch(), b.epoch());
    assert_eq!(a.tensors.len(), b.tensors.len());
    for ((name, shape, values), (name_b, shape_b, values_b)) in a.tensors.iter().zip(&b.tensors) {
        assert_eq!((name, shape), (name_b, shape_b));
        let same = values
            .iter()
            .zip(values_b)
            .all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "'{name}' differs after the kills");
    }
}

#[test]
fn train_lm_killed_and_resumed_ends_as_the_uninterrupted_run() {
    let dir = std::env::temp_dir().join(format!("kiln-interrupted-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("text.txt");
    write_text(&text);

    let whole = dir.join("whole");
    let out = command(&text, &whole, false).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The same run, killed at random moments once each process has a checkpoint to resume
    // from (the first one is killed no earlier than its first epoch's end), some while starting,
    // most while training.
    let cut = dir.join("cut");
    let mut rng = Rng::new(17);
    let (mut kills, mut epochs_at_kill) = (0, Vec::new());
    // How long a process takes to start and train its first epoch, measured on the first.
    let mut startup = Duration::ZERO;
    for round in 0..8 {
        // Nobody reads a killed child's stderr: a full pipe would stall it.
        let mut child = command(&text, &cut, round > 0)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        if round == 0 {
            while !cut.join(CHECKPOINT_FILE).exists() && start.elapsed().as_secs() < 120 {
                std::thread::sleep(Duration::from_millis(5));
            }
            startup = start.elapsed();
        }
        std::thread::sleep(startup.mul_f64(0.5 + 2.5 * rng.unit()));
        if child.try_wait().unwrap().is_some() {
            break; // finished before the kill: the run is complete
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        let saved = checkpoint::load(&cut).unwrap_or_else(|e| panic!("kill {kills}: {e}"));
        epochs_at_kill.push(saved.epoch().unwrap());
    }
    let out = command(&text, &cut, true).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut distinct = epochs_at_kill.clone();
    distinct.dedup();
    assert!(
        kills >= 3 && distinct.len() >= 3,
        "{kills} kills, at epochs {epochs_at_kill:?}: too few landed while the run trained"
    );

    let a = checkpoint::load(&whole).unwrap();
    let b = checkpoint::load(&cut).unwrap();
    assert_eq!(a.epoch(), Some(EPOCHS.parse().unwrap()));
    assert_same_checkpoint(&a, &b);
    for log in ["metrics.csv", "eval.csv"] {
        let (rows_a, rows_b) = (
            timeless_rows(&whole.join(log)),
            timeless_rows(&cut.join(log)),
        );
        assert!(!rows_a.is_empty());
        assert_eq!(rows_a, rows_b, "{log}: the resumed run's log differs");
    }
    eprintln!(
        "train_lm: {kills} kill -9s (checkpoints at epochs {epochs_at_kill:?}), resumed, \
         the same weights and logs as the uninterrupted run"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
