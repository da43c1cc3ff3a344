//! Every invariant of the three FHIR packages parses and evaluates.
//!
//! The list comes from the generated tables, not from the package files and not
//! from a hand-written list: every distinct expression of
//! `fhir_definitions::CONSTRAINTS`, with the keys it appears under. Each one is
//!
//! 1. parsed (`fhirpath::parse_constraint`);
//! 2. evaluated on real elements: the trees of the 176 official examples and of
//!    the NHS messages in `shared/examples` (and the Send Document fixture) are
//!    walked against the definitions in `fhir_definitions` the way the validator
//!    walks them (a resource against its base definition and each `meta.profile`,
//!    children by the snapshot, elements the snapshot does not spell out by their
//!    type's definition or profile, extensions by `url`, slices by their `value`
//!    and `type` discriminators), and on every element the invariants of its
//!    definitions are evaluated;
//! 3. for expressions no real element reaches, evaluated on crafted elements of
//!    the first element definition that carries them: once empty, once with every
//!    child its snapshot allows holding a plausible value.
//!
//! The test prints every expression (keys, evaluations, pass / fail counts, where
//! they were reached) and the totals, and fails naming every expression that did
//! not parse, that some evaluation returned `NotEvaluated` for, or that was not
//! evaluated at all. Fails on valid examples are listed, not asserted: the
//! validator's own tests check which findings the examples give.
//! (`cargo test -p workspace-tests --test invariants -- --nocapture` shows the list.)

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::rc::Rc;

use fhir_definitions::{
    base_definition, structure_definition, Derivation, DiscriminatorKind, ElementDefinition, Kind,
    Max, StructureDefinition, CONSTRAINTS, STRUCTURE_DEFINITIONS,
};
use fhir_runtime::Node;
use fhir_stu3::{ReadOptions, Resource};
use fhirpath::{evaluate_constraint_expr, parse_constraint, ConstraintOutcome, Env, Expr};
use workspace_tests::{shared_dir, shared_files};

/// The NHS messages and resources of `shared/examples` that are FHIR (the
/// others there are MESH control files).
const NHS_EXAMPLES: &[&str] = &[
    "ITK3-response-10009.xml",
    "ITK3-response-20009.xml",
    "ITK3-response-20013.xml",
    "ITK3-response-30001.xml",
    "MessageDefinition-ITK-GPConnectSendDocument-MessageDefinition-1.xml",
    "v1.3.0-release_consultation_report.xml",
    "v2.0.2_send-document--generic-example.xml",
    "v2_example-generic-wireframe-moe-degrasse.xml",
];

/// What happened to one expression on one kind of input.
#[derive(Default)]
struct Tally {
    evaluations: usize,
    pass: usize,
    fail: usize,
    /// `where: why` of every `NotEvaluated`.
    not_evaluated: Vec<String>,
    /// The first place it was evaluated.
    first: Option<String>,
}

impl Tally {
    fn record(&mut self, outcome: ConstraintOutcome, at: impl Fn() -> String) {
        self.evaluations += 1;
        if self.first.is_none() {
            self.first = Some(at());
        }
        match outcome {
            ConstraintOutcome::Pass => self.pass += 1,
            ConstraintOutcome::Fail => self.fail += 1,
            ConstraintOutcome::NotEvaluated(why) => {
                self.not_evaluated.push(format!("{}: {why}", at()))
            }
        }
    }
}

/// One distinct expression of `CONSTRAINTS`.
struct Expression {
    text: &'static str,
    keys: BTreeSet<&'static str>,
    parsed: Result<Expr, String>,
    /// By [`Source`].
    tallies: [Tally; 3],
}

/// Where an evaluation happened.
#[derive(Clone, Copy)]
enum Source {
    /// The official examples, the NHS messages and the fixture.
    Examples = 0,
    /// The resources of [`CRAFTED_RESOURCES`], walked like the examples.
    CraftedResources = 1,
    /// Crafted elements, only for expressions neither of the above reaches.
    CraftedElements = 2,
}

const SOURCE_NAMES: [&str; 3] = ["examples", "crafted resources", "crafted elements"];

/// Every distinct expression, and the expression of each `CONSTRAINTS` index.
struct Expressions {
    all: Vec<Expression>,
    of_constraint: Vec<usize>,
}

