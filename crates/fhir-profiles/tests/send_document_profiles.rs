//! Every profile and extension a Send Document message uses, built from
//! scratch through the typed API, converted to plain resources, validated
//! against its profile (no error), and read back through `TryFrom` unchanged.

use fhir_extensions::{
    CareConnectCareSettingType1, CareConnectNHSNumberVerificationStatus1, ItkMessageHandling2,
};
use fhir_profiles::*;
use fhir_stu3::codes::{
    CompositionStatus, ContactPointSystem, ContactPointUse, IssueSeverity, IssueType,
};
use fhir_stu3::datatypes::{AnyValue, CodeableConcept, Coding, ContactPoint, HumanName, Reference};
use fhir_stu3::primitives::{Base64Binary, Boolean, Code, DateTime, FhirString, Id, Instant, Uri};
use fhir_stu3::Resource;
use fhir_validator::{Finding, Severity, Validator};

fn coding(system: &str, code: &str, display: &str) -> Coding {
    Coding {
        system: Some(Uri::new(system)),
        code: Some(Code::new(code)),
        display: Some(FhirString::new(display)),
        ..Default::default()
    }
}

fn concept(system: &str, code: &str, display: &str) -> CodeableConcept {
    CodeableConcept {
        coding: vec![coding(system, code, display)],
        ..Default::default()
    }
}

fn reference(to: &str) -> Reference {
    Reference {
        reference: Some(FhirString::new(to)),
        ..Default::default()
    }
}

fn parse<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("valid test value")
}

fn errors(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{} [{}] {}", f.location, f.rule, f.message))
        .collect()
}

/// Converts to a resource, checks `meta.profile`, validates it (through its
/// `meta.profile`, as a receiver would) and reads it back with `TryFrom`.
fn check<P>(typed: P, url: &str) -> Resource
where
    P: Into<Resource>
        + TryFrom<Resource, Error = Vec<Finding>>
        + Clone
        + PartialEq
        + std::fmt::Debug,
{
    let resource: Resource = typed.clone().into();
    let tree = resource.to_tree();
    let profiles: Vec<&str> = tree
        .children
        .iter()
        .filter(|c| c.name == "meta")
        .flat_map(|m| m.children.iter().filter(|c| c.name == "profile"))
        .filter_map(|p| p.value.as_deref())
        .collect();
    assert_eq!(profiles, [url], "meta.profile of {url}");
    let findings = Validator::new().validate(&tree);
    assert_eq!(errors(&findings), Vec::<String>::new(), "{url}");
    let back = P::try_from(resource.clone()).unwrap_or_else(|f| panic!("{url}: {:?}", errors(&f)));
    // The typed value read back carries the meta.profile the conversion wrote.
    let again: Resource = back.into();
    assert_eq!(again, resource, "{url}: round trip");
    resource
}

fn header_organization() -> CareConnectItkHeaderOrganization1 {
    let mut org = CareConnectItkHeaderOrganization1::new();
    org.id = Some(Id::new("5f2d3a4a-1d9b-4c0e-9c1e-0a8e0d0f7a11"));
    org.ods_organisation_code = Some(CareConnectItkHeaderOrganization1OdsOrganisationCode::new(
        FhirString::new("B82617"),
    ));
    org
}

fn handling() -> ItkMessageHandling2 {
    ItkMessageHandling2::new(
        Boolean::new(true),
        Boolean::new(true),
        fhir_profiles::codes::ItkRecipientType1::FA.to_coding(),
        reference("https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1"),
        FhirString::new("urn:uuid:0b1f1e3c-6a0e-4a53-8a8c-1c1f6d2d8f42"),
        AnyValue::String(FhirString::new("None")),
    )
}

fn message_header() -> ItkMessageHeader2 {
    let mut header = ItkMessageHeader2::new(
        handling(),
        ItkMessageHeader2Event::new(
            Code::new("ITK007C"),
            FhirString::new("ITK GP Connect Send Document"),
        ),
        ItkMessageHeader2Sender::new(FhirString::new(
            "urn:uuid:5f2d3a4a-1d9b-4c0e-9c1e-0a8e0d0f7a11",
        )),
        Instant::new(parse::<fhir_runtime::value::InstantValue>(
            "2026-11-22T10:15:00+00:00",
        )),
        ItkMessageHeader2Source::new(Uri::new("MESHGP0001")),
    );
    header.id = Some(Id::new("3a7c2f80-51a6-4c8e-9d0a-0f4f0b6c2e10"));
    header.focus = Some(ItkMessageHeader2Focus::new(FhirString::new(
        "urn:uuid:9d3c1b2a-0e4f-4a5b-8c6d-7e8f9a0b1c2d",
    )));
    header
}

