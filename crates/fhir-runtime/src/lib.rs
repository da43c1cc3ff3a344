//! Runtime for the generated FHIR STU3 model.
//!
//! This crate holds everything that is not generated: primitive values that keep
//! their exact text ([`value`]), the [`Primitive`] element, the traits generated
//! types implement ([`Element`], [`FieldValue`], [`Choice`], [`AnyResource`]), the
//! format-neutral [`Reader`] and [`Writer`] that generated code drives, the FHIR
//! JSON entry points, and the one located [`Error`] type.
//!
//! Users normally reach it through the model crate (`fhir-stu3`), which
//! re-exports what they need.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod comments;
pub mod element;
pub mod error;
mod json;
pub mod primitive;
pub mod read;
pub mod serde_support;
pub mod tree;
pub mod value;
pub mod write;

pub use comments::{CommentPlace, XmlComments};
pub use element::{AnyResource, Choice, Element, FieldValue, Name, ResourceType};
pub use error::{Error, ErrorKind, Location, Result, Severity};
pub use primitive::{ExtensionList, JsonType, Primitive, PrimitiveExtras, PrimitiveValue};
pub use read::{
    read_json, read_json_resource, read_xml, read_xml_resource, Mode, Parsed, ReadOptions, Reader,
};
pub use tree::{to_tree, Node};
pub use value::StrKind;
pub use write::{
    debug_element, write_json, write_json_resource, write_xml, write_xml_resource, WriteOptions,
    Writer,
};
