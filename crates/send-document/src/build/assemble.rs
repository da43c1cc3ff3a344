//! Assembling the FHIR message from checked inputs, through the typed profiles of
//! `fhir-profiles` (whose `From` conversions write `meta.profile` and fixed values).

use chrono::{DateTime, FixedOffset};
use fhir_extensions::{
    CareConnectCareSettingType1, CareConnectNHSNumberVerificationStatus1, ItkMessageHandling2,
};
use fhir_profiles::{
    CareConnectComposition1, CareConnectComposition1Identifier, CareConnectItkHeaderOrganization1,
    CareConnectItkHeaderOrganization1OdsOrganisationCode, CareConnectOrganization1,
    CareConnectOrganization1OdsOrganisationCode, CareConnectPatient1, CareConnectPatient1NhsNumber,
    CareConnectPatient1Official, CareConnectPractitioner1, CareConnectPractitioner1SdsUserId,
    ItkAttachmentBinary1, ItkDocumentBundle1, ItkDocumentBundle1Entry,
    ItkDocumentBundle1Identifier, ItkMessageBundle1, ItkMessageBundle1Entry,
    ItkMessageBundle1Identifier, ItkMessageHeader2, ItkMessageHeader2Event, ItkMessageHeader2Focus,
    ItkMessageHeader2Sender, ItkMessageHeader2Source,
};
use fhir_runtime::value::{Base64Value, DateTimeValue, DateValue, InstantValue, XhtmlValue};
use fhir_stu3::codes::{
    ContactPointSystem, ContactPointUse, DocumentRelationshipType, NameUse, NarrativeStatus,
    V3ConfidentialityClassification,
};
use fhir_stu3::datatypes::{
    AnyValue, CodeableConcept, Coding, ContactPoint, HumanName, Identifier, Meta, Narrative,
    Reference,
};
use fhir_stu3::primitives::{
    Base64Binary, Boolean, Code, Date, FhirString, Id, Instant, Uri, Xhtml,
};
use fhir_stu3::resources::{
    CompositionEvent, CompositionRelatesTo, CompositionRelatesToTarget, CompositionSection,
};
use fhir_stu3::Resource;
use uuid::Uuid;

use super::ids::Ids;
use super::inputs::{
    AuthoringPractitioner, Confidentiality, DocumentStatus, DocumentType, Patient, RecipientType,
    SnomedConcept,
};
use crate::identity::{MeshMailbox, NhsNumber, OdsCode, Workflow};
use crate::urls;

/// The `system` of every UUID identifier.
pub(crate) const RFC4122: &str = "https://tools.ietf.org/html/rfc4122";
/// `MessageHeader.event` display of ITK007C.
pub(crate) const EVENT_DISPLAY: &str = "ITK GP Connect Send Document";

/// Everything the message is made of, checked.
pub(crate) struct Plan {
    pub workflow: Workflow,
    pub nhs_number: NhsNumber,
    /// Names trimmed.
    pub patient: Patient,
    pub ods_code: OdsCode,
    pub organisation_name: String,
    pub organisation_telephone: Option<String>,
    pub mailbox: MeshMailbox,
    /// Names trimmed.
    pub practitioner: AuthoringPractitioner,
    pub document_type: DocumentType,
    pub title: String,
    pub status: DocumentStatus,
    pub confidentiality: Option<Confidentiality>,
    pub recipient_type: RecipientType,
    pub care_setting: Option<SnomedConcept>,
    pub event: Option<SnomedConcept>,
    /// (MIME type, bytes, section title).
    pub attachments: Vec<(String, Vec<u8>, String)>,
    /// The replaced document's `Composition.identifier`.
    pub replaces: Option<Uuid>,
    pub version: u32,
    pub sender_reference: Option<String>,
    pub created_at: DateTime<FixedOffset>,
    /// The narrative and Subject line.
    pub summary: String,
}

/// The identifiers the assembly chose.
pub(crate) struct Chosen {
    pub message_bundle_identifier: Uuid,
    pub message_header_id: Uuid,
    pub sender_reference: String,
    pub document_bundle_identifier: Uuid,
    pub composition_id: Uuid,
    pub composition_identifier: Uuid,
}

fn s(text: impl Into<String>) -> FhirString {
    FhirString::new(text.into())
}

fn reference(id: Uuid) -> Reference {
    Reference {
        reference: Some(s(urn(id))),
        ..Default::default()
    }
}

fn urn(id: Uuid) -> String {
    format!("urn:uuid:{id}")
}

fn id(id: Uuid) -> Id {
    Id::new(id.to_string())
}