impl Expressions {
    fn from_tables() -> Self {
        let mut all: Vec<Expression> = Vec::new();
        let mut by_text: HashMap<&'static str, usize> = HashMap::new();
        let mut of_constraint = Vec::with_capacity(CONSTRAINTS.len());
        for c in CONSTRAINTS {
            let i = *by_text.entry(c.expression).or_insert_with(|| {
                all.push(Expression {
                    text: c.expression,
                    keys: BTreeSet::new(),
                    parsed: parse_constraint(c.expression).map_err(|e| e.to_string()),
                    tallies: Default::default(),
                });
                all.len() - 1
            });
            all[i].keys.insert(c.key);
            of_constraint.push(i);
        }
        Expressions { all, of_constraint }
    }
}

/// Element indexes by id, and the children and slices of every element of one
/// snapshot (as the validator indexes them, but see [`canonical_id`]).
struct SnapshotIndex {
    by_id: HashMap<String, usize>,
    children: Vec<Vec<usize>>,
    slices: Vec<Vec<usize>>,
}

/// An element id with the NHS packages' spellings of a choice element narrowed
/// to one type (`value[x]:valueCoding`, `valueBoolean:valueBoolean`) written as
/// the plain typed name (`valueCoding`): they are not slices, and their children
/// are written under either spelling (`RecipientType.value[x]:valueCoding.id`
/// next to `RecipientType.valueCoding:valueCoding.system`).
fn canonical_id(id: &str) -> String {
    id.split('.')
        .map(|seg| match seg.split_once(':') {
            Some((a, b)) if a == b => b,
            Some((a, b)) if a.ends_with("[x]") && b.starts_with(&a[..a.len() - 3]) => b,
            _ => seg,
        })
        .collect::<Vec<_>>()
        .join(".")
}

impl SnapshotIndex {
    fn new(sd: &'static StructureDefinition) -> Self {
        let n = sd.elements.len();
        let mut by_id: HashMap<String, usize> = HashMap::with_capacity(2 * n);
        for (i, e) in sd.elements.iter().enumerate() {
            by_id.insert(canonical_id(e.id), i);
            by_id.insert(e.id.to_owned(), i);
        }
        let mut children = vec![Vec::new(); n];
        let mut slices = vec![Vec::new(); n];
        for (i, e) in sd.elements.iter().enumerate() {
            let id = canonical_id(e.id);
            let Some(dot) = id.rfind('.') else { continue };
            let (parent, segment) = (&id[..dot], &id[dot + 1..]);
            if let Some(colon) = segment.find(':') {
                let base = format!("{parent}.{}", &segment[..colon]);
                if let Some(&b) = by_id.get(base.as_str()) {
                    slices[b].push(i);
                }
            } else if let Some(&p) = by_id.get(parent) {
                children[p].push(i);
            }
        }
        SnapshotIndex {
            by_id,
            children,
            slices,
        }
    }
}

#[derive(Default)]
struct Indexes(HashMap<&'static str, Rc<SnapshotIndex>>);

impl Indexes {
    fn get(&mut self, sd: &'static StructureDefinition) -> Rc<SnapshotIndex> {
        self.0
            .entry(sd.url)
            .or_insert_with(|| Rc::new(SnapshotIndex::new(sd)))
            .clone()
    }
}

/// The last segment of an element's path, without `[x]`.
fn element_name(e: &ElementDefinition) -> &'static str {
    let seg = e.path.rsplit('.').next().unwrap_or(e.path);
    seg.strip_suffix("[x]").unwrap_or(seg)
}

