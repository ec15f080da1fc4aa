//! The retrieval demo's built-in knowledge base: short passages about invented towns, people
//! and inventions, and questions whose answers are only in those passages.
//!
//! Every name is made of syllables from one inventory, so a model can read and write the names
//! of entities it never saw (each syllable it did see, in other names), yet cannot know an
//! unseen entity's facts: years and names are drawn at random per entity, so a model without
//! the passage can only guess. Colours and instruments come from small lists, which sets the
//! closed-book chance level.
//!
//! - Town: `"Velmora is a town on the river Oskel, founded in 1742. Its flag is teal."`
//! - Person: `"Orla Brenwick was born in 1911 in Dunmere and played the lute."`
//! - Invention: `"The Quillard valve was invented by Tessa Nim in 1864 and is painted amber."`
//!
//! [`KnowledgeBase::edited`] changes one fact of every entity (a town's river, a person's
//! instrument, ...) without renaming anything: the retrieval demo asks the same questions after
//! the edit, and answers must follow the new passages.
//!
//! [`Pieces`] splits these texts into word pieces (template words, name syllables, digits,
//! punctuation): a vocabulary in which unseen names are sequences of seen pieces, and whose
//! sequences are a third as long as characters.

use std::collections::BTreeMap;

use super::Rng;

const SYLLABLES: [&str; 40] = [
    "vel", "mo", "ra", "os", "kel", "dar", "wen", "tor", "lis", "bra", "nim", "quil", "fen", "gal",
    "rhu", "sta", "ber", "cai", "dun", "ely", "mar", "tes", "sa", "or", "la", "wick", "ard", "pen",
    "ul", "zo", "thi", "kor", "vin", "ash", "mere", "ton", "gri", "lo", "ha", "ne",
];

const COLOURS: [&str; 10] = [
    "teal", "amber", "crimson", "violet", "ochre", "silver", "green", "indigo", "white", "black",
];

const INSTRUMENTS: [&str; 8] = [
    "lute", "harp", "cello", "flute", "drum", "oboe", "viola", "horn",
];

const DEVICES: [&str; 8] = [
    "valve", "lamp", "engine", "loom", "clock", "pump", "lens", "press",
];

/// What kind of thing an entity is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A town: river, founding year, flag colour.
    Town,
    /// A person: birth year, birthplace, instrument.
    Person,
    /// An invention: inventor, year, colour.
    Invention,
}

/// One invented entity and its facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entity {
    /// What it is.
    pub kind: Kind,
    /// Its name as written in passages and questions ("Velmora", "Orla Brenwick", "Quillard
    /// valve").
    pub name: String,
    /// Its facts by attribute: `river`, `founded`, `flag` for towns; `born`, `birthplace`,
    /// `instrument` for people; `inventor`, `year`, `colour` for inventions.
    pub facts: BTreeMap<&'static str, String>,
}

/// A question about one entity, with its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// The question text.
    pub text: String,
    /// The answer, exactly as the passage states it.
    pub answer: String,
    /// Index of the entity in its [`KnowledgeBase`] (so of its passage).
    pub entity: usize,
}

/// A generated set of entities with one passage each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnowledgeBase {
    /// The entities, in passage order.
    pub entities: Vec<Entity>,
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.below(items.len())]
}

fn word(rng: &mut Rng, syllables: usize) -> String {
    capitalise(
        &(0..syllables)
            .map(|_| pick(rng, &SYLLABLES))
            .collect::<String>(),
    )
}

fn person_name(rng: &mut Rng, extra: usize) -> String {
    let first = 2;
    let last = 2 + rng.below(2) + extra;
    format!("{} {}", word(rng, first), word(rng, last))
}

fn year(rng: &mut Rng) -> String {
    (1100 + rng.below(900)).to_string()
}

impl KnowledgeBase {
    /// `count` entities (a third of each kind, interleaved) with distinct names, from `seed`.
    pub fn generate(seed: u64, count: usize) -> KnowledgeBase {
        let mut rng = Rng::new(super::mix(seed ^ 0x6b62));
        let mut names = std::collections::BTreeSet::new();
        let mut entities = Vec::with_capacity(count);
        // Consecutive name collisions for the entity being drawn. Two or three syllables run
        // out near 40,000 entities; every 32 collisions in a row add a syllable (a space
        // SYLLABLES.len() times larger), so any count finishes, and counts that never collide
        // 32 times in a row (all the small ones) draw exactly the names they always did.
        let mut stuck = 0;
        while entities.len() < count {
            let kind = [Kind::Town, Kind::Person, Kind::Invention][entities.len() % 3];
            let extra = stuck / 32;
            let name = match kind {
                Kind::Town => {
                    let n = 2 + rng.below(2) + extra;
                    word(&mut rng, n)
                }
                Kind::Person => person_name(&mut rng, extra),
                Kind::Invention => {
                    let w = word(&mut rng, 2 + extra);
                    format!("{w} {}", pick(&mut rng, &DEVICES))
                }
            };
            // Names are unique, so a question names exactly one entity.
            if !names.insert(name.to_lowercase()) {
                stuck += 1;
                continue;
            }
            stuck = 0;
            let mut facts = BTreeMap::new();
            for attribute in attributes(kind) {
                facts.insert(*attribute, draw(&mut rng, attribute));
            }
            entities.push(Entity { kind, name, facts });
        }
        KnowledgeBase { entities }
    }

