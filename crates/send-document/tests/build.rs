//! The message builder: messages built through the API are valid for their edition
//! (no error) in XML and in JSON and read back unchanged; every input the builder
//! refuses gives its exact problem; the envelope, narrative, identifiers and
//! references are what `docs/send-document-building.md` says.

use chrono::{DateTime, FixedOffset, NaiveDate};
use fhir_stu3::Resource;
use send_document::build::{
    Attachment, AuthoringPractitioner, BuildError, BuiltMessage, Confidentiality, DocumentStatus,
    DocumentType, Format, IdSource, Input, NhsNumberVerificationStatus, Patient, Problem,
    RecipientType, Replacement, SendDocumentBuilder, SendingOrganisation, SnomedConcept, Uuid,
};
use send_document::{
    DobFormat, Edition, MeshMailbox, MessageValidator, NhsNumber, Node, OdsCode, Options, Severity,
    Workflow,
};

// --- Inputs ---------------------------------------------------------------------------

/// A small but real PDF header and trailer.
fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
        .to_vec()
}

/// The PNG signature and an IHDR chunk (1x1, 8-bit RGB).
fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend_from_slice(
        b"\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00",
    );
    v.extend_from_slice(&[0x90, 0x77, 0x53, 0xde]);
    v
}

/// A JPEG start-of-image and JFIF APP0 marker.
fn jpeg() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    v.extend_from_slice(b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00");
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

fn created() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-22T10:15:00+00:00").unwrap()
}

fn patient() -> Patient {
    Patient::new(
        "943 476 5919",
        "Mowers",
        NaiveDate::from_ymd_opt(1955, 1, 9).unwrap(),
    )
    .prefix("Mrs")
    .given("Lorne")
}

fn sender() -> SendingOrganisation {
    SendingOrganisation::new("b82617", "Grass Heights GP Practice", "meshgp0001")
}

fn author() -> AuthoringPractitioner {
    AuthoringPractitioner::new("G8133438", "Nightingale")
        .prefix("Dr")
        .given("Florence")
}

/// A complete 2.x builder: one PDF, seeded ids, a fixed creation time.
fn builder() -> SendDocumentBuilder {
    SendDocumentBuilder::new()
        .patient(patient())
        .sender(sender())
        .author(author())
        .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
        .title("Consultation report")
        .attachment(Attachment::pdf(pdf()))
        .created_at(created())
        .ids(IdSource::Seeded(42))
}

fn problems(b: SendDocumentBuilder) -> Vec<Problem> {
    match b.build() {
        Ok(_) => panic!("the builder built a message it should have refused"),
        Err(e) => e.into_problems(),
    }
}

// --- Element trees ----------------------------------------------------------------------

/// The node at a dotted path (`entry[2].resource.entry[0].resource.subject`), where
/// `name` means `name[0]`.
fn at<'n>(node: &'n Node, path: &str) -> &'n Node {
    let mut n = node;
    for seg in path.split('.') {
        let (name, i) = match seg.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().unwrap()),
            None => (seg, 0),
        };
        n = n
            .children
            .iter()
            .filter(|c| c.name == name)
            .nth(i)
            .unwrap_or_else(|| panic!("no {seg} in {path}"));
    }
    n
}

fn value<'n>(node: &'n Node, path: &str) -> &'n str {
    at(node, path)
        .value
        .as_deref()
        .unwrap_or_else(|| panic!("{path} has no value"))
}

fn has(node: &Node, path: &str) -> bool {
    let mut n = node;
    for seg in path.split('.') {
        match n.child(seg) {
            Some(c) => n = c,
            None => return false,
        }
    }
    true
}

/// The value of the handling key `key`.
fn handling<'n>(header: &'n Node, key: &str) -> &'n Node {
    let ext = header
        .children_named("extension")
        .find(|e| {
            e.child_value("url")
                == Some(
                    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2",
                )
        })
        .expect("handling extension");
    ext.children_named("extension")
        .find(|e| e.child_value("url") == Some(key))
        .and_then(|e| e.child("value"))
        .unwrap_or_else(|| panic!("handling key {key}"))
}

/// The resource of the entry whose `fullUrl` is `reference`, in `bundle`.
fn resolve<'n>(bundle: &'n Node, reference: &str) -> &'n Node {
    bundle
        .children_named("entry")
        .find(|e| e.child_value("fullUrl") == Some(reference))
        .and_then(|e| e.child("resource"))
        .unwrap_or_else(|| panic!("{reference} resolves to no entry"))
}

const DOC: &str = "entry[2].resource";
const COMPOSITION: &str = "entry[2].resource.entry[0].resource";

// --- Validation and round trips ---------------------------------------------------------

fn errors(findings: &[send_document::Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.to_string())
        .collect()
}

/// The message is valid for `edition`; written as XML and as JSON and read back
/// strictly, it is the same resource, and still valid.
fn assert_valid_both_ways(built: &BuiltMessage, edition: Edition) {
    let validator = MessageValidator::new(Options::with_edition(edition));
    assert_eq!(
        errors(&validator.validate(built.message())),
        Vec::<String>::new()
    );
    for format in [Format::Xml, Format::Json] {
        let text = built.serialize(format);
        let back = match format {
            Format::Xml => Resource::from_xml(text.as_bytes()),
            Format::Json => Resource::from_json(text.as_bytes()),
        }
        .unwrap_or_else(|e| panic!("{format:?} does not read back strictly: {e}"));
        assert!(&back == built.message(), "{format:?} read back differs");
        assert_eq!(
            errors(&validator.validate(&back)),
            Vec::<String>::new(),
            "{format:?}"
        );
    }
    assert_eq!(built.to_xml(), built.serialize(Format::Xml));
    assert_eq!(built.to_json(), built.serialize(Format::Json));
}

