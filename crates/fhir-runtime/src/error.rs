//! The one error type shared by the JSON reader, the XML reader and validation.
//!
//! Every error carries a [`Location`]: a FHIRPath-style path to the element
//! (`Bundle.entry[3].resource.ofType(Patient).birthDate`) and, for text input,
//! the 1-based line and column where the offending token starts.

use std::fmt;

/// What kind of problem an [`Error`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is not well-formed JSON or XML (including invalid UTF-8 and truncation).
    Syntax,
    /// A property or element that the FHIR definition of its parent does not have.
    UnknownElement,
    /// A value of the wrong JSON type (a string where a number belongs, an object where an array belongs, ...).
    WrongType,
    /// The same property twice in one JSON object, or a single-valued element repeated in XML.
    Duplicate,
    /// A JSON `null` outside an array of primitives, or a primitive that is null in both halves.
    Null,
    /// An empty object, array or string, or an element with neither value nor children.
    Empty,
    /// A primitive value that breaks its type's rules (bad date, bad code, bad decimal, ...).
    InvalidValue,
    /// A resource without `resourceType`.
    MissingResourceType,
    /// A `resourceType` (or XML resource element) that names no STU3 resource, or not the one expected.
    UnknownResourceType,
    /// Nesting deeper than the configured limit.
    TooDeep,
    /// An XML element out of FHIR element order.
    Order,
    /// An XML element or attribute in the wrong namespace.
    Namespace,
    /// Input refused for safety: DOCTYPE, entities, processing instructions.
    Forbidden,
    /// Two types of one choice element (`valueString` and `valueBoolean` together).
    ChoiceConflict,
    /// A JSON `_name` companion for an element that is not a primitive.
    NotPrimitive,
    /// An I/O failure while reading or writing.
    Io,
}

impl ErrorKind {
    /// A short stable name for the kind, used in messages and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::UnknownElement => "unknown-element",
            ErrorKind::WrongType => "wrong-type",
            ErrorKind::Duplicate => "duplicate",
            ErrorKind::Null => "null",
            ErrorKind::Empty => "empty",
            ErrorKind::InvalidValue => "invalid-value",
            ErrorKind::MissingResourceType => "missing-resource-type",
            ErrorKind::UnknownResourceType => "unknown-resource-type",
            ErrorKind::TooDeep => "too-deep",
            ErrorKind::Order => "order",
            ErrorKind::Namespace => "namespace",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::ChoiceConflict => "choice-conflict",
            ErrorKind::NotPrimitive => "not-primitive",
            ErrorKind::Io => "io",
        }
    }
}

/// Where a problem is: a FHIRPath-style element path and, for text input, a position.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Location {
    /// FHIRPath-style path, e.g. `Bundle.entry[3].resource.ofType(Patient).birthDate`.
    /// Empty when the problem precedes any element (for example, invalid UTF-8 at the start).
    pub path: String,
    /// 1-based line of the offending token; 0 when not known (e.g. a model built in code).
    pub line: usize,
    /// 1-based column (in characters) of the offending token; 0 when not known.
    pub column: usize,
    /// 0-based byte offset of the offending token; 0 when not known.
    pub offset: usize,
}

impl Location {
    /// A location with a path only (no text position).
    pub fn path(path: impl Into<String>) -> Self {
        Location {
            path: path.into(),
            ..Location::default()
        }
    }

    /// Computes a location for byte `offset` of `text`: line and column are 1-based, the
    /// column counts characters. Only called on error paths.
    #[cold]
    pub fn at_offset(text: &[u8], offset: usize, path: impl Into<String>) -> Self {
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        // Count characters, not bytes: UTF-8 continuation bytes do not start a character.
        let column = before[line_start..]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count()
            + 1;
        Location {
            path: path.into(),
            line,
            column,
            offset,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        if self.line > 0 {
            write!(f, "{path} (line {}, column {})", self.line, self.column)
        } else {
            f.write_str(path)
        }
    }
}

/// How serious a reported problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Informational only.
    Information,
    /// Accepted, but not conformant; reading went on.
    Warning,
    /// Not acceptable.
    Error,
}

/// A located problem: what went wrong, where, and why.
///
/// The same type is returned as the error of strict reading and collected as
/// warnings by lenient reading (with [`Severity::Warning`]). It is boxed so that
/// `Result<T, Error>` stays one pointer wide.
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<ErrorInner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct ErrorInner {
    kind: ErrorKind,
    severity: Severity,
    location: Location,
    message: String,
}

impl Error {
    /// A new error of `kind` at `location`.
    #[cold]
    pub fn new(kind: ErrorKind, location: Location, message: impl Into<String>) -> Self {
        Error(Box::new(ErrorInner {
            kind,
            severity: Severity::Error,
            location,
            message: message.into(),
        }))
    }

    /// The same problem reported as a warning (used by lenient reading).
    pub fn into_warning(mut self) -> Self {
        self.0.severity = Severity::Warning;
        self
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// Error, or warning when lenient reading accepted the input anyway.
    pub fn severity(&self) -> Severity {
        self.0.severity
    }

    /// Where the problem is.
    pub fn location(&self) -> &Location {
        &self.0.location
    }

    /// The FHIRPath-style path of the element concerned.
    pub fn path(&self) -> &str {
        &self.0.location.path
    }

    /// 1-based line, or 0 when unknown.
    pub fn line(&self) -> usize {
        self.0.location.line
    }

    /// 1-based column, or 0 when unknown.
    pub fn column(&self) -> usize {
        self.0.location.column
    }

    /// The human-readable explanation, without the location.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.0.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        };
        write!(
            f,
            "{sev} [{}] at {}: {}",
            self.0.kind.as_str(),
            self.0.location,
            self.0.message
        )
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_characters() {
        let text = "ab\ncé\nxyz".as_bytes();
        let at_z = text.len() - 1;
        let loc = Location::at_offset(text, at_z, "P.x");
        assert_eq!((loc.line, loc.column), (3, 3));
        // 'é' is two bytes but one column.
        let after_e = "ab\ncé".len();
        let loc = Location::at_offset(text, after_e, "");
        assert_eq!((loc.line, loc.column), (2, 3));
    }

    #[test]
    fn display_names_kind_path_and_position() {
        let e = Error::new(
            ErrorKind::InvalidValue,
            Location::at_offset(b"{\n  \"x\": 1}", 9, "Patient.birthDate"),
            "bad date",
        );
        assert_eq!(
            e.to_string(),
            "error [invalid-value] at Patient.birthDate (line 2, column 8): bad date"
        );
        assert_eq!(e.into_warning().severity(), Severity::Warning);
    }
}
