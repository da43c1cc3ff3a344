//! Evaluation semantics on trees read from FHIR JSON.

use fhir_runtime::Node;
use fhir_stu3::Resource;
use fhirpath::{
    evaluate, evaluate_constraint, parse, ConstraintOutcome, Env, EvalError, Item, NarrativeRule,
};

fn tree(json: &str) -> Node {
    Resource::from_json(json.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"))
        .to_tree()
}

fn eval<'a>(expr: &str, focus: &'a Node, env: &Env<'a>) -> Result<Vec<Item<'a>>, EvalError> {
    evaluate(
        &parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}")),
        focus,
        env,
    )
}

/// The result as text: `[true]`, `[]`, `['a', 1]`, nodes by type.
fn show(items: &[Item<'_>]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|i| match i {
            Item::Node(n) => match &n.value {
                Some(v) => format!("{}:{v}", n.name),
                None => format!("<{}>", fhirpath::fhir_type_of(n)),
            },
            Item::String(s) => format!("'{s}'"),
            Item::Boolean(b) => b.to_string(),
            Item::Integer(x) => x.to_string(),
            Item::Decimal(d) => d.to_string(),
            Item::Date(d) | Item::DateTime(d) | Item::Time(d) => format!("@{d}"),
            Item::Quantity(q) => q.to_string(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn check(focus: &Node, cases: &[(&str, &str)]) {
    let env = Env::new(focus);
    for (expr, want) in cases {
        let got = eval(expr, focus, &env).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert_eq!(show(&got), *want, "{expr}");
    }
}

const PATIENT: &str = r#"{"resourceType":"Patient","id":"p1",
  "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Peter</div>"},
  "identifier":[{"system":"urn:a","value":"1"},{"system":"urn:b","value":"2"}],
  "active":true,
  "name":[{"use":"official","family":"Chalmers","given":["Peter","James"]},
          {"use":"usual","given":["Jim"]}],
  "gender":"male","birthDate":"1974-12",
  "deceasedBoolean":false,
  "_birthDate":{"extension":[{"url":"http://e/time","valueDateTime":"1974-12-25T14:35:45-05:00"}]},
  "multipleBirthInteger":2}"#;

#[test]
fn navigation_and_choice_names() {
    let p = tree(PATIENT);
    check(
        &p,
        &[
            (
                "Patient.name.given",
                "[given:Peter, given:James, given:Jim]",
            ),
            ("name.given", "[given:Peter, given:James, given:Jim]"),
            ("name[1].given", "[given:Jim]"),
            ("name.given[2]", "[given:Jim]"),
            ("name[5]", "[]"),
            ("deceased", "[deceased:false]"),
            ("deceasedBoolean", "[deceased:false]"),
            ("deceasedDateTime", "[]"),
            ("Observation.name", "[]"),
            (
                "birthDate.extension.value",
                "[value:1974-12-25T14:35:45-05:00]",
            ),
            ("birthDate.extension('http://e/time').exists()", "[true]"),
            ("birthDate.extension('http://other').exists()", "[false]"),
            ("`gender`", "[gender:male]"),
            ("name.count()", "[2]"),
            ("children().count()", "[11]"),
            ("descendants().where($this is HumanName).count()", "[2]"),
        ],
    );
}

#[test]
fn three_valued_logic_and_empty_propagation() {
    let p = tree(PATIENT);
    let t = "true";
    let f = "false";
    let e = "{}";
    let table = [
        ("and", [[t, f, e], [f, f, f], [e, f, e]]),
        ("or", [[t, t, t], [t, f, e], [t, e, e]]),
        ("xor", [[f, t, e], [t, f, e], [e, e, e]]),
        ("implies", [[t, f, e], [t, t, t], [t, e, e]]),
    ];
    let env = Env::new(&p);
    for (op, rows) in table {
        for (i, l) in [t, f, e].iter().enumerate() {
            for (j, r) in [t, f, e].iter().enumerate() {
                let got = show(&eval(&format!("({l}) {op} ({r})"), &p, &env).unwrap());
                let want = match rows[i][j] {
                    "{}" => "[]".to_string(),
                    v => format!("[{v}]"),
                };
                assert_eq!(got, want, "{l} {op} {r}");
            }
        }
    }
    check(
        &p,
        &[
            ("{}.not()", "[]"),
            ("true.not()", "[false]"),
            ("active.not()", "[false]"),
            // non-boolean singletons are true
            ("gender and true", "[true]"),
            ("foo + 1", "[]"),
            ("foo = 'x'", "[]"),
            ("foo != 'x'", "[]"),
            ("foo < 1", "[]"),
            ("1 + 2 * 3", "[7]"),
            ("7 div 2", "[3]"),
            ("7 mod 2", "[1]"),
            ("7 / 2", "[3.5]"),
            ("1 / 0", "[]"),
            ("1.5 + 1", "[2.5]"),
            ("-(1)", "[-1]"),
            ("'a' + 'b'", "['ab']"),
            ("'a' + {}", "[]"),
            ("'a' & {}", "['a']"),
            ("name.family & '/' & gender", "['Chalmers/male']"),
            ("(1 | 2 | 1).count()", "[2]"),
            ("(1).combine(1).count()", "[2]"),
        ],
    );
    let env = Env::new(&p);
    // several items where one Boolean is needed are an error, not a guess
    assert!(matches!(
        eval("name.given and true", &p, &env),
        Err(EvalError::NotSingleton { .. })
    ));
}

#[test]
fn equality_equivalence_and_comparison() {
    let p = tree(PATIENT);
    check(
        &p,
        &[
            ("1 = 1.0", "[true]"),
            ("1.50 = 1.5", "[true]"),
            ("1.5 ~ 1.54", "[true]"),
            ("1.5 ~ 1.56", "[false]"),
            ("1.5 ~ 1.5", "[true]"),
            ("'Abc  d' ~ 'abc d'", "[true]"),
            ("'Abc' = 'abc'", "[false]"),
            ("'a' = 1", "[false]"),
            ("gender = 'male'", "[true]"),
            ("active = true", "[true]"),
            ("active = 'true'", "[true]"),
            ("multipleBirth = 2", "[true]"),
            ("multipleBirth > 1.5", "[true]"),
            ("name[0] = name[0]", "[true]"),
            ("name[0] = name[1]", "[false]"),
            ("identifier.system = ('urn:a' | 'urn:b')", "[true]"),
            ("identifier.system = ('urn:b' | 'urn:a')", "[false]"),
            ("identifier.system ~ ('urn:b' | 'urn:a')", "[true]"),
            ("{} ~ {}", "[true]"),
            ("'b' > 'a'", "[true]"),
            ("4 'mg' = 4.0 'mg'", "[true]"),
            ("4 'mg' < 5 'mg'", "[true]"),
            ("4 'mg' < 5 'g'", "[]"),
            ("1 day = 1 'd'", "[true]"),
            ("'x' in ('x' | 'y')", "[true]"),
            ("'z' in ('x' | 'y')", "[false]"),
            ("{} in ('x' | 'y')", "[]"),
            ("('x' | 'y') contains 'y'", "[true]"),
        ],
    );
    let env = Env::new(&p);
    assert!(matches!(
        eval("'a' < 1", &p, &env),
        Err(EvalError::Type { .. })
    ));
}

#[test]
fn dates_compare_by_precision() {
    let p = tree(PATIENT);
    check(
        &p,
        &[
            // birthDate is 1974-12
            ("birthDate = @1974-12", "[true]"),
            ("birthDate < @1975-01-01", "[true]"),
            ("birthDate > @1974-11-30", "[true]"),
            ("birthDate = @1974-12-25", "[]"),
            ("birthDate < @1974-12-25", "[]"),
            ("birthDate ~ @1974-12-25", "[false]"),
            ("birthDate != @1974-12-25", "[]"),
            (
                "birthDate.extension.value > @1974-12-25T19:00:00Z",
                "[true]",
            ),
            (
                "birthDate.extension.value = @1974-12-25T19:35:45Z",
                "[true]",
            ),
            ("@2017-01-01T10:00 < @2017-01-01T10:00:30", "[]"),
            ("@2017-01-01T10:00:00 = @2017-01-01T10:00:00.000", "[true]"),
            ("@T10:30 > @T09:59", "[true]"),
            ("@2017 < @2018-06", "[true]"),
            ("@2017-01-01.toString()", "['2017-01-01']"),
        ],
    );
    let env = Env::new(&p);
    assert!(matches!(
        eval("@2017 + 1 year", &p, &env),
        Err(EvalError::Unsupported { .. })
    ));
}

#[test]
fn string_functions() {
    let p = tree(PATIENT);
    check(
        &p,
        &[
            ("name.family.startsWith('Chal')", "[true]"),
            ("name.family.endsWith('ers')", "[true]"),
            ("name.family.contains('alm')", "[true]"),
            ("name.family.substring(1, 3)", "['hal']"),
            ("name.family.substring(3)", "['lmers']"),
            ("name.family.substring(20)", "[]"),
            ("name.family.length()", "[8]"),
            ("name.family.upper()", "['CHALMERS']"),
            ("name.family.lower()", "['chalmers']"),
            ("name.family.indexOf('m')", "[4]"),
            ("name.family.indexOf('z')", "[-1]"),
            ("name.family.replace('e', 'E')", "['ChalmErs']"),
            ("name.family.matches('^Ch[a-z]+$')", "[true]"),
            ("name.family.matches('^ch')", "[false]"),
            ("name.family.replaceMatches('[aeiou]', '_')", "['Ch_lm_rs']"),
            ("'a\\'b'.length()", "[3]"),
            ("multipleBirth.toString()", "['2']"),
            ("'42'.toInteger() + 1", "[43]"),
            ("'*'.toInteger()", "[]"),
            ("'1.50'.toDecimal()", "[1.50]"),
            ("'yes'.toBoolean()", "[true]"),
            ("'x'.convertsToInteger()", "[false]"),
            ("(1.5).toString().contains('.')", "[true]"),
            ("'abc'.toChars().count()", "[3]"),
        ],
    );
    let env = Env::new(&p);
    assert!(matches!(
        eval("name.given.startsWith('P')", &p, &env),
        Err(EvalError::NotSingleton { .. })
    ));
    assert!(matches!(
        eval("'x'.matches('(')", &p, &env),
        Err(EvalError::Regex { .. })
    ));
}

#[test]
fn where_select_all_exists_repeat_with_this_and_index() {
    let p = tree(PATIENT);
    check(
        &p,
        &[
            ("name.where(use = 'usual').given", "[given:Jim]"),
            ("name.given.where($this = 'James')", "[given:James]"),
            ("name.given.where($index = 1)", "[given:James]"),
            ("name.select(given.first())", "[given:Peter, given:Jim]"),
            ("name.select(given.count())", "[2, 1]"),
            ("name.all(given.exists())", "[true]"),
            ("name.all(family.exists())", "[false]"),
            ("{}.all(false)", "[true]"),
            ("name.exists(use = 'official')", "[true]"),
            ("name.exists(use = 'old')", "[false]"),
            ("name.given.first()", "[given:Peter]"),
            ("name.given.last()", "[given:Jim]"),
            ("name.given.tail()", "[given:James, given:Jim]"),
            ("name.given.skip(1).take(1)", "[given:James]"),
            ("name.given.isDistinct()", "[true]"),
            ("(1 | 2).isDistinct()", "[true]"),
            ("(1).combine(1).isDistinct()", "[false]"),
            ("(1).combine(1).combine(2).distinct()", "[1, 2]"),
            ("('b').combine('a').combine('b').distinct()", "['b', 'a']"),
            ("('a').combine('b').combine('a').isDistinct()", "[false]"),
            ("('a').combine('A').isDistinct()", "[true]"),
            (
                "('a').combine(name.given.first()).combine('a').distinct()",
                "['a', given:Peter]",
            ),
            ("(1 | 2 | 3).intersect(2 | 4)", "[2]"),
            ("(1 | 2 | 3).exclude(2)", "[1, 3]"),
            ("(1 | 2).subsetOf(1 | 2 | 3)", "[true]"),
            ("(1 | 2).supersetOf(3)", "[false]"),
            ("(true | false).anyTrue()", "[true]"),
            ("(true | false).allTrue()", "[false]"),
            ("name.given.single()", "ERR"),
            ("iif(active, 'yes', 'no')", "['yes']"),
            ("iif({}, 'yes')", "[]"),
            ("(1 | 2 | 3).aggregate($this + $total, 0)", "[6]"),
            ("name.repeat(given).count()", "[3]"),
            ("descendants().ofType(HumanName).count()", "[2]"),
        ]
        .iter()
        .copied()
        .filter(|(_, w)| *w != "ERR")
        .collect::<Vec<_>>(),
    );
    let env = Env::new(&p);
    assert!(matches!(
        eval("name.given.single()", &p, &env),
        Err(EvalError::NotSingleton { .. })
    ));
}

#[test]
fn types_is_as_of_type() {
    let o = tree(
        r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},
        "effectiveDateTime":"2017-01-01T10:00:00Z",
        "valueQuantity":{"value":1.50,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}"#,
    );
    check(
        &o,
        &[
            ("value is Quantity", "[true]"),
            ("value is FHIR.Quantity", "[true]"),
            ("value is string", "[false]"),
            ("value.is(Quantity)", "[true]"),
            ("(value as Quantity).value", "[value:1.50]"),
            ("value.as(Quantity).unit", "[unit:mg]"),
            ("(value as string)", "[]"),
            ("effective is dateTime", "[true]"),
            ("($this as Observation).status", "[status:final]"),
            ("$this is DomainResource", "[true]"),
            ("$this is Resource", "[true]"),
            ("status is code", "[true]"),
            ("status is string", "[true]"),
            ("status is System.String", "[true]"),
            ("1 is Integer", "[true]"),
            ("1 is System.Integer", "[true]"),
            ("1.0 is Decimal", "[true]"),
            ("'a' is FHIR.string", "[false]"),
            ("children().ofType(Quantity).count()", "[1]"),
            ("value > 1 'mg'", "[true]"),
            ("value = 1.5 'mg'", "[true]"),
            ("(effective as dateTime).toString().length() >= 8", "[true]"),
        ],
    );
}

