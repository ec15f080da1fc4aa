//! The built-in task: dates written the many ways people write them, to ISO 8601.
//!
//! `("Tuesday, 24 November 2026", "2026-11-24")`, `("11/24/26", "2026-11-24")`,
//! `("24.11.2026", "2026-11-24")`, `("nov 24th 2026", "2026-11-24")` and the rest of
//! [`DateFormat::ALL`]. A small, checkable translation task: the model must learn month names,
//! field order, ordinals, two-digit years and to ignore the weekday.
//!
//! - Years run from [`FIRST_YEAR`] (1950) to [`LAST_YEAR`] (2049). Two-digit years are written
//!   only for 2000–2049 ([`SHORT_YEAR_FROM`]), so `yy` always means `20yy`.
//! - Numeric field order is fixed per separator so no source maps to two targets: slashes are
//!   US order (`MM/DD/YYYY`) unless the year comes first (`YYYY/MM/DD`); dots and dashes are
//!   European order (`DD.MM.YYYY`, `DD-MM-YYYY`) unless the year comes first (`YYYY-MM-DD`).
//! - Weekday names are computed, never random, so they always agree with the date.
//! - [`Split`] is decided by a fixed hash of the date itself (not of the string, not of the
//!   seed): about 10% of dates are held out and never appear in training in any format or with
//!   any seed.
//! - Sources are at most [`MAX_SOURCE_LEN`] characters, targets exactly [`TARGET_LEN`].

use super::{mix, Rng};

/// First year generated.
pub const FIRST_YEAR: i32 = 1950;
/// Last year generated.
pub const LAST_YEAR: i32 = 2049;
/// Two-digit years are written only from this year on (up to [`LAST_YEAR`]).
pub const SHORT_YEAR_FROM: i32 = 2000;
/// The longest source any format produces, in characters (all sources are ASCII, so bytes
/// too): `Wednesday, September 30, 2026`.
pub const MAX_SOURCE_LEN: usize = 29;
/// Every target is `YYYY-MM-DD`.
pub const TARGET_LEN: usize = 10;
/// Percentage of dates held out.
pub const HELDOUT_PERCENT: u64 = 10;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// A day of the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    /// Year, e.g. 2026.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
}

/// Whether `year` has a 29 February.
pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1–12) of `year`; 0 for a month out of range.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// The date, or `None` if the month or day does not exist.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        (day >= 1 && day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// Days since 1970-01-01 (negative before). Howard Hinnant's `days_from_civil`: counting
    /// from 1 March makes the leap day the last day of the year, so eras of 400 years repeat.
    pub fn days(&self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01: the inverse of [`Date::days`].
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Day of the week, 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
    pub fn weekday(&self) -> u32 {
        (self.days() + 3).rem_euclid(7) as u32
    }

    /// The weekday's English name, e.g. `"Tuesday"`.
    pub fn weekday_name(&self) -> &'static str {
        WEEKDAYS[self.weekday() as usize]
    }

    /// The month's English name, e.g. `"November"`.
    pub fn month_name(&self) -> &'static str {
        MONTHS[(self.month as usize).clamp(1, 12) - 1]
    }

    /// `YYYY-MM-DD`.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Which split this date belongs to: a fixed hash of the day number, independent of any
    /// seed, so held-out dates stay held out across runs.
    pub fn split(&self) -> Split {
        if mix(self.days() as u64 ^ 0xDA7E_5EED_0000_0000) % 100 < HELDOUT_PERCENT {
            Split::Heldout
        } else {
            Split::Train
        }
    }
}

/// Training or held-out dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// About 90% of dates.
    Train,
    /// About 10% of dates, never generated for training.
    Heldout,
}

/// Letter case applied to formats with words in them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Case {
    /// As written in [`DateFormat`]'s docs: `Tuesday`, `Nov`.
    Title,
    /// `tuesday`, `nov`.
    Lower,
    /// `TUESDAY`, `NOV`.
    Upper,
}

