//! The walk: a node tree against a snapshot, element by element.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use fhir_definitions::{
    base_definition, structure_definition, value_set, Derivation, DiscriminatorKind,
    ElementDefinition, Max, SlicingRules, Strength, StructureDefinition, TypeRef, CONSTRAINTS,
};
use fhir_runtime::Node;
use fhirpath::{
    check_narrative, evaluate_constraint_expr, parse_constraint, ConstraintOutcome, Env, Expr,
    NarrativeIssue,
};
use serde_json::Value;

use crate::{Finding, IssueType, Severity};

/// Element indexes by id, and the children and slices of every element of one
/// snapshot, by element index.
struct SnapshotIndex {
    by_id: HashMap<&'static str, usize>,
    children: Vec<Vec<usize>>,
    slices: Vec<Vec<usize>>,
    /// The name of every element as FHIRPath (and the tree) has it: `value`
    /// for `Extension.value[x]`, and for an element written with its type
    /// (`Extension.valueCode`, ITK's `extension:X.valueBoolean:valueBoolean`).
    names: Vec<&'static str>,
    /// Whether each element is a choice (`value[x]`, or one written with its type).
    choice: Vec<bool>,
    /// Whether each element is a list in instances: by its base definition's
    /// cardinality, which a profile lowering `max` to 1 does not change.
    list: Vec<bool>,
}

impl SnapshotIndex {
    fn new(sd: &'static StructureDefinition) -> Self {
        let n = sd.elements.len();
        let mut by_id: HashMap<&'static str, usize> = HashMap::with_capacity(n);
        for (i, e) in sd.elements.iter().enumerate() {
            by_id.insert(e.id, i);
        }
        let mut children = vec![Vec::new(); n];
        let mut slices = vec![Vec::new(); n];
        for (i, e) in sd.elements.iter().enumerate() {
            let Some(dot) = e.id.rfind('.') else { continue };
            let (parent, segment) = (&e.id[..dot], &e.id[dot + 1..]);
            // Authored ITK snapshots give the children of `a.value[x]:valueCoding`
            // the ids `a.valueCoding:valueCoding.system`: the parent is the element
            // with that slice name and path.
            let parent_index = by_id.get(parent).copied().or_else(|| {
                let (above, last) = parent.rsplit_once('.')?;
                let slice = last.split_once(':')?.1;
                let path = e.path.rsplit_once('.')?.0;
                sd.elements.iter().position(|x| {
                    x.slice_name == Some(slice)
                        && x.path == path
                        && x.id.strip_prefix(above).is_some_and(|r| r.starts_with('.'))
                })
            });
            if let Some(colon) = segment.find(':') {
                let base = format!("{parent}.{}", &segment[..colon]);
                if let Some(&b) = by_id.get(base.as_str()) {
                    slices[b].push(i);
                } else if let Some(p) = parent_index {
                    // A slice of an element the snapshot does not have (ITK's
                    // `extension:X.valueBoolean:valueBoolean`, `extension:X.value[x]:valueCoding`
                    // with no `value[x]`): it stands for that element.
                    children[p].push(i);
                }
            } else if let Some(p) = parent_index {
                children[p].push(i);
            }
        }
        let mut names = Vec::with_capacity(n);
        let mut choice = Vec::with_capacity(n);
        let mut list = Vec::with_capacity(n);
        // Each path's place in the base definitions, from its parent path's: one
        // step per distinct path instead of a walk from the root for every element.
        let mut memo: HashMap<&'static str, Option<BaseAt>> = HashMap::with_capacity(n);
        for e in sd.elements {
            let base = base_at(&mut memo, sd.type_name, e.path).map_or(e, |at| at.found);
            let base_name = element_name(base);
            let own = element_name(e);
            let is_choice = is_choice(base);
            names.push(
                if is_choice && own != base_name && own.starts_with(base_name) {
                    base_name
                } else {
                    own
                },
            );
            choice.push(is_choice);
            list.push(repeats(base));
        }
        SnapshotIndex {
            by_id,
            children,
            slices,
            names,
            choice,
            list,
        }
    }
}

/// Where a profile's element `path` (in a definition of `type_name`) stands in the
/// base definitions: the same path in the type's base definition, through the
/// data types where a profile's snapshot goes deeper than the base's
/// (`Bundle.identifier.type.coding.system` → `Coding.system`), and `value[x]` for
/// `valueCoding`. `found` is the base element it constrains.
#[derive(Clone, Copy)]
struct BaseAt {
    /// The base definition the path has reached.
    sd: &'static StructureDefinition,
    /// The path of `found` there (its children are under it).
    prefix: &'static str,
    found: &'static ElementDefinition,
    /// The type a choice element was narrowed to by its name (`valueCoding` → Coding).
    chosen: Option<&'static str>,
}

impl BaseAt {
    fn root(type_name: &str) -> Option<BaseAt> {
        let sd = base_definition(type_name)?;
        Some(BaseAt {
            sd,
            prefix: sd.type_name,
            found: sd.elements.first()?,
            chosen: None,
        })
    }

    /// The next segment of the path.
    fn step(mut self, seg: &str) -> Option<BaseAt> {
        // Steps into a type or referenced element without finding the segment (a bound).
        let mut hops = 0;
        loop {
            let prefix = self.prefix;
            let child = self.sd.elements.iter().find(|x| {
                x.path
                    .strip_prefix(prefix)
                    .and_then(|r| r.strip_prefix('.'))
                    .is_some_and(|name| {
                        name == seg
                            || name.strip_suffix("[x]").is_some_and(|stem| {
                                seg.strip_prefix(stem).is_some_and(|t| {
                                    x.types.iter().any(|ty| type_suffix(ty.code) == t)
                                })
                            })
                    })
            });
            if let Some(c) = child {
                let typed = seg.get(element_name(c).len()..).unwrap_or("");
                self.chosen = c
                    .types
                    .iter()
                    .find(|ty| is_choice(c) && type_suffix(ty.code) == typed)
                    .map(|ty| ty.code);
                self.found = c;
                self.prefix = c.path;
                return Some(self);
            }
            hops += 1;
            if hops > 2 {
                return None;
            }
            // The base stops here: on into the element's type (or referenced element).
            if let Some(r) = self.found.content_reference {
                let r = r.trim_start_matches('#');
                if r != self.prefix {
                    self.prefix = r;
                    continue;
                }
            }
            let ty = self
                .chosen
                .or_else(|| self.found.types.first().map(|t| t.code))?;
            self.sd = base_definition(ty)?;
            self.prefix = self.sd.type_name;
            self.chosen = None;
        }
    }
}

