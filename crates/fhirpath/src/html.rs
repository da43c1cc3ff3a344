//! The native narrative check behind `htmlchecks()` (invariants txt-1 and txt-2).

use std::fmt;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Which narrative rule an issue breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NarrativeRule {
    /// txt-1: "The narrative SHALL contain only the basic html formatting elements
    /// and attributes described in chapters 7-11 (except section 4 of chapter 9)
    /// and 15 of the HTML 4.0 standard, `<a>` elements (either name or href),
    /// images and internally contained style attributes".
    Txt1,
    /// txt-2: "The narrative SHALL have some non-whitespace content".
    Txt2,
}

impl NarrativeRule {
    /// The constraint key (`txt-1`, `txt-2`).
    pub fn key(self) -> &'static str {
        match self {
            NarrativeRule::Txt1 => "txt-1",
            NarrativeRule::Txt2 => "txt-2",
        }
    }
}

/// One problem found in a narrative `div`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NarrativeIssue {
    /// The rule broken.
    pub rule: NarrativeRule,
    /// What was found, in words (`element <script> is not allowed in narrative`).
    pub message: String,
}

impl fmt::Display for NarrativeIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule.key(), self.message)
    }
}

/// The elements allowed in FHIR narrative (FHIR STU3, Narrative page).
pub const ALLOWED_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "b",
    "big",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "ul",
    "var",
];

/// The attributes allowed on narrative elements.
pub const ALLOWED_ATTRIBUTES: &[&str] = &[
    "id",
    "class",
    "style",
    "title",
    "lang",
    "xml:lang",
    "dir",
    "accesskey",
    "tabindex",
    "href",
    "name",
    "src",
    "alt",
    "colspan",
    "rowspan",
    "span",
    "width",
    "height",
    "border",
    "cellpadding",
    "cellspacing",
    "summary",
    "align",
    "valign",
    "char",
    "charoff",
    "abbr",
    "axis",
    "headers",
    "scope",
    "rules",
    "frame",
    "start",
    "type",
    "value",
    "compact",
    "cite",
    "datetime",
    "xmlns",
    "xml:space",
];

/// Checks a narrative `div` (its XHTML text) against txt-1 and txt-2, returning
/// every problem found (empty when it passes both).
///
/// txt-1: the content must be well-formed XHTML whose root is `div`; every element
/// must be in [`ALLOWED_ELEMENTS`] (so no `script`, `style`, `link`, `form`,
/// `input`, `iframe`, `object`...) and every attribute in [`ALLOWED_ATTRIBUTES`];
/// event-handler attributes (`on*`) and `javascript:` URLs in `href`/`src` are
/// reported by name; processing instructions and DOCTYPEs are refused.
/// txt-2: there must be some non-whitespace text, or an `img`.
pub fn check_narrative(xhtml: &str) -> Vec<NarrativeIssue> {
    let mut issues = Vec::new();
    let mut t1 = |m: String| {
        issues.push(NarrativeIssue {
            rule: NarrativeRule::Txt1,
            message: m,
        })
    };
    let mut reader = Reader::from_str(xhtml);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut seen_root = false;
    let mut has_content = false;
    loop {
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                t1(format!(
                    "the narrative is not well-formed XHTML (at byte {}): {e}",
                    reader.error_position()
                ));
                break;
            }
        };
        match ev {
            ev @ (Event::Start(_) | Event::Empty(_)) => {
                let (Event::Start(e) | Event::Empty(e)) = &ev else {
                    continue;
                };
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if depth == 0 {
                    if seen_root {
                        t1("the narrative has more than one root element".into());
                    }
                    seen_root = true;
                    if name != "div" {
                        t1(format!("the narrative root element is <{name}>, not <div>"));
                    }
                }
                check_element(e, &name, &mut t1);
                if name == "img" {
                    has_content = true;
                }
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(t) => {
                let raw = String::from_utf8_lossy(t.as_ref());
                if depth == 0 && !raw.trim().is_empty() {
                    t1("text outside the root <div>".into());
                } else if raw.chars().any(|c| !c.is_whitespace()) {
                    has_content = true;
                }
            }
            Event::GeneralRef(r) => {
                let raw = String::from_utf8_lossy(r.as_ref()).into_owned();
                if !matches!(
                    raw.as_str(),
                    "nbsp" | "#160" | "#xa0" | "#xA0" | "#32" | "#x20"
                ) {
                    has_content = true;
                }
            }
            Event::CData(c) => {
                if String::from_utf8_lossy(c.as_ref())
                    .chars()
                    .any(|c| !c.is_whitespace())
                {
                    has_content = true;
                }
            }
            Event::Comment(_) | Event::Decl(_) => {}
            Event::PI(_) => t1("processing instructions are not allowed in narrative".into()),
            Event::DocType(_) => t1("a DOCTYPE is not allowed in narrative".into()),
            Event::Eof => break,
        }
    }
    if !seen_root && issues.is_empty() {
        issues.push(NarrativeIssue {
            rule: NarrativeRule::Txt1,
            message: "the narrative has no <div> element".into(),
        });
    }
    if !has_content {
        issues.push(NarrativeIssue {
            rule: NarrativeRule::Txt2,
            message: "the narrative has no non-whitespace text and no image".into(),
        });
    }
    issues
}