/// `dateTime` → `DateTime` (the type part of a choice element's name).
fn type_suffix(code: &str) -> String {
    let mut c = code.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// The nodes a discriminator path (`url`, `system`, `coding.system`, `$this`) reaches.
fn navigate<'n>(n: &'n Node, path: &'n str) -> Vec<&'n Node> {
    let mut current = vec![n];
    if path == "$this" {
        return current;
    }
    for seg in path.split('.') {
        let seg = seg.trim_end_matches("[x]");
        current = current.iter().flat_map(|c| c.children_named(seg)).collect();
    }
    current
}

/// Walks one tree against the definitions, evaluating the invariants of every
/// element definition each node stands for (each distinct expression once per node).
struct Walker<'s, 'a> {
    exprs: &'s mut Expressions,
    indexes: &'s mut Indexes,
    env: Rc<Env<'a>>,
    file: &'s str,
    seen: HashSet<(usize, usize)>,
    /// Nodes that some element definition stood for.
    visited: HashSet<usize>,
    depth: usize,
    notes: BTreeSet<String>,
    source: Source,
    /// `(location, keys)` of every failed invariant.
    fails: Vec<(String, String)>,
}

fn addr(n: &Node) -> usize {
    n as *const Node as usize
}

impl<'a> Walker<'_, 'a> {
    fn invariants(&mut self, node: &'a Node, e: &ElementDefinition, loc: &str) {
        self.visited.insert(addr(node));
        for &c in e.constraints {
            let x = self.exprs.of_constraint[usize::from(c)];
            if !self.seen.insert((addr(node), x)) {
                continue;
            }
            let expr = &mut self.exprs.all[x];
            let Ok(parsed) = &expr.parsed else { continue };
            let outcome = evaluate_constraint_expr(parsed, node, &self.env);
            self.env.take_narrative_issues();
            if outcome == ConstraintOutcome::Fail {
                let keys = expr.keys.iter().copied().collect::<Vec<_>>().join("/");
                self.fails.push((loc.to_owned(), keys));
            }
            let file = self.file;
            expr.tallies[self.source as usize].record(outcome, || format!("{file} {loc}"));
        }
    }

    /// A resource: its base definition and each `meta.profile` of the packages.
    fn resource(&mut self, node: &'a Node, loc: &str, only: Option<&str>) {
        let Some(base) = base_definition(node.type_name) else {
            self.notes.insert(format!(
                "{}: {loc}: {} has no definition",
                self.file, node.type_name
            ));
            return;
        };
        if let Some(sd) = only.and_then(structure_definition) {
            self.element(node, sd, 0, loc);
            return;
        }
        self.element(node, base, 0, loc);
        let profiles = node
            .child("meta")
            .into_iter()
            .flat_map(|m| m.children_named("profile"))
            .filter_map(|p| p.value.as_deref());
        for url in profiles {
            match structure_definition(url) {
                Some(sd) if sd.type_name == node.type_name => self.element(node, sd, 0, loc),
                _ => {
                    self.notes.insert(format!(
                        "{}: {loc}: profile {url} not in the packages",
                        self.file
                    ));
                }
            }
        }
    }

    fn element(&mut self, node: &'a Node, sd: &'static StructureDefinition, idx: usize, loc: &str) {
        if self.depth > 64 {
            return;
        }
        self.depth += 1;
        let e = &sd.elements[idx];
        self.invariants(node, e, loc);
        let index = self.indexes.get(sd);
        let mut kids: &[usize] = &index.children[idx];
        if let Some(&r) = e.content_reference.and_then(|t| index.by_id.get(t)) {
            kids = &index.children[r];
        }
        if kids.is_empty() {
            if !node.children.is_empty() || node.value.is_some() {
                self.by_type(node, sd, e, loc);
            }
        } else {
            for &k in kids {
                self.child(node, sd, &index, k, loc);
            }
        }
        self.depth -= 1;
    }

    /// A node whose children the snapshot does not spell out: its type's definition.
    fn by_type(
        &mut self,
        node: &'a Node,
        sd: &'static StructureDefinition,
        e: &ElementDefinition,
        loc: &str,
    ) {
        if node.is_resource {
            return;
        }
        let ty = e.types.iter().find(|t| {
            e.types.len() == 1
                || t.code == node.type_name
                || type_suffix(t.code) == node.choice_type
        });
        let code = ty.map_or(node.type_name, |t| t.code);
        if code.is_empty() || code == "Element" || code == "BackboneElement" {
            return;
        }
        if let Some(profile) = ty.and_then(|t| t.profile) {
            if let Some(psd) = structure_definition(profile) {
                if !std::ptr::eq(psd, sd) {
                    self.element(node, psd, 0, loc);
                }
                return;
            }
        }
        if code == "Extension" {
            let url = node.child_value("url").unwrap_or("");
            match structure_definition(url) {
                Some(xsd) if xsd.type_name == "Extension" => self.element(node, xsd, 0, loc),
                _ => {
                    if let Some(base) = base_definition("Extension") {
                        self.element(node, base, 0, loc);
                    }
                }
            }
            return;
        }
        if let Some(tsd) = base_definition(code) {
            if !std::ptr::eq(tsd, sd) && tsd.derivation == Derivation::Specialization {
                self.element(node, tsd, 0, loc);
            }
        }
    }

    fn child(
        &mut self,
        node: &'a Node,
        sd: &'static StructureDefinition,
        index: &SnapshotIndex,
        k: usize,
        loc: &str,
    ) {
        let c = &sd.elements[k];
        let name = element_name(c);
        if name == "value" && c.types.iter().all(|t| t.code.is_empty()) {
            return; // a primitive's value, held in the node itself
        }
        let slices = &index.slices[k];
        // A choice element may be defined under its typed name (`Extension.valueInteger`).
        let named = node.children.iter().filter(|c| {
            c.name == name
                || (!c.choice_type.is_empty() && name.strip_prefix(c.name) == Some(c.choice_type))
        });
        for (i, n) in named.enumerate() {
            let at = format!("{loc}.{name}[{i}]");
            let slice = if c.slicing.is_some() {
                slices
                    .iter()
                    .copied()
                    .find(|&s| in_slice(n, sd, index, s, k))
            } else {
                None
            };
            self.item(n, sd, slice.unwrap_or(k), &at);
        }
    }

    fn item(&mut self, n: &'a Node, sd: &'static StructureDefinition, k: usize, at: &str) {
        let c = &sd.elements[k];
        if c.path.ends_with("[x]") && !c.types.iter().any(|t| type_suffix(t.code) == n.choice_type)
        {
            return; // a type the element does not allow: the validator reports it
        }
        if n.is_resource {
            let only = c.types.iter().find_map(|t| t.profile);
            let saved = self.env.clone();
            if !c.path.ends_with(".contained") {
                self.env = Rc::new(self.env.for_resource(n));
            }
            self.resource(n, &format!("{at}.ofType({})", n.type_name), only);
            self.env = saved;
            return;
        }
        self.element(n, sd, k, at);
    }
}