/// [`BaseAt`] of `path`, from that of its parent path, remembered in `memo`.
fn base_at(
    memo: &mut HashMap<&'static str, Option<BaseAt>>,
    type_name: &str,
    path: &'static str,
) -> Option<BaseAt> {
    if let Some(&at) = memo.get(path) {
        return at;
    }
    let at = match path.rsplit_once('.') {
        None => BaseAt::root(type_name),
        Some((parent, seg)) => base_at(memo, type_name, parent).and_then(|p| p.step(seg)),
    };
    memo.insert(path, at);
    at
}

/// The last segment of an element's path, without `[x]`.
fn element_name(e: &ElementDefinition) -> &'static str {
    let seg = e.path.rsplit('.').next().unwrap_or(e.path);
    seg.strip_suffix("[x]").unwrap_or(seg)
}

fn is_choice(e: &ElementDefinition) -> bool {
    e.path.ends_with("[x]")
}

fn repeats(e: &ElementDefinition) -> bool {
    e.max != Max::Count(1) && e.max != Max::Count(0)
}

fn max_text(max: Max) -> String {
    match max {
        Max::Unbounded => "*".to_owned(),
        Max::Count(n) => n.to_string(),
    }
}

/// `dateTime` → `DateTime` (the type part of a choice element's name).
fn type_suffix(code: &str) -> String {
    let mut c = code.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// Findings gathered during one validation.
struct Cx<'a> {
    findings: Vec<Finding>,
    /// The FHIRPath environment: `%resource` is the resource being walked (for a
    /// contained resource, the resource that contains it: a `#id` reference inside
    /// it points at a sibling in the container, so `ref-1` must look there).
    env: Rc<Env<'a>>,
    /// Nesting of definitions entered through types and profiles (a bound against cycles).
    depth: usize,
    /// Profiles chosen by the caller for resources at given locations
    /// ([`Validator::validate_with_profiles`]).
    profiles: Option<&'a HashMap<String, String>>,
    /// References whose target has the right type but must also conform to a
    /// profile, decided when the walk is over ([`Validator::reference_profiles`]).
    /// `None` in a quiet validation, where only the target's type is checked.
    pending: Option<Vec<PendingTarget<'a>>>,
    /// Which resources were validated against which definitions in this walk:
    /// (resource address, definition address).
    validated: HashSet<(usize, usize)>,
    /// The resources the walk is inside, outermost first: where a reference
    /// resolves (`#id` in their `contained`, others in the Bundles among them).
    resources: Vec<&'a Node>,
}

/// A reference whose target is of an allowed type, to be checked against the
/// profiles of that type the element allows.
struct PendingTarget<'a> {
    /// Where the Reference is.
    loc: String,
    /// Its `reference`.
    reference: &'a str,
    /// The resource it resolves to.
    target: &'a Node,
    /// The allowed profiles of the target's type (constraints, not base types).
    profiles: Vec<&'static StructureDefinition>,
    /// The definition that restricts the reference.
    from: &'static str,
}

impl<'a> Cx<'a> {
    /// A validation of `resource`, its own `%resource`.
    fn new(resource: &'a Node) -> Self {
        Cx {
            findings: Vec::new(),
            env: Rc::new(Env::new(resource).with_resource(resource)),
            depth: 0,
            profiles: None,
            pending: Some(Vec::new()),
            validated: HashSet::new(),
            resources: Vec::new(),
        }
    }

    /// A validation whose findings only decide something (a slice, whether a
    /// reference target conforms): same tree, `%resource` from `env`, inside
    /// `resources` (outermost first).
    fn quiet(&self, env: Rc<Env<'a>>, resources: Vec<&'a Node>) -> Cx<'a> {
        Cx {
            findings: Vec::new(),
            env,
            depth: self.depth + 1,
            profiles: self.profiles,
            pending: None,
            validated: HashSet::new(),
            resources,
        }
    }

    fn add(
        &mut self,
        severity: Severity,
        issue: IssueType,
        location: &str,
        rule: &str,
        profile: &str,
        message: String,
    ) {
        self.findings.push(Finding {
            severity,
            issue,
            location: location.to_owned(),
            rule: rule.to_owned(),
            profile: profile.to_owned(),
            message,
        });
    }
}

/// Validates resources against the StructureDefinitions in [`fhir_definitions`].
///
/// Keeps what it has worked out about snapshots and invariants between calls:
/// reuse one validator for many resources.
#[derive(Default)]
pub struct Validator {
    /// By the definition's address (hashing a URL for every element costs more).
    indexes: RefCell<HashMap<usize, std::rc::Rc<SnapshotIndex>>>,
    /// [`structure_definition`] by URL, and [`base_definition`] by type name: a
    /// binary search over long URLs sharing their prefix, done for most nodes.
    definitions: RefCell<HashMap<String, &'static StructureDefinition>>,
    bases: RefCell<HashMap<&'static str, Option<&'static StructureDefinition>>>,
    expressions: RefCell<HashMap<u16, Result<std::rc::Rc<Expr>, String>>>,
}

impl Validator {
    /// A validator with empty caches.
    pub fn new() -> Self {
        Self::default()
    }

    /// Validates a resource tree against its base definition and every profile in
    /// its `meta.profile`.
    pub fn validate(&self, resource: &Node) -> Vec<Finding> {
        let mut cx = Cx::new(resource);
        self.resource(&mut cx, resource, resource.type_name, None);
        self.reference_profiles(&mut cx);
        finish(cx.findings)
    }

