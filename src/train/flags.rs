//! Checks for a training program's numeric command-line values, shaped as clap value parsers
//! (`#[arg(long, value_parser = kiln::train::flags::probability)]`) but depending on no CLI
//! crate: each takes the text the user typed and returns the value or a message saying the
//! range. Integers need none of these: clap's own `value_parser!(u32).range(..)` does it.
//! Every float check refuses NaN and infinities, which `f32::from_str` accepts ("nan",
//! "inf", "1e40").

fn finite(text: &str) -> Result<f32, String> {
    let value: f32 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!("'{text}' is not a finite number"))
    }
}

/// A text the program acts on (a question, a query, a prompt): not empty or only whitespace.
pub fn text(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("the text is empty".into())
    } else {
        Ok(text.to_string())
    }
}

/// A probability of dropping or smoothing: finite, in [0, 1).
pub fn probability(text: &str) -> Result<f32, String> {
    let value = finite(text)?;
    if (0.0..1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is outside [0, 1)"))
    }
}

/// A fraction of a whole: finite, in (0, 1] (nucleus sampling's top-p).
pub fn fraction(text: &str) -> Result<f32, String> {
    let value = finite(text)?;
    if value > 0.0 && value <= 1.0 {
        Ok(value)
    } else {
        Err(format!("{value} is outside (0, 1]"))
    }
}

/// A value in `(low, high]`: finite and in range, or a message naming the range.
fn in_range(text: &str, low: f32, high: f32, open_low: bool) -> Result<f32, String> {
    let value = finite(text)?;
    let above = if open_low { value > low } else { value >= low };
    if above && value <= high {
        Ok(value)
    } else {
        let bracket = if open_low { '(' } else { '[' };
        Err(format!("{value} is outside {bracket}{low}, {high}]"))
    }
}

/// A learning rate: in (0, 10] (past that, any model diverges on the first step).
pub fn learning_rate(text: &str) -> Result<f32, String> {
    in_range(text, 0.0, 10.0, true)
}

/// A multiplier of a tuned value (a learning-rate scale): in (0, 1000].
pub fn multiplier(text: &str) -> Result<f32, String> {
    in_range(text, 0.0, 1000.0, true)
}

/// A sampling temperature: in (0, 100] (100 is already uniform over any vocabulary).
pub fn temperature(text: &str) -> Result<f32, String> {
    in_range(text, 0.0, 100.0, true)
}

/// An exponent such as beam search's length penalty: in [0, 10].
pub fn exponent(text: &str) -> Result<f32, String> {
    in_range(text, 0.0, 10.0, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_non_numbers() {
        assert_eq!(probability("0"), Ok(0.0));
        assert_eq!(probability(" 0.5 "), Ok(0.5));
        for bad in ["1", "-0.1", "nan", "inf", "", "abc", "1e40"] {
            assert!(probability(bad).is_err(), "{bad}");
        }
        assert_eq!(fraction("1"), Ok(1.0));
        assert!(fraction("0").is_err());
        assert_eq!(learning_rate("1e-3"), Ok(1e-3));
        for bad in ["0", "-1", "-inf", "11", "99999999999999999999999"] {
            assert!(learning_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(multiplier("1000"), Ok(1000.0));
        assert!(multiplier("1e23").is_err());
        assert_eq!(temperature("0.8"), Ok(0.8));
        assert!(temperature("0").is_err());
        assert_eq!(exponent("0"), Ok(0.0));
        assert!(exponent("-1").is_err() && exponent("NaN").is_err() && exponent("11").is_err());
        assert_eq!(exponent("-1"), Err("-1 is outside [0, 10]".to_string()));
        assert_eq!(text(" a "), Ok(" a ".to_string()));
        assert!(text("").is_err() && text(" \t").is_err());
    }
}
