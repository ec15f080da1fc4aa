//! The data module: the dates task against an independent calendar and a tiny reference
//! parser, pair files with every kind of bad line, the vocabulary's text form, batch layout.
//! CPU only: nothing here touches the GPU.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use kiln::data::batch::{BatchShape, Batches, Seq2SeqBatch};
use kiln::data::dates::{
    date_examples, date_pairs, Case, Date, DateFormat, Split, FIRST_YEAR, LAST_YEAR,
    MAX_SOURCE_LEN, SHORT_YEAR_FROM, TARGET_LEN,
};
use kiln::data::pairs::{read_pairs, split_pairs, PairOptions, SkipReason};
use kiln::data::text::{lm_windows, read_text, split_tail};
use kiln::data::vocab::{Vocab, BOS, EOS, PAD, UNK, UNK_CHAR};
use kiln::Error;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Zeller's congruence, 0 = Monday: a different algorithm from the generator's day count.
fn zeller(y: i32, m: u32, d: u32) -> usize {
    let (y, m) = if m < 3 { (y - 1, m + 12) } else { (y, m) };
    let (k, j) = (y % 100, y / 100);
    let h = (d as i32 + 13 * (m as i32 + 1) / 5 + k + k / 4 + j / 4 + 5 * j) % 7; // 0 = Saturday
    ((h + 5) % 7) as usize
}

/// Reads a generated source back to (year, month, day) by the rules the module doc promises:
/// month names anywhere, ordinals, `/` as MM/DD unless the year leads, `.` and `-` as DD.MM
/// unless the year leads, two-digit years in 2000–2049. Checks a weekday name if present.
fn reference_parse(source: &str) -> (i32, u32, u32) {
    let lower = source.to_lowercase();
    let slash = lower.contains('/');
    let tokens: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty() && *t != "of")
        .collect();
    let mut month = None;
    let mut weekday = None;
    let mut numbers = Vec::new();
    for t in &tokens {
        if t.chars().next().unwrap().is_ascii_digit() {
            let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let suffix = &t[digits.len()..];
            assert!(
                ["", "st", "nd", "rd", "th"].contains(&suffix),
                "{source}: suffix {suffix}"
            );
            numbers.push(digits.to_string());
        } else if let Some(m) = MONTHS.iter().position(|m| t.len() >= 3 && m.starts_with(t)) {
            assert!(t.len() == 3 || *t == MONTHS[m], "{source}: month {t}");
            month = Some(m as u32 + 1);
        } else if let Some(w) = WEEKDAYS
            .iter()
            .position(|w| t.len() >= 3 && w.starts_with(t))
        {
            weekday = Some(w);
        } else {
            panic!("{source}: unknown token {t}");
        }
    }
    let year_of = |s: &str| -> i32 {
        match s.len() {
            4 => s.parse().unwrap(),
            2 => 2000 + s.parse::<i32>().unwrap(),
            _ => panic!("{source}: year {s}"),
        }
    };
    let (y, m, d) = if let Some(m) = month {
        assert_eq!(numbers.len(), 2, "{source}");
        let yi = numbers.iter().position(|n| n.len() == 4).unwrap();
        (year_of(&numbers[yi]), m, numbers[1 - yi].parse().unwrap())
    } else if numbers.len() == 1 && numbers[0].len() == 8 {
        let n = &numbers[0];
        (
            n[..4].parse().unwrap(),
            n[4..6].parse().unwrap(),
            n[6..].parse().unwrap(),
        )
    } else {
        assert_eq!(numbers.len(), 3, "{source}");
        let p = |i: usize| numbers[i].parse::<u32>().unwrap();
        if numbers[0].len() == 4 {
            (year_of(&numbers[0]), p(1), p(2))
        } else if slash {
            (year_of(&numbers[2]), p(0), p(1))
        } else {
            (year_of(&numbers[2]), p(1), p(0))
        }
    };
    if let Some(w) = weekday {
        assert_eq!(w, zeller(y, m, d), "{source}: wrong weekday");
    }
    (y, m, d)
}

fn all_dates() -> impl Iterator<Item = Date> {
    let first = Date::new(FIRST_YEAR, 1, 1).unwrap().days();
    let last = Date::new(LAST_YEAR, 12, 31).unwrap().days();
    (first..=last).map(Date::from_days)
}