const BUNDLE: &str = r##"{"resourceType":"Bundle","type":"collection","entry":[
  {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
   "resource":{"resourceType":"Patient","id":"pat","active":true}},
  {"fullUrl":"http://example.org/fhir/Practitioner/prac1",
   "resource":{"resourceType":"Practitioner","id":"prac1","active":true}},
  {"fullUrl":"http://example.org/fhir/Observation/o1",
   "resource":{"resourceType":"Observation","id":"o1",
     "contained":[{"resourceType":"Device","id":"d1"}],
     "status":"final","code":{"text":"x"},
     "subject":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"},
     "performer":[{"reference":"Practitioner/prac1"},{"reference":"#d1"},
                  {"reference":"Patient/unknown"},{"display":"no reference"},
                  {"reference":"http://example.org/fhir/Practitioner/prac1"}]}}]}"##;

#[test]
fn resolve_in_bundles_and_contained_resources() {
    let b = tree(BUNDLE);
    let obs = b
        .children_named("entry")
        .nth(2)
        .unwrap()
        .child("resource")
        .unwrap();
    let env = Env::new(&b);
    let r = |e: &str| show(&eval(e, obs, &env).unwrap());
    assert_eq!(r("subject.resolve()"), "[<Patient>]");
    assert_eq!(r("subject.resolve().id"), "[id:pat]");
    assert_eq!(r("subject.resolve() is Patient"), "[true]");
    assert_eq!(r("performer[0].resolve().id"), "[id:prac1]");
    assert_eq!(r("performer[1].resolve() is Device"), "[true]");
    assert_eq!(r("performer[2].resolve()"), "[]");
    assert_eq!(r("performer[3].resolve()"), "[]");
    assert_eq!(r("performer[4].resolve().id"), "[id:prac1]");
    assert_eq!(r("performer.reference[1].resolve().id"), "[id:d1]");
    assert_eq!(r("performer.resolve().count()"), "[3]");
    // %resource is the entry's resource, not the Bundle
    assert_eq!(r("%resource.id"), "[id:o1]");
    assert_eq!(r("%resource.contained.id"), "[id:d1]");
    // invariants using resolve() and %resource, on the right focus
    let performer1 = obs.children_named("performer").nth(1).unwrap();
    for (key, expr, focus, want) in [
        (
            "ref-1",
            "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %resource.contained.id.trace('ids'))",
            performer1,
            ConstraintOutcome::Pass,
        ),
        (
            "dom-3",
            "contained.where(('#'+id in %resource.descendants().reference).not()).empty()",
            obs,
            ConstraintOutcome::Pass,
        ),
    ] {
        assert_eq!(evaluate_constraint(expr, focus, &env), want, "{key}");
    }
    // an unreferenced contained resource fails dom-3
    let lonely = tree(
        r#"{"resourceType":"Observation","contained":[{"resourceType":"Device","id":"d9"}],"status":"final","code":{"text":"x"}}"#,
    );
    let env2 = Env::new(&lonely);
    assert_eq!(
        evaluate_constraint(
            "contained.where(('#'+id in %resource.descendants().reference).not()).empty()",
            &lonely,
            &env2
        ),
        ConstraintOutcome::Fail
    );
    // an element inside a contained resource: %resource is that contained resource
    let device = obs.child("contained").unwrap();
    let dev_id = device.child("id").unwrap();
    let id_env = Env::new(&b);
    assert_eq!(
        show(&eval("%resource", dev_id, &id_env).unwrap()),
        "[<Device>]"
    );
    assert_eq!(
        show(&eval("%rootResource.id", dev_id, &id_env).unwrap()),
        "[id:o1]"
    );
    assert_eq!(show(&eval("%context", dev_id, &id_env).unwrap()), "[id:d1]");
    // constants
    assert_eq!(r("%ucum"), "['http://unitsofmeasure.org']");
    assert_eq!(r("%sct"), "['http://snomed.info/sct']");
    assert_eq!(r("%loinc"), "['http://loinc.org']");
    assert_eq!(
        r("%`vs-administrative-gender`"),
        "['http://hl7.org/fhir/ValueSet/administrative-gender']"
    );
    assert!(matches!(
        eval("%nope", obs, &env),
        Err(EvalError::UnknownVariable { .. })
    ));
    let env3 = Env::new(&b).with_variable("who", vec![Item::String("me".into())]);
    assert_eq!(show(&eval("%who", obs, &env3).unwrap()), "['me']");
}