/// One way of writing a date; each variant's doc shows 2026-11-24 (and 2026-01-05 where
/// leading zeros matter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateFormat {
    /// `2026-11-24`
    IsoDash,
    /// `2026/11/24`
    IsoSlash,
    /// `20261124`
    IsoCompact,
    /// `11/24/2026`, `01/05/2026`
    UsSlash,
    /// `11/24/26` (2000–2049 only)
    UsSlashShort,
    /// `11/24/2026`, `1/5/2026`
    UsSlashNoZero,
    /// `11/24/26`, `1/5/26` (2000–2049 only)
    UsSlashNoZeroShort,
    /// `24.11.2026`, `05.01.2026`
    EuDot,
    /// `24.11.2026`, `5.1.2026`
    EuDotNoZero,
    /// `24.11.26` (2000–2049 only)
    EuDotShort,
    /// `24-11-2026`
    EuDash,
    /// `24 Nov 2026`, `5 Jan 2026`
    DayMonYear,
    /// `24 Nov 2026`, `05 Jan 2026`
    DayMonYearZero,
    /// `24-Nov-2026`
    DayMonYearDash,
    /// `24 November 2026`
    DayMonthYear,
    /// `November 24, 2026`
    MonthDayYear,
    /// `Nov 24, 2026`
    MonDayYear,
    /// `November 24th, 2026`
    MonthOrdYear,
    /// `Nov 24th 2026`
    MonOrdYear,
    /// `24th of November, 2026`
    OrdOfMonthYear,
    /// `2026 Nov 24`
    YearMonDay,
    /// `Tuesday, 24 November 2026`
    WeekdayDayMonthYear,
    /// `Tuesday, November 24, 2026`
    WeekdayMonthDayYear,
    /// `Tue 24 Nov 2026`
    WdyDayMonYear,
    /// `Tue, 24 Nov 2026` (as in e-mail headers)
    WdyCommaDayMonYear,
}

impl DateFormat {
    /// Every format, in declaration order.
    pub const ALL: [DateFormat; 25] = [
        DateFormat::IsoDash,
        DateFormat::IsoSlash,
        DateFormat::IsoCompact,
        DateFormat::UsSlash,
        DateFormat::UsSlashShort,
        DateFormat::UsSlashNoZero,
        DateFormat::UsSlashNoZeroShort,
        DateFormat::EuDot,
        DateFormat::EuDotNoZero,
        DateFormat::EuDotShort,
        DateFormat::EuDash,
        DateFormat::DayMonYear,
        DateFormat::DayMonYearZero,
        DateFormat::DayMonYearDash,
        DateFormat::DayMonthYear,
        DateFormat::MonthDayYear,
        DateFormat::MonDayYear,
        DateFormat::MonthOrdYear,
        DateFormat::MonOrdYear,
        DateFormat::OrdOfMonthYear,
        DateFormat::YearMonDay,
        DateFormat::WeekdayDayMonthYear,
        DateFormat::WeekdayMonthDayYear,
        DateFormat::WdyDayMonYear,
        DateFormat::WdyCommaDayMonYear,
    ];

    /// Whether the format writes the year with two digits (used only for 2000–2049).
    pub fn short_year(self) -> bool {
        matches!(
            self,
            DateFormat::UsSlashShort | DateFormat::UsSlashNoZeroShort | DateFormat::EuDotShort
        )
    }

    /// Whether the format has month or weekday names, so [`Case`] changes it.
    pub fn has_words(self) -> bool {
        use DateFormat::*;
        !matches!(
            self,
            IsoDash
                | IsoSlash
                | IsoCompact
                | UsSlash
                | UsSlashShort
                | UsSlashNoZero
                | UsSlashNoZeroShort
                | EuDot
                | EuDotNoZero
                | EuDotShort
                | EuDash
        )
    }

