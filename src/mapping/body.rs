//! The insert body, written straight into a reused buffer.
//!
//! Every body of a plan has the same shape: the operation, the nine API
//! fields in order, and the form entries. The keys, the operation and the
//! form's names are escaped once per plan ([`BodyTemplate`]); each value is
//! scanned for the few bytes JSON must escape and, almost always having none,
//! copied as it is. The bytes are those `serde_json` writes for the same
//! body (the tests compare the two), only without a serializer, a map per
//! object and a new buffer per row.

use super::API_FIELDS;
use crate::source::needs_json_escape;

/// The parts of a plan's bodies that do not depend on the row, escaped.
#[derive(Debug, Clone)]
pub(super) struct BodyTemplate {
    /// `{"operation":"…","wolkvox_id":"`
    open: String,
    /// For each column sent in form, what opens its entry: after the
    /// fields (`","form":[{"name":"…","value":"`) and after another entry
    /// (`"},{"name":"…","value":"`).
    form_names: Vec<[String; 2]>,
    /// The same for each `[form.entries]` entry.
    entry_names: Vec<[String; 2]>,
    send_form: bool,
}

/// What closes each of the eight `fields` members' value and opens the next
/// key's, then the form or the end.
const FIELD_KEYS: [&str; 8] = [
    "\",\"fields\":{\"id\":\"",
    "\",\"name\":\"",
    "\",\"total_balance\":\"",
    "\",\"portfolio_type\":\"",
    "\",\"last_pay\":\"",
    "\",\"last_pay_date\":\"",
    "\",\"expiring_date\":\"",
    "\",\"days_delay\":\"",
];

impl BodyTemplate {
    pub(super) fn new(
        operation: &str,
        form: &[(usize, String)],
        entries: &[&str],
        send_form: bool,
    ) -> BodyTemplate {
        debug_assert_eq!(API_FIELDS.len(), FIELD_KEYS.len() + 1);
        let mut open = String::from("{\"operation\":\"");
        push_escaped(&mut open, operation);
        open.push_str("\",\"wolkvox_id\":\"");
        let name = |n: &str| {
            let mut entry = String::from("{\"name\":\"");
            push_escaped(&mut entry, n);
            entry.push_str("\",\"value\":\"");
            [format!("\",\"form\":[{entry}"), format!("\"}},{entry}")]
        };
        BodyTemplate {
            open,
            form_names: form.iter().map(|(_, n)| name(n)).collect(),
            entry_names: entries.iter().map(|n| name(n)).collect(),
            send_form,
        }
    }

    /// Writes a body into `out` (cleared first): `fields` are the nine API
    /// values in order (empty when unmapped), `form` the form's entries as
    /// (which, value): `Ok(i)` the i-th column sent in form, `Err(i)` the
    /// i-th `[form.entries]` entry.
    pub(super) fn write<'v>(
        &self,
        out: &mut String,
        fields: impl IntoIterator<Item = Value<'v>>,
        form: impl IntoIterator<Item = (Result<usize, usize>, Value<'v>)>,
    ) {
        // SAFETY: only whole `&str`s and ASCII are appended to the bytes,
        // so they stay UTF-8 (see `append`).
        let out = unsafe { out.as_mut_vec() };
        out.clear();
        // Enough for most bodies at once; `append` grows it if not.
        out.reserve(BODY_RESERVE);
        append(out, &self.open);
        let mut fields = fields.into_iter();
        push_value(out, fields.next().unwrap_or_default());
        for (key, value) in FIELD_KEYS.iter().zip(fields) {
            append(out, key);
            push_value(out, value);
        }
        if !self.send_form {
            append(out, "\"}}");
            return;
        }
        let mut entries = 0;
        for (which, value) in form {
            let opens = match which {
                Ok(i) => &self.form_names[i],
                Err(i) => &self.entry_names[i],
            };
            append(out, &opens[usize::from(entries > 0)]);
            push_value(out, value);
            entries += 1;
        }
        append(
            out,
            if entries > 0 {
                "\"}]}}"
            } else {
                "\",\"form\":[]}}"
            },
        );
    }
}

/// A value for the body, and whether it is known to hold nothing JSON must
/// escape (text from a row checked whole when it was read).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Value<'v> {
    pub text: &'v str,
    pub plain: bool,
}

fn push_value(out: &mut Vec<u8>, v: Value<'_>) {
    if v.plain {
        append(out, v.text);
    } else {
        push_escaped_bytes(out, v.text);
    }
}

/// Bytes reserved for a body before it is written.
const BODY_RESERVE: usize = 2048;

/// Appends `s` as the inside of a JSON string, escaped exactly as
/// `serde_json` escapes it: `"` and `\`, and control characters below
/// U+0020 (`\b \t \n \f \r` by name, the rest as `\u00XX`).
pub(crate) fn push_escaped(out: &mut String, s: &str) {
    // SAFETY: as in `BodyTemplate::write`.
    push_escaped_bytes(unsafe { out.as_mut_vec() }, s);
}

/// [`push_escaped`] on the bytes of a `String`: appends only whole `&str`s
/// and ASCII.
fn push_escaped_bytes(out: &mut Vec<u8>, s: &str) {
    if !needs_json_escape(s.as_bytes()) {
        append(out, s);
        return;
    }
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0C => b"\\f",
            0..=0x1F => b"",
            _ => continue,
        };
        // The bytes escaped are ASCII, so these are character boundaries.
        append(out, &s[start..i]);
        start = i + 1;
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xF)]);
        } else {
            out.extend_from_slice(short);
        }
    }
    append(out, &s[start..]);
}