#[test]
fn trace_returns_its_input_and_records() {
    let p = tree(PATIENT);
    let env = Env::new(&p).with_traces();
    let got = eval("name.given.trace('g').count()", &p, &env).unwrap();
    assert_eq!(show(&got), "[3]");
    let got = eval("name.trace('n', given.first()).count()", &p, &env).unwrap();
    assert_eq!(show(&got), "[2]");
    let traces = env.traces();
    assert_eq!(traces.len(), 2);
    assert_eq!(traces[0].name, "g");
    assert_eq!(traces[0].values, ["Peter", "James", "Jim"]);
    assert_eq!(traces[1].name, "n");
    assert_eq!(traces[1].values, ["Peter", "Jim"]);
    // without with_traces nothing is kept
    let quiet = Env::new(&p);
    eval("name.trace('x')", &p, &quiet).unwrap();
    assert!(quiet.traces().is_empty());
}

#[test]
fn htmlchecks_on_narratives() {
    let good = tree(PATIENT);
    let div = good.child("text").unwrap().child("div").unwrap();
    let env = Env::new(&good);
    assert_eq!(
        evaluate_constraint("htmlchecks()", div, &env),
        ConstraintOutcome::Pass
    );
    assert!(env.take_narrative_issues().is_empty());
    assert_eq!(
        show(&eval("text.htmlchecks()", &good, &env).unwrap()),
        "[true]"
    );

    let bad = tree(
        r#"{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"x()\">hi</p></div>"}}"#,
    );
    let div = bad.child("text").unwrap().child("div").unwrap();
    let env = Env::new(&bad);
    assert_eq!(
        evaluate_constraint("htmlchecks()", div, &env),
        ConstraintOutcome::Fail
    );
    let issues = env.take_narrative_issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].rule, NarrativeRule::Txt1);
    assert!(issues[0].message.contains("onclick"), "{}", issues[0]);

    let empty = tree(
        r#"{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"> </div>"}}"#,
    );
    let div = empty.child("text").unwrap().child("div").unwrap();
    let env = Env::new(&empty);
    assert_eq!(
        evaluate_constraint("htmlchecks()", div, &env),
        ConstraintOutcome::Fail
    );
    let issues = env.take_narrative_issues();
    assert_eq!(
        issues.iter().map(|i| i.rule).collect::<Vec<_>>(),
        [NarrativeRule::Txt2]
    );
    // htmlchecks() on something that is not a narrative is an error
    assert!(matches!(
        eval("gender.htmlchecks()", &good, &Env::new(&good)),
        Err(EvalError::Type { .. })
    ));
    assert!(eval("name.htmlchecks()", &good, &Env::new(&good)).is_err());
}

