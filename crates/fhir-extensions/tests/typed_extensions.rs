//! The typed extensions against hand-built values and the published NHS examples
//! in `../shared/examples` (which must sit beside the checkout).

use std::path::{Path, PathBuf};

use fhir_extensions::{
    ExtensionError, ItkBundledAssets1, ItkMessageHandling2, PatientCadavericDonor, TypedExtension,
    EXTENSION_TYPES,
};
use fhir_stu3::datatypes::{AnyValue, Coding, Extension, Reference};
use fhir_stu3::primitives::{Boolean, FhirString};
use fhir_stu3::resources::MessageHeader;
use fhir_stu3::{ReadOptions, Resource};

const MESSAGE_DEFINITION: &str =
    "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1";

/// `../shared`, or a panic saying it is missing (these tests must not pass without it).
fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SENDDOC_SHARED_DIR") {
        return PathBuf::from(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    assert!(
        dir.join("examples").is_dir(),
        "the shared inputs folder was not found at {} (expected ../shared beside the checkout, \
         or set SENDDOC_SHARED_DIR); these tests need it and do not pass without it",
        dir.display()
    );
    dir
}

fn read_example(name: &str) -> Resource {
    let path = shared_dir().join("examples").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Resource::from_xml_with(&bytes, &ReadOptions::lenient())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .value
}

/// The MessageHeader of an ITK message Bundle.
fn message_header(bundle: &Resource) -> &MessageHeader {
    let Resource::Bundle(bundle) = bundle else {
        panic!("not a Bundle")
    };
    bundle
        .entry
        .iter()
        .find_map(|e| match &e.resource {
            Some(Resource::MessageHeader(h)) => Some(&**h),
            _ => None,
        })
        .expect("the Bundle has a MessageHeader")
}

fn handling(recipient: &str, display: &str) -> ItkMessageHandling2 {
    ItkMessageHandling2::new(
        Boolean::new(true),
        Boolean::new(false),
        Coding {
            system: Some("https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1".into()),
            code: Some(recipient.into()),
            display: Some(display.into()),
            ..Default::default()
        },
        Reference {
            reference: Some(MESSAGE_DEFINITION.into()),
            ..Default::default()
        },
        FhirString::new("urn:uuid:28182303-be8d-429f-a593-4bd1b4952fc5"),
        AnyValue::String(FhirString::new("None")),
    )
}

/// The text of an optional string-like primitive.
fn text(p: &Option<FhirString>) -> Option<&str> {
    p.as_ref().and_then(|p| p.value.as_deref())
}

fn has_error(errors: &[ExtensionError], path: &str, needle: &str) -> bool {
    errors
        .iter()
        .any(|e| e.path == path && e.message.contains(needle))
}

#[test]
fn message_handling_from_scratch_writes_fhir_json() {
    let ext = handling("FA", "For Action").to_extension();
    let header = MessageHeader {
        extension: vec![ext].into(),
        ..Default::default()
    };
    let json = fhir_stu3::to_json(&header);
    let expected = concat!(
        r#"{"resourceType":"MessageHeader","extension":[{"url":"https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2","extension":["#,
        r#"{"url":"BusAckRequested","valueBoolean":true},"#,
        r#"{"url":"InfAckRequested","valueBoolean":false},"#,
        r#"{"url":"RecipientType","valueCoding":{"system":"https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1","code":"FA","display":"For Action"}},"#,
        r#"{"url":"MessageDefinition","valueReference":{"reference":"https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1"}},"#,
        r#"{"url":"SenderReference","valueString":"urn:uuid:28182303-be8d-429f-a593-4bd1b4952fc5"},"#,
        r#"{"url":"LocalExtension","valueString":"None"}]}]}"#
    );
    assert_eq!(json, expected);
    // And back, through the model's reader and the typed decoder.
    let read: MessageHeader = fhir_stu3::from_json(json.as_bytes()).expect("reads back");
    let decoded = ItkMessageHandling2::find_in(&read.extension)
        .expect("present")
        .expect("decodes");
    assert_eq!(decoded, handling("FA", "For Action"));
}

#[test]
fn message_handling_round_trips_extension_typed_extension() {
    let original = handling("FI", "For Information").to_extension();
    let typed = ItkMessageHandling2::try_from(&original).expect("decodes");
    assert_eq!(typed.to_extension(), original);
    // Through the trait too.
    let via_trait = <ItkMessageHandling2 as TypedExtension>::from_extension(&original).unwrap();
    assert_eq!(TypedExtension::to_extension(&via_trait), original);
}

