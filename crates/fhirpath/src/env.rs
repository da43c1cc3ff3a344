//! The evaluation environment: the tree being evaluated, external constants,
//! ancestors of nodes (for `%resource` and `resolve()`), and recorded traces.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use fhir_runtime::Node;
use regex::Regex;

use crate::html::NarrativeIssue;
use crate::value::Item;

/// One call of `trace()`: its name and the items it saw, as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The `name` argument.
    pub name: String,
    /// The traced items (or their projection), each as `toString()` would give it
    /// (`Type` for complex nodes).
    pub values: Vec<String>,
}

/// The environment of an evaluation.
///
/// It holds the *root* of the tree that the focus nodes belong to: the resource
/// that was read (for a message, the whole `Bundle`). Ancestors are found without
/// the caller's help: the first time one is needed, a map from each node (by
/// address) to its parent is built in one pass over the root (`O(n)`), and every
/// later lookup walks up that map. So `%resource` (the nearest resource containing
/// the focus: a contained resource or a `Bundle.entry.resource` is its own
/// `%resource`), `#id` references (contained resources of the containing resources)
/// and Bundle references (the entries of every enclosing `Bundle`) are found
/// for any node of the root's tree. A focus that is not in the root's tree has no
/// ancestors: it is its own `%resource` if it is a resource, else the root is.
///
/// An `Env` is meant to be reused for every evaluation over the same root; it is
/// not `Sync` (it caches with `RefCell`s).
pub struct Env<'a> {
    root: &'a Node,
    resource: Option<&'a Node>,
    variables: HashMap<String, Vec<Item<'a>>>,
    /// Shared by the environments [`Env::for_resource`] derives from this one.
    parents: Rc<OnceCell<HashMap<usize, &'a Node>>>,
    record_traces: bool,
    traces: RefCell<Vec<Trace>>,
    narrative: RefCell<Vec<NarrativeIssue>>,
    regexes: Rc<RefCell<HashMap<String, Regex>>>,
    /// The entries of each Bundle references were resolved in, by the Bundle's
    /// address: built on the first reference into it, shared like `parents`.
    bundles: Rc<RefCell<HashMap<usize, Rc<BundleIndex<'a>>>>>,
}

impl<'a> Env<'a> {
    /// An environment for evaluations on `root` or on nodes inside it.
    pub fn new(root: &'a Node) -> Self {
        Env {
            root,
            resource: None,
            variables: HashMap::new(),
            parents: Rc::new(OnceCell::new()),
            record_traces: false,
            traces: RefCell::new(Vec::new()),
            narrative: RefCell::new(Vec::new()),
            regexes: Rc::new(RefCell::new(HashMap::new())),
            bundles: Rc::new(RefCell::new(HashMap::new())),
        }
    }

    /// Sets `%resource` explicitly instead of finding it from the focus.
    pub fn with_resource(mut self, resource: &'a Node) -> Self {
        self.resource = Some(resource);
        self
    }

    /// An environment over the same root with `%resource` set to `resource`,
    /// sharing this one's caches (the parent map, compiled regexes) and constants;
    /// its traces and narrative findings are its own. For walking the resources of
    /// a Bundle without rebuilding the parent map for each.
    pub fn for_resource(&self, resource: &'a Node) -> Self {
        Env {
            root: self.root,
            resource: Some(resource),
            variables: self.variables.clone(),
            parents: Rc::clone(&self.parents),
            record_traces: self.record_traces,
            traces: RefCell::new(Vec::new()),
            narrative: RefCell::new(Vec::new()),
            regexes: Rc::clone(&self.regexes),
            bundles: Rc::clone(&self.bundles),
        }
    }

    /// Defines an external constant `%name` (`%\`vs-x\`` is `name` = `vs-x`).
    pub fn with_variable(mut self, name: &str, value: Vec<Item<'a>>) -> Self {
        self.variables.insert(name.to_string(), value);
        self
    }

    /// Makes `trace()` record what it sees (see [`Env::traces`]).
    pub fn with_traces(mut self) -> Self {
        self.record_traces = true;
        self
    }

