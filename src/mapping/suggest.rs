//! "Did you mean …?" for column names and mapping keys.

/// Folds what people type inconsistently in headers: case, accents and runs
/// of spaces. Used only to *suggest*; matching itself is stricter.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_space = true;
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        let c = match c {
            'á' | 'à' | 'ä' | 'â' | 'ã' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' | 'õ' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            '_' | '-' | '.' | '\u{a0}' => ' ',
            c => c,
        };
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The candidate closest to `wanted`, if any is close enough to be a
/// plausible slip (a few edits, or the same once case, accents and spaces
/// are folded).
pub fn nearest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let w = fold(wanted);
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        let f = fold(c);
        let score = if f == w {
            2.0
        } else {
            strsim::normalized_damerau_levenshtein(&w, &f).max(
                if f.contains(&w) || w.contains(&f) {
                    0.7
                } else {
                    0.0
                },
            )
        };
        if score >= 0.6 && best.is_none_or(|(_, s)| score > s) {
            best = Some((c, score));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_accents_and_space_runs() {
        assert_eq!(fold("  Días  Mora "), "dias mora");
        assert_eq!(fold("Nro_Obligación"), "nro obligacion");
    }

    #[test]
    fn nearest_prefers_folded_equality() {
        let headers = ["Saldo  Total ", "Saldo Capital", "Dias Mora"];
        assert_eq!(nearest("Saldo Total", headers), Some("Saldo  Total "));
        assert_eq!(nearest("Días Mora", headers), Some("Dias Mora"));
        assert_eq!(nearest("Telefono", headers), None);
        assert_eq!(
            nearest("headr_row", ["sheet", "header_row"]),
            Some("header_row")
        );
    }
}
