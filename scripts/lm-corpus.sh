#!/usr/bin/env bash
# Writes about 450 KB of real English prose and code for the language-model example, from
# files every checkout has (no network): kiln's README and docs, then its Rust sources in
# path order (doc comments and code), cut at the last whole line before 450,000 bytes.
#   scripts/lm-corpus.sh runs/corpus.txt
#   cargo run --release --example train_lm -- --data runs/corpus.txt
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: scripts/lm-corpus.sh OUT.txt}"
mkdir -p "$(dirname "$out")"
# head stops reading early, so the writers die of SIGPIPE: not an error here.
set +o pipefail
{ cat README.md docs/*.md; find src -name '*.rs' | LC_ALL=C sort | xargs cat; } 2>/dev/null \
    | head -c 450000 | sed '$d' > "$out"
set -o pipefail
echo "$out: $(wc -c < "$out") bytes, $(wc -l < "$out") lines"
