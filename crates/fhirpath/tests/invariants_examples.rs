//! Every invariant of the core STU3 StructureDefinitions, evaluated on every
//! element of the 176 official examples.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use fhir_runtime::Node;
use fhir_stu3::Resource;
use fhirpath::{
    evaluate_constraint_expr, parse_constraint, ConstraintOutcome, Env, Expr, ELE_1_STU3,
};
use serde_json::Value;

/// A core StructureDefinition: its kind and its snapshot elements by path.
struct Sd {
    kind: String,
    elements: HashMap<String, Value>,
}

fn core_sds() -> HashMap<String, Sd> {
    let mut out = HashMap::new();
    for (_, sd) in common::structure_definitions(common::PACKAGES[0]) {
        let name = if sd["derivation"] == "constraint" {
            // data type profiles (SimpleQuantity, MoneyQuantity) apply through the
            // elements whose type names them (by URL); resource profiles (vital
            // signs...) only when claimed, which this test does not do
            if sd["kind"] != "complex-type" {
                continue;
            }
            sd["url"].as_str().unwrap().to_string()
        } else {
            sd["id"].as_str().unwrap().to_string()
        };
        let mut elements = HashMap::new();
        for e in sd["snapshot"]["element"].as_array().into_iter().flatten() {
            elements.insert(e["path"].as_str().unwrap().to_string(), e.clone());
        }
        out.insert(
            name,
            Sd {
                kind: sd["kind"].as_str().unwrap_or("").to_string(),
                elements,
            },
        );
    }
    out
}

/// One evaluation: where, which key, the outcome.
struct Outcome {
    file: String,
    location: String,
    key: String,
    expression: String,
    outcome: ConstraintOutcome,
}

struct Walker<'s, 'a> {
    sds: &'s HashMap<String, Sd>,
    parsed: &'s mut HashMap<String, Expr>,
    env: &'s Env<'a>,
    file: String,
    outcomes: Vec<Outcome>,
    unmapped: Vec<String>,
    evaluated: BTreeSet<String>,
    narrative: BTreeSet<(String, String, String)>,
}

impl<'s, 'a> Walker<'s, 'a> {
    fn eval(&mut self, node: &'a Node, location: &str, cs: &BTreeSet<(String, String)>) {
        for (key, expr) in cs {
            let e = self
                .parsed
                .entry(expr.clone())
                .or_insert_with(|| parse_constraint(expr).unwrap())
                .clone();
            let outcome = evaluate_constraint_expr(&e, node, self.env);
            for issue in self.env.take_narrative_issues() {
                self.narrative.insert((
                    self.file.clone(),
                    location.to_string(),
                    issue.rule.key().to_string(),
                ));
            }
            self.evaluated.insert(expr.clone());
            self.outcomes.push(Outcome {
                file: self.file.clone(),
                location: location.to_string(),
                key: key.clone(),
                expression: expr.clone(),
                outcome,
            });
        }
    }

