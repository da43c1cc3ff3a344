//! The traits generated model types implement, and that the format-neutral
//! reader and writer drive.
//!
//! Generated code is data-heavy and logic-light: each struct has one
//! [`Element::read_field`] (a `match` on the element name that calls a reader
//! helper) and one [`Element::write_fields`] (one writer call per element, in
//! FHIR order). The JSON and XML readers and writers live once, here in the
//! runtime, behind non-generic `&mut dyn Element` calls, so a user's crate never
//! compiles a parser again.

use crate::comments::XmlComments;
use crate::error::Result;
use crate::read::Reader;
use crate::write::Writer;

/// A FHIR complex value: a resource, a data type or a backbone element.
pub trait Element {
    /// The FHIR type name (`Patient`, `HumanName`), or the element path for a
    /// backbone element (`Patient.contact`).
    fn type_name(&self) -> &'static str;

    /// Reads the element called `name` (a JSON property without its leading `_`,
    /// or an XML element or attribute local name) from `r` into `self`.
    ///
    /// Returns the element's position in FHIR element order, or `None` when this
    /// type has no element of that name (the reader then decides whether that is
    /// an error or a warning, and consumes the value itself).
    fn read_field(&mut self, name: &str, r: &mut Reader<'_>) -> Result<Option<u16>>;

    /// Writes every element that has content, in FHIR element order.
    fn write_fields(&self, w: &mut Writer);

    /// The XML comments attached to this element, if it can hold them.
    fn comments(&self) -> Option<&XmlComments> {
        None
    }

    /// The XML comments, for adding to them while reading.
    fn comments_mut(&mut self) -> Option<&mut XmlComments> {
        None
    }

    /// Removes the items of repeating primitive elements that hold nothing (no
    /// value, id or extension): what lenient reading leaves of an invalid item or of
    /// a JSON `null` whose `_name` companion never came. Generated types with
    /// repeating primitives implement it; the reader calls it when it warned
    /// about something inside the element.
    fn drop_empty_items(&mut self) {}
}

impl<T: Element + ?Sized> Element for Box<T> {
    fn type_name(&self) -> &'static str {
        (**self).type_name()
    }
    fn read_field(&mut self, name: &str, r: &mut Reader<'_>) -> Result<Option<u16>> {
        (**self).read_field(name, r)
    }
    fn write_fields(&self, w: &mut Writer) {
        (**self).write_fields(w)
    }
    fn comments(&self) -> Option<&XmlComments> {
        (**self).comments()
    }
    fn comments_mut(&mut self) -> Option<&mut XmlComments> {
        (**self).comments_mut()
    }
    fn drop_empty_items(&mut self) {
        (**self).drop_empty_items()
    }
}

/// The name an element is written under: `prefix` + `suffix`. For a choice
/// element the prefix is the base name (`value`) and the suffix the type
/// (`Quantity`); for any other element the suffix is empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name {
    /// The element name, or the base of a choice element's name.
    pub prefix: &'static str,
    /// The type suffix of a choice element, else empty.
    pub suffix: &'static str,
}

impl Name {
    /// A plain element name.
    pub const fn plain(name: &'static str) -> Self {
        Name {
            prefix: name,
            suffix: "",
        }
    }
    /// A choice element name: `value` + `Quantity`.
    pub const fn choice(prefix: &'static str, suffix: &'static str) -> Self {
        Name { prefix, suffix }
    }
}

/// Something that can stand as the value of an element: a primitive, a complex
/// value, a boxed value or a resource. The reader and writer call these.
pub trait FieldValue: Default {
    /// Reads the value at the reader's position into `self`, a fresh
    /// (default) value, in place.
    fn read_into(&mut self, r: &mut Reader<'_>) -> Result<()>;

    /// Reads more of a value that already exists: the JSON `_name` half of a
    /// primitive. For other values a second occurrence is a duplicate: the
    /// reader reports it and (leniently) the later value replaces this one.
    fn read_more(&mut self, r: &mut Reader<'_>) -> Result<()> {
        r.repeated_value()?;
        *self = Self::default();
        self.read_into(r)
    }

    /// Reads every item of a repeating element at the reader's position (a
    /// whole JSON array, or one more XML element).
    fn read_list(items: &mut Vec<Self>, r: &mut Reader<'_>) -> Result<()> {
        r.read_list_items(items)
    }

    /// Writes this value under `name`.
    fn write_value(&self, name: Name, w: &mut Writer);

    /// Writes a repeating element.
    fn write_list(items: &[Self], name: Name, w: &mut Writer);
}

/// Boxed complex values (used to break recursive types and keep choice enums small).
impl<T: Element + Default> FieldValue for Box<T> {
    fn read_into(&mut self, r: &mut Reader<'_>) -> Result<()> {
        r.complex(&mut **self)
    }
    fn write_value(&self, name: Name, w: &mut Writer) {
        w.complex(name, &**self)
    }
    fn write_list(items: &[Self], name: Name, w: &mut Writer) {
        w.complex_list(name, items)
    }
}

/// A generated choice enum (`Observation.value[x]` and friends).
pub trait Choice: Sized {
    /// Reads the variant named by `suffix` (`Quantity` of `valueQuantity`).
    /// Returns `false` when no variant has that suffix.
    fn read_variant(slot: &mut Option<Self>, suffix: &str, r: &mut Reader<'_>) -> Result<bool>;

    /// Writes the value under `prefix` + its type suffix.
    fn write_choice(&self, prefix: &'static str, w: &mut Writer);

    /// The type suffix of the current variant (`Quantity`).
    fn type_suffix(&self) -> &'static str;
}

/// The generated `Resource` enum: any resource, chosen by `resourceType`.
pub trait AnyResource: Sized {
    /// An empty resource of the named type, or `None` for an unknown name.
    fn new_of_type(resource_type: &str) -> Option<Self>;
    /// The resource as an element, for reading and writing.
    fn as_element(&self) -> &dyn Element;
    /// The resource as a mutable element.
    fn as_element_mut(&mut self) -> &mut dyn Element;
    /// The resource type name (`Patient`).
    fn resource_type(&self) -> &'static str;
}

/// A concrete generated resource type (`Patient`).
pub trait ResourceType: Element + Default {
    /// The resource type name as in `resourceType`.
    const TYPE: &'static str;
}
