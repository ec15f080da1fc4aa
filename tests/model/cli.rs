//! Every example's command line, fuzzed: each numeric flag given an empty, non-numeric,
//! negative, overflowing, NaN or infinite value must end in clap's usage error (exit code 2,
//! a message on stderr) at once, never a panic (exit code 101) and never a run that starts
//! training. The binaries are the ones `cargo test` builds beside this test.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every example with a clap command line (`bench` takes only `--quick`, `--only NAME` and
/// `--json FILE`, no numbers).
const EXAMPLES: [&str; 7] = [
    "classify_digits",
    "train_transformer",
    "train_lm",
    "train_gan",
    "rag",
    "semantic_search",
    "embed_in_wgpu_app",
];

/// Numeric flags that have no default for `--help` to show.
const NUMERIC_WITHOUT_DEFAULT: [&str; 4] = ["top-k", "top-p", "sample", "epochs"];

const BAD: [&str; 7] = [
    "",
    "abc",
    "-1",
    "1e40",
    "99999999999999999999999",
    "nan",
    "-inf",
];

fn examples_dir() -> PathBuf {
    // target/<profile>/deps/model-<hash> -> target/<profile>/examples
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples")
}

/// The numeric flags of an example's `--help`: those whose default is a number, and the
/// known ones without a default.
fn numeric_flags(help: &str) -> Vec<String> {
    let mut flags = Vec::new();
    let lines: Vec<&str> = help.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(at) = line.find("--") else { continue };
        let rest = &line[at + 2..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if !line.trim_start().starts_with('-') || !rest[name.len()..].starts_with(" <") {
            continue;
        }
        // The default is on the flag's own line or further down its help paragraph, which
        // ends at a blank line or the next flag.
        let block: String = std::iter::once(lines[i])
            .chain(
                lines[i + 1..]
                    .iter()
                    .take_while(|l| !l.trim().is_empty() && !l.trim_start().starts_with('-'))
                    .copied(),
            )
            .collect::<Vec<_>>()
            .join(" ");
        let default = block
            .split("[default: ")
            .nth(1)
            .and_then(|d| d.split(']').next())
            .map(str::to_string);
        let numeric = default.is_some_and(|d| d.parse::<f64>().is_ok())
            || NUMERIC_WITHOUT_DEFAULT.contains(&name.as_str());
        if numeric && !flags.contains(&name) {
            flags.push(name);
        }
    }
    flags
}

#[test]
fn every_examples_numeric_flags_refuse_bad_values() {
    let dir = examples_dir();
    let mut tried = 0;
    let mut problems = Vec::new();
    for example in EXAMPLES {
        let bin = dir.join(example);
        assert!(
            bin.is_file(),
            "{} is missing: `cargo test` builds the examples (this test needs them built)",
            bin.display()
        );
        let help = Command::new(&bin).arg("--help").output().unwrap();
        assert!(help.status.success(), "{example} --help failed");
        let flags = numeric_flags(&String::from_utf8_lossy(&help.stdout));
        assert!(
            !flags.is_empty(),
            "{example}: no numeric flags found in --help"
        );
        for flag in &flags {
            for bad in BAD {
                tried += 1;
                let arg = format!("--{flag}={bad}");
                let mut child = Command::new(&bin)
                    .arg(&arg)
                    .env("XDG_RUNTIME_DIR", std::env::temp_dir())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let start = Instant::now();
                let status = loop {
                    if let Some(s) = child.try_wait().unwrap() {
                        break Some(s);
                    }
                    if start.elapsed() > Duration::from_secs(20) {
                        let _ = child.kill();
                        let _ = child.wait();
                        break None;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                };
                match status.and_then(|s| s.code()) {
                    Some(2) => {}
                    Some(code) => problems.push(format!("{example} {arg}: exit code {code}")),
                    None => problems.push(format!(
                        "{example} {arg}: accepted, still running after 20 s"
                    )),
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {tried} bad values not refused:\n{}",
        problems.len(),
        problems.join("\n")
    );
    eprintln!(
        "cli: {tried} bad flag values across {} examples, every one a usage error",
        EXAMPLES.len()
    );
}

#[test]
fn every_example_takes_backend_and_adapter_and_names_a_wrong_one() {
    let dir = examples_dir();
    for example in EXAMPLES {
        let out = Command::new(dir.join(example))
            .args(["--backend", "cuda"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{example}: {stderr}");
        assert!(
            stderr.contains("`cuda` is not a backend"),
            "{example}: {stderr}"
        );
    }
    // An adapter filter that matches nothing: kiln's one error line names what it found, and
    // nothing else is printed: no driver noise from probing for a display (XDG_RUNTIME_DIR is
    // unset, as on a server).
    let out = Command::new(dir.join("train_transformer"))
        .args(["--adapter", "no adapter is called this", "--out"])
        .arg(std::env::temp_dir().join("kiln-cli-no-adapter"))
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("error: no GPU adapter") && lines[0].contains("no adapter is called"),
        "{stderr}"
    );
}
