//! The FHIR STU3 model as typed Rust.
//!
//! Every STU3 resource ([`resources`]), complex data type ([`datatypes`]) and
//! primitive type ([`primitives`]) is generated from the official
//! StructureDefinitions by `cargo xtask codegen`, with enums for the codes of
//! required bindings ([`codes`]). Reading and writing FHIR JSON is exact: decimals
//! keep their text, dates their precision, primitives their ids and extensions.
//!
//! ```
//! use fhir_stu3::Resource;
//!
//! let json = br#"{"resourceType":"Patient","gender":"female","birthDate":"1970-01"}"#;
//! let resource = Resource::from_json(json).unwrap();
//! let Resource::Patient(patient) = &resource else { panic!("not a Patient") };
//! assert_eq!(patient.birth_date.as_ref().unwrap().value.as_ref().unwrap().as_str(), "1970-01");
//! // Written back in FHIR element order, exactly.
//! assert_eq!(resource.to_json(), String::from_utf8_lossy(json));
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod extensions;
mod generated;
mod resource_box;

pub use extensions::Extensions;
pub use resource_box::{DropBoxed, ResourceBox};

pub use fhir_runtime::{
    value, Error, ErrorKind, Location, Mode, Node, Parsed, ReadOptions, Severity, WriteOptions,
};
pub use generated::{codes, datatypes, primitives, resources, Resource, RESOURCE_TYPES};

use fhir_runtime::{AnyResource, ResourceType};

impl Resource {
    /// Reads a resource of any type from FHIR JSON, strictly.
    pub fn from_json(bytes: &[u8]) -> Result<Resource, Error> {
        fhir_runtime::read_json_resource::<Resource>(bytes, &ReadOptions::strict()).map(|p| p.value)
    }

    /// Reads a resource of any type from FHIR JSON with the given options;
    /// lenient reading returns its warnings beside the resource.
    pub fn from_json_with(bytes: &[u8], opts: &ReadOptions) -> Result<Parsed<Resource>, Error> {
        fhir_runtime::read_json_resource::<Resource>(bytes, opts)
    }

    /// Reads a resource of any type from FHIR XML, strictly.
    pub fn from_xml(bytes: &[u8]) -> Result<Resource, Error> {
        fhir_runtime::read_xml_resource::<Resource>(bytes, &ReadOptions::strict()).map(|p| p.value)
    }

    /// Reads a resource of any type from FHIR XML with the given options;
    /// lenient reading returns its warnings (element order faults among them).
    pub fn from_xml_with(bytes: &[u8], opts: &ReadOptions) -> Result<Parsed<Resource>, Error> {
        fhir_runtime::read_xml_resource::<Resource>(bytes, opts)
    }

    /// Writes compact FHIR JSON.
    pub fn to_json(&self) -> String {
        fhir_runtime::write_json_resource(self, &WriteOptions::compact())
    }

    /// Writes FHIR JSON with the given options.
    pub fn to_json_with(&self, opts: &WriteOptions) -> String {
        fhir_runtime::write_json_resource(self, opts)
    }

    /// Writes compact FHIR XML (no XML declaration).
    pub fn to_xml(&self) -> String {
        fhir_runtime::write_xml_resource(self, &WriteOptions::compact())
    }

    /// Writes FHIR XML with the given options (indentation, XML declaration).
    pub fn to_xml_with(&self, opts: &WriteOptions) -> String {
        fhir_runtime::write_xml_resource(self, opts)
    }

    /// The resource type name (`Patient`).
    pub fn resource_type(&self) -> &'static str {
        AnyResource::resource_type(self)
    }

    /// The resource as a format-neutral element tree (names, FHIR types, exact
    /// values), the shape FHIRPath and the validator navigate.
    pub fn to_tree(&self) -> Node {
        fhir_runtime::to_tree(self.as_element(), true)
    }
}

/// Reads one resource type from FHIR JSON, strictly: `from_json::<Patient>(bytes)`.
/// Fails when `resourceType` names another type.
pub fn from_json<T: ResourceType>(bytes: &[u8]) -> Result<T, Error> {
    from_json_with::<T>(bytes, &ReadOptions::strict()).map(|p| p.value)
}

/// Reads one resource type from FHIR JSON with the given options.
pub fn from_json_with<T: ResourceType>(
    bytes: &[u8],
    opts: &ReadOptions,
) -> Result<Parsed<T>, Error> {
    let mut value = T::default();
    let warnings = fhir_runtime::read_json(bytes, &mut value, Some(T::TYPE), opts)?;
    Ok(Parsed { value, warnings })
}

/// Writes one resource as compact FHIR JSON.
pub fn to_json<T: ResourceType>(resource: &T) -> String {
    fhir_runtime::write_json(resource, true, &WriteOptions::compact())
}

/// Writes one resource as FHIR JSON with the given options.
pub fn to_json_with<T: ResourceType>(resource: &T, opts: &WriteOptions) -> String {
    fhir_runtime::write_json(resource, true, opts)
}