/// Every entry of both Bundles: `fullUrl` is `urn:uuid:` + the resource id, a
/// lower-case version 4 UUID; and every `reference` in the message resolves.
fn assert_full_urls(message: &Node) {
    let document = at(message, DOC);
    let mut count = 0;
    for bundle in [message, document] {
        for entry in bundle.children_named("entry") {
            let id = entry
                .child("resource")
                .and_then(|r| r.child_value("id"))
                .unwrap();
            let uuid = Uuid::parse_str(id).unwrap();
            assert_eq!(uuid.get_version_num(), 4, "{id}");
            assert_eq!(uuid.to_string(), id, "lower-case hyphenated");
            assert_eq!(
                entry.child_value("fullUrl"),
                Some(format!("urn:uuid:{id}").as_str())
            );
            count += 1;
        }
    }
    assert!(count >= 8, "{count} entries");
}

#[test]
fn one_pdf_is_a_valid_send_document_2_message() {
    let built = builder().build().unwrap();
    assert_valid_both_ways(&built, Edition::V2);
    // The validator's only remark: the Binary's MIME type binding cannot be checked.
    let remarks: Vec<(Severity, &str)> = built
        .findings()
        .iter()
        .map(|f| (f.severity, f.rule.as_str()))
        .collect();
    assert_eq!(remarks, [(Severity::Information, "binding")]);

    let m = built.message().to_tree();
    assert_eq!(m.type_name, "Bundle");
    assert_eq!(value(&m, "type"), "message");
    assert_eq!(
        value(&m, "meta.profile"),
        send_document::urls::MESSAGE_BUNDLE
    );
    assert_eq!(
        value(&m, "identifier.system"),
        "https://tools.ietf.org/html/rfc4122"
    );
    assert_eq!(m.children_named("entry").count(), 3);
    assert_full_urls(&m);

    // MessageHeader.
    let h = at(&m, "entry[0].resource");
    assert_eq!(h.type_name, "MessageHeader");
    assert_eq!(
        value(h, "event.system"),
        "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2"
    );
    assert_eq!(value(h, "event.code"), "ITK007C");
    assert_eq!(value(h, "event.display"), "ITK GP Connect Send Document");
    assert_eq!(value(h, "source.endpoint"), "MESHGP0001");
    assert_eq!(value(h, "timestamp"), "2026-11-22T10:15:00Z");
    assert!(!has(h, "receiver") && !has(h, "destination"));
    assert_eq!(
        handling(h, "BusAckRequested").value.as_deref(),
        Some("true")
    );
    assert_eq!(
        handling(h, "InfAckRequested").value.as_deref(),
        Some("true")
    );
    assert_eq!(handling(h, "RecipientType").child_value("code"), Some("FA"));
    assert_eq!(
        handling(h, "RecipientType").child_value("display"),
        Some("For Action")
    );
    assert_eq!(
        handling(h, "MessageDefinition").child_value("reference"),
        Some("https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1")
    );
    assert_eq!(handling(h, "LocalExtension").value.as_deref(), Some("None"));
    let ids = built.identifiers();
    assert_eq!(
        handling(h, "SenderReference").value.as_deref(),
        Some(format!("urn:uuid:{}", ids.composition_id).as_str())
    );
    assert_eq!(
        ids.sender_reference,
        format!("urn:uuid:{}", ids.composition_id)
    );
    assert_eq!(value(h, "id"), ids.message_header_id.to_string());

    // sender → the header Organization: an ODS code and nothing else.
    let org = resolve(&m, value(h, "sender.reference"));
    assert_eq!(
        value(org, "meta.profile"),
        send_document::urls::HEADER_ORGANIZATION
    );
    assert_eq!(
        value(org, "identifier.system"),
        "https://fhir.nhs.uk/Id/ods-organization-code"
    );
    assert_eq!(value(org, "identifier.value"), "B82617");
    let fields: Vec<&str> = org.children.iter().map(|c| c.name).collect();
    assert_eq!(fields, ["id", "meta", "identifier"]);

    // focus → the document Bundle.
    let doc = resolve(&m, value(h, "focus.reference"));
    assert!(std::ptr::eq(doc, at(&m, DOC)));
    assert_eq!(value(doc, "type"), "document");
    assert_eq!(value(doc, "meta.lastUpdated"), "2026-11-22T10:15:00Z");
    assert_eq!(
        value(doc, "identifier.value"),
        ids.document_bundle_identifier.to_string()
    );
    let types: Vec<&str> = doc
        .children_named("entry")
        .map(|e| e.child("resource").unwrap().type_name)
        .collect();
    assert_eq!(
        types,
        [
            "Composition",
            "Patient",
            "Organization",
            "Practitioner",
            "Binary"
        ]
    );

    // Composition.
    let c = at(&m, COMPOSITION);
    assert_eq!(value(c, "id"), ids.composition_id.to_string());
    assert_eq!(value(c, "meta.versionId"), "1");
    assert_eq!(
        value(c, "identifier.system"),
        "https://tools.ietf.org/html/rfc4122"
    );
    assert_eq!(
        value(c, "identifier.value"),
        ids.composition_identifier.to_string()
    );
    assert_eq!(value(c, "status"), "final");
    assert_eq!(value(c, "type.coding.system"), "http://snomed.info/sct");
    assert_eq!(value(c, "type.coding.code"), "371531000");
    assert_eq!(
        value(c, "type.coding.display"),
        "Report of clinical encounter (record artifact)"
    );
    assert_eq!(value(c, "title"), "Consultation report");
    assert_eq!(value(c, "date"), "2026-11-22T10:15:00Z");
    assert_eq!(value(c, "text.status"), "generated");
    assert!(!has(c, "confidentiality") && !has(c, "relatesTo") && !has(c, "event"));
    assert!(!has(c, "extension"), "no care setting unless given");
    assert_eq!(c.children_named("author").count(), 1);
    let practitioner = resolve(doc, value(c, "author.reference"));
    assert_eq!(practitioner.type_name, "Practitioner");
    assert_eq!(
        value(practitioner, "identifier.system"),
        "https://fhir.nhs.uk/Id/sds-user-id"
    );
    assert_eq!(value(practitioner, "identifier.value"), "G8133438");
    assert_eq!(value(practitioner, "name.use"), "official");
    assert_eq!(value(practitioner, "name.family"), "Nightingale");
    assert_eq!(value(practitioner, "name.given"), "Florence");
    assert_eq!(value(practitioner, "name.prefix"), "Dr");
    assert!(!has(practitioner, "telecom"));
    let custodian = resolve(doc, value(c, "custodian.reference"));
    assert_eq!(
        value(custodian, "meta.profile"),
        send_document::urls::ORGANIZATION
    );
    assert_eq!(value(custodian, "identifier.value"), "B82617");
    assert_eq!(value(custodian, "name"), "Grass Heights GP Practice");
    assert!(!has(custodian, "telecom"));

    // Patient: the NHS number with its verification, the official name, the birth
    // date, and nothing else.
    let p = resolve(doc, value(c, "subject.reference"));
    assert_eq!(p.type_name, "Patient");
    assert_eq!(
        value(p, "identifier.system"),
        "https://fhir.nhs.uk/Id/nhs-number"
    );
    assert_eq!(value(p, "identifier.value"), "9434765919");
    let verification = at(p, "identifier.extension");
    assert_eq!(
        verification.child_value("url"),
        Some("https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1")
    );
    assert_eq!(value(verification, "value.coding.code"), "01");
    assert_eq!(
        value(verification, "value.coding.display"),
        "Number present and verified"
    );
    assert_eq!(
        value(verification, "value.coding.system"),
        "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1"
    );
    assert_eq!(value(p, "name.use"), "official");
    assert_eq!(value(p, "name.family"), "Mowers");
    assert_eq!(value(p, "name.given"), "Lorne");
    assert_eq!(value(p, "name.prefix"), "Mrs");
    assert_eq!(value(p, "birthDate"), "1955-01-09");
    let fields: Vec<&str> = p.children.iter().map(|c| c.name).collect();
    assert_eq!(fields, ["id", "meta", "identifier", "name", "birthDate"]);

    // One section, whose entry is the Binary.
    assert_eq!(c.children_named("section").count(), 1);
    assert_eq!(value(c, "section.title"), "Consultation report");
    let binary = resolve(doc, value(c, "section.entry.reference"));
    assert_eq!(binary.type_name, "Binary");
    assert_eq!(value(binary, "contentType"), "application/pdf");
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value(binary, "content"))
        .unwrap();
    assert_eq!(decoded, pdf());
}

