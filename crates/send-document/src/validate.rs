//! Validation of a whole message: profiles by role, then the Send Document rules.

use std::collections::HashMap;

use fhir_stu3::Resource;
use fhir_validator::{Finding, IssueType, Node, Severity, Validator};

use crate::message::Message;
use crate::rules;

/// Which generation of Send Document a message is checked against. The two differ
/// only where NHS changed a rule (see `docs/validation.md`); the MESH workflow ID, not
/// the FHIR payload, is what tells them apart on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Edition {
    /// Send Document 2.0.2, the current version (workflow `GPCONNECT_SEND_DOCUMENT`).
    #[default]
    V2,
    /// The 1.3.x consultation summary (workflow `GPFED_CONSULT_REPORT`): RecipientType
    /// `FA`, `confidentiality` required, the Practitioner and its SDS user ID required
    /// and the author, `Composition.type` `371531000`, LocalExtension
    /// `SendDocument-ConsultationSummary`, and no `MessageHeader.receiver`.
    V1_3,
}

/// How a message is validated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Options {
    /// The Send Document edition (2.0.2 by default).
    pub edition: Edition,
}

impl Options {
    /// The default options with another edition.
    pub fn with_edition(edition: Edition) -> Self {
        Options { edition }
    }
}

/// Validates messages; keeps the profile validator's caches between calls, so reuse
/// one for many messages.
#[derive(Default)]
pub struct MessageValidator {
    validator: Validator,
    options: Options,
}

impl MessageValidator {
    /// A validator with these options.
    pub fn new(options: Options) -> Self {
        MessageValidator {
            validator: Validator::new(),
            options,
        }
    }

    /// Validates a message: see [`validate_message`].
    pub fn validate(&self, message: &Resource) -> Vec<Finding> {
        self.validate_tree(&message.to_tree())
    }

    /// Validates a message given as an element tree (`Resource::to_tree()`).
    pub fn validate_tree(&self, message: &Node) -> Vec<Finding> {
        let mut findings = if message.type_name == "Bundle" {
            let msg = Message::read(message);
            let profiles: HashMap<String, String> = msg
                .roles()
                .into_iter()
                .map(|r| (r.location, r.role.profile().to_owned()))
                .collect();
            let mut findings = self.validator.validate_with_profiles(message, &profiles);
            let rules = rules::check(&msg, self.options, &findings);
            findings.extend(rules);
            findings
        } else {
            let mut findings = self.validator.validate(message);
            findings.push(Finding {
                severity: Severity::Error,
                issue: IssueType::Structure,
                location: message.type_name.to_owned(),
                rule: "message-bundle".to_owned(),
                profile: crate::urls::MESSAGE_BUNDLE.to_owned(),
                message: format!(
                    "a Send Document message is a Bundle of type message, not a {}; it was \
                     validated against its own definitions only",
                    message.type_name
                ),
            });
            findings
        };
        findings.sort_by(|a, b| {
            (a.severity, &a.location, &a.rule, &a.message, &a.profile).cmp(&(
                b.severity,
                &b.location,
                &b.rule,
                &b.message,
                &b.profile,
            ))
        });
        findings.dedup();
        findings
    }
}

/// Validates a GP Connect Send Document message (or an ITK3 response) as a whole,
/// with the default [`Options`] (Send Document 2.0.2).
///
/// Each resource is validated against the profile of its role in the message
/// ([`roles`](crate::roles)), whatever its `meta.profile` says, and the Send Document
/// rules that profiles cannot express are added, each under its requirement ID. The
/// findings are sorted (errors first, then by location) and never repeat. A resource
/// that is not a Bundle gives one `message-bundle` error beside its ordinary
/// validation. Nothing here panics on bad input: every problem is a finding.
pub fn validate_message(message: &Resource) -> Vec<Finding> {
    MessageValidator::default().validate(message)
}