#[test]
fn data_weekdays_match_the_calendar() {
    let known = [
        ((2026, 11, 24), "Tuesday"),
        ((2000, 2, 29), "Tuesday"),
        ((1970, 1, 1), "Thursday"),
        ((1950, 1, 1), "Sunday"),
        ((1999, 12, 31), "Friday"),
        ((2049, 12, 31), "Friday"),
    ];
    for ((y, m, d), name) in known {
        let date = Date::new(y, m, d).unwrap();
        assert_eq!(date.weekday_name(), name, "{y}-{m}-{d}");
    }
    assert_eq!(Date::new(1970, 1, 1).unwrap().days(), 0);
    assert!(Date::new(1900, 2, 29).is_none() && Date::new(2026, 4, 31).is_none());
    // Every date in range: the day count round-trips, agrees with Zeller, and is consecutive.
    let mut prev: Option<Date> = None;
    for date in all_dates() {
        assert_eq!(Date::from_days(date.days()), date);
        assert_eq!(
            date.weekday() as usize,
            zeller(date.year, date.month, date.day)
        );
        assert!(Date::new(date.year, date.month, date.day).is_some());
        if let Some(p) = prev {
            assert!(p < date);
        }
        prev = Some(date);
    }
    assert_eq!(prev, Date::new(LAST_YEAR, 12, 31));
}