#[test]
fn several_attachments_each_have_a_section_primary_first() {
    let built = builder()
        .attachment(Attachment::new("image/png", png()).title("Wound photograph"))
        .attachment(Attachment::new("image/jpeg", jpeg()))
        .build()
        .unwrap();
    assert_valid_both_ways(&built, Edition::V2);
    let m = built.message().to_tree();
    assert_full_urls(&m);
    let doc = at(&m, DOC);
    let c = at(&m, COMPOSITION);
    let sections: Vec<(&str, &Node)> = c
        .children_named("section")
        .map(|s| {
            assert_eq!(s.children_named("entry").count(), 1);
            (
                s.child_value("title").unwrap(),
                resolve(doc, value(s, "entry.reference")),
            )
        })
        .collect();
    let got: Vec<(&str, &str)> = sections
        .iter()
        .map(|(t, b)| (*t, value(b, "contentType")))
        .collect();
    assert_eq!(
        got,
        [
            ("Consultation report", "application/pdf"),
            ("Wound photograph", "image/png"),
            ("Consultation report", "image/jpeg"),
        ]
    );
    use base64::Engine as _;
    for ((_, b), bytes) in sections.iter().zip([pdf(), png(), jpeg()]) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value(b, "content"))
            .unwrap();
        assert_eq!(decoded, bytes);
    }
    // The Binaries follow the other resources, in the attachments' order.
    let types: Vec<&str> = doc
        .children_named("entry")
        .map(|e| e.child("resource").unwrap().type_name)
        .collect();
    assert_eq!(
        types,
        [
            "Composition",
            "Patient",
            "Organization",
            "Practitioner",
            "Binary",
            "Binary",
            "Binary"
        ]
    );
    let binary_ids: Vec<&str> = doc
        .children_named("entry")
        .skip(4)
        .map(|e| at(e, "resource.id").value.as_deref().unwrap())
        .collect();
    let section_targets: Vec<String> = c
        .children_named("section")
        .map(|s| {
            value(s, "entry.reference")
                .trim_start_matches("urn:uuid:")
                .to_owned()
        })
        .collect();
    assert_eq!(binary_ids, section_targets);
}

