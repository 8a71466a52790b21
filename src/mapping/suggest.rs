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

/// When `s` is UTF-8 text that was read as Windows-1252 (`CÃ©dula`), the
/// text it was (`Cédula`); `None` for any other text.
pub fn ungarbled(s: &str) -> Option<String> {
    if s.is_ascii() {
        return None;
    }
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(s);
    if unmappable {
        return None;
    }
    let fixed = String::from_utf8(bytes.into_owned()).ok()?;
    (fixed != s).then_some(fixed)
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
    fn garbled_text_is_recognised_and_nothing_else() {
        assert_eq!(ungarbled("CÃ©dula").as_deref(), Some("Cédula"));
        assert_eq!(
            ungarbled("Nro ObligaciÃ³n").as_deref(),
            Some("Nro Obligación")
        );
        assert_eq!(ungarbled("Cédula"), None);
        assert_eq!(ungarbled("Días Mora"), None);
        assert_eq!(ungarbled("Saldo"), None);
        assert_eq!(ungarbled("日本"), None);
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