#[test]
fn unknown_sub_extensions_and_id_are_kept() {
    let mut ext = handling("FA", "For Action").to_extension();
    ext.id = Some("h1".into());
    ext.extension.push(Extension {
        url: Some("LocalAgreement".into()),
        value: Some(AnyValue::String(FhirString::new("x"))),
        ..Default::default()
    });
    let typed = ItkMessageHandling2::try_from(&ext).expect("open slicing accepts other urls");
    assert_eq!(typed.id.as_deref(), Some("h1"));
    assert_eq!(typed.other_extensions.len(), 1);
    assert_eq!(typed.to_extension(), ext);
}

#[test]
fn try_from_reports_every_problem_with_its_path() {
    let mut ext = handling("FA", "For Action").to_extension();
    ext.url = Some("https://example.org/not-it".into());
    // Missing required slice: drop InfAckRequested.
    ext.extension
        .retain(|e| e.url.as_deref() != Some("InfAckRequested"));
    // Wrong value type: BusAckRequested as a string.
    ext.extension[0].value = Some(AnyValue::String(FhirString::new("true")));
    // Too many: a second SenderReference.
    ext.extension.push(Extension {
        url: Some("SenderReference".into()),
        value: Some(AnyValue::String(FhirString::new("again"))),
        ..Default::default()
    });
    // A value on a complex extension.
    ext.value = Some(AnyValue::Boolean(Boolean::new(true)));

    let errors = ItkMessageHandling2::try_from(&ext).expect_err("must fail");
    for e in &errors {
        eprintln!("{e}");
    }
    assert!(has_error(&errors, "Extension.url", "expected `https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2`, found `https://example.org/not-it`"));
    assert!(has_error(
        &errors,
        "Extension.extension('InfAckRequested')",
        "required sub-extension `InfAckRequested` is missing (1..1)"
    ));
    assert!(has_error(
        &errors,
        "Extension.extension('BusAckRequested').value",
        "expected valueBoolean, found valueString"
    ));
    assert!(has_error(
        &errors,
        "Extension.extension('SenderReference')",
        "occurs 2 times, at most 1 allowed (1..1)"
    ));
    assert!(has_error(
        &errors,
        "Extension.value",
        "found valueBoolean; a complex extension"
    ));
    assert_eq!(errors.len(), 5, "{errors:?}");
}

#[test]
fn missing_values_and_url_are_reported() {
    let ext = Extension {
        extension: vec![Extension {
            url: Some("BusAckRequested".into()),
            ..Default::default()
        }]
        .into(),
        ..Default::default()
    };
    let errors = ItkMessageHandling2::try_from(&ext).expect_err("must fail");
    assert!(has_error(&errors, "Extension.url", "missing"));
    assert!(has_error(
        &errors,
        "Extension.extension('BusAckRequested').value",
        "missing; expected valueBoolean"
    ));
    for slice in [
        "InfAckRequested",
        "RecipientType",
        "MessageDefinition",
        "SenderReference",
        "LocalExtension",
    ] {
        assert!(
            has_error(
                &errors,
                &format!("Extension.extension('{slice}')"),
                "is missing"
            ),
            "{slice}: {errors:?}"
        );
    }
}

#[test]
fn decodes_message_handling_of_the_send_document_example() {
    let bundle = read_example("v2.0.2_send-document--generic-example.xml");
    let header = message_header(&bundle);
    let h = ItkMessageHandling2::find_in(&header.extension)
        .expect("the MessageHeader has the handling extension")
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(h.bus_ack_requested.value, Some(true));
    assert_eq!(h.inf_ack_requested.value, Some(true));
    assert_eq!(
        text(&h.recipient_type.system),
        Some("https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1")
    );
    assert_eq!(text(&h.recipient_type.code), Some("FI"));
    assert_eq!(text(&h.recipient_type.display), Some("For Information"));
    assert_eq!(
        text(&h.message_definition.reference),
        Some(MESSAGE_DEFINITION)
    );
    assert_eq!(
        h.sender_reference.value.as_deref(),
        Some("urn:uuid:28182303-be8d-429f-a593-4bd1b4952fc5")
    );
    assert_eq!(h.local_extension, AnyValue::String(FhirString::new("None")));
    assert!(h.other_extensions.is_empty());
    // Extension → typed → Extension gives back what was read.
    let original = header
        .extension
        .iter()
        .find(|e| e.url.as_deref() == Some(ItkMessageHandling2::URL))
        .unwrap();
    assert_eq!(&h.to_extension(), original);
}