#[test]
fn legacy_consultation_summary_has_the_coherent_1_3_values() {
    let built = SendDocumentBuilder::new()
        .workflow(Workflow::ConsultReport)
        .patient(patient())
        .sender(sender().telephone("01632 960 000"))
        .author(author())
        .attachment(Attachment::pdf(pdf()))
        .created_at(created())
        .ids(IdSource::Seeded(1))
        .build()
        .unwrap();
    assert_valid_both_ways(&built, Edition::V1_3);
    // Without any warning for 1.3 either (only the MIME-type binding note).
    let remarks: Vec<Severity> = built.findings().iter().map(|f| f.severity).collect();
    assert_eq!(remarks, [Severity::Information]);
    let m = built.message().to_tree();
    let h = at(&m, "entry[0].resource");
    assert_eq!(handling(h, "RecipientType").child_value("code"), Some("FA"));
    assert_eq!(
        handling(h, "LocalExtension").value.as_deref(),
        Some("SendDocument-ConsultationSummary")
    );
    let c = at(&m, COMPOSITION);
    assert_eq!(value(c, "type.coding.code"), "371531000");
    assert_eq!(value(c, "title"), "Consultation report");
    assert_eq!(value(c, "status"), "final");
    assert_eq!(value(c, "confidentiality"), "N");
    assert_eq!(value(c, "section.title"), "Consultation report");
    let org = at(&m, "entry[2].resource.entry[2].resource");
    assert_eq!(value(org, "telecom.system"), "phone");
    assert_eq!(value(org, "telecom.use"), "work");
    assert_eq!(value(org, "telecom.value"), "01632 960 000");
    let env = built.envelope();
    assert_eq!(env.workflow_id, "GPFED_CONSULT_REPORT");
    assert_eq!(env.workflow(), Some(Workflow::ConsultReport));
    assert_eq!(built.identifiers().workflow, Workflow::ConsultReport);

    // The same values, given explicitly, are accepted.
    let explicit = SendDocumentBuilder::new()
        .workflow(Workflow::ConsultReport)
        .patient(patient())
        .sender(sender().telephone("01632 960 000"))
        .author(author())
        .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
        .title("Consultation report")
        .status(DocumentStatus::Final)
        .confidentiality(Confidentiality::Normal)
        .recipient_type(RecipientType::ForAction)
        .attachment(Attachment::pdf(pdf()))
        .created_at(created())
        .ids(IdSource::Seeded(1))
        .build()
        .unwrap();
    assert_eq!(explicit.message(), built.message());
}

#[test]
fn a_replacement_chain_of_three_versions() {
    let v1 = builder().ids(IdSource::Random).build().unwrap();
    let v2 = builder()
        .ids(IdSource::Random)
        .status(DocumentStatus::Amended)
        .replaces(v1.identifiers().replacement())
        .build()
        .unwrap();
    let v3 = builder()
        .ids(IdSource::Random)
        .status(DocumentStatus::Amended)
        .replaces(v2.identifiers().replacement())
        .build()
        .unwrap();
    for (built, version, replaced) in [(&v1, 1, None), (&v2, 2, Some(&v1)), (&v3, 3, Some(&v2))] {
        assert_valid_both_ways(built, Edition::V2);
        let m = built.message().to_tree();
        let c = at(&m, COMPOSITION);
        assert_eq!(value(c, "meta.versionId"), version.to_string());
        assert_eq!(built.identifiers().version, version);
        assert!(built
            .envelope()
            .subject
            .ends_with(&format!(", Version: {version}")));
        assert!(value(c, "text.div").contains(&format!(", Version: {version}</p>")));
        match replaced {
            None => assert!(!has(c, "relatesTo")),
            Some(previous) => {
                assert_eq!(value(c, "relatesTo.code"), "replaces");
                let target = at(c, "relatesTo.target");
                assert_eq!(target.choice_type, "Identifier");
                assert_eq!(
                    value(target, "system"),
                    "https://tools.ietf.org/html/rfc4122"
                );
                assert_eq!(
                    value(target, "value"),
                    previous.identifiers().composition_identifier.to_string()
                );
                // A new document: its own identifier, not the previous one.
                assert_ne!(
                    built.identifiers().composition_identifier,
                    previous.identifiers().composition_identifier
                );
            }
        }
    }
    assert_eq!(
        v3.envelope().subject,
        "Consultation report for Mrs Lorne Mowers, NHS Number: 943 476 5919, seen at Grass \
         Heights GP Practice, B82617, Version: 3"
    );
    // The .ctl Version is the control-file version, never the document's.
    assert!(v3
        .envelope()
        .to_ctl_xml()
        .contains("<Version>1.0</Version>"));

    // The legacy workflow replaces the same way (status stays final).
    let legacy = |r: Option<Replacement>| {
        let mut b = SendDocumentBuilder::new()
            .workflow(Workflow::ConsultReport)
            .patient(patient())
            .sender(sender())
            .author(author())
            .attachment(Attachment::pdf(pdf()));
        if let Some(r) = r {
            b = b.replaces(r);
        }
        b.build().unwrap()
    };
    let l1 = legacy(None);
    let l2 = legacy(Some(l1.identifiers().replacement()));
    assert_valid_both_ways(&l2, Edition::V1_3);
    assert_eq!(l2.identifiers().version, 2);
}