    /// Validates a resource tree against one StructureDefinition (by canonical URL),
    /// and the resources it holds against their own definitions. Unknown URLs give
    /// an error finding.
    pub fn validate_against(&self, resource: &Node, profile_url: &str) -> Vec<Finding> {
        let mut cx = Cx::new(resource);
        match structure_definition(profile_url) {
            Some(sd) => {
                if sd.type_name != resource.type_name {
                    cx.add(
                        Severity::Error,
                        IssueType::Structure,
                        resource.type_name,
                        "profile",
                        sd.url,
                        format!(
                            "the profile is for {}, the resource is a {}",
                            sd.type_name, resource.type_name
                        ),
                    );
                } else {
                    self.element(&mut cx, resource, sd, 0, resource.type_name);
                }
            }
            None => cx.add(
                Severity::Error,
                IssueType::NotSupported,
                resource.type_name,
                "profile",
                profile_url,
                format!("no StructureDefinition {profile_url} in the packages"),
            ),
        }
        self.reference_profiles(&mut cx);
        finish(cx.findings)
    }

    /// Which slice of the sliced element `element_id` (e.g. `Patient.identifier`) of
    /// profile `profile_url` the list item `item` belongs to, judged by the
    /// slicing's discriminators exactly as validation judges it: the slice's name,
    /// or `None` when it matches no slice (or the profile or element is unknown,
    /// or the element is not sliced).
    pub fn slice_of(
        &self,
        profile_url: &str,
        element_id: &str,
        item: &Node,
    ) -> Option<&'static str> {
        let sd = structure_definition(profile_url)?;
        let index = self.index(sd);
        let &k = index.by_id.get(element_id)?;
        let slicing = sd.elements[k].slicing.as_ref()?;
        let mut cx = Cx::new(item);
        index.slices[k]
            .iter()
            .copied()
            .find(|&s| self.in_slice(&mut cx, item, sd, s, slicing.discriminators))
            .and_then(|s| sd.elements[s].slice_name)
    }

    /// Validates a resource tree as [`validate`](Self::validate) does, except that a
    /// resource (the root, a contained one or a Bundle entry's) whose FHIRPath location
    /// is a key of `profiles` (`Bundle`, `Bundle.entry[2].resource.ofType(Bundle)`,
    /// `Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition)`)
    /// is validated against that profile only, instead of its base definition and
    /// `meta.profile`s. Each resource is still visited once, with its own `%resource`,
    /// so nothing is reported twice. A profile that is unknown or for another type gives
    /// an error finding, and the resource is then validated as `validate` would.
    pub fn validate_with_profiles(
        &self,
        resource: &Node,
        profiles: &HashMap<String, String>,
    ) -> Vec<Finding> {
        let mut cx = Cx::new(resource);
        cx.profiles = Some(profiles);
        self.resource(&mut cx, resource, resource.type_name, None);
        self.reference_profiles(&mut cx);
        finish(cx.findings)
    }

    /// [`structure_definition`], cached.
    fn definition(&self, url: &str) -> Option<&'static StructureDefinition> {
        if let Some(&found) = self.definitions.borrow().get(url) {
            return Some(found);
        }
        let found = structure_definition(url)?;
        // Only what exists: unknown URLs from a message do not grow the cache.
        self.definitions.borrow_mut().insert(url.to_owned(), found);
        Some(found)
    }

    /// [`base_definition`], cached.
    fn base(&self, type_name: &'static str) -> Option<&'static StructureDefinition> {
        *self
            .bases
            .borrow_mut()
            .entry(type_name)
            .or_insert_with(|| base_definition(type_name))
    }

    fn index(&self, sd: &'static StructureDefinition) -> std::rc::Rc<SnapshotIndex> {
        self.indexes
            .borrow_mut()
            .entry(sd as *const StructureDefinition as usize)
            .or_insert_with(|| std::rc::Rc::new(SnapshotIndex::new(sd)))
            .clone()
    }

    fn expression(&self, i: u16) -> Result<std::rc::Rc<Expr>, String> {
        self.expressions
            .borrow_mut()
            .entry(i)
            .or_insert_with(|| {
                parse_constraint(CONSTRAINTS[usize::from(i)].expression)
                    .map(std::rc::Rc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// A resource (the root, a contained one, a Bundle entry's): its base type's
    /// definition and its `meta.profile`s (or just `only` when given, or the profile
    /// the caller chose for this location).
    fn resource<'a>(&self, cx: &mut Cx<'a>, node: &'a Node, loc: &str, only: Option<&str>) {
        if let Some(url) = cx.profiles.and_then(|p| p.get(loc)) {
            match structure_definition(url) {
                Some(sd) if sd.type_name == node.type_name => {
                    self.element(cx, node, sd, 0, loc);
                    return;
                }
                Some(sd) => cx.add(
                    Severity::Error,
                    IssueType::Structure,
                    loc,
                    "profile",
                    sd.url,
                    format!(
                        "the profile is for {}, the resource is a {}",
                        sd.type_name, node.type_name
                    ),
                ),
                None => cx.add(
                    Severity::Error,
                    IssueType::NotSupported,
                    loc,
                    "profile",
                    url,
                    format!("no StructureDefinition {url} in the packages"),
                ),
            }
        }
        let Some(base) = self.base(node.type_name) else {
            cx.add(
                Severity::Error,
                IssueType::NotSupported,
                loc,
                "type",
                "",
                format!("{} is not a resource type of the packages", node.type_name),
            );
            return;
        };
        if let Some(url) = only {
            if let Some(sd) = self.definition(url) {
                self.element(cx, node, sd, 0, loc);
                return;
            }
        }
        self.element(cx, node, base, 0, loc);
        let profiles: Vec<&str> = node
            .child("meta")
            .map(|m| {
                m.children_named("profile")
                    .filter_map(|p| p.value.as_deref())
                    .collect()
            })
            .unwrap_or_default();
        for url in profiles {
            match self.definition(url) {
                Some(sd) if sd.type_name == node.type_name => self.element(cx, node, sd, 0, loc),
                Some(sd) => cx.add(
                    Severity::Error,
                    IssueType::Structure,
                    &format!("{loc}.meta.profile"),
                    "profile",
                    sd.url,
                    format!(
                        "claims the profile {url}, which is for {}, not {}",
                        sd.type_name, node.type_name
                    ),
                ),
                None => cx.add(
                    Severity::Warning,
                    IssueType::NotSupported,
                    &format!("{loc}.meta.profile"),
                    "profile",
                    url,
                    format!("the profile {url} is not in the packages, so it was not checked"),
                ),
            }
        }
    }

    /// Checks `node` against element `idx` of `sd`, then its children.
    fn element<'a>(
        &self,
        cx: &mut Cx<'a>,
        node: &'a Node,
        sd: &'static StructureDefinition,
        idx: usize,
        loc: &str,
    ) {
        if cx.depth > 64 {
            return;
        }
        cx.depth += 1;
        let e = &sd.elements[idx];
        let resource = idx == 0 && node.is_resource;
        if resource {
            if cx.pending.is_some() {
                cx.validated.insert((addr(node), addr(sd)));
            }
            cx.resources.push(node);
        }
        self.invariants(cx, node, sd, e, loc);
        self.value_rules(cx, node, sd, e, loc);
        if node.type_name == "Reference" {
            self.reference_target(cx, node, sd, e, loc);
        }
        let index = self.index(sd);
        let mut kids: &[usize] = &index.children[idx];
        // `#Questionnaire.item`: the referenced element's children.
        if let Some(&r) = e.content_reference.and_then(|t| index.by_id.get(t)) {
            kids = &index.children[r];
        }
        if kids.is_empty() {
            if !node.children.is_empty() || node.value.is_some() {
                self.by_type(cx, node, sd, e, loc);
            }
            if resource {
                cx.resources.pop();
            }
            cx.depth -= 1;
            return;
        }
        for &k in kids {
            self.child(cx, node, sd, &index, k, loc);
        }
        if resource {
            cx.resources.pop();
        }
        cx.depth -= 1;
    }

    /// Children whose definitions this snapshot does not spell out: use the
    /// definition of the node's type (and the type's profile, if the element names one).
    fn by_type<'a>(
        &self,
        cx: &mut Cx<'a>,
        node: &'a Node,
        sd: &'static StructureDefinition,
        e: &ElementDefinition,
        loc: &str,
    ) {
        if node.is_resource {
            return; // resources are validated on their own (see `child`)
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
            match self.definition(profile) {
                Some(psd) => {
                    if !std::ptr::eq(psd, sd) {
                        self.element(cx, node, psd, 0, loc);
                    }
                    return;
                }
                None => cx.add(
                    Severity::Warning,
                    IssueType::NotSupported,
                    loc,
                    "profile",
                    profile,
                    format!("the profile {profile} is not in the packages, so it was not checked"),
                ),
            }
        }
        if code == "Extension" {
            self.extension_by_url(cx, node, loc);
            return;
        }
        if let Some(tsd) = self.base(code) {
            if !std::ptr::eq(tsd, sd) && tsd.derivation == Derivation::Specialization {
                self.element(cx, node, tsd, 0, loc);
            }
        }
    }

    /// An extension with no profile from its slice: its own `url` names its definition.
    fn extension_by_url<'a>(&self, cx: &mut Cx<'a>, node: &'a Node, loc: &str) {
        let url = node.child_value("url").unwrap_or("");
        match self.definition(url) {
            Some(xsd) if xsd.type_name == "Extension" => self.element(cx, node, xsd, 0, loc),
            _ => {
                cx.add(
                    Severity::Warning,
                    IssueType::NotSupported,
                    loc,
                    "extension",
                    url,
                    format!("the extension {url} is not defined in the packages; only the base rules of Extension were checked"),
                );
                if let Some(base) = self.base("Extension") {
                    self.element(cx, node, base, 0, loc);
                }
            }
        }
    }

    /// One child definition `k` of the element `node` stands for.
    fn child<'a>(
        &self,
        cx: &mut Cx<'a>,
        node: &'a Node,
        sd: &'static StructureDefinition,
        index: &SnapshotIndex,
        k: usize,
        loc: &str,
    ) {
        let c = &sd.elements[k];
        let name = index.names[k];
        if name == "value" && c.types.iter().all(|t| t.code.is_empty()) {
            // A primitive's value: held in the node itself.
            if c.min > 0 && node.value.is_none() {
                cx.add(
                    Severity::Error,
                    IssueType::Required,
                    loc,
                    "cardinality",
                    sd.url,
                    "the value is required".to_owned(),
                );
            }
            return;
        }
        let nodes: Vec<&Node> = node.children_named(name).collect();
        let slices = &index.slices[k];
        if nodes.is_empty()
            && c.min == 0
            && (c.slicing.is_none() || slices.iter().all(|&s| sd.elements[s].min == 0))
        {
            return; // absent and optional: nothing to check, no location to write
        }
        let here = format!("{loc}.{name}");
        cardinality(
            cx,
            nodes.len(),
            c.min,
            c.max,
            &here,
            sd,
            Label::Element(name),
        );
        if nodes.is_empty() {
            // Required slices of an absent element are missing too.
            if c.slicing.is_some() {
                for &s in slices {
                    let e = &sd.elements[s];
                    let label = Label::Slice(e.slice_name.unwrap_or(""));
                    cardinality(cx, 0, e.min, e.max, &here, sd, label);
                }
            }
            return;
        }
        if c.slicing.is_some() && !slices.is_empty() {
            self.slicing(cx, &nodes, sd, index, k, &here);
            return;
        }
        for (i, n) in nodes.iter().enumerate() {
            let at = item_location(&here, index, k, i, n);
            self.item(cx, n, sd, k, index.choice[k], &at);
        }
    }

    /// One item of a child element, against element `k` (a choice element when
    /// `choice`: its types are the allowed ones).
    fn item<'a>(
        &self,
        cx: &mut Cx<'a>,
        n: &'a Node,
        sd: &'static StructureDefinition,
        k: usize,
        choice: bool,
        at: &str,
    ) {
        let c = &sd.elements[k];
        if choice && !c.types.iter().any(|t| type_suffix(t.code) == n.choice_type) {
            let allowed: Vec<&str> = c.types.iter().map(|t| t.code).collect();
            cx.add(
                Severity::Error,
                IssueType::Value,
                at,
                "type",
                sd.url,
                format!(
                    "type {} is not allowed here (allowed: {})",
                    n.choice_type,
                    allowed.join(", ")
                ),
            );
            return;
        }
        if n.is_resource {
            let only = c.types.iter().find_map(|t| t.profile);
            let saved = cx.env.clone();
            if !c.path.ends_with(".contained") {
                cx.env = Rc::new(cx.env.for_resource(n));
            }
            self.resource(cx, n, &format!("{at}.ofType({})", n.type_name), only);
            cx.env = saved;
            return;
        }
        self.element(cx, n, sd, k, at);
    }

    /// Sliced items: which slice each belongs to, slice cardinality, order, closed
    /// slicing; then each item against its slice.
    fn slicing<'a>(
        &self,
        cx: &mut Cx<'a>,
        nodes: &[&'a Node],
        sd: &'static StructureDefinition,
        index: &SnapshotIndex,
        k: usize,
        here: &str,
    ) {
        let slices = &index.slices[k];
        let c = &sd.elements[k];
        let Some(slicing) = &c.slicing else { return };
        let mut assigned: Vec<Option<usize>> = Vec::with_capacity(nodes.len());
        for n in nodes {
            let slot = slices
                .iter()
                .position(|&s| self.in_slice(cx, n, sd, s, slicing.discriminators));
            assigned.push(slot);
        }
        let mut last_slice = 0usize;
        let mut seen_unsliced = false;
        for (i, slot) in assigned.iter().enumerate() {
            let at = item_location(here, index, k, i, nodes[i]);
            match slot {
                None => {
                    seen_unsliced = true;
                    if slicing.rules == SlicingRules::Closed {
                        cx.add(
                            Severity::Error,
                            IssueType::Structure,
                            &at,
                            "slicing",
                            sd.url,
                            "the item matches none of the slices, and the slicing is closed"
                                .to_owned(),
                        );
                    }
                }
                Some(s) => {
                    if seen_unsliced && slicing.rules == SlicingRules::OpenAtEnd {
                        cx.add(
                            Severity::Error,
                            IssueType::Structure,
                            &at,
                            "slicing",
                            sd.url,
                            format!(
                                "slice `{}` comes after an item of no slice; other items must come last (openAtEnd)",
                                sd.elements[slices[*s]].slice_name.unwrap_or("")
                            ),
                        );
                    }
                    if slicing.ordered && *s < last_slice {
                        cx.add(
                            Severity::Error,
                            IssueType::Structure,
                            &at,
                            "slicing",
                            sd.url,
                            format!(
                                "slice `{}` is out of order (the slicing is ordered)",
                                sd.elements[slices[*s]].slice_name.unwrap_or("")
                            ),
                        );
                    }
                    last_slice = last_slice.max(*s);
                }
            }
        }
        for (si, &s) in slices.iter().enumerate() {
            let count = assigned.iter().filter(|a| **a == Some(si)).count();
            let e = &sd.elements[s];
            cardinality(
                cx,
                count,
                e.min,
                e.max,
                here,
                sd,
                Label::Slice(e.slice_name.unwrap_or("")),
            );
        }
        for (i, n) in nodes.iter().enumerate() {
            let at = item_location(here, index, k, i, n);
            match assigned[i] {
                Some(si) => self.item(cx, n, sd, slices[si], index.choice[slices[si]], &at),
                None => self.item(cx, n, sd, k, index.choice[k], &at),
            }
        }
    }

    /// Whether item `n` belongs to slice element `s`, by every discriminator.
    fn in_slice<'a>(
        &self,
        cx: &mut Cx<'a>,
        n: &'a Node,
        sd: &'static StructureDefinition,
        s: usize,
        discriminators: &[fhir_definitions::Discriminator],
    ) -> bool {
        let slice = &sd.elements[s];
        discriminators.iter().all(|d| {
            let path = d.path;
            match d.kind {
                DiscriminatorKind::Value | DiscriminatorKind::Pattern => {
                    let Some((json, exact)) = self.slice_value(sd, s, path) else {
                        return false;
                    };
                    let targets = navigate(n, path);
                    !targets.is_empty()
                        && targets.iter().any(|t| {
                            matches_json(t, &json, exact && d.kind == DiscriminatorKind::Value)
                        })
                }
                DiscriminatorKind::Exists => {
                    let present = !navigate(n, path).is_empty();
                    match self.element_at(sd, s, path) {
                        Some(e) if e.max == Max::Count(0) => !present,
                        Some(e) if e.min > 0 => present,
                        _ => true,
                    }
                }
                DiscriminatorKind::Type => {
                    let e = self.element_at(sd, s, path).unwrap_or(slice);
                    let targets = navigate(n, path);
                    targets.iter().any(|t| {
                        e.types.iter().any(|ty| {
                            ty.code == t.type_name || type_suffix(ty.code) == t.choice_type
                        })
                    })
                }
                DiscriminatorKind::Profile => {
                    let e = self.element_at(sd, s, path).unwrap_or(slice);
                    let Some(url) = e.types.iter().find_map(|t| t.profile.or(t.target_profile))
                    else {
                        return false;
                    };
                    let Some(psd) = self.definition(url) else {
                        return false;
                    };
                    navigate(n, path).iter().any(|t| {
                        let mut quiet = cx.quiet(cx.env.clone(), cx.resources.clone());
                        self.element(&mut quiet, t, psd, 0, "");
                        !quiet.findings.iter().any(|f| f.severity == Severity::Error)
                    })
                }
            }
        })
    }

    /// The element a discriminator path reaches from slice element `s`.
    fn element_at(
        &self,
        sd: &'static StructureDefinition,
        s: usize,
        path: &str,
    ) -> Option<&'static ElementDefinition> {
        if path == "$this" {
            return Some(&sd.elements[s]);
        }
        let id = format!("{}.{path}", sd.elements[s].id);
        let i = *self.index(sd).by_id.get(id.as_str())?;
        Some(&sd.elements[i])
    }

    /// The value a slice fixes at a discriminator path (`url`, `system`, `coding.code`):
    /// the FHIR JSON and whether it is fixed (exact) rather than a pattern.
    fn slice_value(
        &self,
        sd: &'static StructureDefinition,
        s: usize,
        path: &str,
    ) -> Option<(Value, bool)> {
        if let Some(e) = self.element_at(sd, s, path) {
            if let Some(f) = &e.fixed {
                return serde_json::from_str(f.json).ok().map(|v| (v, true));
            }
            if let Some(p) = &e.pattern {
                return serde_json::from_str(p.json).ok().map(|v| (v, false));
            }
        }
        // An extension slice: its url is the profile's.
        if path == "url" {
            let slice = &sd.elements[s];
            if let Some(url) = slice.types.iter().find_map(|t| t.profile) {
                return Some((Value::String(url.to_owned()), true));
            }
        }
        None
    }

    fn invariants<'a>(
        &self,
        cx: &mut Cx<'a>,
        node: &'a Node,
        sd: &'static StructureDefinition,
        e: &ElementDefinition,
        loc: &str,
    ) {
        // txt-1 and txt-2 share it: the narrative is checked once for both.
        let mut narrative: Option<Vec<NarrativeIssue>> = None;
        for &i in e.constraints {
            let c = &CONSTRAINTS[usize::from(i)];
            if c.expression.trim() == "htmlchecks()" {
                // txt-1 and txt-2 share the expression: the native check tells which
                // rule each problem breaks.
                if let Some(div) = &node.value {
                    for issue in narrative.get_or_insert_with(|| check_narrative(div)).iter() {
                        if issue.rule.key() == c.key {
                            cx.add(
                                Severity::Error,
                                IssueType::Invariant,
                                loc,
                                c.key,
                                sd.url,
                                format!("{} ({})", c.human, issue.message),
                            );
                        }
                    }
                }
                continue;
            }
            let outcome = match self.expression(i) {
                Ok(expr) => evaluate_constraint_expr(&expr, node, &cx.env),
                Err(why) => ConstraintOutcome::NotEvaluated(format!("cannot parse: {why}")),
            };
            match outcome {
                ConstraintOutcome::Pass => {}
                ConstraintOutcome::Fail => {
                    let severity = match c.severity {
                        fhir_definitions::ConstraintSeverity::Error => Severity::Error,
                        fhir_definitions::ConstraintSeverity::Warning => Severity::Warning,
                    };
                    cx.add(
                        severity,
                        IssueType::Invariant,
                        loc,
                        c.key,
                        sd.url,
                        format!("{} (`{}`)", c.human, c.expression),
                    );
                }
                ConstraintOutcome::NotEvaluated(why) => cx.add(
                    Severity::Warning,
                    IssueType::NotSupported,
                    loc,
                    c.key,
                    sd.url,
                    format!("invariant {} was not evaluated: {why}", c.key),
                ),
            }
        }
    }

    /// fixed, pattern, binding and maxLength on the node itself.
    fn value_rules<'a>(
        &self,
        cx: &mut Cx<'a>,
        node: &'a Node,
        sd: &'static StructureDefinition,
        e: &ElementDefinition,
        loc: &str,
    ) {
        if let Some(f) = &e.fixed {
            if let Ok(json) = serde_json::from_str::<Value>(f.json) {
                if !matches_json(node, &json, true) {
                    cx.add(
                        Severity::Error,
                        IssueType::Value,
                        loc,
                        "fixed",
                        sd.url,
                        format!("the value must be exactly {}", f.json),
                    );
                }
            }
        }
        if let Some(p) = &e.pattern {
            if let Ok(json) = serde_json::from_str::<Value>(p.json) {
                if !matches_json(node, &json, false) {
                    cx.add(
                        Severity::Error,
                        IssueType::Value,
                        loc,
                        "pattern",
                        sd.url,
                        format!("the value must match the pattern {}", p.json),
                    );
                }
            }
        }
        if let (Some(max), Some(v)) = (e.max_length, &node.value) {
            if v.chars().count() > max as usize {
                cx.add(
                    Severity::Error,
                    IssueType::Value,
                    loc,
                    "maxLength",
                    sd.url,
                    format!("the value is longer than {max} characters"),
                );
            }
        }
        if let Some(b) = &e.binding {
            self.binding(cx, node, sd, b, loc);
        }
    }

    fn binding<'a>(
        &self,
        cx: &mut Cx<'a>,
        node: &'a Node,
        sd: &'static StructureDefinition,
        b: &fhir_definitions::Binding,
        loc: &str,
    ) {
        let severity = match b.strength {
            Strength::Required => Severity::Error,
            Strength::Extensible => Severity::Warning,
            Strength::Preferred | Strength::Example => return,
        };
        let Some(url) = b.value_set else { return };
        // The codes the node carries: (system, code).
        let codes: Vec<(Option<&str>, &str)> = match node.type_name {
            "Coding" => coding(node).into_iter().collect(),
            "CodeableConcept" => node.children_named("coding").filter_map(coding).collect(),
            "Quantity" | "Age" | "Duration" | "Count" | "Distance" | "Money" => {
                match node.child_value("code") {
                    Some(code) => vec![(node.child_value("system"), code)],
                    None => return,
                }
            }
            _ if node.is_primitive() => match &node.value {
                Some(v) => vec![(None, v.as_str())],
                None => return,
            },
            _ => return,
        };
        if codes.is_empty() {
            if node.type_name == "CodeableConcept" && b.strength == Strength::Required {
                cx.add(
                    severity,
                    IssueType::CodeInvalid,
                    loc,
                    "binding",
                    sd.url,
                    format!("no coding given; a code from {url} is required"),
                );
            }
            return;
        }
        let Some(vs) = value_set(url) else {
            cx.add(
                Severity::Information,
                IssueType::NotSupported,
                loc,
                "binding",
                sd.url,
                format!(
                    "the binding to {url} was not checked: the value set is not in the packages"
                ),
            );
            return;
        };
        match vs.expansion {
            Err(why) => cx.add(
                Severity::Information,
                IssueType::NotSupported,
                loc,
                "binding",
                sd.url,
                format!("the binding to {url} was not checked: {why}"),
            ),
            Ok(_) => {
                let ok = codes
                    .iter()
                    .any(|(system, code)| vs.contains(*system, code) == Some(true));
                if !ok {
                    let shown: Vec<String> = codes
                        .iter()
                        .map(|(s, c)| match s {
                            Some(s) => format!("{s}#{c}"),
                            None => (*c).to_owned(),
                        })
                        .collect();
                    let strength = if b.strength == Strength::Required {
                        "required"
                    } else {
                        "extensible"
                    };
                    cx.add(
                        severity,
                        IssueType::CodeInvalid,
                        loc,
                        "binding",
                        sd.url,
                        format!(
                            "{} is not in the value set {url} ({strength} binding)",
                            shown.join(", ")
                        ),
                    );
                }
            }
        }
    }
}

