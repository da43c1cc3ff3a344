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
/// enclosing `Bundle` whose `fullUrl` equals it, or, for a relative `Type/id`
/// (optionally with `/_history/v`), whose resource has that type and id. `None`
/// when nothing matches (FHIRPath's `resolve()` then gives nothing for it).
pub(crate) fn resolve_reference<'a>(
    env: &Env<'a>,
    from: &'a Node,
    reference: &str,
) -> Option<&'a Node> {
    let chain = env.ancestors_or_self(from);
    if let Some(id) = reference.strip_prefix('#') {
        for r in chain.iter().filter(|n| n.is_resource) {
            if id.is_empty() {
                return Some(r);
            }
            if let Some(c) = r
                .children_named("contained")
                .find(|c| c.child_value("id") == Some(id))
            {
                return Some(c);
            }
        }
        return None;
    }
    let relative = relative_type_id(reference);
    for bundle in chain
        .iter()
        .filter(|n| n.is_resource && n.type_name == "Bundle")
    {
        for entry in bundle.children_named("entry") {
            let Some(res) = entry.child("resource") else {
                continue;
            };
            if entry.child_value("fullUrl") == Some(reference) {
                return Some(res);
            }
            if let Some((t, id)) = relative {
                let full_match = entry
                    .child_value("fullUrl")
                    .is_some_and(|u| u.ends_with(&format!("/{t}/{id}")));
                let res_match = res.type_name == t && res.child_value("id") == Some(id);
                if res_match && (full_match || !reference.contains("://")) {
                    return Some(res);
                }
            }
        }
    }
    None
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