    /// `date` written in this format and case, or `None` where the format cannot write it
    /// unambiguously (a two-digit year outside 2000–2049).
    pub fn render(self, date: Date, case: Case) -> Option<String> {
        use DateFormat::*;
        let (y, m, d) = (date.year, date.month, date.day);
        if self.short_year() && !(SHORT_YEAR_FROM..=SHORT_YEAR_FROM + 99).contains(&y) {
            return None;
        }
        let yy = y.rem_euclid(100);
        let month = date.month_name();
        let mon = &month[..3];
        let weekday = date.weekday_name();
        let wdy = &weekday[..3];
        let ord = ordinal(d);
        let s = match self {
            IsoDash => date.iso(),
            IsoSlash => format!("{y:04}/{m:02}/{d:02}"),
            IsoCompact => format!("{y:04}{m:02}{d:02}"),
            UsSlash => format!("{m:02}/{d:02}/{y:04}"),
            UsSlashShort => format!("{m:02}/{d:02}/{yy:02}"),
            UsSlashNoZero => format!("{m}/{d}/{y:04}"),
            UsSlashNoZeroShort => format!("{m}/{d}/{yy:02}"),
            EuDot => format!("{d:02}.{m:02}.{y:04}"),
            EuDotNoZero => format!("{d}.{m}.{y:04}"),
            EuDotShort => format!("{d:02}.{m:02}.{yy:02}"),
            EuDash => format!("{d:02}-{m:02}-{y:04}"),
            DayMonYear => format!("{d} {mon} {y:04}"),
            DayMonYearZero => format!("{d:02} {mon} {y:04}"),
            DayMonYearDash => format!("{d:02}-{mon}-{y:04}"),
            DayMonthYear => format!("{d} {month} {y:04}"),
            MonthDayYear => format!("{month} {d}, {y:04}"),
            MonDayYear => format!("{mon} {d}, {y:04}"),
            MonthOrdYear => format!("{month} {ord}, {y:04}"),
            MonOrdYear => format!("{mon} {ord} {y:04}"),
            OrdOfMonthYear => format!("{ord} of {month}, {y:04}"),
            YearMonDay => format!("{y:04} {mon} {d}"),
            WeekdayDayMonthYear => format!("{weekday}, {d} {month} {y:04}"),
            WeekdayMonthDayYear => format!("{weekday}, {month} {d}, {y:04}"),
            WdyDayMonYear => format!("{wdy} {d} {mon} {y:04}"),
            WdyCommaDayMonYear => format!("{wdy}, {d} {mon} {y:04}"),
        };
        Some(match case {
            Case::Title => s,
            Case::Lower => s.to_lowercase(),
            Case::Upper => s.to_uppercase(),
        })
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, …, `11th`, `12th`, `13th`, …, `21st`, `22nd`, `23rd`, …
pub fn ordinal(day: u32) -> String {
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{day}{suffix}")
}

/// One generated example with the structure behind it, so tests and reports can check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateExample {
    /// The date as written, e.g. `"Tue 24 Nov 2026"`.
    pub source: String,
    /// `YYYY-MM-DD`.
    pub target: String,
    /// The date itself.
    pub date: Date,
    /// How `source` was written.
    pub format: DateFormat,
    /// The letter case of `source` (always [`Case::Title`] for numeric formats).
    pub case: Case,
}

/// `count` examples from `split`, deterministic from `seed`. Dates are uniform over
/// 1950–2049 (restricted to the split), formats uniform over [`DateFormat::ALL`] (a two-digit
/// format drawn for a year before 2000 is redrawn), and word formats are title case half the
/// time, lower or upper case a quarter each. Dates and sources repeat when `count` is large.
pub fn date_examples(seed: u64, count: usize, split: Split) -> Vec<DateExample> {
    let mut rng = Rng::new(seed);
    let first = Date {
        year: FIRST_YEAR,
        month: 1,
        day: 1,
    }
    .days();
    let last = Date {
        year: LAST_YEAR,
        month: 12,
        day: 31,
    }
    .days();
    let span = (last - first + 1) as usize;
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let date = Date::from_days(first + rng.below(span) as i64);
        if date.split() != split {
            continue;
        }
        let case = match rng.below(4) {
            0 | 1 => Case::Title,
            2 => Case::Lower,
            _ => Case::Upper,
        };
        // Every date has formats it can be written in (all four-digit ones), so this ends.
        let (format, source) = loop {
            let format = DateFormat::ALL[rng.below(DateFormat::ALL.len())];
            let case = if format.has_words() {
                case
            } else {
                Case::Title
            };
            if let Some(s) = format.render(date, case) {
                break (format, s);
            }
        };
        out.push(DateExample {
            source,
            target: date.iso(),
            date,
            format,
            case: if format.has_words() {
                case
            } else {
                Case::Title
            },
        });
    }
    out
}

/// `count` (source, target) pairs from `split`, deterministic from `seed`: the strings of
/// [`date_examples`].
pub fn date_pairs(seed: u64, count: usize, split: Split) -> Vec<(String, String)> {
    date_examples(seed, count, split)
        .into_iter()
        .map(|e| (e.source, e.target))
        .collect()
}