/// Whether item `n` of element `k` belongs to slice `s`: every `value`
/// discriminator finds the slice's fixed or pattern string (an extension slice's
/// `url` is its profile), every `type` discriminator the slice's type. (The
/// packages use no other discriminators.)
fn in_slice(
    n: &Node,
    sd: &'static StructureDefinition,
    index: &SnapshotIndex,
    s: usize,
    k: usize,
) -> bool {
    let slice = &sd.elements[s];
    let Some(slicing) = &sd.elements[k].slicing else {
        return false;
    };
    slicing.discriminators.iter().all(|d| {
        let at = if d.path == "$this" {
            Some(slice)
        } else {
            index
                .by_id
                .get(format!("{}.{}", slice.id, d.path).as_str())
                .map(|&i| &sd.elements[i])
        };
        match d.kind {
            DiscriminatorKind::Value | DiscriminatorKind::Pattern => {
                let fixed = at
                    .and_then(|e| e.fixed.as_ref().or(e.pattern.as_ref()))
                    .and_then(|v| serde_json::from_str::<serde_json::Value>(v.json).ok())
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .or_else(|| {
                        (d.path == "url")
                            .then(|| slice.types.iter().find_map(|t| t.profile))
                            .flatten()
                            .map(str::to_owned)
                    });
                let Some(fixed) = fixed else { return false };
                navigate(n, d.path)
                    .iter()
                    .any(|t| t.value.as_deref() == Some(fixed.as_str()))
            }
            DiscriminatorKind::Type => {
                let e = at.unwrap_or(slice);
                navigate(n, d.path).iter().any(|t| {
                    e.types
                        .iter()
                        .any(|ty| ty.code == t.type_name || type_suffix(ty.code) == t.choice_type)
                })
            }
            DiscriminatorKind::Exists | DiscriminatorKind::Profile => false,
        }
    })
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// A plausible lexical value for a primitive type.
fn sample_value(t: &str) -> Option<&'static str> {
    Some(match t {
        "boolean" => "true",
        "integer" | "unsignedInt" | "positiveInt" => "1",
        "decimal" => "1.5",
        "date" => "2017-01-01",
        "dateTime" | "instant" => "2017-01-01T10:00:00Z",
        "time" => "10:00:00",
        "xhtml" => "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>",
        t if t.starts_with(|c: char| c.is_ascii_lowercase()) => "x",
        _ => return None,
    })
}