#[test]
fn ele1_is_read_as_or() {
    let p = tree(PATIENT);
    let env = Env::new(&p);
    let ele1 = fhirpath::ELE_1_STU3;
    // a primitive with a value; a complex element with children; a primitive with
    // only an extension: all pass
    let gender = p.child("gender").unwrap();
    let name = p.child("name").unwrap();
    let birth = p.child("birthDate").unwrap();
    for n in [gender, name, birth] {
        assert_eq!(evaluate_constraint(ele1, n, &env), ConstraintOutcome::Pass);
    }
    // an element with nothing but an id fails
    let mut only_id = Node::new("name", "HumanName");
    let mut id = Node::new("id", "string");
    id.value = Some("x".into());
    only_id.children.push(id);
    let env2 = Env::new(&only_id);
    assert_eq!(
        evaluate_constraint(ele1, &only_id, &env2),
        ConstraintOutcome::Fail
    );
    // read literally (the union), it is two Booleans
    let lit = eval(ele1, &only_id, &env2).unwrap();
    assert_eq!(
        show(&lit),
        "[false]",
        "false | false is one false after union"
    );
}

#[test]
fn constraint_outcome_rules() {
    let p = tree(PATIENT);
    let env = Env::new(&p);
    let o = |e: &str| evaluate_constraint(e, &p, &env);
    assert_eq!(o("true"), ConstraintOutcome::Pass);
    assert_eq!(o("false"), ConstraintOutcome::Fail);
    assert_eq!(o("{}"), ConstraintOutcome::Pass, "empty passes");
    assert_eq!(
        o("birthDate < @1974-12-25"),
        ConstraintOutcome::Pass,
        "undecidable passes"
    );
    assert_eq!(
        o("gender"),
        ConstraintOutcome::Pass,
        "a non-Boolean singleton is true"
    );
    assert_eq!(o("false | true"), ConstraintOutcome::Pass);
    assert_eq!(o("(false).combine(false)"), ConstraintOutcome::Fail);
    assert!(
        matches!(o("name.memberOf('x')"), ConstraintOutcome::NotEvaluated(m) if m.contains("memberOf"))
    );
    assert!(
        matches!(o("name.frobnicate()"), ConstraintOutcome::NotEvaluated(m) if m.contains("frobnicate"))
    );
    assert!(
        matches!(o("name.given = "), ConstraintOutcome::NotEvaluated(m) if m.contains("parse"))
    );
    assert!(matches!(
        o("name.given.startsWith('x')"),
        ConstraintOutcome::NotEvaluated(_)
    ));
}

#[test]
fn unsupported_is_an_error_never_empty() {
    let p = tree(PATIENT);
    let env = Env::new(&p);
    for e in [
        "gender.memberOf('http://hl7.org/fhir/ValueSet/administrative-gender')",
        "conformsTo('http://x')",
        "name.subsumes(name)",
        "@2017-01-01 + 1 day",
        "4 'mg' + 4 'g'",
        "nosuch()",
        "(4).sqrt()",
    ] {
        assert!(
            matches!(eval(e, &p, &env), Err(EvalError::Unsupported { .. })),
            "{e}: {:?}",
            eval(e, &p, &env)
        );
    }
}
