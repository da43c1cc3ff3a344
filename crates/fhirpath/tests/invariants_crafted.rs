//! Invariants that no official example reaches, on crafted resources, with the
//! outcome each must give.

use fhir_runtime::Node;
use fhir_stu3::Resource;
use fhirpath::{evaluate_constraint, ConstraintOutcome, Env};

use ConstraintOutcome::{Fail, Pass};

fn tree(json: &str) -> Node {
    Resource::from_json(json.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"))
        .to_tree()
}

/// The node at a path of child names (first match of each).
fn at<'a>(root: &'a Node, path: &[&str]) -> &'a Node {
    path.iter()
        .fold(root, |n, p| n.child(p).unwrap_or_else(|| panic!("no {p}")))
}

fn outcome(root: &Node, path: &[&str], expr: &str) -> ConstraintOutcome {
    let env = Env::new(root);
    evaluate_constraint(expr, at(root, path), &env)
}

const RFR_1: &str =
    "(agent.resolve() is Device) or (agent.resolve() is Practitioner) or onBehalfOf.exists().not()";
const RNG_2: &str = "low.empty() or high.empty() or (low <= high)";
const CNT_3: &str = "(code or value.empty()) and (system.empty() or system = %ucum) and (code.empty() or code = '1') and (value.empty() or value.toString().contains('.').not())";
const RAS_2: &str = "probability is decimal implies probability.as(decimal) <= 100";
const MAD_3: &str = "reasonCode.empty() or notGiven.empty() or notGiven = 'false'";
const VS_1: &str = "($this as dateTime).toString().length() >= 8";
const VS_4: &str = "where(coding.system='http://hl7.org/fhir/observation-category' and coding.code='vital-signs').exists()";
const QTY_3: &str = "code.empty() or system";

#[test]
fn referral_requester_must_resolve_to_device_or_practitioner() {
    let mk = |agent: &str| {
        tree(&format!(
            r##"{{"resourceType":"ReferralRequest","status":"active","intent":"order","subject":{{"reference":"Patient/x"}},
            "contained":[{{"resourceType":"Practitioner","id":"pr"}},{{"resourceType":"Patient","id":"pa"}}],
            "requester":{{"agent":{{"reference":"{agent}"}},"onBehalfOf":{{"display":"Org"}}}}}}"##
        ))
    };
    assert_eq!(outcome(&mk("#pr"), &["requester"], RFR_1), Pass);
    assert_eq!(outcome(&mk("#pa"), &["requester"], RFR_1), Fail);
    // unresolvable: `is` on empty is empty, the `or`s give empty: pass
    assert_eq!(
        outcome(&mk("Practitioner/elsewhere"), &["requester"], RFR_1),
        Pass
    );
}

#[test]
fn ranges_quantities_and_counts() {
    let r = |low: &str, high: &str| {
        tree(&format!(
            r#"{{"resourceType":"Observation","status":"final","code":{{"text":"x"}},
            "valueRange":{{"low":{{"value":{low},"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}},
                          "high":{{"value":{high},"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}}}}}"#
        ))
    };
    assert_eq!(outcome(&r("1.5", "2"), &["value"], RNG_2), Pass);
    assert_eq!(outcome(&r("2.50", "2.5"), &["value"], RNG_2), Pass);
    assert_eq!(outcome(&r("3", "2"), &["value"], RNG_2), Fail);
    assert_eq!(outcome(&r("3", "2"), &["value", "low"], QTY_3), Pass);

    let count = |v: &str, code: &str| {
        tree(&format!(
            r#"{{"resourceType":"Observation","status":"final","code":{{"text":"x"}},
            "valueQuantity":{{"value":{v},"system":"http://unitsofmeasure.org","code":"{code}"}}}}"#
        ))
    };
    // Count is a Quantity with code '1' and an integer value
    assert_eq!(outcome(&count("3", "1"), &["value"], CNT_3), Pass);
    assert_eq!(outcome(&count("3.0", "1"), &["value"], CNT_3), Fail);
    assert_eq!(outcome(&count("3", "mg"), &["value"], CNT_3), Fail);
}

#[test]
fn risk_probability_at_most_100() {
    let r = |p: &str| {
        tree(&format!(
            r#"{{"resourceType":"RiskAssessment","status":"final","subject":{{"reference":"Patient/x"}},
            "prediction":[{{"outcome":{{"text":"x"}},"probabilityDecimal":{p}}}]}}"#
        ))
    };
    assert_eq!(outcome(&r("99.5"), &["prediction"], RAS_2), Pass);
    assert_eq!(outcome(&r("100.01"), &["prediction"], RAS_2), Fail);
}

#[test]
fn medication_administration_not_given_compares_as_text() {
    let m = |not_given: &str| {
        tree(&format!(
            r#"{{"resourceType":"MedicationAdministration","status":"completed",
            "medicationCodeableConcept":{{"text":"x"}},"subject":{{"reference":"Patient/x"}},
            "effectiveDateTime":"2017-01-01","notGiven":{not_given},"reasonCode":[{{"text":"r"}}]}}"#
        ))
    };
    assert_eq!(outcome(&m("false"), &[], MAD_3), Pass);
    assert_eq!(outcome(&m("true"), &[], MAD_3), Fail);
}

#[test]
fn vital_signs_profile_rules() {
    let o = |effective: &str, category: &str| {
        tree(&format!(
            r#"{{"resourceType":"Observation","status":"final","code":{{"text":"x"}},
            "category":[{{"coding":[{{"system":"http://hl7.org/fhir/observation-category","code":"{category}"}}]}}],
            "effectiveDateTime":"{effective}"}}"#
        ))
    };
    assert_eq!(
        outcome(&o("2017-01-02", "vital-signs"), &["effective"], VS_1),
        Pass
    );
    assert_eq!(
        outcome(&o("2017-01", "vital-signs"), &["effective"], VS_1),
        Fail
    );
    assert_eq!(
        outcome(&o("2017", "vital-signs"), &["category"], VS_4),
        Pass
    );
    assert_eq!(outcome(&o("2017", "laboratory"), &["category"], VS_4), Fail);
}