/// The core definition of every resource: a reference to it allows any target.
const ANY_RESOURCE: &str = "http://hl7.org/fhir/StructureDefinition/Resource";

impl Validator {
    /// A Reference whose element restricts its targets (`Reference(Organization)`,
    /// `Reference(CareConnect-Patient-1)`; for a choice, its `Reference` types).
    /// When `reference` resolves in the tree as FHIRPath's `resolve()` does (a
    /// contained resource, a Bundle entry), the target must be of the type of one
    /// of the target profiles; when those of its type are all profiles (not its
    /// base definition), it must also conform to one of them, which is decided when
    /// the walk is over ([`Self::reference_profiles`]). A reference that does not
    /// resolve (external, logical, not in the Bundle) is not checked.
    fn reference_target<'a>(
        &self,
        cx: &mut Cx<'a>,
        node: &'a Node,
        sd: &'static StructureDefinition,
        e: &ElementDefinition,
        loc: &str,
    ) {
        // One package writes a URL with spaces around it.
        let target_profile = |t: &TypeRef| t.target_profile.map(str::trim);
        let mut refs = e.types.iter().filter(|t| t.code == "Reference").peekable();
        if refs.peek().is_none()
            || refs.any(|t| target_profile(t).is_none_or(|url| url == ANY_RESOURCE))
        {
            return; // `Reference(Any)`, or no restriction
        }
        let Some(reference) = node.child_value("reference") else {
            return;
        };
        // As FHIRPath's resolve(), from the resources the walk is in.
        let Some(target) = cx
            .env
            .resolve_within(cx.resources.iter().rev().copied(), reference)
        else {
            return;
        };
        let mut types: Vec<&'static str> = Vec::new();
        let mut unknown: Vec<&'static str> = Vec::new();
        let mut profiles: Vec<&'static StructureDefinition> = Vec::new();
        let allowed = e
            .types
            .iter()
            .filter(|t| t.code == "Reference")
            .filter_map(target_profile);
        for url in allowed {
            match self.definition(url) {
                None => unknown.push(url),
                Some(d) if d.type_name == "Resource" => return,
                Some(d) if d.type_name == target.type_name => {
                    if d.derivation == Derivation::Specialization {
                        return; // any resource of the type
                    }
                    profiles.push(d);
                }
                Some(d) => types.push(d.type_name),
            }
        }
        if !unknown.is_empty() {
            // The target may be meant for a profile the packages do not define.
            cx.add(
                Severity::Information,
                IssueType::NotSupported,
                loc,
                "reference-target",
                sd.url,
                format!(
                    "the target of {reference} ({}) was not checked: the allowed target profile(s) {} are not in the packages",
                    a(target.type_name),
                    unknown.join(", ")
                ),
            );
            return;
        }
        if profiles.is_empty() {
            types.sort_unstable();
            types.dedup();
            cx.add(
                Severity::Error,
                IssueType::Structure,
                loc,
                "reference-target",
                sd.url,
                format!(
                    "{reference} refers to {}; allowed here: {}",
                    a(target.type_name),
                    types.join(", ")
                ),
            );
            return;
        }
        if let Some(pending) = &mut cx.pending {
            pending.push(PendingTarget {
                loc: loc.to_owned(),
                reference,
                target,
                profiles,
                from: sd.url,
            });
        }
    }

    /// Decides the references whose target is of an allowed type but must conform
    /// to one of the allowed profiles of that type. A target this walk validated
    /// against one of them (it claims it in `meta.profile`, or the caller chose it
    /// for its location) passes here: what it breaks of that profile is reported
    /// at the target, not again at each reference. Any other target is validated
    /// quietly against each allowed profile (once per target and profile, its own
    /// references checked for type only); none of them giving no error is an error
    /// at the reference.
    fn reference_profiles(&self, cx: &mut Cx<'_>) {
        let Some(pending) = cx.pending.take() else {
            return;
        };
        // (target, profile) → the first error of the target against the profile.
        let mut verdicts: HashMap<(usize, usize), Option<String>> = HashMap::new();
        for p in pending {
            let t = addr(p.target);
            if p.profiles
                .iter()
                .any(|d| cx.validated.contains(&(t, addr(*d))))
            {
                continue;
            }
            let mut first_problem: Option<(&str, String)> = None;
            let mut conforms = false;
            for &d in &p.profiles {
                let verdict = verdicts
                    .entry((t, addr(d)))
                    .or_insert_with(|| self.first_error(cx, p.target, d));
                match verdict {
                    None => {
                        conforms = true;
                        break;
                    }
                    Some(why) => {
                        first_problem.get_or_insert((d.url, why.clone()));
                    }
                }
            }
            if conforms {
                continue;
            }
            let urls: Vec<&str> = p.profiles.iter().map(|d| d.url).collect();
            let (url, why) = first_problem.unwrap_or_default();
            cx.add(
                Severity::Error,
                IssueType::Structure,
                &p.loc,
                "reference-target",
                p.from,
                format!(
                    "{} refers to {} that does not conform to {} (it is not validated against {} here, and against {url}: {why})",
                    p.reference,
                    a(p.target.type_name),
                    if urls.len() == 1 { urls[0].to_owned() } else { format!("any of {}", urls.join(", ")) },
                    if urls.len() == 1 { "it" } else { "them" },
                ),
            );
        }
    }

    /// The first error of `target` validated quietly against `profile`, or `None`
    /// when there is none. `%resource` is the target, or its container when it is
    /// a contained resource (as in the walk).
    fn first_error<'a>(
        &self,
        cx: &Cx<'a>,
        target: &'a Node,
        profile: &'static StructureDefinition,
    ) -> Option<String> {
        let resource = match cx.env.parent_of(target) {
            Some(container) if target.name == "contained" => container,
            _ => target,
        };
        // The resources around the target (this builds the tree's parent map).
        let mut around: Vec<&'a Node> = cx
            .env
            .ancestors_or_self(target)
            .into_iter()
            .skip(1)
            .filter(|n| n.is_resource)
            .collect();
        around.reverse();
        let mut quiet = cx.quiet(Rc::new(cx.env.for_resource(resource)), around);
        // The caller's profiles are by location from the root; the quiet walk's
        // locations start at the target.
        quiet.profiles = None;
        self.element(&mut quiet, target, profile, 0, target.type_name);
        quiet
            .findings
            .into_iter()
            .find(|f| f.severity == Severity::Error)
            .map(|f| format!("{}: {}", f.location, f.message))
    }
}

