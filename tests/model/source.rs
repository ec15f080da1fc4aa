//! The library's own source, read as text: no `unwrap`, `expect` or explicit panic on any path
//! outside its unit tests, so user data can only reach errors (`Result`), never a panic. The
//! crate also turns on clippy's `unwrap_used`, `expect_used` and `panic` lints; this test
//! keeps CI, which runs `cargo test` and not clippy, holding the same line.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn library_code_has_no_unwrap_expect_or_panic() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 40,
        "found only {} files under {}",
        files.len(),
        src.display()
    );
    let banned = [
        ".unwrap()",
        ".expect(",
        "panic!(",
        "unreachable!(",
        "todo!(",
        "unimplemented!(",
        "unwrap_unchecked",
    ];
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (i, line) in text.lines().enumerate() {
            // A file's unit tests sit at its end, after a top-level `#[cfg(test)]`.
            if line == "#[cfg(test)]" {
                break;
            }
            let code = line.split("//").next().unwrap_or_default();
            for b in banned {
                if code.contains(b) {
                    let rel = file.strip_prefix(&src).unwrap_or(file);
                    found.push(format!("src/{}:{}: {}", rel.display(), i + 1, line.trim()));
                }
            }
            // Runtime asserts panic too; compile-time ones (`const _: () = assert!(...)`) do not.
            if code.contains("assert")
                && code.contains("!(")
                && !code.trim_start().starts_with("const _")
            {
                let rel = file.strip_prefix(&src).unwrap_or(file);
                found.push(format!("src/{}:{}: {}", rel.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "panicking calls in library code:\n{}",
        found.join("\n")
    );
}
