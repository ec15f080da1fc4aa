//! Tokenizers: each kind trains, saves, reloads and encodes the same ids; byte-level BPE
//! round-trips any text exactly; the character ends a score per character divides by are right.

use kiln::data::{Tokenizer, TokenizerKind};

const TEXT: &str = "The kiln fires the clay.\nThe clay hardens; the kiln cools.\n\
    fn main() {\n    println!(\"kiln, clay, fire\");\n}\n\
    Naïve café owners say «bonjour» — and 東京 too.\n";

fn corpus() -> String {
    // Enough repetition for merges to reach a minimum frequency of 2.
    (0..20).map(|i| format!("{TEXT}line {i}\n")).collect()
}

#[test]
fn bpe_round_trips_text_exactly_and_survives_a_reload() {
    let text = corpus();
    let bpe = Tokenizer::train(TokenizerKind::Bpe, &[text.as_str()], 400).unwrap();
    assert_eq!(bpe.kind(), TokenizerKind::Bpe);
    assert!(bpe.len() > 260 && bpe.len() <= 400, "{}", bpe.len());
    let ids = bpe.encode(&text).unwrap();
    assert!(
        ids.len() < text.chars().count() / 2,
        "merges learned: {}",
        ids.len()
    );
    assert_eq!(bpe.decode(&ids), text);
    // Text it never saw, whitespace and all, still round-trips (bytes are the alphabet).
    let unseen = "  Ünïcödé\t\ttabs\r\nand ∑ symbols 🚀  ";
    assert_eq!(bpe.decode(&bpe.encode(unseen).unwrap()), unseen);

    let dir = std::env::temp_dir().join(format!("kiln-tok-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokenizer.json");
    bpe.save(&path).unwrap();
    let back = Tokenizer::from_file(&path).unwrap();
    assert_eq!(back.encode(&text).unwrap(), ids);
    // And through serde, as a checkpoint's config carries it.
    let json = serde_json::to_string(&bpe).unwrap();
    let again: Tokenizer = serde_json::from_str(&json).unwrap();
    assert_eq!(again.encode(unseen).unwrap(), bpe.encode(unseen).unwrap());
    assert!(Tokenizer::train(TokenizerKind::Bpe, &[text.as_str()], 100).is_err());
}

#[test]
fn the_specials_keep_kilns_ids_in_every_kind() {
    let text = corpus();
    for kind in [TokenizerKind::Bpe, TokenizerKind::WordPiece] {
        let t = Tokenizer::train(kind, &[text.as_str()], 300).unwrap();
        let dir = std::env::temp_dir().join(format!("kiln-tok-{kind}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokenizer.json");
        t.save(&path).unwrap();
        let json = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let added = v["added_tokens"].as_array().unwrap();
        let names: Vec<(u64, &str)> = added
            .iter()
            .map(|a| (a["id"].as_u64().unwrap(), a["content"].as_str().unwrap()))
            .collect();
        assert_eq!(
            names,
            [(0, "<pad>"), (1, "<s>"), (2, "</s>"), (3, "<unk>")],
            "{kind}"
        );
        // Specials never come out of decoding.
        assert_eq!(t.decode(&[0, 1, 2]), "");
    }
}

#[test]
fn wordpiece_decodes_words_and_counts_every_character() {
    let text = corpus();
    let wp = Tokenizer::train(TokenizerKind::WordPiece, &[text.as_str()], 300).unwrap();
    let line = "The kiln cools.";
    let (ids, ends) = wp.encode_with_ends(line).unwrap();
    assert_eq!(ids.len(), ends.len());
    // The last token ends at the last character; the ends never go backwards.
    assert_eq!(*ends.last().unwrap(), line.chars().count());
    assert!(ends.windows(2).all(|w| w[0] <= w[1]), "{ends:?}");
    assert_eq!(wp.decode(&ids), "The kiln cools.");
}

#[test]
fn character_ends_count_characters_not_bytes() {
    let text = corpus();
    let bpe = Tokenizer::train(TokenizerKind::Bpe, &[text.as_str()], 300).unwrap();
    let s = "café 東京";
    let (_, ends) = bpe.encode_with_ends(s).unwrap();
    assert_eq!(*ends.last().unwrap(), s.chars().count());
    let chars = Tokenizer::train(TokenizerKind::Char, &[s], 0).unwrap();
    let (ids, ends) = chars.encode_with_ends(s).unwrap();
    assert_eq!(ends, (1..=ids.len()).collect::<Vec<_>>());
    assert_eq!(chars.decode(&ids), s);
    assert_eq!(
        "wordpiece".parse::<TokenizerKind>(),
        Ok(TokenizerKind::WordPiece)
    );
    assert!("sentencepiece".parse::<TokenizerKind>().is_err());
}

#[test]
fn a_vocabulary_refuses_text_it_does_not_cover_and_a_model_of_another_size() {
    let chars = Tokenizer::train(TokenizerKind::Char, &["abc abc cab"], 0).unwrap();
    let covered = chars.encode("cab bac").unwrap();
    assert_eq!(
        chars.check_coverage("seen.txt", [&covered[..]]).unwrap(),
        None
    );
    // One unknown in 200 tokens (0.5 %): let through, with a warning that counts it.
    let mostly = chars.encode(&format!("{}Q", "abc ".repeat(50))).unwrap();
    let warning = chars.check_coverage("mostly.txt", [&mostly[..]]).unwrap();
    let warning = warning.expect("an unknown token is worth a warning");
    assert!(
        warning.contains("1 of 201 tokens of mostly.txt"),
        "{warning}"
    );
    // Text the vocabulary never saw (the resumed-on-other-data case): an error naming it.
    let other = chars.encode("QQQ ZZZ").unwrap();
    let err = chars.check_coverage("other.tsv", [&other[..], &covered[..]]);
    let err = err.unwrap_err().to_string();
    assert!(err.contains("6 of 14 tokens of other.tsv"), "{err}");
    // A byte-level BPE has no unknowns.
    let bpe = Tokenizer::train(TokenizerKind::Bpe, &[corpus().as_str()], 300).unwrap();
    let any = bpe.encode("QQQ ZZZ 東京").unwrap();
    assert_eq!(bpe.check_coverage("any.txt", [&any[..]]).unwrap(), None);

    assert!(chars.check_fits(chars.len()).is_ok());
    let err = chars.check_fits(32).unwrap_err().to_string();
    assert!(err.contains(&format!(
        "has {} ids but the model's vocabulary is 32",
        chars.len()
    )));
}