    /// `sd`/`def` give the element definition of `node`'s parent (for a resource
    /// or data type root, `def` is the type name itself and `node` is that root).
    fn walk(&mut self, node: &'a Node, location: String, sd: &str, def: &str) {
        let mut cs: BTreeSet<(String, String)> = BTreeSet::new();
        let (child_sd, child_def): (String, String);
        if node.is_resource {
            if let Some(e) = self
                .sds
                .get(node.type_name)
                .and_then(|s| s.elements.get(node.type_name))
            {
                cs.extend(common::constraints(e));
            } else {
                self.unmapped
                    .push(format!("{}: {location} ({})", self.file, node.type_name));
            }
            child_sd = node.type_name.to_string();
            child_def = node.type_name.to_string();
        } else {
            cs.insert(("ele-1".into(), ELE_1_STU3.into()));
            let elements = &self.sds[sd].elements;
            let direct = format!("{def}.{}", node.name);
            let choice = format!("{def}.{}[x]", node.name);
            let element = elements.get(&direct).or_else(|| elements.get(&choice));
            let mut def_path = direct;
            match element {
                Some(e) => {
                    cs.extend(common::constraints(e));
                    for t in e["type"].as_array().into_iter().flatten() {
                        let profile = t["profile"].as_str().unwrap_or("");
                        if t["code"] == node.type_name {
                            if let Some(root) = self
                                .sds
                                .get(profile)
                                .and_then(|p| p.elements.get(node.type_name))
                            {
                                cs.extend(common::constraints(root));
                            }
                        }
                    }
                    def_path = e["path"].as_str().unwrap().to_string();
                    if let Some(r) = e["contentReference"].as_str() {
                        def_path = r.trim_start_matches('#').to_string();
                    }
                }
                None => self
                    .unmapped
                    .push(format!("{}: {location} ({def_path})", self.file)),
            }
            match self.sds.get(node.type_name) {
                Some(t) if t.kind == "complex-type" || t.kind == "primitive-type" => {
                    if let Some(root) = t.elements.get(node.type_name) {
                        cs.extend(common::constraints(root));
                    }
                    child_sd = node.type_name.to_string();
                    child_def = node.type_name.to_string();
                }
                _ => {
                    child_sd = sd.to_string();
                    child_def = def_path;
                }
            }
        }
        // the same key may come from the element and from its type's definition
        let mut seen = BTreeSet::new();
        cs.retain(|(k, e)| seen.insert((k.clone(), e.clone())));
        self.eval(node, &location, &cs);
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for c in &node.children {
            let i = counts.entry(c.name).or_default();
            let loc = format!("{location}.{}[{i}]", c.name);
            *i += 1;
            self.walk(c, loc, &child_sd, &child_def);
        }
    }
}

const SIBLING: &str = "STU3 ref-1 looks for `#id` in `%resource.contained`, and `%resource` of an element inside a contained resource is that contained resource (which has no contained resources of its own); this reference points to a sibling contained resource of the container, which FHIR allows. R4 fixed ref-1 with `%rootResource`; the evaluator is right to read STU3 literally (resolve() does find the sibling).";

/// The failures accepted after investigation: (file, key, location, why).
const EXPECTED_FAILURES: &[(&str, &str, &str, &str)] = &[
    (
        "activitydefinition-supplyrequest-example.json",
        "txt-2",
        "ActivityDefinition.text[0].div[0]",
        "the example's narrative div holds only whitespace: txt-2 is really broken",
    ),
    (
        "activitydefinition-supplyrequest-example.json",
        "txt-1",
        "ActivityDefinition.text[0].div[0]",
        "txt-1 and txt-2 are the same expression, `htmlchecks()`, so both fail together; \
         the narrative issues recorded in the Env name txt-2 only (checked below)",
    ),
    (
        "activitydefinition-medicationorder-example.json",
        "ref-1",
        "ActivityDefinition.contained[0].ingredient[0].item[0]",
        SIBLING,
    ),
    (
        "careplan-example-pregnancy.json",
        "ref-1",
        "CarePlan.contained[3].participant[0].member[0]",
        SIBLING,
    ),
    (
        "careplan-example-pregnancy.json",
        "ref-1",
        "CarePlan.contained[3].participant[1].member[0]",
        SIBLING,
    ),
    (
        "dataelement-example.json",
        "ref-1",
        "DataElement.contained[2].source[0]",
        SIBLING,
    ),
    (
        "dataelement-example.json",
        "ref-1",
        "DataElement.contained[2].target[0]",
        SIBLING,
    ),
    (
        "eligibilityresponse-example-benefits-2.json",
        "ref-1",
        "EligibilityResponse.contained[1].beneficiary[0]",
        SIBLING,
    ),
    (
        "eligibilityresponse-example-benefits-2.json",
        "ref-1",
        "EligibilityResponse.contained[1].subscriber[0]",
        SIBLING,
    ),
    (
        "list-example-familyhistory-genetics-profile.json",
        "ref-1",
        "List.contained[0].extension[0].extension[1].value[0]",
        SIBLING,
    ),
    (
        "list-example-familyhistory-genetics-profile.json",
        "ref-1",
        "List.contained[2].extension[0].extension[1].value[0]",
        SIBLING,
    ),
    (
        "list-example-familyhistory-genetics-profile.json",
        "ref-1",
        "List.contained[7].extension[0].extension[1].value[0]",
        SIBLING,
    ),
];