/// A crafted node for element `idx` of `sd`: its type from the definition, a
/// sample value if primitive, and (when `populated`) one child for every child
/// element the snapshot allows.
fn crafted(
    sd: &'static StructureDefinition,
    idx: usize,
    index: &SnapshotIndex,
    populated: bool,
) -> Node {
    let e = &sd.elements[idx];
    let is_root = idx == 0;
    let code = e.types.first().map_or("Element", |t| t.code);
    let type_name = if is_root {
        sd.type_name
    } else if code.is_empty() || code == "BackboneElement" || code == "Element" {
        e.path
    } else {
        code
    };
    let name = if is_root {
        sd.type_name
    } else {
        element_name(e)
    };
    let mut n = Node::new(name, type_name);
    n.is_resource = is_root && sd.kind == Kind::Resource;
    n.value = sample_value(type_name).map(str::to_owned);
    if populated {
        for &k in &index.children[idx] {
            let c = &sd.elements[k];
            if c.max == Max::Count(0)
                || (element_name(c) == "value" && c.types.iter().all(|t| t.code.is_empty()))
            {
                continue;
            }
            let mut child = crafted(sd, k, index, false);
            if c.path.ends_with("[x]") {
                child.choice_type = leak(type_suffix(c.types.first().map_or("string", |t| t.code)));
            }
            n.children.push(child);
        }
    }
    n
}

fn read_example(path: &Path) -> Node {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let resource = if path.extension().is_some_and(|x| x == "json") {
        Resource::from_json(&bytes)
    } else {
        Resource::from_xml_with(&bytes, &ReadOptions::lenient()).map(|p| p.value)
    };
    resource
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_tree()
}

/// Resources that reach invariants no example reaches, with the keys each must
/// fail (walked like the examples, against their definitions).
const CRAFTED_RESOURCES: &[(&str, &[&str], &str)] = &[
    (
        "referral-requester-practitioner",
        &[],
        r##"{"resourceType":"ReferralRequest","status":"active","intent":"order","subject":{"reference":"#pa"},
        "contained":[{"resourceType":"Practitioner","id":"pr"},{"resourceType":"Patient","id":"pa"}],
        "requester":{"agent":{"reference":"#pr"},"onBehalfOf":{"display":"Org"}}}"##,
    ),
    (
        "referral-requester-patient",
        &["rfr-1"],
        r##"{"resourceType":"ReferralRequest","status":"active","intent":"order","subject":{"reference":"#pa"},
        "contained":[{"resourceType":"Patient","id":"pa"}],
        "requester":{"agent":{"reference":"#pa"},"onBehalfOf":{"display":"Org"}}}"##,
    ),
    (
        "communication-request-device",
        &[],
        r##"{"resourceType":"CommunicationRequest","status":"active",
        "contained":[{"resourceType":"Device","id":"dev"}],
        "requester":{"agent":{"reference":"#dev"},"onBehalfOf":{"display":"Org"}}}"##,
    ),
    (
        "observation-range-inverted",
        &["rng-2"],
        r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},
        "valueRange":{"low":{"value":3,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"},
                      "high":{"value":2.5,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}}"#,
    ),
    (
        "risk-probability-over-100",
        &["ras-2"],
        r#"{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/x"},
        "prediction":[{"outcome":{"text":"a"},"probabilityDecimal":100.01},
          {"outcome":{"text":"b"},"probabilityRange":{
            "low":{"value":10,"unit":"%","system":"http://unitsofmeasure.org","code":"%"},
            "high":{"value":20,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}}]}"#,
    ),
    (
        "medication-not-given-with-reason-code",
        &["mad-3"],
        r#"{"resourceType":"MedicationAdministration","status":"completed",
        "medicationCodeableConcept":{"text":"x"},"subject":{"reference":"Patient/x"},
        "effectiveDateTime":"2017-01-01","notGiven":true,"reasonNotGiven":[{"text":"r"}],
        "reasonCode":[{"text":"r"}],
        "dosage":{"dose":{"value":1,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}}"#,
    ),
    (
        "group-members-not-actual",
        &["grp-1"],
        r#"{"resourceType":"Group","type":"person","actual":false,"member":[{"entity":{"reference":"Patient/x"}}]}"#,
    ),
    (
        "goal-target",
        &[],
        r#"{"resourceType":"Goal","status":"accepted","description":{"text":"d"},"subject":{"reference":"Patient/x"},
        "target":{"measure":{"text":"weight"},
          "detailQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}}"#,
    ),
    (
        "allergy-entered-in-error",
        &[],
        r#"{"resourceType":"AllergyIntolerance","verificationStatus":"entered-in-error","patient":{"reference":"Patient/x"}}"#,
    ),
    (
        "value-set-expansion",
        &["vsd-6"],
        r#"{"resourceType":"ValueSet","status":"draft","expansion":{"identifier":"urn:uuid:1","timestamp":"2017-01-01T00:00:00Z",
        "contains":[{"system":"http://x","code":"a"},{"abstract":true,"display":"group"},{"abstract":true}]}}"#,
    ),
    (
        "concept-map-unmapped",
        &["cmd-3"],
        r#"{"resourceType":"ConceptMap","status":"draft","group":[
          {"source":"http://a","element":[{"code":"x","target":[{"code":"y","equivalence":"equivalent"}]}],
           "unmapped":{"mode":"fixed","code":"z"}},
          {"source":"http://b","element":[{"code":"x","target":[{"code":"y","equivalence":"equivalent"}]}],
           "unmapped":{"mode":"other-map"}}]}"#,
    ),
];

