//! Checks of the builder's inputs that no identity type covers: text, MIME types,
//! magic numbers and SNOMED CT concept IDs.

use super::error::Problem;

/// The trimmed text, or a problem when it is blank or holds a control character
/// (which FHIR XML cannot always carry, and which has no place in a name or title).
pub(crate) fn text(
    field: &'static str,
    value: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let t = value.trim();
    if t.is_empty() {
        problems.push(Problem::EmptyText { field });
        return None;
    }
    if t.chars().any(char::is_control) {
        problems.push(Problem::InvalidText {
            field,
            value: value.to_owned(),
            reason: "contains a control character (a line break, a tab...)",
        });
        return None;
    }
    Some(t.to_owned())
}

/// Several texts (given names, prefixes), each checked; blanks are refused too.
pub(crate) fn texts(
    field: &'static str,
    values: &[String],
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    values
        .iter()
        .filter_map(|v| text(field, v, problems))
        .collect()
}

/// RFC 2045 `token` characters: visible ASCII except the `tspecials`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

/// Why `value` is not a MIME type (`type/subtype`, then `; name=value` parameters,
/// RFC 2045 §5.1), or `None` when it is one.
pub(crate) fn mime_problem(value: &str) -> Option<&'static str> {
    if value.trim() != value {
        return Some("it has leading or trailing blanks");
    }
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default();
    let Some((ty, subtype)) = essence.split_once('/') else {
        return Some("a MIME type is type/subtype, such as application/pdf");
    };
    if !is_token(ty) || !is_token(subtype.trim_end()) {
        return Some("the type and subtype are tokens without blanks or special characters");
    }
    for param in parts {
        let Some((name, v)) = param.trim().split_once('=') else {
            return Some("a parameter is name=value");
        };
        let quoted = v.len() >= 2 && v.starts_with('"') && v.ends_with('"');
        if !is_token(name) || !(is_token(v) || quoted && !v[1..v.len() - 1].contains('"')) {
            return Some("a parameter is name=value, with a token or a quoted string as value");
        }
    }
    None
}

/// The magic number files of this MIME type start with, for the types receivers
/// are known to check (PDF, PNG, JPEG).
pub(crate) fn magic(content_type: &str) -> Option<(&'static [u8], &'static str)> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/pdf" => Some((b"%PDF-", "%PDF-")),
        "image/png" => Some((
            b"\x89PNG\r\n\x1a\n",
            "the PNG signature 89 50 4E 47 0D 0A 1A 0A",
        )),
        "image/jpeg" | "image/jpg" => Some((b"\xFF\xD8\xFF", "the JPEG marker FF D8 FF")),
        _ => None,
    }
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];

const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 7, 6, 8, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Why `code` is not a SNOMED CT concept ID, or `None`: 6 to 18 digits, no leading
/// zero, partition identifier `00` or `10` (a concept), and a valid Verhoeff check
/// digit (SNOMED CT Technical Implementation Guide, SCTID).
pub(crate) fn snomed_problem(code: &str) -> Option<&'static str> {
    let b = code.as_bytes();
    if !(6..=18).contains(&b.len()) || !b.iter().all(u8::is_ascii_digit) {
        return Some("a concept ID is 6 to 18 digits");
    }
    if b[0] == b'0' {
        return Some("a concept ID has no leading zero");
    }
    if !matches!(&b[b.len() - 3..b.len() - 1], b"00" | b"10") {
        return Some("its partition identifier is not that of a concept (00 or 10)");
    }
    let mut c = 0usize;
    for (i, digit) in b.iter().rev().enumerate() {
        c = VERHOEFF_D[c][VERHOEFF_P[i % 8][usize::from(digit - b'0')] as usize] as usize;
    }
    (c != 0).then_some("its check digit is wrong (Verhoeff)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types() {
        for ok in [
            "application/pdf",
            "image/png",
            "text/plain; charset=utf-8",
            "text/plain;charset=\"utf-8\"",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ] {
            assert_eq!(mime_problem(ok), None, "{ok}");
        }
        for bad in [
            "pdf",
            "application/",
            "/pdf",
            "application/pdf ",
            "application pdf/x",
            "text/plain; charset",
            "image/png@x",
            "",
        ] {
            assert!(mime_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn snomed_concept_ids() {
        for ok in [
            "371531000",
            "149701000000109",
            "325871000000103",
            "788007007",
            "789718008",
            "755491000000100",
            "149951000000107",
        ] {
            assert_eq!(snomed_problem(ok), None, "{ok}");
        }
        assert!(snomed_problem("371531001").unwrap().contains("Verhoeff"));
        assert!(snomed_problem("371531020").unwrap().contains("partition"));
        assert!(snomed_problem("12345").is_some());
        assert!(snomed_problem("037153100").is_some());
        assert!(snomed_problem("37153100A").is_some());
    }
}
