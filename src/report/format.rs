//! Numbers as people in each language write them: `1.234.567,89` in
//! Spanish (as the banks' files do), `1,234,567.89` in English.

use crate::i18n::Lang;

fn separators(lang: Lang) -> (char, char) {
    match lang {
        Lang::Es => ('.', ','),
        Lang::En => (',', '.'),
    }
}

fn group(digits: &str, sep: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A count: `12.345` / `12,345`.
pub fn int(lang: Lang, n: u64) -> String {
    group(&n.to_string(), separators(lang).0)
}

/// A number with `decimals` places: `14.105.600,19` / `14,105,600.19`.
pub fn decimal(lang: Lang, x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let (thousands, point) = separators(lang);
    let s = format!("{:.*}", decimals, x.abs());
    let (int_part, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let mut out = String::new();
    if x < 0.0 && s.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        out.push('-');
    }
    out.push_str(&group(int_part, thousands));
    if let Some(f) = frac {
        out.push(point);
        out.push_str(f);
    }
    out
}

/// An amount of money, to the cent.
pub fn amount(lang: Lang, x: f64) -> String {
    decimal(lang, x, 2)
}

/// A short amount for a chart's axis: `950`, `12 k`, `3,4 M`, `1,2 mil M`,
/// its unit in the same language as its separators.
pub fn compact(lang: Lang, x: f64) -> String {
    let a = x.abs();
    let unit = |key: &str| crate::i18n::t_in(lang, key, None);
    let (value, unit) = if a >= 1e9 {
        (x / 1e9, unit("report-num-billions"))
    } else if a >= 1e6 {
        (x / 1e6, unit("report-num-millions"))
    } else if a >= 1e3 {
        (x / 1e3, unit("report-num-thousands"))
    } else {
        return decimal(lang, x, if a.fract() == 0.0 || a >= 10.0 { 0 } else { 1 });
    };
    let decimals = if value.abs() >= 100.0 || value.fract().abs() < 0.05 {
        0
    } else {
        1
    };
    format!("{} {unit}", decimal(lang, value, decimals))
}

/// A duration: `0,4 s`, `12 s`, `3 min 05 s`, `2 h 07 min`.
pub fn duration(lang: Lang, d: std::time::Duration) -> String {
    let secs = d.as_secs();
    if secs < 10 && d.subsec_millis() != 0 {
        format!("{} s", decimal(lang, d.as_secs_f64(), 1))
    } else if secs < 60 {
        format!("{secs} s")
    } else if secs < 3600 {
        format!("{} min {:02} s", secs / 60, secs % 60)
    } else {
        format!("{} h {:02} min", secs / 3600, secs % 3600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_each_language() {
        assert_eq!(int(Lang::Es, 1_234_567), "1.234.567");
        assert_eq!(int(Lang::En, 1_234_567), "1,234,567");
        assert_eq!(int(Lang::En, 999), "999");
        assert_eq!(amount(Lang::Es, 14_105_600.19), "14.105.600,19");
        assert_eq!(amount(Lang::En, 14_105_600.19), "14,105,600.19");
        assert_eq!(amount(Lang::En, -1234.5), "-1,234.50");
        assert_eq!(amount(Lang::En, -0.001), "0.00");
        assert_eq!(decimal(Lang::Es, 0.5, 1), "0,5");
        assert_eq!(compact(Lang::Es, 1.2e9), "1,2 mil M");
        assert_eq!(compact(Lang::En, 1.2e9), "1.2 B");
        assert_eq!(compact(Lang::Es, 8e12), "8.000 mil M");
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(duration(Lang::Es, Duration::from_millis(400)), "0,4 s");
        assert_eq!(duration(Lang::En, Duration::from_secs(42)), "42 s");
        assert_eq!(duration(Lang::En, Duration::from_secs(185)), "3 min 05 s");
        assert_eq!(duration(Lang::En, Duration::from_secs(7620)), "2 h 07 min");
    }
}