#[test]
fn envelope_subject_address_and_local_id() {
    let built = builder().build().unwrap();
    let env = built.envelope();
    assert_eq!(env.workflow_id, "GPCONNECT_SEND_DOCUMENT");
    assert_eq!(env.from, MeshMailbox::new("MESHGP0001").unwrap());
    assert_eq!(env.to, "GPPROVIDER_9434765919_19550109_Mowers");
    assert_eq!(
        env.subject,
        "Consultation report for Mrs Lorne Mowers, NHS Number: 943 476 5919, seen at Grass \
         Heights GP Practice, B82617, Version: 1"
    );
    assert_eq!(env.local_id, "B82617");
    assert_eq!(env.local_id, OdsCode::new("b82617").unwrap().as_str());

    let day_first = builder().dob_format(DobFormat::DayFirst).build().unwrap();
    assert_eq!(
        day_first.envelope().to,
        "GPPROVIDER_9434765919_09011955_Mowers"
    );
    // The address names the patient of the message, in either order.
    for b in [&built, &day_first] {
        let address = send_document::GpProviderAddress::parse(&b.envelope().to).unwrap();
        assert!(address.matches(
            &NhsNumber::new("9434765919").unwrap(),
            NaiveDate::from_ymd_opt(1955, 1, 9).unwrap(),
            "MOWERS"
        ));
    }
    // The .ctl carries the same values.
    let ctl = built.envelope().to_ctl_xml();
    for line in [
        "<From_DTS>MESHGP0001</From_DTS>",
        "<To_DTS>GPPROVIDER_9434765919_19550109_Mowers</To_DTS>",
        "<LocalId>B82617</LocalId>",
        "<WorkflowId>GPCONNECT_SEND_DOCUMENT</WorkflowId>",
    ] {
        assert!(ctl.contains(line), "{line} in {ctl}");
    }
}

#[test]
fn narrative_follows_the_template_and_escapes_names() {
    let built = builder().build().unwrap();
    let m = built.message().to_tree();
    assert_eq!(
        value(at(&m, COMPOSITION), "text.div"),
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Consultation report for Mrs Lorne \
         Mowers, NHS Number: 943 476 5919, seen at Grass Heights GP Practice, B82617, Version: \
         1</p></div>"
    );

    let built = builder()
        .patient(
            Patient::new(
                "9690937278",
                "Smith & Jones",
                NaiveDate::from_ymd_opt(1950, 5, 12).unwrap(),
            )
            .given("<Bob>"),
        )
        .sender(SendingOrganisation::new("RR8", "A&E <Leeds>", "X26OT181"))
        .title("Discharge <summary> & plan")
        .build()
        .unwrap();
    assert_valid_both_ways(&built, Edition::V2);
    let m = built.message().to_tree();
    assert_eq!(
        value(at(&m, COMPOSITION), "text.div"),
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Discharge &lt;summary&gt; &amp; plan \
         for &lt;Bob&gt; Smith &amp; Jones, NHS Number: 969 093 7278, seen at A&amp;E \
         &lt;Leeds&gt;, RR8, Version: 1</p></div>"
    );
    // The Subject is plain text; the .ctl escapes it.
    assert_eq!(
        built.envelope().subject,
        "Discharge <summary> & plan for <Bob> Smith & Jones, NHS Number: 969 093 7278, seen at \
         A&E <Leeds>, RR8, Version: 1"
    );
    assert!(built
        .envelope()
        .to_ctl_xml()
        .contains("<Subject>Discharge &lt;summary&gt; &amp; plan for"));
    // The names themselves are written as given.
    assert_eq!(
        value(&m, "entry[2].resource.entry[1].resource.name.family"),
        "Smith & Jones"
    );
    assert!(built
        .to_xml()
        .contains("<family value=\"Smith &amp; Jones\"/>"));
}

#[test]
fn the_four_identifiers_are_fresh_distinct_uuids() {
    let a = builder().ids(IdSource::Random).build().unwrap();
    let b = builder().ids(IdSource::Random).build().unwrap();
    let four = |m: &BuiltMessage| {
        let i = m.identifiers();
        [
            i.message_bundle_identifier,
            i.document_bundle_identifier,
            i.message_header_id,
            i.composition_identifier,
        ]
    };
    let mut all: Vec<Uuid> = four(&a).into_iter().chain(four(&b)).collect();
    for u in &all {
        assert_eq!(u.get_version_num(), 4);
    }
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 8, "identifiers repeat");

    // What the message carries is what identifiers() reports.
    let m = a.message().to_tree();
    let i = a.identifiers();
    assert_eq!(
        value(&m, "identifier.value"),
        i.message_bundle_identifier.to_string()
    );
    assert_eq!(
        value(&m, "entry[0].resource.id"),
        i.message_header_id.to_string()
    );
    assert_eq!(
        value(&m, "entry[2].resource.identifier.value"),
        i.document_bundle_identifier.to_string()
    );
    assert_eq!(
        value(&m, "entry[2].resource.identifier.system"),
        "https://tools.ietf.org/html/rfc4122"
    );
    assert_eq!(
        value(at(&m, COMPOSITION), "identifier.value"),
        i.composition_identifier.to_string()
    );
    // And no id or identifier value anywhere in the message repeats.
    let mut values: Vec<&str> = m
        .descendants()
        .into_iter()
        .filter(|n| n.name == "id" || (n.name == "value" && n.type_name == "string"))
        .filter_map(|n| n.value.as_deref())
        .filter(|v| v.len() == 36 && Uuid::parse_str(v).is_ok())
        .collect();
    let n = values.len();
    values.sort();
    values.dedup();
    assert_eq!(values.len(), n, "a UUID is used twice");
    // 9 resource ids and 3 identifiers.
    assert_eq!(n, 12);
}