    /// The passage stating every fact of entity `i`.
    pub fn passage(&self, i: usize) -> String {
        let e = &self.entities[i];
        let f = |k: &str| e.facts.get(k).map(String::as_str).unwrap_or_default();
        match e.kind {
            Kind::Town => format!(
                "{} is a town on the river {}, founded in {}. Its flag is {}.",
                e.name,
                f("river"),
                f("founded"),
                f("flag")
            ),
            Kind::Person => format!(
                "{} was born in {} in {} and played the {}.",
                e.name,
                f("born"),
                f("birthplace"),
                f("instrument")
            ),
            Kind::Invention => format!(
                "The {} was invented by {} in {} and is painted {}.",
                e.name,
                f("inventor"),
                f("year"),
                f("colour")
            ),
        }
    }

    /// Every passage, in entity order.
    pub fn passages(&self) -> Vec<String> {
        (0..self.entities.len()).map(|i| self.passage(i)).collect()
    }

    /// Every question about entity `i` (two phrasings per fact), answers from its facts.
    pub fn questions(&self, i: usize) -> Vec<Question> {
        let e = &self.entities[i];
        let n = &e.name;
        let templates: Vec<(&str, String)> = match e.kind {
            Kind::Town => vec![
                ("river", format!("Which river flows through {n}?")),
                ("river", format!("On what river is {n}?")),
                ("founded", format!("When was {n} founded?")),
                ("founded", format!("In what year was {n} founded?")),
                ("flag", format!("What colour is the flag of {n}?")),
                ("flag", format!("Which colour is {n}'s flag?")),
            ],
            Kind::Person => vec![
                ("born", format!("When was {n} born?")),
                ("born", format!("In what year was {n} born?")),
                ("birthplace", format!("Where was {n} born?")),
                ("birthplace", format!("What town is {n} from?")),
                ("instrument", format!("What did {n} play?")),
                ("instrument", format!("Which instrument did {n} play?")),
            ],
            Kind::Invention => vec![
                ("inventor", format!("Who invented the {n}?")),
                ("inventor", format!("Who made the {n}?")),
                ("year", format!("When was the {n} invented?")),
                ("year", format!("In what year was the {n} invented?")),
                ("colour", format!("What colour is the {n}?")),
                ("colour", format!("How is the {n} painted?")),
            ],
        };
        templates
            .into_iter()
            .filter_map(|(attribute, text)| {
                e.facts.get(attribute).map(|answer| Question {
                    text,
                    answer: answer.clone(),
                    entity: i,
                })
            })
            .collect()
    }

    /// The answer this knowledge base gives to `q` (a question about its entity `q.entity`,
    /// asked in the same words): after [`edited`](Self::edited), the new value where the edit
    /// changed the fact `q` asks about. A question this knowledge base does not know keeps its
    /// own answer.
    pub fn answer(&self, q: &Question) -> String {
        if q.entity >= self.entities.len() {
            return q.answer.clone();
        }
        self.questions(q.entity)
            .into_iter()
            .find(|x| x.text == q.text)
            .map_or_else(|| q.answer.clone(), |x| x.answer)
    }

    /// The text a retrieval-augmented reader is given: `question`, then each of `passages`
    /// (entity indices, out-of-range ones skipped) after a `" | "`.
    pub fn reader_input(&self, question: &str, passages: &[usize]) -> String {
        let mut text = question.to_string();
        for &e in passages.iter().filter(|&&e| e < self.entities.len()) {
            text.push_str(" | ");
            text.push_str(&self.passage(e));
        }
        text
    }

    /// Examples for a reader that answers from passages (a retrieval-augmented generator):
    /// for question `i` of `questions`, the source [`reader_input`](Self::reader_input) with
    /// the passages `passages(i)` and the target [`answer`](Self::answer), both in `pieces`
    /// (the answer as it appears after a space, so its ids are a span of its passage's).
    pub fn reader_examples(
        &self,
        pieces: &Pieces,
        questions: &[Question],
        passages: impl Fn(usize) -> Vec<usize>,
    ) -> Vec<(Vec<u32>, Vec<u32>)> {
        let example = |(i, q): (usize, &Question)| {
            let source = pieces.encode(&self.reader_input(&q.text, &passages(i)));
            (source, pieces.encode_after_space(&self.answer(q)))
        };
        questions.iter().enumerate().map(example).collect()
    }