fn patient() -> CareConnectPatient1 {
    let mut official = CareConnectPatient1Official::new(FhirString::new("DEGRASSE"));
    official.given = vec![FhirString::new("Moe")];
    let mut patient = CareConnectPatient1::new(official);
    patient.id = Some(Id::new("6f8e9d0c-1b2a-4c3d-8e4f-5a6b7c8d9e0f"));
    patient.nhs_number = Some(CareConnectPatient1NhsNumber::new(
        CareConnectNHSNumberVerificationStatus1::new(concept(
            "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1",
            "01",
            "Number present and verified",
        )),
        FhirString::new("9690937278"),
    ));
    patient.birth_date = Some(fhir_stu3::primitives::Date::new(parse::<
        fhir_runtime::value::DateValue,
    >("1950-05-12")));
    patient.gender = Some(Code::new(
        fhir_profiles::codes::ValueSetCareConnectAdministrativeGender1::Male,
    ));
    patient
}

fn organization() -> CareConnectOrganization1 {
    let mut org = CareConnectOrganization1::new();
    org.id = Some(Id::new("7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"));
    org.ods_organisation_code = Some(CareConnectOrganization1OdsOrganisationCode::new(
        FhirString::new("B82617"),
    ));
    org.name = Some(FhirString::new("Bridge Street Out-of-hours Service"));
    org.telecom = vec![ContactPoint {
        system: Some(Code::new(ContactPointSystem::Phone)),
        value: Some(FhirString::new("01632 960 000")),
        use_: Some(Code::new(ContactPointUse::Work)),
        ..Default::default()
    }];
    org
}

fn practitioner() -> CareConnectPractitioner1 {
    let mut p = CareConnectPractitioner1::new();
    p.id = Some(Id::new("8b9c0d1e-2f3a-4b4c-8d5e-6f7a8b9c0d1e"));
    p.sds_user_id = Some(CareConnectPractitioner1SdsUserId::new(FhirString::new(
        "G8133438",
    )));
    p.name = vec![HumanName {
        use_: Some(Code::new(fhir_stu3::codes::NameUse::Official)),
        family: Some(FhirString::new("Nightingale")),
        given: vec![FhirString::new("Florence")],
        ..Default::default()
    }];
    p
}

fn binary() -> ItkAttachmentBinary1 {
    let mut b = ItkAttachmentBinary1::new(
        Code::new("application/pdf"),
        Base64Binary::new(parse::<fhir_runtime::value::Base64Value>(
            "JVBERi0xLjQKJcOkw7zDtsOfCg==",
        )),
    );
    b.id = Some(Id::new("9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"));
    b
}

fn composition() -> CareConnectComposition1 {
    let mut c = CareConnectComposition1::new(
        Code::new(CompositionStatus::Final),
        concept(
            "http://snomed.info/sct",
            "371531000",
            "Report of clinical encounter",
        ),
        reference("urn:uuid:6f8e9d0c-1b2a-4c3d-8e4f-5a6b7c8d9e0f"),
        DateTime::new(parse::<fhir_runtime::value::DateTimeValue>(
            "2026-11-22T10:15:00+00:00",
        )),
        FhirString::new("Consultation report"),
    );
    c.id = Some(Id::new("1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b"));
    c.identifier = Some(CareConnectComposition1Identifier::new(
        Uri::new("https://tools.ietf.org/html/rfc4122"),
        FhirString::new("2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c"),
    ));
    c.care_setting_type_extension = Some(CareConnectCareSettingType1::new(concept(
        "http://snomed.info/sct",
        "788007007",
        "General practice service",
    )));
    c.author = vec![reference("urn:uuid:8b9c0d1e-2f3a-4b4c-8d5e-6f7a8b9c0d1e")];
    c.custodian = Some(reference("urn:uuid:7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"));
    c.section = vec![fhir_stu3::resources::CompositionSection {
        title: Some(FhirString::new("Consultation report")),
        entry: vec![reference("urn:uuid:9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f")],
        ..Default::default()
    }];
    c
}

#[test]
fn message_header_with_typed_handling_keys() {
    let r = check(message_header(), ItkMessageHeader2::URL);
    // The fixed event system was written by the conversion.
    assert!(r
        .to_json()
        .contains("https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2"));
    let back = ItkMessageHeader2::try_from(r).unwrap();
    assert_eq!(
        back.itk_message_handling.bus_ack_requested.value(),
        Some(&true)
    );
}

#[test]
fn header_organization_carries_only_its_ods_code() {
    let r = check(
        header_organization(),
        CareConnectItkHeaderOrganization1::URL,
    );
    assert!(r
        .to_json()
        .contains("https://fhir.nhs.uk/Id/ods-organization-code"));
}

#[test]
fn patient_with_nhs_number_slice_and_verification_status() {
    let r = check(patient(), CareConnectPatient1::URL);
    let json = r.to_json();
    assert!(json.contains("https://fhir.nhs.uk/Id/nhs-number"), "{json}");
    assert!(json.contains("\"use\":\"official\""), "{json}");
    let back = CareConnectPatient1::try_from(r).unwrap();
    assert_eq!(
        back.nhs_number.unwrap().value.value().map(String::as_str),
        Some("9690937278")
    );
}

#[test]
fn payload_organization_practitioner_binary_composition() {
    check(organization(), CareConnectOrganization1::URL);
    check(practitioner(), CareConnectPractitioner1::URL);
    check(binary(), ItkAttachmentBinary1::URL);
    check(composition(), CareConnectComposition1::URL);
}