#[test]
fn seeded_ids_and_a_fixed_clock_give_the_same_message() {
    let a = builder().build().unwrap();
    let b = builder().build().unwrap();
    assert_eq!(a.to_xml(), b.to_xml());
    assert_eq!(a, b);
    let c = builder().ids(IdSource::Seeded(43)).build().unwrap();
    assert_ne!(a.to_xml(), c.to_xml());
    // Composition.date, MessageHeader.timestamp and meta.lastUpdated: one instant.
    let at_noon = DateTime::parse_from_rfc3339("2026-11-22T12:00:00+01:00").unwrap();
    let d = builder().created_at(at_noon).build().unwrap();
    let m = d.message().to_tree();
    assert_eq!(
        value(&m, "entry[0].resource.timestamp"),
        "2026-11-22T12:00:00+01:00"
    );
    assert_eq!(
        value(at(&m, COMPOSITION), "date"),
        "2026-11-22T12:00:00+01:00"
    );
    assert_eq!(
        value(&m, "entry[2].resource.meta.lastUpdated"),
        "2026-11-22T12:00:00+01:00"
    );
    assert_eq!(d.identifiers().created_at, at_noon);
    // Without a clock: now, to the second.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let e = SendDocumentBuilder::new()
        .patient(patient())
        .sender(sender())
        .author(author())
        .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
        .title("Consultation report")
        .attachment(Attachment::pdf(pdf()))
        .build()
        .unwrap();
    let ts = e.identifiers().created_at;
    assert!((ts.timestamp() - now).abs() < 60, "{ts}");
    assert_eq!(ts.timestamp_subsec_nanos(), 0);
    assert_eq!(ts.offset().local_minus_utc(), 0);
}

#[test]
fn optional_inputs_are_written_when_given() {
    let built = builder()
        .recipient_type(RecipientType::ForInformation)
        .document_type(DocumentType::REMOTE_HEALTH_CORRESPONDENCE)
        .title("Remote consultation letter")
        .confidentiality(Confidentiality::Normal)
        .care_setting(SnomedConcept::new("788007007", "General practice service"))
        .event(SnomedConcept::new(
            "149951000000107",
            "Patient information received using general practice online consultation system",
        ))
        .sender(sender().telephone("01632 960 000"))
        .author(author().telephone("01632 960 001"))
        .patient(patient().verification(NhsNumberVerificationStatus::V02))
        .sender_reference("consultation-2026-0042")
        .build()
        .unwrap();
    assert_valid_both_ways(&built, Edition::V2);
    let m = built.message().to_tree();
    let h = at(&m, "entry[0].resource");
    assert_eq!(handling(h, "RecipientType").child_value("code"), Some("FI"));
    assert_eq!(
        handling(h, "RecipientType").child_value("display"),
        Some("For Information")
    );
    assert_eq!(
        handling(h, "SenderReference").value.as_deref(),
        Some("consultation-2026-0042")
    );
    assert_eq!(
        built.identifiers().sender_reference,
        "consultation-2026-0042"
    );
    let c = at(&m, COMPOSITION);
    assert_eq!(value(c, "type.coding.code"), "149701000000109");
    assert_eq!(
        value(c, "type.coding.display"),
        "Remote health correspondence (record artifact)"
    );
    assert_eq!(value(c, "confidentiality"), "N");
    let care = at(c, "extension");
    assert_eq!(
        care.child_value("url"),
        Some("https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-CareSettingType-1")
    );
    assert_eq!(value(care, "value.coding.code"), "788007007");
    assert_eq!(value(care, "value.coding.system"), "http://snomed.info/sct");
    assert_eq!(value(c, "event.code.coding.code"), "149951000000107");
    assert_eq!(value(c, "section.title"), "Remote consultation letter");
    let pr = at(&m, "entry[2].resource.entry[3].resource");
    assert_eq!(value(pr, "telecom.value"), "01632 960 001");
    assert_eq!(value(pr, "telecom.use"), "work");
    let p = at(&m, "entry[2].resource.entry[1].resource");
    assert_eq!(value(p, "identifier.extension.value.coding.code"), "02");
    assert!(built
        .envelope()
        .subject
        .starts_with("Remote consultation letter for "));
}

#[test]
fn another_document_type_is_built_with_the_validators_warning() {
    let built = builder()
        .document_type(DocumentType::snomed(
            "325871000000103",
            "Remote consultation encounter type (record artifact)",
        ))
        .build()
        .unwrap();
    assert_valid_both_ways(&built, Edition::V2);
    let warnings: Vec<&str> = built
        .findings()
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .map(|f| f.rule.as_str())
        .collect();
    assert_eq!(warnings, ["GPCM-SD-115"]);
}

// --- Refusals ---------------------------------------------------------------------------