    /// Every question about the entities in `entities` (out-of-range ones skipped), entity by
    /// entity.
    pub fn questions_about(&self, entities: std::ops::Range<usize>) -> Vec<Question> {
        let end = entities.end.min(self.entities.len());
        (entities.start..end)
            .flat_map(|i| self.questions(i))
            .collect()
    }

    /// Every question about every entity.
    pub fn all_questions(&self) -> Vec<Question> {
        (0..self.entities.len())
            .flat_map(|i| self.questions(i))
            .collect()
    }

    /// A copy where one fact of every entity (chosen by `seed`) has a new value, different from
    /// the old one. Names do not change, so the same questions now have new answers.
    pub fn edited(&self, seed: u64) -> KnowledgeBase {
        let mut rng = Rng::new(super::mix(seed ^ 0xed17));
        let mut out = self.clone();
        for e in &mut out.entities {
            let attrs = attributes(e.kind);
            let attribute = attrs[rng.below(attrs.len())];
            let old = e.facts.get(attribute).cloned().unwrap_or_default();
            let mut new = draw(&mut rng, attribute);
            while new == old {
                new = draw(&mut rng, attribute);
            }
            e.facts.insert(attribute, new);
        }
        out
    }

    /// The number of distinct values a closed-book guess at `attribute` chooses among: the
    /// list's length for colours and instruments, effectively unbounded for names and years.
    pub fn choices(attribute: &str) -> Option<usize> {
        match attribute {
            "flag" | "colour" => Some(COLOURS.len()),
            "instrument" => Some(INSTRUMENTS.len()),
            _ => None,
        }
    }
}

/// The passages a reader trains on for one question: the retrieved `hits` (entity indices,
/// best first), with the `gold` passage put in place of one of them, chosen at random from
/// `seed`, when the retriever missed it (and added when there are no hits). Every training
/// source then holds its answer, beside the retriever's usual distractors, so the reader learns
/// to find the answer rather than to guess it; at test time it reads what is retrieved.
pub fn with_gold(hits: &[usize], gold: usize, seed: u64) -> Vec<usize> {
    let mut chosen = hits.to_vec();
    if !chosen.contains(&gold) {
        let at = Rng::new(super::mix(seed ^ 0x601d)).below(chosen.len().max(1));
        match chosen.get_mut(at) {
            Some(slot) => *slot = gold,
            None => chosen.push(gold),
        }
    }
    chosen
}

fn attributes(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Town => &["river", "founded", "flag"],
        Kind::Person => &["born", "birthplace", "instrument"],
        Kind::Invention => &["inventor", "year", "colour"],
    }
}

fn draw(rng: &mut Rng, attribute: &str) -> String {
    match attribute {
        "river" => word(rng, 2),
        "birthplace" => {
            let n = 2 + rng.below(2);
            word(rng, n)
        }
        "inventor" => person_name(rng, 0),
        "founded" | "born" | "year" => year(rng),
        "flag" | "colour" => pick(rng, &COLOURS).to_string(),
        _ => pick(rng, &INSTRUMENTS).to_string(),
    }
}

/// Splits the knowledge base's texts into word pieces: each template word, colour, instrument
/// and device is one piece; other words are split into the name syllables, digits
/// and letters by longest match (a capitalised word gets a [`CAPITAL`] piece first); each
/// punctuation mark is a piece. Every piece has two ids, with and without a space before it,
/// so spaces cost nothing and decoding restores single-spaced text exactly. Characters outside
/// the inventory become the unknown piece, so every text has a tokenisation.
#[derive(Clone, Debug)]
pub struct Pieces {
    pieces: Vec<String>,
    ids: BTreeMap<String, u32>,
}

/// The marker piece before a capitalised word.
pub const CAPITAL: &str = "^";

/// Specials, with the ids of [`super::vocab`]: padding, begin, end, unknown.
const SPECIALS: [&str; 4] = ["<pad>", "<bos>", "<eos>", "<unk>"];

const WORDS: [&str; 41] = [
    "is",
    "a",
    "town",
    "on",
    "the",
    "river",
    "founded",
    "in",
    "its",
    "flag",
    "was",
    "born",
    "and",
    "played",
    "invented",
    "by",
    "painted",
    "which",
    "flows",
    "through",
    "what",
    "when",
    "year",
    "colour",
    "where",
    "from",
    "did",
    "play",
    "instrument",
    "who",
    "made",
    "how",
    "of",
    "'s",
    "?",
    ".",
    ",",
    "|",
    "-",
    ":",
    "'",
];

