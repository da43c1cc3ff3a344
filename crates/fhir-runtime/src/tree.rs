//! A format-neutral tree of a resource's elements, for FHIRPath and validation.
//!
//! The typed model is the way to build and read resources; the tree is the way to
//! look at any of them generically: every element with its FHIR name, its FHIR type
//! and (for primitives) its exact lexical value, children in FHIR element order, and
//! repeated elements as siblings of the same name — the shape FHIRPath navigates.
//! It is built from any typed value by [`to_tree`], through the same generated
//! `write_fields` the JSON and XML writers use, so it never disagrees with them.

use crate::element::Element;
use crate::write::Writer;

/// One element of a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The element's name as FHIRPath sees it: for a choice element its base
    /// (`value` for `valueQuantity`); for a resource held by another element the
    /// holding element's name (`resource`, `contained`); for the root resource its type.
    pub name: &'static str,
    /// For a choice element, the type part of its name (`Quantity`), else empty.
    pub choice_type: &'static str,
    /// The FHIR type: a primitive type (`string`, `code`, `dateTime`, `boolean`,
    /// `xhtml`...), a data type (`HumanName`), a backbone element (`Patient.contact`)
    /// or a resource type (`Patient`). Primitives held as plain strings (`uri`, `id`,
    /// `code` without a required binding...) report `string`; `id` and `url`
    /// attributes report `string` and `uri`.
    pub type_name: &'static str,
    /// The exact lexical value of a primitive (`1.50`, `2017-01`), if it has one.
    pub value: Option<String>,
    /// True for a resource (the root, `contained`, `Bundle.entry.resource`...).
    pub is_resource: bool,
    /// Child elements in FHIR element order. A primitive's children are its `id`
    /// and `extension`s.
    pub children: Vec<Node>,
}

impl Node {
    /// A node with no value and no children.
    pub fn new(name: &'static str, type_name: &'static str) -> Self {
        Node {
            name,
            choice_type: "",
            type_name,
            value: None,
            is_resource: false,
            children: Vec::new(),
        }
    }

    /// The element's name as written in FHIR JSON and XML (`valueQuantity`).
    pub fn full_name(&self) -> String {
        format!("{}{}", self.name, self.choice_type)
    }

    /// True for a primitive (it has a lexical type, not a structure).
    pub fn is_primitive(&self) -> bool {
        self.type_name.starts_with(|c: char| c.is_ascii_lowercase())
    }

    /// The children called `name` (a repeated element gives several).
    pub fn children_named<'n>(&'n self, name: &'n str) -> impl Iterator<Item = &'n Node> + 'n {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The value of the first child called `name`, if it is a primitive with a value.
    pub fn child_value(&self, name: &str) -> Option<&str> {
        self.child(name).and_then(|c| c.value.as_deref())
    }

    /// Every node below this one, depth first, in document order.
    pub fn descendants(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        let mut stack: Vec<&Node> = self.children.iter().rev().collect();
        while let Some(n) = stack.pop() {
            out.push(n);
            stack.extend(n.children.iter().rev());
        }
        out
    }
}

/// The tree of a resource (`is_resource`) or of a data type value.
pub fn to_tree(value: &dyn Element, is_resource: bool) -> Node {
    let mut root = Node::new(value.type_name(), value.type_name());
    root.is_resource = is_resource;
    let mut w = Writer::tree(root);
    value.write_fields(&mut w);
    w.into_tree()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendants_are_in_document_order() {
        let mut a = Node::new("a", "X");
        let mut b = Node::new("b", "Y");
        b.children.push(Node::new("c", "string"));
        a.children.push(b);
        a.children.push(Node::new("d", "string"));
        let names: Vec<&str> = a.descendants().iter().map(|n| n.name).collect();
        assert_eq!(names, ["b", "c", "d"]);
        assert!(a.children[1].is_primitive());
        assert!(!a.children[0].is_primitive());
    }
}