#[test]
fn nothing_given_lists_every_missing_input() {
    assert_eq!(
        problems(SendDocumentBuilder::new()),
        [
            Problem::Missing(Input::Patient),
            Problem::Missing(Input::Sender),
            Problem::Missing(Input::Practitioner),
            Problem::Missing(Input::DocumentType),
            Problem::Missing(Input::Title),
            Problem::NoAttachment,
        ]
    );
    // The legacy workflow supplies the type and title.
    assert_eq!(
        problems(SendDocumentBuilder::new().workflow(Workflow::ConsultReport)),
        [
            Problem::Missing(Input::Patient),
            Problem::Missing(Input::Sender),
            Problem::Missing(Input::Practitioner),
            Problem::NoAttachment,
        ]
    );
}

#[test]
fn refuses_a_bad_nhs_number() {
    let error = NhsNumber::new("9690937279").unwrap_err();
    assert_eq!(
        problems(builder().patient(Patient::new(
            "9690937279",
            "Smith",
            NaiveDate::from_ymd_opt(1950, 5, 12).unwrap()
        ))),
        [Problem::InvalidIdentifier {
            field: "patient NHS number",
            error
        }]
    );
}

#[test]
fn refuses_bad_ods_code_and_mailbox() {
    assert_eq!(
        problems(builder().sender(SendingOrganisation::new("A(*)", "Practice", "MESH GP"))),
        [
            Problem::InvalidIdentifier {
                field: "sender ODS code",
                error: OdsCode::new("A(*)").unwrap_err()
            },
            Problem::InvalidIdentifier {
                field: "sender MESH mailbox",
                error: MeshMailbox::new("MESH GP").unwrap_err()
            },
        ]
    );
}

#[test]
fn refuses_a_confidential_document() {
    let refused = builder()
        .confidentiality(Confidentiality::Restricted)
        .build()
        .unwrap_err();
    assert_eq!(refused.problems(), [Problem::Confidential]);
    assert_eq!(
        refused.to_string(),
        "the Send Document message was not built: the document is confidential (R): Send \
         Document 2.0.2 sends no confidential item, and a receiver would reject it (20009)"
    );
    assert_eq!(
        problems(
            builder()
                .workflow(Workflow::ConsultReport)
                .confidentiality(Confidentiality::Restricted)
        ),
        [Problem::Confidential]
    );
}

#[test]
fn legacy_workflow_refuses_conflicting_inputs() {
    let legacy = || builder().workflow(Workflow::ConsultReport);
    assert_eq!(
        problems(legacy().recipient_type(RecipientType::ForInformation)),
        [Problem::LegacyConflict {
            what: "the RecipientType",
            given: "FI".into(),
            required: "FA"
        }]
    );
    assert_eq!(
        problems(legacy().document_type(DocumentType::REMOTE_HEALTH_CORRESPONDENCE)),
        [Problem::LegacyConflict {
            what: "the document type",
            given: "149701000000109".into(),
            required: "371531000 (Report of clinical encounter)"
        }]
    );
    assert_eq!(
        problems(legacy().title("Discharge summary")),
        [Problem::LegacyConflict {
            what: "the title",
            given: "Discharge summary".into(),
            required: "\"Consultation report\""
        }]
    );
    assert_eq!(
        problems(legacy().status(DocumentStatus::Amended)),
        [Problem::LegacyConflict {
            what: "the status",
            given: "amended".into(),
            required: "final"
        }]
    );
    // FI is fine on the 2.x workflow.
    assert!(builder()
        .recipient_type(RecipientType::ForInformation)
        .build()
        .is_ok());
}

#[test]
fn refuses_a_message_without_attachment_or_practitioner() {
    let mut b = SendDocumentBuilder::new()
        .patient(patient())
        .sender(sender())
        .author(author())
        .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
        .title("Consultation report");
    assert_eq!(problems(b.clone()), [Problem::NoAttachment]);
    b = SendDocumentBuilder::new()
        .patient(patient())
        .sender(sender())
        .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
        .title("Consultation report")
        .attachment(Attachment::pdf(pdf()));
    assert_eq!(problems(b), [Problem::Missing(Input::Practitioner)]);
}

#[test]
fn refuses_bad_attachments() {
    let b = SendDocumentBuilder::new()
        .patient(patient())
        .sender(sender())
        .author(author())
        .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
        .title("Consultation report");
    assert_eq!(
        problems(
            b.clone()
                .attachment(Attachment::new("pdf", pdf()))
                .attachment(Attachment::new("image/png; name", png()))
                .attachment(Attachment::new("text/plain", Vec::new()))
                .attachment(Attachment::new("application/pdf", png()))
                .attachment(Attachment::new("IMAGE/JPEG", pdf()))
                .attachment(Attachment::new("image/png", png()).title(" "))
        ),
        [
            Problem::InvalidContentType {
                attachment: 0,
                content_type: "pdf".into(),
                reason: "a MIME type is type/subtype, such as application/pdf"
            },
            Problem::InvalidContentType {
                attachment: 1,
                content_type: "image/png; name".into(),
                reason: "a parameter is name=value"
            },
            Problem::EmptyAttachment { attachment: 2 },
            Problem::ContentMismatch {
                attachment: 3,
                content_type: "application/pdf".into(),
                expected: "%PDF-"
            },
            Problem::ContentMismatch {
                attachment: 4,
                content_type: "IMAGE/JPEG".into(),
                expected: "the JPEG marker FF D8 FF"
            },
            Problem::EmptyText {
                field: "attachment title"
            },
        ]
    );
    // Types the builder has no magic number for are taken as declared.
    let built = b
        .attachment(Attachment::pdf(pdf()))
        .attachment(Attachment::new(
            "text/plain; charset=utf-8",
            b"Notes".to_vec(),
        ))
        .build()
        .unwrap();
    assert_valid_both_ways(&built, Edition::V2);
}

