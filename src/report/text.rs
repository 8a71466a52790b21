//! Text in the charts, measured before the browser sets it.
//!
//! Labels are SVG `<text>` in the browser's own sans-serif, whose metrics
//! are not known here. To keep every label inside its chart, a label is
//! measured by approximate advance widths: those of the faces a browser's
//! sans-serif most often is (DejaVu Sans, and Liberation Sans, which has
//! the metrics of Arial and Helvetica), the wider of the two for each
//! character, so the estimate errs on the long side. A label too long for
//! its room is cut with an ellipsis and keeps its whole text in a
//! `<title>`, which browsers show as a tooltip.

/// Advances of the printable ASCII characters (U+0020 to U+007E), in
/// hundredths of an em, rounded up.
const ASCII: [u16; 95] = [
    32, 41, 46, 84, 64, 96, 78, 28, 40, 40, 50, 84, 32, 37, 32, 34, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 34, 34, 84, 84, 84, 56, 102, 69, 69, 73, 78, 67, 62, 78, 76, 30, 50, 67, 56, 87, 75,
    79, 67, 79, 73, 67, 62, 74, 69, 99, 69, 67, 69, 40, 34, 40, 84, 56, 50, 62, 64, 55, 64, 62, 36,
    64, 64, 28, 28, 58, 28, 98, 64, 62, 64, 64, 42, 53, 40, 64, 60, 82, 60, 60, 53, 64, 34, 64, 84,
];

/// Advances of Latin-1's printable characters (U+00A0 to U+00FF: the
/// accented letters of Spanish among them), in hundredths of an em.
const LATIN1: [u16; 96] = [
    32, 41, 64, 64, 64, 64, 34, 56, 50, 100, 48, 62, 84, 37, 100, 56, 50, 84, 41, 41, 50, 64, 64,
    32, 50, 41, 48, 62, 97, 97, 97, 62, 69, 69, 69, 69, 69, 69, 100, 73, 67, 67, 67, 67, 30, 30,
    30, 30, 78, 75, 79, 79, 79, 79, 79, 84, 79, 74, 74, 74, 74, 67, 67, 63, 62, 62, 62, 62, 62, 62,
    99, 55, 62, 62, 62, 62, 28, 28, 28, 28, 62, 64, 62, 62, 62, 62, 62, 84, 62, 64, 64, 64, 64, 60,
    64, 60,
];

/// The mark of a cut label.
pub const ELLIPSIS: char = '…';

/// The approximate advance of a character, in ems.
fn advance(c: char) -> f64 {
    let hundredths = match u32::from(c) {
        n @ 0x20..=0x7e => ASCII[(n - 0x20) as usize],
        n @ 0xa0..=0xff => LATIN1[(n - 0xa0) as usize],
        // Combining marks, zero-width spaces and joiners, variation
        // selectors: drawn over or between others.
        0x0300..=0x036f | 0x200b..=0x200f | 0x2060..=0x2064 | 0xfe00..=0xfe0f => 0,
        // Dashes and ligatures known to be wider than an em.
        0x2e3a => 200,
        0x2e3b => 300,
        0xfdfd => 500,
        0x12000..=0x1254f => 300,
        // Emoji and pictographs: wider than an em in colour fonts.
        0x1f000..=0x1faff => 130,
        // Everything else (the ellipsis, other scripts, CJK): a whole em,
        // as wide as a full-width character.
        _ => 100,
    };
    f64::from(hundredths) / 100.0
}

/// The approximate width of `text` set at `px` pixels.
pub fn width(text: &str, px: f64) -> f64 {
    text.chars().map(advance).sum::<f64>() * px
}

/// A cell as one line of a label: every run of spaces, line breaks or
/// other control characters is one space (as SVG shows it), none at the
/// ends.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `text` in one line that fits in `room` pixels at `px`: whole, or cut
/// after the characters that fit and an ellipsis. `true` when cut. Room for
/// less than an ellipsis leaves nothing.
pub fn fit(text: &str, room: f64, px: f64) -> (String, bool) {
    let text = one_line(text);
    if width(&text, px) <= room {
        return (text, false);
    }
    let mut left = room - advance(ELLIPSIS) * px;
    if left < 0.0 {
        return (String::new(), true);
    }
    let mut out = String::new();
    for c in text.chars() {
        left -= advance(c) * px;
        if left < 0.0 {
            break;
        }
        out.push(c);
    }
    let mut out = out.trim_end().to_string();
    out.push(ELLIPSIS);
    (out, true)
}

/// `text` safe inside an SVG or HTML element or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_by_glyph_not_by_character_count() {
        let px = 10.0;
        assert!((width("Consumo", px) - 47.6).abs() < 1e-9);
        // Twenty capital Ws take more than three times the room of twenty ls.
        assert!(width(&"W".repeat(20), px) > 3.0 * width(&"l".repeat(20), px));
        assert_eq!(width("á", px), width("a", px));
        assert_eq!(width("e\u{301}", px), width("e", px));
        assert_eq!(width("債務", px), 20.0);
    }

    #[test]
    fn a_label_is_cut_to_its_room_with_an_ellipsis() {
        let px = 12.0;
        let (same, cut) = fit("Consumo", 100.0, px);
        assert_eq!((same.as_str(), cut), ("Consumo", false));
        let long = "Libranza pensionados Colpensiones y Fuerzas Militares";
        let (short, cut) = fit(long, 120.0, px);
        assert!(cut);
        assert!(short.ends_with(ELLIPSIS), "{short}");
        assert!(long.starts_with(short.trim_end_matches(ELLIPSIS)));
        assert!(width(&short, px) <= 120.0, "{short}");
        // One more character would not have fitted.
        let next = long[short.len() - ELLIPSIS.len_utf8()..]
            .chars()
            .next()
            .unwrap();
        assert!(width(&short, px) + advance(next) * px > 120.0);
        for hostile in ["W".repeat(500), "債".repeat(300), "🏦".repeat(100)] {
            let (s, cut) = fit(&hostile, 150.0, px);
            assert!(cut && width(&s, px) <= 150.0, "{s}");
        }
        assert_eq!(fit("anything", 5.0, px), (String::new(), true));
        assert_eq!(fit("  Vivienda\r\n\tVIS ", 200.0, px).0, "Vivienda VIS");
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape("<b a=\"x\">'&'</b>"),
            "&lt;b a=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;"
        );
    }
}
