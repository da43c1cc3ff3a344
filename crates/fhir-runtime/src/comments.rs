//! XML comments, kept where they stood so that an XML → XML round trip keeps them.
//!
//! STU3 JSON has no place for comments: JSON output leaves them out. They are
//! formatting, not content, so two elements that differ only in comments are
//! equal (`==`).

/// Where a comment stood, relative to the element that holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentPlace {
    /// Before the element's start tag.
    Before,
    /// Inside the element, after its last child (before its end tag).
    End,
    /// For a resource inside another (`contained`, `entry.resource`): before the
    /// wrapper element's start tag.
    BeforeWrapper,
    /// For the root resource: after its end tag.
    After,
}

/// The XML comments attached to one element (empty for most elements; one
/// pointer wide).
#[derive(Clone, Debug, Default)]
// A boxed Vec on purpose: every generated struct has this field and almost all
// are empty, so one pointer (8 bytes) beats an inline Vec (24 bytes).
#[allow(clippy::box_collection)]
pub struct XmlComments(Option<Box<Vec<(CommentPlace, String)>>>);

impl XmlComments {
    /// No comments.
    pub const fn new() -> Self {
        XmlComments(None)
    }

    /// Adds a comment (its text between `<!--` and `-->`, exactly as written).
    pub fn push(&mut self, place: CommentPlace, text: String) {
        self.0
            .get_or_insert_with(Default::default)
            .push((place, text));
    }

    /// The comments at `place`, in document order.
    pub fn at(&self, place: CommentPlace) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .flat_map(|v| v.iter())
            .filter(move |(p, _)| *p == place)
            .map(|(_, t)| t.as_str())
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|v| v.is_empty())
    }

    /// True when there is at least one comment at `place`.
    pub fn has(&self, place: CommentPlace) -> bool {
        self.at(place).next().is_some()
    }
}

/// Comments are formatting, not content: they never make two elements unequal.
impl PartialEq for XmlComments {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