    /// The root of the tree.
    pub fn root(&self) -> &'a Node {
        self.root
    }

    /// A variable defined with [`Env::with_variable`].
    pub fn variable(&self, name: &str) -> Option<&Vec<Item<'a>>> {
        self.variables.get(name)
    }

    /// The traces recorded so far (only with [`Env::with_traces`]).
    pub fn traces(&self) -> Vec<Trace> {
        self.traces.borrow().clone()
    }

    /// Takes the narrative issues found by `htmlchecks()` since the last call, so a
    /// validator can say which of txt-1 / txt-2 failed and why.
    pub fn take_narrative_issues(&self) -> Vec<NarrativeIssue> {
        std::mem::take(&mut *self.narrative.borrow_mut())
    }

    pub(crate) fn record_narrative(&self, issues: Vec<NarrativeIssue>) {
        self.narrative.borrow_mut().extend(issues);
    }

    pub(crate) fn record_trace(&self, name: String, values: impl FnOnce() -> Vec<String>) {
        if self.record_traces {
            let values = values();
            self.traces.borrow_mut().push(Trace { name, values });
        }
    }

    pub(crate) fn regex(&self, pattern: &str) -> Result<Regex, regex::Error> {
        if let Some(r) = self.regexes.borrow().get(pattern) {
            return Ok(r.clone());
        }
        let r = Regex::new(pattern)?;
        self.regexes
            .borrow_mut()
            .insert(pattern.to_string(), r.clone());
        Ok(r)
    }

    fn parents(&self) -> &HashMap<usize, &'a Node> {
        self.parents.get_or_init(|| {
            let mut map = HashMap::new();
            let mut stack: Vec<&'a Node> = vec![self.root];
            while let Some(n) = stack.pop() {
                for c in &n.children {
                    map.insert(addr(c), n);
                    stack.push(c);
                }
            }
            map
        })
    }

    /// The parent of a node of the root's tree.
    pub fn parent_of(&self, node: &Node) -> Option<&'a Node> {
        self.parents().get(&addr(node)).copied()
    }

    /// The node itself followed by its ancestors, innermost first, up to the root.
    pub fn ancestors_or_self(&self, node: &'a Node) -> Vec<&'a Node> {
        let mut out = vec![node];
        let mut cur = node;
        while let Some(p) = self.parent_of(cur) {
            out.push(p);
            cur = p;
        }
        out
    }

    /// The nearest resource containing `node` (itself if it is a resource).
    pub fn enclosing_resource(&self, node: &'a Node) -> &'a Node {
        if let Some(r) = self.resource {
            return r;
        }
        self.ancestors_or_self(node)
            .into_iter()
            .find(|n| n.is_resource)
            .unwrap_or(self.root)
    }
}

/// A node's identity (its address).
pub(crate) fn addr(n: &Node) -> usize {
    n as *const Node as usize
}

/// Resolves a reference string found at `from` (a `Reference` node or inside one):
/// `#id` to a contained resource of the resources containing `from` (`#` alone to
/// the containing resource), anything else to the `resource` of an entry of an
/// enclosing `Bundle` (innermost first) whose `fullUrl` equals it, or, for a
/// relative `Type/id` (optionally with `/_history/v`), whose resource has that type
/// and id; an absolute `…/Type/id` matches such a resource only when the entry's
/// `fullUrl` ends with `/Type/id`. Within a Bundle the first entry that matches
/// wins. `None` when nothing matches (FHIRPath's `resolve()` then gives nothing for
/// it). Bundle entries are looked up in an index built once per Bundle.
pub(crate) fn resolve_reference<'a>(
    env: &Env<'a>,
    from: &'a Node,
    reference: &str,
) -> Option<&'a Node> {
    let chain = env.ancestors_or_self(from);
    env.resolve_within(chain.into_iter().filter(|n| n.is_resource), reference)
}

