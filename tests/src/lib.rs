//! Helpers for the workspace integration tests: locating `../shared`, and
//! comparing JSON documents with numbers compared by their exact text.

use std::path::{Path, PathBuf};

use fhir_runtime::serde_support::JsonTree;

/// The shared inputs folder (`../shared` beside the checkout, or `$SENDDOC_SHARED_DIR`).
///
/// Panics with a clear message when it is missing: a test that needs the shared
/// examples must not pass silently without them.
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SENDDOC_SHARED_DIR") {
        return PathBuf::from(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(
        dir.join("fhir-examples").is_dir(),
        "the shared inputs folder was not found at {} (expected ../shared beside the checkout, \
         or set SENDDOC_SHARED_DIR); these tests need it and do not pass without it",
        dir.display()
    );
    dir.canonicalize().unwrap_or(dir)
}

/// Every file in `shared/<sub>` with extension `ext`, sorted.
pub fn shared_files(sub: &str, ext: &str) -> Vec<PathBuf> {
    let dir = shared_dir().join(sub);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

/// Compares two JSON texts as values: same keys (order ignored), same array
/// order, numbers by exact text. Returns the path of the first difference.
pub fn json_equal(a: &str, b: &str) -> Result<(), String> {
    let a = JsonTree::parse(a).map_err(|e| format!("left is not JSON: {e}"))?;
    let b = JsonTree::parse(b).map_err(|e| format!("right is not JSON: {e}"))?;
    tree_equal(&a, &b, "$")
}

fn tree_equal(a: &JsonTree, b: &JsonTree, path: &str) -> Result<(), String> {
    match (a, b) {
        (JsonTree::Object(x), JsonTree::Object(y)) => {
            for (k, v) in x {
                match y.iter().find(|(k2, _)| k2 == k) {
                    Some((_, v2)) => tree_equal(v, v2, &format!("{path}.{k}"))?,
                    None => return Err(format!("{path}.{k}: missing on the right")),
                }
            }
            for (k, _) in y {
                if !x.iter().any(|(k2, _)| k2 == k) {
                    return Err(format!("{path}.{k}: missing on the left"));
                }
            }
            if x.len() != y.len() {
                return Err(format!("{path}: duplicate keys differ"));
            }
            Ok(())
        }
        (JsonTree::Array(x), JsonTree::Array(y)) => {
            if x.len() != y.len() {
                return Err(format!("{path}: array lengths {} and {}", x.len(), y.len()));
            }
            for (i, (v, v2)) in x.iter().zip(y).enumerate() {
                tree_equal(v, v2, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ if a == b => Ok(()),
        _ => Err(format!("{path}: {a:?} != {b:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::json_equal;

    #[test]
    fn numbers_compare_by_text_and_keys_ignore_order() {
        assert!(json_equal(r#"{"a":1.50,"b":[1,2]}"#, r#"{"b":[1,2],"a":1.50}"#).is_ok());
        assert!(json_equal(r#"{"a":1.50}"#, r#"{"a":1.5}"#).is_err());
        assert!(json_equal(r#"{"a":[1,2]}"#, r#"{"a":[2,1]}"#).is_err());
        assert!(json_equal(r#"{"a":1}"#, r#"{"a":1,"b":null}"#).is_err());
        assert!(json_equal(r#"{"a":"x"}"#, r#"{"a":"y"}"#).is_err());
    }
}