/// Appends the whole of `s` to `out`. A body is some forty short pieces:
/// copied here in a couple of moves each, rather than a call to `memcpy`.
#[inline]
fn append(out: &mut Vec<u8>, s: &str) {
    let src = s.as_bytes();
    let n = src.len();
    out.reserve(n);
    // SAFETY: `reserve` made room for `n` bytes past `len`; each branch
    // reads only within `src` and writes only within those `n` bytes
    // (the overlapping moves write the same bytes twice), then `len` takes
    // them in. The source is not in `out`: it is borrowed apart from it.
    unsafe {
        use std::ptr::{read_unaligned as get, write_unaligned as put};
        let p = src.as_ptr();
        let d = out.as_mut_ptr().add(out.len());
        match n {
            0 => {}
            1..=3 => {
                *d = *p;
                *d.add(n / 2) = *p.add(n / 2);
                *d.add(n - 1) = *p.add(n - 1);
            }
            4..=7 => {
                put(d.cast::<u32>(), get(p.cast::<u32>()));
                put(d.add(n - 4).cast::<u32>(), get(p.add(n - 4).cast::<u32>()));
            }
            8..=16 => {
                put(d.cast::<u64>(), get(p.cast::<u64>()));
                put(d.add(n - 8).cast::<u64>(), get(p.add(n - 8).cast::<u64>()));
            }
            17..=32 => {
                put(d.cast::<[u8; 16]>(), get(p.cast::<[u8; 16]>()));
                put(
                    d.add(n - 16).cast::<[u8; 16]>(),
                    get(p.add(n - 16).cast::<[u8; 16]>()),
                );
            }
            _ => std::ptr::copy_nonoverlapping(p, d, n),
        }
        out.set_len(out.len() + n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        push_escaped(&mut out, s);
        out
    }

    #[test]
    fn escapes_as_serde_json_does() {
        for s in [
            "",
            "plain text, más ñandú 😀",
            "\"quoted\" and \\back\\",
            "\u{0}\u{1}\u{7}\u{8}\t\n\u{b}\u{c}\r\u{1b}\u{1f} \u{7f}\u{2028}",
            "exactly8",
            "eight+1\"",
            "0123456789abcdef\u{1f}",
        ] {
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(escaped(s), json[1..json.len() - 1], "{s:?}");
        }
    }

    /// The body as serde_json writes it from a tree with the same members.
    fn by_serde(op: &str, fields: &[&str], form: Option<&[(&str, &str)]>) -> String {
        let mut f = serde_json::Map::new();
        for (name, v) in API_FIELDS.iter().skip(1).zip(&fields[1..]) {
            f.insert(name.to_string(), (*v).into());
        }
        if let Some(form) = form {
            let entries: Vec<serde_json::Value> = form
                .iter()
                .map(|(n, v)| serde_json::json!({"name": n, "value": v}))
                .collect();
            f.insert("form".into(), entries.into());
        }
        let mut body = serde_json::Map::new();
        body.insert("operation".into(), op.into());
        body.insert("wolkvox_id".into(), fields[0].into());
        body.insert("fields".into(), f.into());
        serde_json::Value::Object(body).to_string()
    }

    proptest::proptest! {
        #[test]
        fn bodies_are_written_as_serde_json_writes_them(
            op in "\\PC{0,12}",
            fields in proptest::collection::vec("\\PC{0,40}|[ -~\\x00-\\x1f]{0,20}", 9),
            names in proptest::collection::vec("\\PC{0,10}", 0..4),
            values in proptest::collection::vec("\\PC{0,50}", 4),
            entry in "\\PC{0,8}",
            send_form in proptest::bool::ANY,
        ) {
            let form_cols: Vec<(usize, String)> = names.iter().cloned().enumerate().collect();
            let t = BodyTemplate::new(&op, &form_cols, &[entry.as_str()], send_form);
            let mut out = String::from("left over");
            let mut form: Vec<(Result<usize, usize>, &str)> = (0..names.len())
                .map(|i| (Ok(i), values[i].as_str()))
                .collect();
            form.push((Err(0), "entrada"));
            t.write(
                &mut out,
                fields.iter().map(|f| Value { text: f, plain: false }),
                form.iter().map(|(w, v)| (*w, Value { text: v, plain: false })),
            );
            let mut named: Vec<(&str, &str)> =
                names.iter().zip(&values).map(|(n, v)| (n.as_str(), v.as_str())).collect();
            named.push((entry.as_str(), "entrada"));
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            let expected = by_serde(&op, &fields, send_form.then_some(named.as_slice()));
            proptest::prop_assert_eq!(out, expected);
        }

        #[test]
        fn any_text_is_escaped_as_serde_json_does(s in "\\PC{0,40}|[\\x00-\\x7f]{0,40}") {
            let json = serde_json::to_string(&s).unwrap();
            proptest::prop_assert_eq!(escaped(&s), &json[1..json.len() - 1]);
        }

        #[test]
        fn the_scan_finds_every_byte_to_escape(
            prefix in "[a-z]{0,17}", b in 0u8..0x80, suffix in "[a-z]{0,9}"
        ) {
            let s = format!("{prefix}{}{suffix}", char::from(b));
            let must = b < 0x20 || b == b'"' || b == b'\\';
            proptest::prop_assert_eq!(needs_json_escape(s.as_bytes()), must);
        }
    }
}