#[test]
fn refuses_a_bad_sender_reference() {
    let too_long = "x".repeat(256);
    assert_eq!(
        problems(builder().sender_reference(too_long)),
        [Problem::SenderReferenceTooLong { length: 256 }]
    );
    // 255 characters (not bytes) are accepted.
    let longest = "é".repeat(255);
    let built = builder().sender_reference(longest.clone()).build().unwrap();
    assert_eq!(built.identifiers().sender_reference, longest);
    assert_eq!(
        problems(builder().sender_reference("NONE")),
        [Problem::SenderReferenceNone]
    );
    assert_eq!(
        problems(builder().sender_reference("  ")),
        [Problem::EmptyText {
            field: "SenderReference"
        }]
    );
}

#[test]
fn refuses_bad_snomed_codes_and_versions() {
    assert_eq!(
        problems(
            builder()
                .document_type(DocumentType::snomed("371531001", "Typo"))
                .care_setting(SnomedConcept::new("General practice", " "))
                .event(SnomedConcept::new("149951000000107", ""))
                .replaces(Replacement::new(Uuid::nil(), 0))
        ),
        [
            Problem::InvalidSnomedCode {
                field: "document type",
                code: "371531001".into(),
                reason: "its check digit is wrong (Verhoeff)"
            },
            Problem::InvalidSnomedCode {
                field: "care setting",
                code: "General practice".into(),
                reason: "a concept ID is 6 to 18 digits"
            },
            Problem::EmptyText {
                field: "care setting display"
            },
            Problem::EmptyText {
                field: "event display"
            },
            Problem::InvalidPreviousVersion {
                previous_version: 0
            },
        ]
    );
    assert_eq!(
        problems(builder().replaces(Replacement::new(Uuid::nil(), u32::MAX))),
        [Problem::InvalidPreviousVersion {
            previous_version: u32::MAX
        }]
    );
}

#[test]
fn refuses_bad_names_and_dates() {
    let born_later = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    assert_eq!(
        problems(
            builder()
                .patient(Patient::new("9690937278", " ", born_later).given("Ann\nMarie"))
                .author(AuthoringPractitioner::new("", "Nightingale").telephone(""))
                .title("\t")
        ),
        [
            Problem::EmptyText {
                field: "patient family name"
            },
            Problem::InvalidText {
                field: "patient given name",
                value: "Ann\nMarie".into(),
                reason: "contains a control character (a line break, a tab...)"
            },
            Problem::BirthDateInFuture {
                birth_date: born_later,
                created: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
            },
            Problem::EmptyText {
                field: "practitioner SDS user ID"
            },
            Problem::EmptyText {
                field: "practitioner telephone"
            },
            Problem::EmptyText { field: "title" },
        ]
    );
    // A surname too long for MESH's 100-character To address.
    let long = "A".repeat(70);
    assert_eq!(
        problems(builder().patient(Patient::new(
            "9690937278",
            long.as_str(),
            NaiveDate::from_ymd_opt(1950, 5, 12).unwrap()
        ))),
        [Problem::AddressTooLong {
            address: format!("GPPROVIDER_9690937278_19500512_{long}")
        }]
    );
    // A title too long for MESH's 500-character Subject.
    let title = "T".repeat(450);
    let refused = problems(builder().title(title.as_str()));
    assert_eq!(refused.len(), 1);
    assert!(matches!(refused[0], Problem::SubjectTooLong { length } if length > 500));
}

#[test]
fn every_problem_is_reported_at_once() {
    let refused = SendDocumentBuilder::new()
        .workflow(Workflow::ConsultReport)
        .patient(Patient::new(
            "1234567890",
            "Smith",
            NaiveDate::from_ymd_opt(1950, 5, 12).unwrap(),
        ))
        .sender(sender())
        .recipient_type(RecipientType::ForInformation)
        .confidentiality(Confidentiality::Restricted)
        .attachment(Attachment::new("application/pdf", jpeg()))
        .sender_reference("r".repeat(300))
        .build()
        .unwrap_err();
    let kinds: Vec<String> = refused
        .problems()
        .iter()
        .map(|p| {
            format!("{p:?}")
                .split([' ', '('])
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "InvalidIdentifier",
            "Missing",
            "Confidential",
            "LegacyConflict",
            "SenderReferenceTooLong",
            "ContentMismatch"
        ]
    );
    let text = refused.to_string();
    assert!(text.starts_with("the Send Document message was not built (6 problems):\n  1. patient NHS number: invalid NHS number"), "{text}");
    assert!(
        text.contains("\n  6. attachment 0 is declared application/pdf"),
        "{text}"
    );
}

#[test]
fn build_error_is_a_std_error() {
    let e: Box<dyn std::error::Error> =
        Box::new(builder().attachments([]).title("").build().unwrap_err());
    assert_eq!(
        e.to_string(),
        "the Send Document message was not built: title is empty"
    );
    let _: &BuildError = e.downcast_ref().unwrap();
}