/// `a Patient`, `an Organization`.
fn a(type_name: &str) -> String {
    let article = if type_name.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

/// A node's or a definition's identity (its address).
fn addr<T>(x: &T) -> usize {
    x as *const T as usize
}

fn coding(n: &Node) -> Option<(Option<&str>, &str)> {
    n.child_value("code").map(|c| (n.child_value("system"), c))
}

/// `here[i]` for elements that are lists, `here.ofType(T)` for choices (element
/// `k` of the snapshot `index` describes).
fn item_location(here: &str, index: &SnapshotIndex, k: usize, i: usize, n: &Node) -> String {
    let mut at = here.to_owned();
    if index.list[k] {
        at.push_str(&format!("[{i}]"));
    }
    if index.choice[k] && !n.choice_type.is_empty() {
        at.push_str(&format!(".ofType({})", n.choice_type));
    }
    at
}

/// What a cardinality finding counts: written only when there is a finding.
enum Label<'s> {
    Element(&'s str),
    Slice(&'s str),
}

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Element(name) => write!(f, "`{name}`"),
            Label::Slice(name) => write!(f, "slice `{name}`"),
        }
    }
}

fn cardinality(
    cx: &mut Cx<'_>,
    count: usize,
    min: u32,
    max: Max,
    here: &str,
    sd: &StructureDefinition,
    what: Label<'_>,
) {
    if count < min as usize {
        cx.add(
            Severity::Error,
            IssueType::Required,
            here,
            "cardinality",
            sd.url,
            format!(
                "{what} has {count} item(s); at least {min} required ({min}..{})",
                max_text(max)
            ),
        );
    }
    if let Max::Count(m) = max {
        if count > m as usize {
            cx.add(
                Severity::Error,
                IssueType::Structure,
                here,
                "cardinality",
                sd.url,
                format!("{what} has {count} item(s); at most {m} allowed ({min}..{m})"),
            );
        }
    }
}

