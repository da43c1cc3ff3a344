//! FHIR JSON mechanics.
pub(crate) mod lexer;