/// Walks `tree` against its definitions, evaluating every invariant on the way.
/// Returns the number of nodes and the failed invariants `(location, keys)`.
fn walk_tree(
    tree: &Node,
    file: &str,
    source: Source,
    exprs: &mut Expressions,
    indexes: &mut Indexes,
    notes: &mut BTreeSet<String>,
    unvisited: &mut Vec<String>,
) -> (usize, Vec<(String, String)>) {
    let env = Rc::new(Env::new(tree).with_resource(tree));
    let mut w = Walker {
        exprs,
        indexes,
        env,
        file,
        seen: HashSet::new(),
        visited: HashSet::new(),
        depth: 0,
        notes: BTreeSet::new(),
        source,
        fails: Vec::new(),
    };
    w.resource(tree, tree.type_name, None);
    notes.append(&mut w.notes);
    // every element of the tree stood for some definition (so it was checked)
    let mut nodes = 0;
    let mut stack = vec![(tree, tree.type_name.to_owned())];
    while let Some((n, at)) = stack.pop() {
        nodes += 1;
        if !w.visited.contains(&addr(n)) {
            unvisited.push(format!("{file}: {at} ({})", n.type_name));
        }
        stack.extend(
            n.children
                .iter()
                .map(|c| (c, format!("{at}.{}", c.full_name()))),
        );
    }
    (nodes, w.fails)
}

