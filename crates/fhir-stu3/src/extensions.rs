//! [`Extensions`]: the list type of every `extension` and `modifierExtension`.

use std::fmt;
use std::ops::{Deref, DerefMut};

use fhir_runtime::ExtensionList;

use crate::datatypes::Extension;

/// A list of extensions: a `Vec<Extension>` in all but name (it dereferences to
/// one), held by every `extension` and `modifierExtension` element and by every
/// primitive.
///
/// Why not a plain `Vec`: an `Extension` can hold a value of any data type, so
/// the code that drops a `Vec<Extension>` drops every data type. Compiled
/// wherever any element is dropped, in this crate and in yours, that code made
/// up most of the model's compile time. Dropping an `Extensions` is one call to
/// a function compiled once, here.
#[derive(Clone, Default, PartialEq)]
pub struct Extensions(std::mem::ManuallyDrop<Vec<Extension>>);

impl Extensions {
    /// An empty list.
    pub fn new() -> Self {
        Extensions::default()
    }

    /// The list as a `Vec`.
    pub fn into_vec(mut self) -> Vec<Extension> {
        std::mem::take(&mut *self.0)
    }
}

impl Drop for Extensions {
    fn drop(&mut self) {
        // Move the list out (leaving an empty Vec, which owns no memory) and
        // drop it in a function compiled once, in this crate.
        drop_out_of_line(std::mem::take(&mut *self.0));
    }
}

#[inline(never)]
fn drop_out_of_line(list: Vec<Extension>) {
    drop(list);
}

impl Deref for Extensions {
    type Target = Vec<Extension>;
    fn deref(&self) -> &Vec<Extension> {
        &self.0
    }
}

impl DerefMut for Extensions {
    fn deref_mut(&mut self) -> &mut Vec<Extension> {
        &mut self.0
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl From<Vec<Extension>> for Extensions {
    fn from(list: Vec<Extension>) -> Self {
        Extensions(std::mem::ManuallyDrop::new(list))
    }
}

impl FromIterator<Extension> for Extensions {
    fn from_iter<I: IntoIterator<Item = Extension>>(iter: I) -> Self {
        Extensions::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl<'a> IntoIterator for &'a Extensions {
    type Item = &'a Extension;
    type IntoIter = std::slice::Iter<'a, Extension>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl ExtensionList for Extensions {
    type Item = Extension;
    fn as_vec(&self) -> &Vec<Extension> {
        self
    }
    fn as_vec_mut(&mut self) -> &mut Vec<Extension> {
        self
    }
}