impl<'a> Env<'a> {
    /// Resolves the reference text `reference` found at `from` (a `Reference`
    /// node of this environment's tree) exactly as FHIRPath's `resolve()` does:
    /// `#id` to a contained resource of a resource containing `from` (`#` to the
    /// container), any other reference to the `resource` of an entry of an
    /// enclosing `Bundle` (innermost first) whose `fullUrl` equals it (`urn:uuid:`,
    /// `urn:oid:`, absolute URLs), or whose resource has the type and id of a
    /// relative `Type/id` (`/_history/v` ignored; an absolute `…/Type/id` also needs
    /// the entry's `fullUrl` to end with `/Type/id`). `None` for anything else
    /// (external or logical references).
    ///
    /// Entries are looked up in an index built the first time a reference into
    /// their Bundle is resolved and shared with the environments
    /// [`Env::for_resource`] derives, so resolving every reference of a Bundle is
    /// linear in its size.
    pub fn resolve(&self, from: &'a Node, reference: &str) -> Option<&'a Node> {
        resolve_reference(self, from, reference)
    }

    /// [`Env::resolve`] for a caller that knows the resources containing the
    /// reference, innermost first (a contained resource, its container, the
    /// Bundles around it): the same resolution, without finding the ancestors of
    /// the reference (which builds the parent map of the tree on first use).
    pub fn resolve_within(
        &self,
        resources: impl IntoIterator<Item = &'a Node>,
        reference: &str,
    ) -> Option<&'a Node> {
        let mut resources = resources.into_iter();
        if let Some(id) = reference.strip_prefix('#') {
            if id.is_empty() {
                return resources.next();
            }
            return resources.find_map(|r| {
                r.children_named("contained")
                    .find(|c| c.child_value("id") == Some(id))
            });
        }
        let relative = relative_type_id(reference);
        resources
            .filter(|n| n.type_name == "Bundle")
            .find_map(|bundle| self.bundle_index(bundle).find(reference, relative))
    }

    fn bundle_index(&self, bundle: &'a Node) -> Rc<BundleIndex<'a>> {
        if let Some(found) = self.bundles.borrow().get(&addr(bundle)) {
            return Rc::clone(found);
        }
        let index = Rc::new(BundleIndex::new(bundle));
        self.bundles
            .borrow_mut()
            .insert(addr(bundle), Rc::clone(&index));
        index
    }
}

/// An entry of a Bundle that holds a resource: its position, `fullUrl` and resource.
type IndexedEntry<'a> = (usize, Option<&'a str>, &'a Node);

/// The entries of one Bundle that hold a resource, by `fullUrl` and by the
/// resource's type and id.
struct BundleIndex<'a> {
    /// The first entry with each `fullUrl`.
    by_full_url: HashMap<&'a str, IndexedEntry<'a>>,
    /// Every entry whose resource has the type and id, in order.
    by_type_id: HashMap<(&'a str, &'a str), Vec<IndexedEntry<'a>>>,
}

impl<'a> BundleIndex<'a> {
    fn new(bundle: &'a Node) -> Self {
        let mut by_full_url = HashMap::new();
        let mut by_type_id: HashMap<(&'a str, &'a str), Vec<IndexedEntry<'a>>> = HashMap::new();
        for (i, entry) in bundle.children_named("entry").enumerate() {
            let Some(res) = entry.child("resource") else {
                continue;
            };
            let full_url = entry.child_value("fullUrl");
            if let Some(u) = full_url {
                by_full_url.entry(u).or_insert((i, full_url, res));
            }
            if let Some(id) = res.child_value("id") {
                by_type_id
                    .entry((res.type_name, id))
                    .or_default()
                    .push((i, full_url, res));
            }
        }
        BundleIndex {
            by_full_url,
            by_type_id,
        }
    }

    /// The first entry (in Bundle order) whose `fullUrl` is `reference`, or whose
    /// resource is the relative `Type/id` of it.
    fn find(&self, reference: &str, relative: Option<(&str, &str)>) -> Option<&'a Node> {
        let by_url = self.by_full_url.get(reference).copied();
        let by_id = relative.and_then(|(t, id)| {
            let absolute = reference.contains("://");
            self.by_type_id
                .get(&(t, id))?
                .iter()
                .copied()
                .find(|(_, u, _)| {
                    !absolute
                        || u.is_some_and(|u| {
                            u.strip_suffix(id)
                                .and_then(|r| r.strip_suffix('/'))
                                .and_then(|r| r.strip_suffix(t))
                                .is_some_and(|r| r.ends_with('/'))
                        })
                })
        });
        match (by_url, by_id) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a.2 } else { b.2 }),
            (a, b) => a.or(b).map(|(_, _, r)| r),
        }
    }
}

/// `Type/id` at the end of a reference (`Patient/1`, `http://x/Patient/1`,
/// `Patient/1/_history/2`).
fn relative_type_id(reference: &str) -> Option<(&str, &str)> {
    let r = match reference.find("/_history/") {
        Some(i) => &reference[..i],
        None => reference,
    };
    let mut parts = r.rsplit('/');
    let id = parts.next()?;
    let t = parts.next()?;
    (t.starts_with(|c: char| c.is_ascii_uppercase()) && !id.is_empty()).then_some((t, id))
}