fn snomed(concept: &SnomedConcept) -> CodeableConcept {
    CodeableConcept {
        coding: vec![Coding {
            system: Some(Uri::new(urls::SNOMED_CT)),
            code: Some(Code::new(concept.code())),
            display: Some(s(concept.display().trim())),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn work_phone(number: &Option<String>) -> Vec<ContactPoint> {
    number
        .iter()
        .map(|n| ContactPoint {
            system: Some(Code::new(ContactPointSystem::Phone)),
            value: Some(s(n.as_str())),
            use_: Some(Code::new(ContactPointUse::Work)),
            ..Default::default()
        })
        .collect()
}

fn strings(v: &[String]) -> Vec<FhirString> {
    v.iter().map(|x| s(x.as_str())).collect()
}

/// Builds the message. The attachments' bytes are encoded one by one and dropped as
/// soon as they are.
pub(crate) fn assemble(plan: Plan, ids: &mut Ids) -> (Resource, Chosen) {
    let Plan {
        workflow,
        nhs_number,
        patient,
        ods_code,
        organisation_name,
        organisation_telephone,
        mailbox,
        practitioner,
        document_type,
        title,
        status,
        confidentiality,
        recipient_type,
        care_setting,
        event,
        attachments,
        replaces,
        version,
        sender_reference,
        created_at,
        summary,
    } = plan;

    // Ids are drawn in a fixed order, so a seeded source gives a fixed message.
    let message_bundle_id = ids.next();
    let message_bundle_identifier = ids.next();
    let message_header_id = ids.next();
    let header_organization_id = ids.next();
    let document_bundle_id = ids.next();
    let document_bundle_identifier = ids.next();
    let composition_id = ids.next();
    let composition_identifier = ids.next();
    let patient_id = ids.next();
    let organization_id = ids.next();
    let practitioner_id = ids.next();
    let binary_ids: Vec<Uuid> = attachments.iter().map(|_| ids.next()).collect();

    let instant = InstantValue::from_datetime(&created_at);
    let sender_reference = sender_reference.unwrap_or_else(|| urn(composition_id));

    // --- The document Bundle's resources -------------------------------------------
    let mut official = CareConnectPatient1Official::new(s(patient.family.as_str()));
    official.given = strings(&patient.given);
    official.prefix = strings(&patient.prefixes);
    let mut fhir_patient = CareConnectPatient1::new(official);
    fhir_patient.id = Some(id(patient_id));
    fhir_patient.nhs_number = Some(CareConnectPatient1NhsNumber::new(
        CareConnectNHSNumberVerificationStatus1::new(patient.verification.to_codeable_concept()),
        s(nhs_number.as_str()),
    ));
    fhir_patient.birth_date = Some(Date::new(DateValue::from_naive_date(patient.birth_date)));

    let mut organization = CareConnectOrganization1::new();
    organization.id = Some(id(organization_id));
    organization.ods_organisation_code = Some(CareConnectOrganization1OdsOrganisationCode::new(s(
        ods_code.as_str(),
    )));
    organization.name = Some(s(organisation_name));
    organization.telecom = work_phone(&organisation_telephone);

    let mut fhir_practitioner = CareConnectPractitioner1::new();
    fhir_practitioner.id = Some(id(practitioner_id));
    fhir_practitioner.sds_user_id = Some(CareConnectPractitioner1SdsUserId::new(s(practitioner
        .sds_user_id
        .as_str())));
    fhir_practitioner.name = vec![HumanName {
        use_: Some(Code::new(NameUse::Official)),
        family: Some(s(practitioner.family.as_str())),
        given: strings(&practitioner.given),
        prefix: strings(&practitioner.prefixes),
        ..Default::default()
    }];
    fhir_practitioner.telecom = work_phone(&practitioner.telephone);

    let mut composition = CareConnectComposition1::new(
        Code::new(status.coded()),
        snomed(document_type.concept()),
        reference(patient_id),
        fhir_stu3::primitives::DateTime::new(DateTimeValue::from_datetime(&created_at)),
        s(title),
    );
    composition.id = Some(id(composition_id));
    composition.meta = Some(Meta {
        version_id: Some(Id::new(version.to_string())),
        ..Default::default()
    });
    composition.text = Some(Narrative {
        status: Some(Code::new(NarrativeStatus::Generated)),
        div: Some(Xhtml::new(XhtmlValue::new({
            // The summary holds only checked texts (no control character), so XML
            // text escaping is `&`, `<` and `>`.
            let mut div = String::from("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>");
            fhir_runtime::write::escape_xml(&mut div, &summary, false);
            div.push_str("</p></div>");
            div
        }))),
        ..Default::default()
    });
    composition.care_setting_type_extension = care_setting
        .as_ref()
        .map(|c| CareConnectCareSettingType1::new(snomed(c)));
    composition.identifier = Some(CareConnectComposition1Identifier::new(
        Uri::new(RFC4122),
        s(composition_identifier.to_string()),
    ));
    composition.author = vec![reference(practitioner_id)];
    composition.confidentiality = confidentiality.map(|c| {
        Code::new(match c {
            Confidentiality::Normal => V3ConfidentialityClassification::N,
            Confidentiality::Restricted => V3ConfidentialityClassification::R,
        })
    });
    composition.custodian = Some(reference(organization_id));
    composition.relates_to = replaces.map(|previous| CompositionRelatesTo {
        code: Some(Code::new(DocumentRelationshipType::Replaces)),
        target: Some(CompositionRelatesToTarget::Identifier(Box::new(
            Identifier {
                system: Some(Uri::new(RFC4122)),
                value: Some(s(previous.to_string())),
                ..Default::default()
            },
        ))),
        ..Default::default()
    });
    composition.event = event
        .iter()
        .map(|e| CompositionEvent {
            code: vec![snomed(e)],
            ..Default::default()
        })
        .collect();
    composition.section = attachments
        .iter()
        .zip(&binary_ids)
        .map(|((_, _, section_title), binary)| CompositionSection {
            title: Some(s(section_title.as_str())),
            entry: vec![reference(*binary)],
            ..Default::default()
        })
        .collect();

    let doc_entry = |uuid: Uuid, resource: Resource| {
        let mut e = ItkDocumentBundle1Entry::new(resource);
        e.full_url = Some(Uri::new(urn(uuid)));
        e
    };
    let mut entries = Vec::with_capacity(4 + attachments.len());
    entries.push(doc_entry(composition_id, composition.into()));
    entries.push(doc_entry(patient_id, fhir_patient.into()));
    entries.push(doc_entry(organization_id, organization.into()));
    entries.push(doc_entry(practitioner_id, fhir_practitioner.into()));
    for ((content_type, bytes, _), binary_id) in attachments.into_iter().zip(binary_ids) {
        let content = Base64Value::from_bytes(&bytes);
        drop(bytes);
        let mut binary =
            ItkAttachmentBinary1::new(Code::new(content_type), Base64Binary::new(content));
        binary.id = Some(id(binary_id));
        entries.push(doc_entry(binary_id, binary.into()));
    }

    let mut identifier =
        ItkDocumentBundle1Identifier::new(s(document_bundle_identifier.to_string()));
    identifier.system = Some(Uri::new(RFC4122));
    let mut document = ItkDocumentBundle1::new(identifier);
    document.id = Some(id(document_bundle_id));
    document.meta = Some(Meta {
        last_updated: Some(Instant::new(instant.clone())),
        ..Default::default()
    });
    document.entry = entries;

    // --- The message Bundle ---------------------------------------------------------
    let local_extension = match workflow {
        Workflow::SendDocument => "None",
        Workflow::ConsultReport => "SendDocument-ConsultationSummary",
    };
    let handling = ItkMessageHandling2::new(
        Boolean::new(true),
        Boolean::new(true),
        recipient_type.coded().to_coding(),
        Reference {
            reference: Some(s(urls::SEND_DOCUMENT_DEFINITION)),
            ..Default::default()
        },
        s(sender_reference.as_str()),
        AnyValue::String(s(local_extension)),
    );
    let mut header = ItkMessageHeader2::new(
        handling,
        ItkMessageHeader2Event::new(Code::new(urls::EVENT_SEND_DOCUMENT), s(EVENT_DISPLAY)),
        ItkMessageHeader2Sender::new(s(urn(header_organization_id))),
        Instant::new(instant),
        ItkMessageHeader2Source::new(Uri::new(mailbox.as_str())),
    );
    header.id = Some(id(message_header_id));
    header.focus = Some(ItkMessageHeader2Focus::new(s(urn(document_bundle_id))));

    let mut header_organization = CareConnectItkHeaderOrganization1::new();
    header_organization.id = Some(id(header_organization_id));
    header_organization.ods_organisation_code = Some(
        CareConnectItkHeaderOrganization1OdsOrganisationCode::new(s(ods_code.as_str())),
    );

    let msg_entry = |uuid: Uuid, resource: Resource| {
        let mut e = ItkMessageBundle1Entry::new(resource);
        e.full_url = Some(Uri::new(urn(uuid)));
        e
    };
    let mut identifier = ItkMessageBundle1Identifier::new(s(message_bundle_identifier.to_string()));
    identifier.system = Some(Uri::new(RFC4122));
    let mut message = ItkMessageBundle1::new(identifier);
    message.id = Some(id(message_bundle_id));
    message.entry = vec![
        msg_entry(message_header_id, header.into()),
        msg_entry(header_organization_id, header_organization.into()),
        msg_entry(document_bundle_id, document.into()),
    ];

    (
        message.into(),
        Chosen {
            message_bundle_identifier,
            message_header_id,
            sender_reference,
            document_bundle_identifier,
            composition_id,
            composition_identifier,
        },
    )
}