#[test]
fn invariants_hold_on_the_official_examples() {
    let shared = common::shared_dir();
    let sds = core_sds();
    let mut parsed = HashMap::new();
    let mut outcomes = Vec::new();
    let mut unmapped = Vec::new();
    let mut evaluated = BTreeSet::new();
    let mut narrative = BTreeSet::new();
    let dir = shared.join("fhir-examples/json");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 176, "official examples in {}", dir.display());
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let resource =
            Resource::from_json(&bytes).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let tree = resource.to_tree();
        let env = Env::new(&tree);
        let mut w = Walker {
            sds: &sds,
            parsed: &mut parsed,
            env: &env,
            file: f.file_name().unwrap().to_string_lossy().into_owned(),
            outcomes: Vec::new(),
            unmapped: Vec::new(),
            evaluated: BTreeSet::new(),
            narrative: BTreeSet::new(),
        };
        w.walk(&tree, tree.name.to_string(), "", "");
        outcomes.append(&mut w.outcomes);
        unmapped.append(&mut w.unmapped);
        evaluated.append(&mut w.evaluated);
        narrative.append(&mut w.narrative);
    }

    let not_evaluated: Vec<String> = outcomes
        .iter()
        .filter_map(|o| match &o.outcome {
            ConstraintOutcome::NotEvaluated(why) => Some(format!(
                "{} {} {} `{}`: {why}",
                o.file, o.location, o.key, o.expression
            )),
            _ => None,
        })
        .collect();
    let fails: BTreeSet<(String, String, String)> = outcomes
        .iter()
        .filter(|o| o.outcome == ConstraintOutcome::Fail)
        .map(|o| (o.file.clone(), o.key.clone(), o.location.clone()))
        .collect();
    let expected: BTreeSet<(String, String, String)> = EXPECTED_FAILURES
        .iter()
        .map(|(f, k, l, _)| (f.to_string(), k.to_string(), l.to_string()))
        .collect();
    let all = common::all_expressions();
    let reached: BTreeSet<&String> = all.keys().filter(|e| evaluated.contains(*e)).collect();
    let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
    for o in &outcomes {
        let k = match o.outcome {
            ConstraintOutcome::Pass => "pass",
            ConstraintOutcome::Fail => "fail",
            ConstraintOutcome::NotEvaluated(_) => "not evaluated",
        };
        *by_outcome.entry(k.into()).or_default() += 1;
    }
    eprintln!(
        "{} evaluations {by_outcome:?}; {} of {} distinct expressions reached by the examples",
        outcomes.len(),
        reached.len(),
        all.len()
    );
    let unreached: Vec<String> = all
        .iter()
        .filter(|(e, _)| !evaluated.contains(*e))
        .map(|(_, keys)| keys.iter().cloned().collect::<Vec<_>>().join("/"))
        .collect();
    eprintln!(
        "not reached by the examples (evaluated on crafted elements in invariants_coverage.rs): {}",
        unreached.join(", ")
    );
    assert!(
        unmapped.is_empty(),
        "elements with no definition:\n{}",
        unmapped.join("\n")
    );
    assert!(
        not_evaluated.is_empty(),
        "not evaluated ({}):\n{}",
        not_evaluated.len(),
        not_evaluated.join("\n")
    );
    // the narrative that fails htmlchecks() breaks txt-2 only, and the Env says so
    assert_eq!(
        narrative.into_iter().collect::<Vec<_>>(),
        [(
            "activitydefinition-supplyrequest-example.json".to_string(),
            "ActivityDefinition.text[0].div[0]".to_string(),
            "txt-2".to_string()
        )]
    );
    // at least these many distinct expressions are reached by the examples
    assert!(reached.len() >= 155, "{} reached", reached.len());
    let unexpected: Vec<_> = fails.difference(&expected).collect();
    let missing: Vec<_> = expected.difference(&fails).collect();
    assert!(
        unexpected.is_empty() && missing.is_empty(),
        "unexpected failures:\n{unexpected:#?}\nexpected failures that did not fail:\n{missing:#?}"
    );
}
