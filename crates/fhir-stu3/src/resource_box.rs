//! [`ResourceBox`]: the box each [`Resource`](crate::Resource) variant holds.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

/// A resource type whose boxed values are dropped by a function compiled once,
/// in this crate. Implemented by every generated resource type.
pub trait DropBoxed {
    /// Drops a boxed value.
    fn drop_boxed(boxed: Box<Self>);
}

/// A `Box<T>` in all but name (it dereferences to `T`), held by each variant
/// of [`Resource`](crate::Resource).
///
/// Why not a plain `Box`: the code that drops a `Resource` would otherwise
/// drop every one of the 117 resource types, and it is compiled again in every
/// crate that drops a `Resource` (release builds do not share generic code
/// between crates). Dropping a `ResourceBox` is one call into this crate.
pub struct ResourceBox<T: DropBoxed>(ManuallyDrop<Option<Box<T>>>);

impl<T: DropBoxed> ResourceBox<T> {
    /// Boxes `value`.
    pub fn new(value: T) -> Self {
        ResourceBox(ManuallyDrop::new(Some(Box::new(value))))
    }

    /// The value, unboxed.
    pub fn into_inner(mut self) -> T {
        *self.take()
    }

    fn take(&mut self) -> Box<T> {
        match self.0.take() {
            Some(b) => b,
            None => unreachable!("a ResourceBox is empty only while it is dropped"),
        }
    }
}

impl<T: DropBoxed> Drop for ResourceBox<T> {
    fn drop(&mut self) {
        if let Some(b) = self.0.take() {
            T::drop_boxed(b);
        }
    }
}

impl<T: DropBoxed> Deref for ResourceBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self.0.as_deref() {
            Some(v) => v,
            None => unreachable!("a ResourceBox is empty only while it is dropped"),
        }
    }
}

impl<T: DropBoxed> DerefMut for ResourceBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        match self.0.as_deref_mut() {
            Some(v) => v,
            None => unreachable!("a ResourceBox is empty only while it is dropped"),
        }
    }
}

impl<T: DropBoxed + Default> Default for ResourceBox<T> {
    fn default() -> Self {
        ResourceBox::new(T::default())
    }
}

impl<T: DropBoxed + Clone> Clone for ResourceBox<T> {
    fn clone(&self) -> Self {
        ResourceBox::new((**self).clone())
    }
}

impl<T: DropBoxed + PartialEq> PartialEq for ResourceBox<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: DropBoxed + fmt::Debug> fmt::Debug for ResourceBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