#[test]
fn every_example_message_header_decodes() {
    let mut seen = 0;
    for name in [
        "v1.3.0-release_consultation_report.xml",
        "v2.0.2_send-document--generic-example.xml",
        "v2_example-generic-wireframe-moe-degrasse.xml",
        "ITK3-response-10009.xml",
        "ITK3-response-20009.xml",
        "ITK3-response-20013.xml",
        "ITK3-response-30001.xml",
    ] {
        let bundle = read_example(name);
        let header = message_header(&bundle);
        let h = fhir_extensions::find::<ItkMessageHandling2>(&header.extension)
            .unwrap_or_else(|| panic!("{name}: no handling extension"))
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(
            text(&h.recipient_type.system),
            Some("https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1"),
            "{name}"
        );
        seen += 1;
    }
    assert_eq!(seen, 7);
}

#[test]
fn decodes_nested_bundled_assets_of_the_message_definition() {
    let resource =
        read_example("MessageDefinition-ITK-GPConnectSendDocument-MessageDefinition-1.xml");
    let Resource::MessageDefinition(md) = &resource else {
        panic!("not a MessageDefinition")
    };
    let profile = md.focus[0].profile.as_ref().expect("focus.profile");
    let original = &profile.extension[0];
    let assets = ItkBundledAssets1::try_from(original).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(assets.utilised_asset.len() > 3);
    let first = &assets.utilised_asset[0];
    assert_eq!(first.type_.value.as_deref(), Some("StructureDefinition"));
    assert_eq!(
        text(&first.reference.reference),
        Some("https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Composition-1")
    );
    assert_eq!(first.version.value.as_deref(), Some("1.2.0"));
    assert_eq!(&assets.to_extension(), original);

    // A nested problem is reported with its full path.
    let mut broken = original.clone();
    broken.extension[1]
        .extension
        .retain(|e| e.url.as_deref() != Some("version"));
    let errors = ItkBundledAssets1::try_from(&broken).expect_err("must fail");
    assert!(
        has_error(
            &errors,
            "Extension.extension('utilisedAsset')[1].extension('version')",
            "required sub-extension `version` is missing (1..1)"
        ),
        "{errors:?}"
    );
}

#[test]
fn simple_core_extension_round_trips_and_checks_its_type() {
    let donor = PatientCadavericDonor::new(Boolean::new(true));
    let ext = donor.to_extension();
    assert_eq!(
        ext.url.as_deref(),
        Some("http://hl7.org/fhir/StructureDefinition/patient-cadavericDonor")
    );
    assert_eq!(PatientCadavericDonor::try_from(&ext), Ok(donor));

    let mut wrong = ext.clone();
    wrong.value = Some(AnyValue::String(FhirString::new("yes")));
    let errors = PatientCadavericDonor::try_from(&wrong).expect_err("must fail");
    assert_eq!(
        errors,
        vec![ExtensionError {
            path: "Extension.value".into(),
            message: "expected valueBoolean, found valueString".into(),
        }]
    );
    assert_eq!(
        PatientCadavericDonor::find_in(&[wrong.clone(), ext.clone()]),
        Some(Err(errors))
    );
    assert_eq!(PatientCadavericDonor::find_in(&[]), None);
}

#[test]
fn the_table_lists_every_type_by_url() {
    assert_eq!(EXTENSION_TYPES.len(), 100);
    assert!(EXTENSION_TYPES.windows(2).all(|w| w[0].url < w[1].url));
    let info = fhir_extensions::info(ItkMessageHandling2::URL).expect("listed");
    assert_eq!(info.rust_type, "ItkMessageHandling2");
    assert_eq!(info.version, "2.1.0");
    assert_eq!(info.package, "gpc.stu3.fhir-assets#1.1.3");
    assert!(info.complex);
    for core in [
        "http://hl7.org/fhir/StructureDefinition/birthPlace",
        "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
        "http://hl7.org/fhir/StructureDefinition/patient-cadavericDonor",
        "http://hl7.org/fhir/StructureDefinition/organization-period",
        "http://hl7.org/fhir/StructureDefinition/encounter-associatedEncounter",
    ] {
        assert!(fhir_extensions::info(core).is_some(), "{core}");
    }
}
