//! Findings as a FHIR `OperationOutcome`.

use fhir_stu3::Resource;
use serde_json::{json, Value};

use crate::Finding;

/// The findings as an `OperationOutcome` resource: one `issue` per finding, with
/// its severity and issue type, the message in `diagnostics` (prefixed with the
/// rule and followed by the profile URL), and the FHIRPath location in both
/// `location` and `expression`. No findings give one `informational` issue
/// saying so (an OperationOutcome needs at least one).
pub fn to_operation_outcome(findings: &[Finding]) -> Resource {
    let issues: Vec<Value> = if findings.is_empty() {
        vec![json!({
            "severity": "information",
            "code": "informational",
            "diagnostics": "no problems found"
        })]
    } else {
        findings
            .iter()
            .map(|f| {
                let mut diagnostics = format!("[{}] {}", f.rule, f.message);
                if !f.profile.is_empty() {
                    diagnostics.push_str(&format!(" (profile {})", f.profile));
                }
                let mut issue = json!({
                    "severity": f.severity.code(),
                    "code": f.issue.code(),
                    "diagnostics": diagnostics,
                });
                if !f.location.is_empty() {
                    issue["location"] = json!([f.location]);
                    issue["expression"] = json!([f.location]);
                }
                issue
            })
            .collect()
    };
    let oo = json!({"resourceType": "OperationOutcome", "issue": issues});
    Resource::from_json(oo.to_string().as_bytes())
        // Every string above is non-empty and every code is one the model knows.
        .expect("an OperationOutcome built from findings is valid FHIR JSON")
}