#[test]
fn response_operation_outcome() {
    let mut oo = ItkResponseOperationOutcome1::new();
    oo.id = Some(Id::new("0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f3a"));
    oo.issue = vec![ItkResponseOperationOutcome1Issue::new(
        Code::new(IssueSeverity::Error),
        Code::new(IssueType::Invalid),
        ItkResponseOperationOutcome1IssueDetails::new(
            ItkResponseOperationOutcome1IssueDetailsCoding::new(
                Code::new("20009"),
                FhirString::new("Payload validation failure"),
            ),
        ),
    )];
    check(oo, ItkResponseOperationOutcome1::URL);
}

#[test]
fn whole_message_from_typed_parts_validates() {
    let doc_entry = |id: &str, r: Resource| {
        let mut e = ItkDocumentBundle1Entry::new(r);
        e.full_url = Some(Uri::new(format!("urn:uuid:{id}")));
        e
    };
    let mut document = ItkDocumentBundle1::new(ItkDocumentBundle1Identifier::new(FhirString::new(
        "4b5c6d7e-8f9a-4b0c-9d1e-2f3a4b5c6d7e",
    )));
    document.identifier.system = Some(Uri::new("https://tools.ietf.org/html/rfc4122"));
    document.id = Some(Id::new("9d3c1b2a-0e4f-4a5b-8c6d-7e8f9a0b1c2d"));
    document.entry = vec![
        doc_entry("1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b", composition().into()),
        doc_entry("6f8e9d0c-1b2a-4c3d-8e4f-5a6b7c8d9e0f", patient().into()),
        doc_entry(
            "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
            organization().into(),
        ),
        doc_entry(
            "8b9c0d1e-2f3a-4b4c-8d5e-6f7a8b9c0d1e",
            practitioner().into(),
        ),
        doc_entry("9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f", binary().into()),
    ];
    let msg_entry = |id: &str, r: Resource| {
        let mut e = ItkMessageBundle1Entry::new(r);
        e.full_url = Some(Uri::new(format!("urn:uuid:{id}")));
        e
    };
    let mut message = ItkMessageBundle1::new(ItkMessageBundle1Identifier::new(FhirString::new(
        "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
    )));
    message.id = Some(Id::new("6d7e8f9a-0b1c-4d2e-8f3a-4b5c6d7e8f9a"));
    message.entry = vec![
        msg_entry(
            "3a7c2f80-51a6-4c8e-9d0a-0f4f0b6c2e10",
            message_header().into(),
        ),
        msg_entry(
            "5f2d3a4a-1d9b-4c0e-9c1e-0a8e0d0f7a11",
            header_organization().into(),
        ),
        msg_entry(
            "9d3c1b2a-0e4f-4a5b-8c6d-7e8f9a0b1c2d",
            document.clone().into(),
        ),
    ];
    check(document, ItkDocumentBundle1::URL);
    let resource = check(message, ItkMessageBundle1::URL);
    // Every resource inside names its profile, so plain validation checks them all.
    let json = resource.to_json();
    for info in [
        ItkMessageHeader2::URL,
        CareConnectItkHeaderOrganization1::URL,
        ItkDocumentBundle1::URL,
        CareConnectComposition1::URL,
        CareConnectPatient1::URL,
        CareConnectOrganization1::URL,
        CareConnectPractitioner1::URL,
        ItkAttachmentBinary1::URL,
    ] {
        assert!(json.contains(info), "{info} missing from the message");
    }
}

#[test]
fn try_from_returns_every_finding() {
    // A Patient with neither an official name nor a valid NHS number system.
    let mut p: fhir_stu3::resources::Patient = patient().into();
    p.name.clear();
    p.gender = None;
    let findings = CareConnectPatient1::try_from(p).unwrap_err();
    let errs = errors(&findings);
    assert!(errs.iter().any(|e| e.contains("Patient.name")), "{errs:?}");
    // A resource of another type is refused.
    let org: Resource = organization().into();
    assert!(CareConnectPatient1::try_from(org).is_err());
}

#[test]
fn every_send_document_profile_has_a_documented_type() {
    for (url, version) in [
        (ItkMessageBundle1::URL, "1.1.0"),
        (ItkMessageHeader2::URL, "2.1.0"),
        (CareConnectItkHeaderOrganization1::URL, "1.2.0"),
        (ItkDocumentBundle1::URL, "1.1.0"),
        (CareConnectComposition1::URL, "1.2.0"),
        (CareConnectPatient1::URL, "1.3.0"),
        (CareConnectOrganization1::URL, "1.1.0"),
        (CareConnectPractitioner1::URL, "1.1.0"),
        (ItkAttachmentBinary1::URL, "1.1.0"),
        (ItkResponseOperationOutcome1::URL, "1.2.0"),
    ] {
        let info = fhir_profiles::profile_info(url).unwrap_or_else(|| panic!("{url}"));
        assert_eq!(info.version, version, "{url}");
    }
}