impl Default for Pieces {
    fn default() -> Self {
        Pieces::new()
    }
}

impl Pieces {
    /// The fixed inventory: [`CAPITAL`], template words and punctuation, colours, instruments,
    /// devices, syllables, digits and letters, after the four specials. Numbers are spelled
    /// digit by digit: ten pieces seen in every year teach a generator to copy numbers far
    /// sooner than a hundred two-digit pieces each seen in one year of a hundred.
    pub fn new() -> Pieces {
        let singles = ('0'..='9').chain('a'..='z').map(String::from);
        let mut pieces: Vec<String> = Vec::new();
        let named = [CAPITAL]
            .iter()
            .chain(WORDS.iter())
            .chain(COLOURS.iter())
            .chain(INSTRUMENTS.iter())
            .chain(DEVICES.iter())
            .chain(SYLLABLES.iter())
            .map(|s| s.to_string());
        for p in named.chain(singles) {
            if !pieces.contains(&p) {
                pieces.push(p);
            }
        }
        let ids = pieces
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), i as u32))
            .collect();
        Pieces { pieces, ids }
    }

    /// Ids in use: the specials and two per piece (the model's vocabulary size).
    pub fn len(&self) -> usize {
        SPECIALS.len() + 2 * self.pieces.len()
    }

    /// Always false: the inventory is fixed.
    pub fn is_empty(&self) -> bool {
        false
    }

    fn id(&self, piece: &str, spaced: bool) -> Option<u32> {
        self.ids
            .get(piece)
            .map(|&k| SPECIALS.len() as u32 + 2 * k + spaced as u32)
    }

    /// Piece ids of `text`: whole words first, then longest matches.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        self.encode_from(text, false)
    }

    /// Piece ids of `text` as they read after a space inside a longer text: the first word
    /// gets its spaced id too. An answer encoded so is a verbatim span of the passage that
    /// states it, so a generator can copy it id for id.
    pub fn encode_after_space(&self, text: &str) -> Vec<u32> {
        self.encode_from(text.trim_start(), true)
    }

    fn encode_from(&self, text: &str, mut spaced: bool) -> Vec<u32> {
        let unk = 3;
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if c.is_whitespace() {
                spaced = !out.is_empty();
                rest = &rest[c.len_utf8()..];
                continue;
            }
            let word_len = rest
                .find(|ch: char| !ch.is_alphanumeric())
                .unwrap_or(rest.len());
            if word_len == 0 {
                // Punctuation: longest piece first ("'s" before "'").
                let n = [2, 1]
                    .into_iter()
                    .filter(|&n| n <= rest.len() && rest.is_char_boundary(n))
                    .find(|&n| self.ids.contains_key(&rest[..n]));
                match n {
                    Some(n) => {
                        out.extend(self.id(&rest[..n], spaced));
                        rest = &rest[n..];
                    }
                    None => {
                        out.push(unk);
                        rest = &rest[c.len_utf8()..];
                    }
                }
                spaced = false;
                continue;
            }
            let word = &rest[..word_len];
            rest = &rest[word_len..];
            if c.is_uppercase() {
                out.extend(self.id(CAPITAL, spaced));
                spaced = false;
            }
            let lower = word.to_lowercase();
            if let Some(id) = self.id(&lower, spaced) {
                out.push(id);
                spaced = false;
                continue;
            }
            let mut part = lower.as_str();
            while !part.is_empty() {
                let longest = (1..=part.len())
                    .rev()
                    .filter(|&n| part.is_char_boundary(n))
                    .find_map(|n| self.id(&part[..n], spaced).map(|id| (n, id)));
                let (n, id) =
                    longest.unwrap_or((part.chars().next().map_or(1, char::len_utf8), unk));
                out.push(id);
                part = &part[n..];
                spaced = false;
            }
        }
        out
    }

    /// The text of piece ids: [`CAPITAL`] upper-cases the next letter; specials are dropped.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut out = String::new();
        let mut capital = false;
        for &id in ids {
            if id == 3 {
                out.push(super::vocab::UNK_CHAR);
                continue;
            }
            let Some(k) = (id as usize).checked_sub(SPECIALS.len()) else {
                continue;
            };
            let Some(p) = self.pieces.get(k / 2) else {
                continue;
            };
            if k % 2 == 1 && !out.is_empty() {
                out.push(' ');
            }
            if p == CAPITAL {
                capital = true;
            } else if capital {
                out.push_str(&capitalise(p));
                capital = false;
            } else {
                out.push_str(p);
            }
        }
        out
    }
}
