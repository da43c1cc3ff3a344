//! The sample inputs of `senddoc build --example` (see `example/README.md`): a
//! one-page sample consultation summary and NHS England's PDS sandbox test patient,
//! compiled into the binary so the command works anywhere.

/// The sample consultation-summary PDF.
pub const PDF: &[u8] = include_bytes!("../example/consultation-summary.pdf");

/// The test patient's NHS number (PDS sandbox; valid under Modulus 11).
pub const NHS_NUMBER: &str = "9000000009";
/// The test patient's family name.
pub const FAMILY: &str = "Smith";
/// The test patient's given name.
pub const GIVEN: &str = "Jane";
/// The test patient's prefix.
pub const PREFIX: &str = "Mrs";
/// The test patient's date of birth.
pub const BIRTH_DATE: &str = "2010-10-22";

/// The sending organisation's ODS code.
pub const SENDER_ODS: &str = "X26";
/// The sending organisation's name.
pub const SENDER_NAME: &str = "Bridge Street Out-of-hours Service";
/// The sending organisation's MESH mailbox (the MESH sandbox's test mailbox).
pub const SENDER_MAILBOX: &str = "X26ABC1";
/// The sending organisation's telephone number (Ofcom drama range).
pub const SENDER_PHONE: &str = "01632 960 000";

/// The authoring practitioner's SDS user ID.
pub const AUTHOR_SDS_ID: &str = "G8133438";
/// The authoring practitioner's family name.
pub const AUTHOR_FAMILY: &str = "Nightingale";
/// The authoring practitioner's given name.
pub const AUTHOR_GIVEN: &str = "Florence";
/// The authoring practitioner's prefix.
pub const AUTHOR_PREFIX: &str = "Dr";

/// The document title.
pub const TITLE: &str = "Consultation summary";