#[test]
fn data_date_examples_parse_back() {
    let mut formats = HashSet::new();
    for split in [Split::Train, Split::Heldout] {
        for e in date_examples(7, 20_000, split) {
            assert_eq!(e.target, e.date.iso());
            assert_eq!(e.target.len(), TARGET_LEN);
            let (y, m, d) = reference_parse(&e.source);
            assert_eq!(Date::new(y, m, d), Some(e.date), "{}", e.source);
            assert_eq!(e.date.split(), split);
            assert!((FIRST_YEAR..=LAST_YEAR).contains(&e.date.year));
            assert_eq!(e.format.render(e.date, e.case).as_deref(), Some(&*e.source));
            formats.insert(e.format);
        }
    }
    assert_eq!(
        formats.len(),
        DateFormat::ALL.len(),
        "every format is drawn"
    );
    let spot = Date::new(2026, 11, 24).unwrap();
    let want = [
        (
            DateFormat::WeekdayDayMonthYear,
            Case::Title,
            "Tuesday, 24 November 2026",
        ),
        (DateFormat::UsSlashShort, Case::Title, "11/24/26"),
        (DateFormat::EuDot, Case::Title, "24.11.2026"),
        (DateFormat::MonOrdYear, Case::Lower, "nov 24th 2026"),
        (
            DateFormat::OrdOfMonthYear,
            Case::Upper,
            "24TH OF NOVEMBER, 2026",
        ),
        (DateFormat::WdyDayMonYear, Case::Title, "Tue 24 Nov 2026"),
    ];
    for (f, c, s) in want {
        assert_eq!(f.render(spot, c).unwrap(), s);
    }
    let jan = Date::new(2001, 1, 2).unwrap();
    assert_eq!(
        DateFormat::UsSlashNoZeroShort
            .render(jan, Case::Title)
            .unwrap(),
        "1/2/01"
    );
    assert_eq!(
        DateFormat::EuDotNoZero.render(jan, Case::Title).unwrap(),
        "2.1.2001"
    );
    assert_eq!(
        DateFormat::MonthOrdYear.render(jan, Case::Title).unwrap(),
        "January 2nd, 2001"
    );
    for (day, ord) in [
        (1, "1st"),
        (3, "3rd"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (31, "31st"),
    ] {
        assert_eq!(kiln::data::dates::ordinal(day), ord);
    }
    // Two-digit years exist only from 2000 on.
    let old = Date::new(1999, 12, 31).unwrap();
    assert!(DateFormat::UsSlashShort.render(old, Case::Title).is_none());
}

#[test]
fn data_date_sources_have_one_target_and_fit() {
    // Exhaustive over dates and formats; case changes letters only, so comparing lower-cased
    // sources covers every case variant too.
    let mut seen: HashMap<String, Date> = HashMap::new();
    let mut longest = 0;
    for date in all_dates() {
        for f in DateFormat::ALL {
            let Some(s) = f.render(date, Case::Upper) else {
                assert!(f.short_year() && date.year < SHORT_YEAR_FROM);
                continue;
            };
            longest = longest.max(s.chars().count());
            if let Some(other) = seen.insert(s.to_lowercase(), date) {
                assert_eq!(other, date, "{s} maps to two dates");
            }
        }
    }
    assert_eq!(longest, MAX_SOURCE_LEN, "the constant is the exact maximum");
    // And as the generator hands them out.
    let mut target_of: HashMap<String, String> = HashMap::new();
    for (s, t) in date_pairs(3, 100_000, Split::Train)
        .into_iter()
        .chain(date_pairs(4, 20_000, Split::Heldout))
    {
        let old = target_of.entry(s.clone()).or_insert_with(|| t.clone());
        assert_eq!(*old, t, "{s} has two targets");
    }
}

#[test]
fn data_date_split_is_disjoint_and_deterministic() {
    let train: HashSet<String> = date_pairs(1, 60_000, Split::Train)
        .into_iter()
        .map(|p| p.1)
        .collect();
    let held: HashSet<String> = date_pairs(2, 10_000, Split::Heldout)
        .into_iter()
        .map(|p| p.1)
        .collect();
    assert!(train.is_disjoint(&held));
    let total = all_dates().count();
    let n_held = all_dates().filter(|d| d.split() == Split::Heldout).count();
    let frac = n_held as f64 / total as f64;
    assert!((0.08..0.12).contains(&frac), "held-out fraction {frac}");
    assert_eq!(
        date_pairs(9, 500, Split::Train),
        date_pairs(9, 500, Split::Train)
    );
    assert_ne!(
        date_pairs(9, 500, Split::Train),
        date_pairs(10, 500, Split::Train)
    );
}

/// A temp file deleted on drop, unique per process and call.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str, bytes: &[u8]) -> Temp {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "kiln-data-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, bytes).unwrap();
        Temp(path)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn data_err(e: Error) -> (String, usize, String) {
    match e {
        Error::Data {
            path,
            line,
            message,
        } => (path, line, message),
        other => panic!("expected Error::Data, got {other:?}"),
    }
}

#[test]
fn data_read_pairs_counts_every_skipped_line() {
    let text = "\u{FEFF}Go.\tVa !\r\n\
                Hi.\tSalut !\tCC-BY 2.0 (France) Attribution: tatoeba.org #538123\r\n\
                no tab here\r\n\
                \r\n\
                \tempty source\r\n\
                Run!\t\r\n\
                This source is far too long.\tCourt.\r\n\
                another without tab\r\n\
                Wait.\tAttends.";
    let f = Temp::new("eng-fra.txt", text.as_bytes());
    let got = read_pairs(f.path(), &PairOptions { max_len: 20 }).unwrap();
    assert_eq!(
        got.pairs,
        vec![
            ("Go.".to_string(), "Va !".to_string()),
            ("Hi.".to_string(), "Salut !".to_string()),
            ("Wait.".to_string(), "Attends.".to_string()),
        ]
    );
    assert_eq!(got.skipped_lines(), 6);
    assert_eq!(got.skipped_for(SkipReason::NoTab), 2);
    assert_eq!(got.skipped_for(SkipReason::Blank), 1);
    assert_eq!(got.skipped_for(SkipReason::EmptySource), 1);
    assert_eq!(got.skipped_for(SkipReason::EmptyTarget), 1);
    assert_eq!(got.skipped_for(SkipReason::TooLong), 1);
    let no_tab = got
        .skipped
        .iter()
        .find(|s| s.reason == SkipReason::NoTab)
        .unwrap();
    assert_eq!(no_tab.lines, vec![3, 8]);
    let summary = got.summary();
    let want = format!(
        "read 3 pairs from {}; skipped 6 lines: 1 blank or only whitespace (line 4), \
         2 without a tab (lines 3, 8), 1 with an empty source (line 5), \
         1 with an empty target (line 6), 1 longer than 20 chars (line 7)",
        f.path().display()
    );
    assert_eq!(summary, want);
    // Without a length limit the long line is kept.
    let all = read_pairs(f.path(), &PairOptions::default()).unwrap();
    assert_eq!(all.pairs.len(), 4);
    assert!(!all.summary().contains("longer"));
}

#[test]
fn data_read_pairs_skips_a_line_that_is_not_utf8_and_keeps_the_rest() {
    // Line 3 is Latin-1 ("é" as one byte), line 5 is whitespace only: each costs its line.
    let bad = Temp::new(
        "bad-utf8.txt",
        b"a\tb\nc\td\ne\t\xe9t\xe9\n\xff\xfe\n \t  \ng\th\n",
    );
    let got = read_pairs(bad.path(), &PairOptions::default()).unwrap();
    let want: Vec<(String, String)> = [("a", "b"), ("c", "d"), ("g", "h")]
        .iter()
        .map(|(s, t)| (s.to_string(), t.to_string()))
        .collect();
    assert_eq!(got.pairs, want);
    let not_utf8 = got
        .skipped
        .iter()
        .find(|s| s.reason == SkipReason::NotUtf8)
        .unwrap();
    assert_eq!((not_utf8.count, not_utf8.lines.clone()), (2, vec![3, 4]));
    assert_eq!(got.skipped_for(SkipReason::Blank), 1);
    assert!(
        got.summary().contains("2 not UTF-8 (lines 3, 4)"),
        "{}",
        got.summary()
    );
}

#[test]
fn data_read_pairs_errors_name_file_and_line() {
    let bad = Temp::new("all-bad.txt", b"\xff\tb\n\xfe\n");
    let (path, line, msg) = data_err(read_pairs(bad.path(), &PairOptions::default()).unwrap_err());
    assert_eq!((path, line), (bad.path().display().to_string(), 0));
    assert!(msg.contains("2 not UTF-8 (lines 1, 2)"), "{msg}");

    let empty = Temp::new("empty.txt", b"");
    let (path, line, msg) =
        data_err(read_pairs(empty.path(), &PairOptions::default()).unwrap_err());
    assert_eq!((path, line), (empty.path().display().to_string(), 0));
    assert!(msg.contains("no usable"), "{msg}");

    let useless = Temp::new("useless.txt", b"no tab\n\n");
    let (_, line, msg) = data_err(read_pairs(useless.path(), &PairOptions::default()).unwrap_err());
    assert_eq!(line, 0);
    assert!(msg.contains("1 without a tab (line 1)"), "{msg}");

    let missing = std::env::temp_dir().join("kiln-data-does-not-exist.txt");
    let (path, line, _) = data_err(read_pairs(&missing, &PairOptions::default()).unwrap_err());
    assert_eq!((path, line), (missing.display().to_string(), 0));
}

#[test]
fn data_split_pairs_is_deterministic_and_complete() {
    let pairs: Vec<usize> = (0..1000).collect();
    let (train, held) = split_pairs(pairs.clone(), 0.1, 5);
    assert_eq!(held.len(), 100);
    assert_eq!(train.len(), 900);
    let mut all: Vec<usize> = train.iter().chain(&held).copied().collect();
    all.sort();
    assert_eq!(all, pairs);
    assert!(train.windows(2).all(|w| w[0] < w[1]) && held.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        split_pairs(pairs.clone(), 0.1, 5),
        (train.clone(), held.clone())
    );
    assert_ne!(split_pairs(pairs.clone(), 0.1, 6).1, held);
    assert_eq!(split_pairs(pairs, 0.0, 5).1.len(), 0);
}

#[test]
fn data_vocab_round_trips() {
    let texts = [
        "héllo wörld it's",
        "tab\there",
        "line\nbreak\r",
        "quote \"x\" back\\slash",
        "日本",
    ];
    let v = Vocab::from_texts(texts);
    assert_eq!((PAD, BOS, EOS, UNK), (0, 1, 2, 3));
    let distinct: HashSet<char> = texts.iter().flat_map(|t| t.chars()).collect();
    assert_eq!(v.len(), distinct.len() + 4);
    assert!(v.chars().windows(2).all(|w| w[0] < w[1]));
    for t in texts {
        let ids = v.encode(t);
        assert!(ids.iter().all(|&i| i >= 4 && (i as usize) < v.len()));
        assert_eq!(v.decode(&ids), t);
        // Specials: BOS and PAD skipped, decoding stops at EOS.
        let mut framed = vec![BOS];
        framed.extend(&ids);
        framed.extend([EOS, 5, 6, PAD]);
        assert_eq!(v.decode(&framed), t);
    }
    assert_eq!(
        v.encode("hé?"),
        vec![v.id('h').unwrap(), v.id('é').unwrap(), UNK]
    );
    assert_eq!(v.decode(&[UNK, 9999]), format!("{UNK_CHAR}{UNK_CHAR}"));
    // The text form is one line and reads back to the same ids.
    let s = v.to_string();
    assert!(!s.contains(['\n', '\t', '\r', '"', '\'']), "{s}");
    assert!(!s.ends_with(' '));
    let back: Vocab = s.parse().unwrap();
    assert_eq!(back, v);
    // Control and other awkward characters too.
    let odd = Vocab::from_texts(["\u{0}\u{1b}\u{7f}\u{feff}\u{10ffff} \\u{41}"]);
    assert_eq!(odd.to_string().parse::<Vocab>().unwrap(), odd);
    assert!(data_err("nope".parse::<Vocab>().unwrap_err())
        .2
        .contains("kiln-chars-v1"));
    assert!("kiln-chars-v1 ba".parse::<Vocab>().is_err());
    assert!("kiln-chars-v1 a\\u{41".parse::<Vocab>().is_err());
}

#[test]
fn data_batch_layout_is_exact() {
    // Ts = 4, Tt = 5: target of 4 fits with BOS/EOS; one of 5 is cut (no EOS); a long source is
    // cut; the fourth row is filler.
    let ex: Vec<(Vec<u32>, Vec<u32>)> = vec![
        (vec![10, 11], vec![20, 21, 22]),
        (vec![12, 13, 14, 15, 16], vec![23, 24, 25, 26]),
        (vec![17], vec![27, 28, 29, 30, 31]),
    ];
    let shape = BatchShape {
        batch: 4,
        src_len: 4,
        tgt_len: 5,
    };
    let b = Seq2SeqBatch::gather(&ex, &[0, 1, 2], shape).unwrap();
    let p = PAD;
    assert_eq!(
        b.src,
        vec![10, 11, p, p, 12, 13, 14, 15, 17, p, p, p, p, p, p, p]
    );
    assert_eq!(
        b.src_mask,
        vec![1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    );
    #[rustfmt::skip]
    assert_eq!(b.tgt_in, vec![
        BOS, 20, 21, 22, p,
        BOS, 23, 24, 25, 26,
        BOS, 27, 28, 29, 30,
        p, p, p, p, p,
    ]);
    #[rustfmt::skip]
    assert_eq!(b.tgt_out, vec![
        20, 21, 22, EOS, p,
        23, 24, 25, 26, EOS,
        27, 28, 29, 30, 31,
        p, p, p, p, p,
    ]);
    assert_eq!(b.tokens, 4 + 5 + 5);
    assert_eq!(b.tokens, b.tgt_out.iter().filter(|&&t| t != PAD).count());
    assert_eq!(b.rows, 3);
    assert_eq!(b.truncated, 2, "row 1's source and row 2's target");
    // Errors: too many examples, an index out of range.
    assert!(matches!(
        Seq2SeqBatch::gather(&ex, &[0, 1, 2, 0, 1], shape),
        Err(Error::Length { .. })
    ));
    assert!(matches!(
        Seq2SeqBatch::gather(&ex, &[3], shape),
        Err(Error::Length { .. })
    ));
}

#[test]
fn data_batches_cover_each_epoch() {
    let chunks: Vec<Vec<usize>> = Batches::new(10, 4, 1, 0).collect();
    assert_eq!(
        chunks.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![4, 4, 2]
    );
    assert_eq!(Batches::new(10, 4, 1, 0).len(), 3);
    let mut all: Vec<usize> = chunks.concat();
    all.sort();
    assert_eq!(all, (0..10).collect::<Vec<_>>());
    let epoch = |seed, e| Batches::new(100, 8, seed, e).flatten().collect::<Vec<_>>();
    assert_eq!(epoch(1, 0), epoch(1, 0));
    assert_ne!(epoch(1, 0), epoch(1, 1));
    assert_ne!(epoch(1, 0), epoch(2, 0));
    assert_eq!(Batches::new(0, 4, 1, 0).count(), 0);
}

#[test]
fn data_text_windows_and_files() {
    let f = Temp::new("text.txt", "ab\r\ncd\n".as_bytes());
    assert_eq!(read_text(f.path()).unwrap().text, "ab\ncd\n");
    // A line that is not UTF-8 is left out and named; the lines around it stay.
    let mut bytes = b"one\ntw\xffo\nthree\nfo\xc3\n".to_vec();
    bytes.extend(b"more\r\n".repeat(20));
    let bad = Temp::new("bad.txt", &bytes);
    let file = read_text(bad.path()).unwrap();
    assert_eq!(file.text, format!("one\nthree\n{}", "more\n".repeat(20)));
    assert_eq!(
        (file.not_utf8.count, file.not_utf8.lines.clone()),
        (2, vec![2, 4])
    );
    assert!(file
        .summary()
        .ends_with("; skipped 2 not UTF-8 (lines 2, 4)"));
    // Most lines bad reads as another encoding (Latin-1): an error, not a gutted text.
    let latin = Temp::new("latin.txt", b"caf\xe9\nna\xefve\nplain\n");
    let latin_err = read_text(latin.path()).unwrap_err().to_string();
    assert!(
        latin_err.contains("latin.txt:1: 2 of its 3 lines are not UTF-8"),
        "{latin_err}"
    );
    // UTF-16 (Windows PowerShell's `>`), where only the byte-order mark's line would fail.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("hi\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let utf16 = Temp::new("utf16.txt", &utf16);
    let utf16_err = read_text(utf16.path()).unwrap_err().to_string();
    assert!(utf16_err.contains("UTF-16"), "{utf16_err}");
    let pairs_err = read_pairs(utf16.path(), &PairOptions::default()).unwrap_err();
    assert!(pairs_err.to_string().contains("UTF-16"), "{pairs_err}");
    // Nothing readable at all is an error naming the first bad line.
    let none = Temp::new("none.txt", b"\xff\n\xfe");
    let none_err = read_text(none.path()).unwrap_err();
    assert!(none_err.to_string().contains("none.txt:1: "), "{none_err}");
    let empty = Temp::new("empty.txt", b"");
    let empty_err = read_text(empty.path()).unwrap_err();
    // A whole-file error names no line.
    assert!(
        empty_err
            .to_string()
            .ends_with("empty.txt: the file is empty"),
        "{empty_err}"
    );
    assert_eq!(data_err(empty_err).1, 0);

    let ids: Vec<u32> = (100..150).collect();
    let (train, held) = split_tail(&ids, 0.1);
    assert_eq!((train.len(), held.len()), (45, 5));
    assert_eq!(held[0], 145);
    let w = lm_windows(train, 8, 16, 3).unwrap();
    assert_eq!((w.input.len(), w.target.len()), (128, 128));
    for (i, t) in w.input.chunks(8).zip(w.target.chunks(8)) {
        for k in 0..8 {
            assert_eq!(t[k], i[k] + 1, "target is the input shifted by one");
        }
        assert_eq!(i[7], i[0] + 7, "a window is contiguous");
        assert!(t[7] < 145, "windows stay in the training part");
    }
    assert_eq!(w, lm_windows(train, 8, 16, 3).unwrap());
    // n = t + 1 has exactly one window.
    let one = lm_windows(&ids[..9], 8, 2, 0).unwrap();
    assert_eq!(one.input, [ids[..8].to_vec(), ids[..8].to_vec()].concat());
    assert!(matches!(
        lm_windows(&ids[..8], 8, 1, 0),
        Err(Error::Length { .. })
    ));
}

#[test]
fn knowledge_base_generates_past_its_two_and_three_syllable_names() {
    // Two or three of 40 syllables give about 66,000 town names, which ran out near 38,000
    // entities (a third of them towns) and generate never returned. 60,000 now finish, every
    // name distinct.
    use kiln::data::KnowledgeBase;
    let start = std::time::Instant::now();
    let kb = KnowledgeBase::generate(1, 60_000);
    assert_eq!(kb.entities.len(), 60_000);
    let names: std::collections::BTreeSet<String> =
        kb.entities.iter().map(|e| e.name.to_lowercase()).collect();
    assert_eq!(names.len(), 60_000);
    assert!(
        start.elapsed().as_secs_f64() < 30.0,
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn knowledge_base_passages_state_every_answer_and_pieces_round_trip() {
    use kiln::data::{KnowledgeBase, Pieces};
    let kb = KnowledgeBase::generate(7, 300);
    assert_eq!(kb.entities.len(), 300);
    assert_eq!(
        kb,
        KnowledgeBase::generate(7, 300),
        "same seed, same knowledge base"
    );
    let pieces = Pieces::new();
    let mut heads = std::collections::BTreeSet::new();
    let (mut chars, mut ids) = (0usize, 0usize);
    for (i, e) in kb.entities.iter().enumerate() {
        assert!(
            heads.insert(e.name.to_lowercase()),
            "two entities named {}",
            e.name
        );
        let passage = kb.passage(i);
        let questions = kb.questions(i);
        assert_eq!(questions.len(), 6, "{passage}");
        for q in &questions {
            assert!(passage.contains(&q.answer), "{passage} lacks {}", q.answer);
            // The answer's pieces, read as after a space, are a verbatim span of the
            // passage's: what lets a generator copy them.
            let span = pieces.encode_after_space(&q.answer);
            let whole = pieces.encode(&passage);
            assert!(
                whole.windows(span.len()).any(|w| w == span.as_slice()),
                "{:?} is not a span of {passage:?}",
                q.answer
            );
            assert_eq!(pieces.decode(&span), q.answer);
            assert!(
                q.text.contains(&e.name),
                "{} does not name {}",
                q.text,
                e.name
            );
            assert_eq!(q.entity, i);
        }
        for text in questions
            .iter()
            .map(|q| q.text.as_str())
            .chain([passage.as_str()])
        {
            let encoded = pieces.encode(text);
            assert!(
                !encoded.contains(&3),
                "unknown piece in {text:?}: {encoded:?}"
            );
            assert_eq!(pieces.decode(&encoded), text);
            chars += text.len();
            ids += encoded.len();
        }
    }
    assert!(
        ids * 2 < chars,
        "pieces should be far shorter than characters: {ids} vs {chars}"
    );
    // Text outside the inventory still encodes, as unknown pieces, and never panics.
    let odd = pieces.encode("Ünïcode 東京 ok?");
    assert!(odd.contains(&3) && !odd.is_empty());

    let edited = kb.edited(1);
    for (old, new) in kb.entities.iter().zip(&edited.entities) {
        assert_eq!(old.name, new.name);
        let changed = old
            .facts
            .iter()
            .filter(|(k, v)| new.facts[*k] != **v)
            .count();
        assert_eq!(changed, 1, "{old:?} → {new:?}");
    }
}

#[test]
fn knowledge_base_reader_examples_follow_edits_and_always_hold_the_gold_passage() {
    use kiln::data::facts::with_gold;
    use kiln::data::{KnowledgeBase, Pieces};
    let kb = KnowledgeBase::generate(3, 30);
    let edited = kb.edited(5);
    let pieces = Pieces::new();
    let qs = kb.questions_about(27..40);
    assert_eq!(qs.len(), 3 * 6, "out-of-range entities are skipped");
    assert!(qs.iter().all(|q| (27..30).contains(&q.entity)));
    for q in &qs {
        assert_eq!(kb.answer(q), q.answer);
        // The edited passage states the answer the edited knowledge base gives.
        assert!(edited.passage(q.entity).contains(&edited.answer(q)));
    }
    // One fact of each entity changed, so some of its six questions have a new answer.
    let changed = qs.iter().filter(|q| edited.answer(q) != q.answer).count();
    assert_eq!(
        changed,
        3 * 2,
        "two phrasings of one changed fact per entity"
    );
    let unknown = kiln::data::Question {
        text: "Who?".into(),
        answer: "nobody".into(),
        entity: 99,
    };
    assert_eq!(kb.answer(&unknown), "nobody");

    let q = &qs[0];
    assert_eq!(
        kb.reader_input(&q.text, &[q.entity, 1, 500]),
        format!("{} | {} | {}", q.text, kb.passage(q.entity), kb.passage(1))
    );
    let examples = edited.reader_examples(&pieces, &qs, |i| vec![qs[i].entity]);
    for (q, (src, tgt)) in qs.iter().zip(&examples) {
        assert_eq!(
            pieces.decode(src),
            edited.reader_input(&q.text, &[q.entity])
        );
        assert_eq!(pieces.decode(tgt), edited.answer(q));
    }

    assert_eq!(with_gold(&[4, 9], 9, 1), vec![4, 9], "a hit is left alone");
    assert_eq!(with_gold(&[], 9, 1), vec![9]);
    let mut places = std::collections::BTreeSet::new();
    for seed in 0..40 {
        let chosen = with_gold(&[1, 2, 3], 9, seed);
        assert_eq!(chosen.len(), 3);
        assert_eq!(chosen.iter().filter(|&&e| e == 9).count(), 1);
        places.insert(chosen.iter().position(|&e| e == 9));
    }
    assert_eq!(places.len(), 3, "the gold passage goes to every place");
}