/// The nodes a simple discriminator path (`url`, `system`, `coding.code`,
/// `$this`) reaches from `n`.
fn navigate<'n>(n: &'n Node, path: &'n str) -> Vec<&'n Node> {
    let mut current = vec![n];
    if path == "$this" {
        return current;
    }
    for seg in path.split('.') {
        let seg = seg.trim_end_matches("[x]");
        let mut next = Vec::new();
        for c in &current {
            next.extend(c.children_named(seg));
        }
        current = next;
    }
    current
}

/// Whether `n` holds the FHIR JSON value `json`: exactly (`fixed`), or at least
/// its parts (`pattern`).
fn matches_json(n: &Node, json: &Value, exact: bool) -> bool {
    match json {
        Value::String(s) => n.value.as_deref() == Some(s.as_str()),
        Value::Bool(b) => n.value.as_deref() == Some(if *b { "true" } else { "false" }),
        Value::Number(num) => n
            .value
            .as_deref()
            .is_some_and(|v| v == num.to_string() || v.parse::<f64>().ok() == num.as_f64()),
        Value::Object(map) => {
            for (k, v) in map {
                if k.starts_with('_') || k == "resourceType" {
                    continue;
                }
                let kids: Vec<&Node> = n
                    .children
                    .iter()
                    .filter(|c| c.name == k || c.full_name() == *k)
                    .collect();
                match v {
                    Value::Array(items) => {
                        if !items
                            .iter()
                            .all(|item| kids.iter().any(|c| matches_json(c, item, exact)))
                        {
                            return false;
                        }
                        if exact && kids.len() != items.len() {
                            return false;
                        }
                    }
                    _ => {
                        if !kids.iter().any(|c| matches_json(c, v, exact)) {
                            return false;
                        }
                    }
                }
            }
            if exact {
                // Nothing but the fixed parts (ids and extensions aside).
                return n.children.iter().all(|c| {
                    c.name == "id"
                        || c.name == "extension"
                        || map.contains_key(c.name)
                        || map.contains_key(&c.full_name())
                });
            }
            true
        }
        Value::Array(_) | Value::Null => false,
    }
}

/// Sorted, without duplicates (the same rule reached through two definitions).
fn finish(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| {
        (a.severity, &a.location, &a.rule, &a.message, &a.profile).cmp(&(
            b.severity,
            &b.location,
            &b.rule,
            &b.message,
            &b.profile,
        ))
    });
    findings.dedup_by(|a, b| {
        a.severity == b.severity
            && a.location == b.location
            && a.rule == b.rule
            && a.message == b.message
    });
    findings
}