#[test]
fn every_invariant_parses_and_evaluates() {
    let mut exprs = Expressions::from_tables();
    let mut indexes = Indexes::default();
    let mut notes = BTreeSet::new();
    let mut unvisited = Vec::new();
    let mut nodes = 0usize;
    let mut problems = Vec::new();

    // 2. the examples
    let mut inputs = shared_files("fhir-examples/json", "json");
    assert_eq!(inputs.len(), 176, "official JSON examples");
    let shared = shared_dir();
    inputs.extend(NHS_EXAMPLES.iter().map(|f| shared.join("examples").join(f)));
    inputs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/send-document-valid.xml"));
    let mut example_fails = Vec::new();
    for path in &inputs {
        let tree = read_example(path);
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let (n, fails) = walk_tree(
            &tree,
            &file,
            Source::Examples,
            &mut exprs,
            &mut indexes,
            &mut notes,
            &mut unvisited,
        );
        nodes += n;
        example_fails.extend(
            fails
                .into_iter()
                .map(|(at, keys)| format!("{file} {at}: {keys}")),
        );
    }
    for (name, expected, json) in CRAFTED_RESOURCES {
        let tree = Resource::from_json(json.as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .to_tree();
        let (n, fails) = walk_tree(
            &tree,
            name,
            Source::CraftedResources,
            &mut exprs,
            &mut indexes,
            &mut notes,
            &mut unvisited,
        );
        nodes += n;
        let failed: BTreeSet<&str> = fails.iter().map(|(_, k)| k.as_str()).collect();
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        if failed != expected {
            problems.push(format!(
                "crafted resource {name}: failed {failed:?}, expected {expected:?} ({fails:?})"
            ));
        }
    }

    // 3. crafted elements for what nothing above reached: the first element
    // definition carrying each such expression
    for x in 0..exprs.all.len() {
        let e = &exprs.all[x];
        if e.tallies.iter().any(|t| t.evaluations > 0) || e.parsed.is_err() {
            continue;
        }
        let carrier = STRUCTURE_DEFINITIONS.iter().find_map(|sd| {
            sd.elements
                .iter()
                .position(|e| {
                    e.constraints
                        .iter()
                        .any(|&c| exprs.of_constraint[usize::from(c)] == x)
                })
                .map(|i| (*sd, i))
        });
        let Some((sd, idx)) = carrier else { continue };
        let index = indexes.get(sd);
        for populated in [false, true] {
            let focus = crafted(sd, idx, &index, populated);
            let env = Env::new(&focus);
            let expr = &mut exprs.all[x];
            let outcome = evaluate_constraint_expr(expr.parsed.as_ref().unwrap(), &focus, &env);
            let id = sd.elements[idx].id;
            let what = if populated { "populated" } else { "empty" };
            expr.tallies[Source::CraftedElements as usize]
                .record(outcome, || format!("{what} {id} ({})", sd.url));
        }
    }

    // the list
    let mut all: Vec<&Expression> = exprs.all.iter().collect();
    all.sort_by_key(|e| (e.keys.iter().next().copied(), e.text));
    println!(
        "{:<16} {:>6} {:>6} {:>5}  {:<17}  expression  (first evaluated at)",
        "keys", "evals", "pass", "fail", "on"
    );
    let mut totals = [(0usize, 0usize, 0usize, 0usize, 0usize); 3];
    for e in &all {
        let keys = e.keys.iter().copied().collect::<Vec<_>>().join("/");
        for (s, t) in e.tallies.iter().enumerate() {
            let total = &mut totals[s];
            total.0 += usize::from(t.evaluations > 0);
            total.1 += t.evaluations;
            total.2 += t.pass;
            total.3 += t.fail;
            total.4 += t.not_evaluated.len();
            if t.evaluations > 0 {
                println!(
                    "{keys:<16} {:>6} {:>6} {:>5}  {:<17}  {}  ({})",
                    t.evaluations,
                    t.pass,
                    t.fail,
                    SOURCE_NAMES[s],
                    e.text,
                    t.first.as_deref().unwrap_or("-")
                );
            }
            if !t.not_evaluated.is_empty() {
                problems.push(format!(
                    "{keys} `{}` not evaluated {} time(s) on the {}: {}",
                    e.text,
                    t.not_evaluated.len(),
                    SOURCE_NAMES[s],
                    t.not_evaluated
                        .iter()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
        }
        if let Err(why) = &e.parsed {
            problems.push(format!("{keys} `{}` does not parse: {why}", e.text));
        } else if e.tallies.iter().all(|t| t.evaluations == 0) {
            problems.push(format!("{keys} `{}` was evaluated nowhere", e.text));
        }
    }
    println!(
        "total: {} distinct expressions ({} entries in CONSTRAINTS), {} parsed; {} inputs, {nodes} nodes",
        all.len(),
        CONSTRAINTS.len(),
        all.iter().filter(|e| e.parsed.is_ok()).count(),
        inputs.len() + CRAFTED_RESOURCES.len(),
    );
    for (s, (reached, evals, pass, fail, not_evaluated)) in totals.iter().enumerate() {
        println!(
            "  on the {}: {reached} expressions, {evals} evaluations: {pass} pass, {fail} fail, \
             {not_evaluated} not evaluated",
            SOURCE_NAMES[s]
        );
    }
    for f in &example_fails {
        println!("fails on an example: {f}");
    }
    for n in &notes {
        println!("note: {n}");
    }
    if !unvisited.is_empty() {
        problems.push(format!(
            "{} nodes stood for no element definition, so their invariants were not evaluated, e.g.:\n{}",
            unvisited.len(),
            unvisited.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
        ));
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
