//! The strategy really draws the awkward parts: over 1,000 resources, each
//! shows up often enough for the round-trip properties to meet it.

use fhir_stu3::Resource;
use fhir_stu3_proptest::arbitrary;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::Value;

#[derive(Default, Debug)]
struct Seen {
    value_less_primitive: usize,
    null_in_primitive_array: usize,
    long_decimal: usize,
    partial_date: usize,
    nested_bundle: usize,
    contained: usize,
    xhtml_reference: usize,
    non_bmp_text: usize,
    elements: Vec<usize>,
}

fn walk(v: &Value, seen: &mut [bool; 4], count: &mut usize) {
    match v {
        Value::Object(map) => {
            *count += 1;
            for (k, item) in map {
                if let Some(name) = k.strip_prefix('_') {
                    if !map.contains_key(name) {
                        seen[0] = true;
                    }
                }
                if let Value::Array(items) = item {
                    if !k.starts_with('_') && items.iter().any(Value::is_null) {
                        seen[1] = true;
                    }
                }
                walk(item, seen, count);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, seen, count)),
        Value::String(s) => {
            let b = s.as_bytes();
            let date_like = |n: usize| b.len() == n && b[..4].iter().all(u8::is_ascii_digit);
            if date_like(4) || (date_like(7) && b[4] == b'-') {
                seen[2] = true;
            }
            if s.chars().any(|c| c as u32 > 0xFFFF) {
                seen[3] = true;
            }
        }
        _ => {}
    }
}

/// A number in the JSON text (after `:`, `[` or `,`) of 20 or more characters.
fn has_long_number(json: &str) -> bool {
    let b = json.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if matches!(b[i], b':' | b'[' | b',') {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && matches!(b[j], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                j += 1;
            }
            if j - start >= 20 {
                return true;
            }
            i = j.max(i + 1);
        } else if b[i] == b'"' {
            // Skip a string.
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            i += 1;
        }
    }
    false
}

#[test]
fn the_strategy_draws_every_awkward_part_often() {
    let strategy = arbitrary::<Resource>();
    let mut runner = TestRunner::deterministic();
    let mut seen = Seen::default();
    let draws = 1000;
    for _ in 0..draws {
        let r = strategy.new_tree(&mut runner).unwrap().current();
        let json = r.to_json();
        let value: Value = serde_json::from_str(&json).unwrap();
        let mut flags = [false; 4];
        let mut elements = 0;
        walk(&value, &mut flags, &mut elements);
        seen.value_less_primitive += flags[0] as usize;
        seen.null_in_primitive_array += flags[1] as usize;
        seen.partial_date += flags[2] as usize;
        seen.non_bmp_text += flags[3] as usize;
        seen.long_decimal += has_long_number(&json) as usize;
        seen.nested_bundle += (json.matches("\"resourceType\":\"Bundle\"").count() >= 2) as usize;
        seen.contained += json.contains("\"contained\":[") as usize;
        seen.xhtml_reference +=
            (json.contains("\"div\":") && (json.contains("&amp;") || json.contains("&#"))) as usize;
        seen.elements.push(elements);
    }
    seen.elements.sort_unstable();
    let median = seen.elements[draws / 2];
    let largest = *seen.elements.last().unwrap();
    println!("{seen:#?}");
    println!("objects per resource: median {median}, largest {largest}");
    for (what, n) in [
        ("value-less primitives", seen.value_less_primitive),
        ("nulls in primitive arrays", seen.null_in_primitive_array),
        ("decimals of 20+ characters", seen.long_decimal),
        ("partial dates", seen.partial_date),
        ("nested Bundles", seen.nested_bundle),
        ("contained resources", seen.contained),
        ("narratives with references", seen.xhtml_reference),
        ("non-BMP characters", seen.non_bmp_text),
    ] {
        assert!(n >= 20, "only {n} of {draws} resources have {what}");
    }
    assert!(
        median >= 10,
        "resources are too small: median {median} objects"
    );
}