fn check_element(e: &BytesStart<'_>, name: &str, t1: &mut impl FnMut(String)) {
    let local = name.rsplit(':').next().unwrap_or(name);
    if name.contains(':') && !name.starts_with("xhtml:") && !name.starts_with("h:") {
        t1(format!("element <{name}> is not an XHTML element"));
    } else if !ALLOWED_ELEMENTS.contains(&local) {
        t1(format!("element <{name}> is not allowed in narrative"));
    }
    for attr in e.attributes().with_checks(true) {
        let attr = match attr {
            Ok(a) => a,
            Err(err) => {
                t1(format!("malformed attribute on <{name}>: {err}"));
                continue;
            }
        };
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = match attr.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
            Ok(v) => v.into_owned(),
            Err(_) => String::from_utf8_lossy(&attr.value).into_owned(),
        };
        let lower = key.to_ascii_lowercase();
        if lower.starts_with("on") {
            t1(format!(
                "event handler attribute `{key}` on <{name}> is not allowed in narrative"
            ));
            continue;
        }
        if !(ALLOWED_ATTRIBUTES.contains(&key.as_str()) || key.starts_with("xmlns:")) {
            t1(format!(
                "attribute `{key}` on <{name}> is not allowed in narrative"
            ));
            continue;
        }
        if matches!(lower.as_str(), "href" | "src" | "cite") {
            let v: String = value
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_lowercase();
            if v.starts_with("javascript:") || v.starts_with("vbscript:") {
                t1(format!(
                    "script URL in `{key}` on <{name}> is not allowed in narrative"
                ));
            }
        }
        if lower == "style" {
            let v = value.to_ascii_lowercase();
            if v.contains("@import") || v.contains("url(") || v.contains("expression(") {
                t1(format!(
                    "style attribute on <{name}> refers to external content (`{value}`), which is not allowed in narrative"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(x: &str) -> Vec<NarrativeRule> {
        check_narrative(x).into_iter().map(|i| i.rule).collect()
    }

    #[test]
    fn good_narrative_passes() {
        let ok = r#"<div xmlns="http://www.w3.org/1999/xhtml"><p class="x" style="color:red">Hi &amp; <b>there</b></p><table border="1"><tr><td colspan="2">x</td></tr></table><a href="http://x" name="n">l</a></div>"#;
        assert_eq!(check_narrative(ok), vec![]);
        let img = r##"<div xmlns="http://www.w3.org/1999/xhtml"><img src="#a" alt=""/></div>"##;
        assert_eq!(check_narrative(img), vec![]);
    }

    #[test]
    fn txt1_failures_are_named() {
        let cases = [
            (r#"<div><script>alert(1)</script>x</div>"#, "<script>"),
            (r#"<div><form><input type="text"/></form>x</div>"#, "<form>"),
            (r#"<div onclick="x()">x</div>"#, "onclick"),
            (
                r#"<div><a href=" JavaScript:alert(1)">x</a></div>"#,
                "script URL",
            ),
            (
                r#"<div><link rel="stylesheet" href="x.css"/>x</div>"#,
                "<link>",
            ),
            (r#"<div><p data-x="1">x</p></div>"#, "data-x"),
            (r#"<p>x</p>"#, "not <div>"),
            (r#"<div><p>x</div>"#, "well-formed"),
            (
                r#"<div><span style="background:url(http://x/y.png)">x</span></div>"#,
                "external",
            ),
        ];
        for (x, needle) in cases {
            let issues = check_narrative(x);
            assert!(
                issues
                    .iter()
                    .any(|i| i.rule == NarrativeRule::Txt1 && i.message.contains(needle)),
                "{x}: {issues:?}"
            );
        }
    }

    #[test]
    fn txt2_needs_text_or_image() {
        assert_eq!(rules("<div>  <p> </p></div>"), [NarrativeRule::Txt2]);
        assert_eq!(rules("<div/>"), [NarrativeRule::Txt2]);
        assert_eq!(rules("<div><p>&#160;</p></div>"), [NarrativeRule::Txt2]);
        assert_eq!(rules("<div>&lt;</div>"), Vec::<NarrativeRule>::new());
        assert_eq!(
            check_narrative("<div> </div>")[0].to_string(),
            "txt-2: the narrative has no non-whitespace text and no image"
        );
    }
}
