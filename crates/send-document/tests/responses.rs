//! ITK3 responses: building them for the valid request fixture (validated as whole
//! messages, in XML and JSON), reading NHS's ITK3 response examples, and correlating
//! responses with the messages sent.

use chrono::{DateTime, TimeDelta, Utc};
use fhir_stu3::codes::ResponseCode as ResponseType;
use fhir_stu3::{ReadOptions, Resource};
use send_document::response::{
    Correlation, CorrelationWarning, Correlator, FixedClock, MessageState, Outcome, PatientData,
    ReadError, ReceivedCode, ReceivedResponse, Responder, Response, ResponseError, ResponseKind,
    ResponseSender, SentMessage, SequentialIds, UnmatchedReason, REDACTED,
};
use send_document::{
    message_kind, validate_message, Finding, MeshMailbox, MessageKind, OdsCode, ReplyTo,
    ResponseCode, Severity, Workflow,
};
use workspace_tests::shared_dir;

/// The request fixture's `MessageHeader.id`, SenderReference and mailbox.
const REQUEST_ID: &str = "ea7221b8-3cc0-4b11-bc95-585b056b5428";
const REQUEST_SENDER_REFERENCE: &str = "846ebe66-5ff8-4499-bc57-a112d3d0daa3";
const REQUEST_MAILBOX: &str = "MESHGP0001";
/// The responder: the patient's practice.
const RESPONDER_ODS: &str = "A20047";
const RESPONDER_MAILBOX: &str = "MESHGP0002";
/// The request fixture's patient.
const PATIENT_DATA: [&str; 6] = [
    "9989453456",
    "998 945 3456",
    "Smith",
    "Richard",
    "1957-01-09",
    "09011957",
];

fn request() -> Resource {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/send-document-valid.xml");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Resource::from_xml(&bytes).unwrap()
}

fn example(name: &str) -> Vec<u8> {
    let path = shared_dir().join("examples").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn reply() -> ReplyTo {
    ReplyTo {
        message_header_id: Some(REQUEST_ID.to_owned()),
        sender_reference: Some(REQUEST_SENDER_REFERENCE.to_owned()),
        mailbox: Some(MeshMailbox::new(REQUEST_MAILBOX).unwrap()),
        workflow: Workflow::SendDocument,
        inf_ack_requested: true,
        bus_ack_requested: true,
    }
}

fn responder(seed: u64) -> Responder {
    Responder::new(
        OdsCode::new(RESPONDER_ODS).unwrap(),
        MeshMailbox::new(RESPONDER_MAILBOX).unwrap(),
    )
    .with_ids(SequentialIds::new(seed))
    .with_clock(FixedClock(at("2026-01-05T09:05:00Z")))
}

fn diag(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| (*t).to_owned()).collect()
}

fn findings(findings: &[Finding], severity: Severity) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity == severity)
        .map(|f| format!("{} [{}] {}", f.location, f.rule, f.message))
        .collect()
}

/// One response of every kind, for the fixture.
fn every_kind() -> Vec<Response> {
    let r = responder(1);
    let reply = reply();
    let unreadable = ReplyTo::unreadable(
        Workflow::SendDocument,
        Some(MeshMailbox::new(REQUEST_MAILBOX).unwrap()),
    );
    vec![
        r.infrastructure_response(&reply, ResponseCode::Success, &[])
            .unwrap(),
        r.infrastructure_response(
            &reply,
            ResponseCode::PayloadValidationFailure,
            &diag(&[
                "Composition.confidentiality is R (restricted): GP Connect Send Document 2.0.2 \
                 does not accept restricted documents",
                "the Binary's contentType is not an approved file type",
            ]),
        )
        .unwrap(),
        r.infrastructure_response(
            &unreadable,
            ResponseCode::Unreadable,
            &diag(&["the message is not well-formed XML at line 1, column 2"]),
        )
        .unwrap(),
        r.business_response(&reply, ResponseCode::PatientKnown, &[])
            .unwrap(),
        r.business_response(
            &reply,
            ResponseCode::PatientNotKnown,
            &diag(&["no patient with this NHS number is registered at this practice"]),
        )
        .unwrap(),
        r.business_response(
            &reply,
            ResponseCode::PatientNoLongerHere,
            &diag(&["deducted"]),
        )
        .unwrap(),
        r.business_response(&reply, ResponseCode::PatientRecentlyDeceased, &[])
            .unwrap(),
    ]
}

#[test]
fn every_kind_validates_as_an_itk3_response_in_xml_and_json() {
    for response in every_kind() {
        let code = response.code().code();
        let resource = response.resource();
        assert_eq!(
            message_kind(&resource.to_tree()),
            Some(MessageKind::Response),
            "{code}"
        );
        let f = validate_message(resource);
        assert_eq!(
            findings(&f, Severity::Error),
            Vec::<String>::new(),
            "{code}"
        );
        // GP Connect's response rules give nothing either, except the SenderReference
        // `None` of the answer to an unreadable message (nothing to echo).
        let expected_warnings: Vec<&str> = if response.code() == ResponseCode::Unreadable {
            vec!["GPCM-SD-052"]
        } else {
            vec![]
        };
        let warnings: Vec<&str> = f
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| f.rule.as_str())
            .collect();
        assert_eq!(warnings, expected_warnings, "{code}: {f:#?}");

        // XML (the default on MESH) and JSON: written, read back strictly, equal, valid.
        let xml = response.to_xml();
        let from_xml = Resource::from_xml(xml.as_bytes()).unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(&from_xml, resource, "{code}: XML round trip");
        assert_eq!(
            findings(&validate_message(&from_xml), Severity::Error),
            Vec::<String>::new()
        );
        let json = response.to_json();
        let from_json =
            Resource::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(&from_json, resource, "{code}: JSON round trip");
        assert_eq!(
            findings(&validate_message(&from_json), Severity::Error),
            Vec::<String>::new()
        );
    }
}

/// The tree of a response's MessageHeader.
fn header(response: &Response) -> fhir_stu3::Node {
    let tree = response.resource().to_tree();
    let entry = tree.children_named("entry").next().unwrap();
    let header = entry.child("resource").unwrap().clone();
    assert_eq!(header.type_name, "MessageHeader");
    header
}

fn handling_value(header: &fhir_stu3::Node, key: &str) -> String {
    let handling = header
        .children_named("extension")
        .find(|e| {
            e.child_value("url")
                == Some(
                    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2",
                )
        })
        .unwrap();
    let value = handling
        .children_named("extension")
        .find(|e| e.child_value("url") == Some(key))
        .unwrap()
        .child("value")
        .unwrap();
    value
        .value
        .clone()
        .or_else(|| {
            value
                .child_value("reference")
                .or(value.child_value("code"))
                .map(str::to_owned)
        })
        .unwrap()
}

#[test]
fn the_response_content_follows_gp_connect() {
    for response in every_kind() {
        let code = response.code();
        let h = header(&response);
        assert_eq!(handling_value(&h, "BusAckRequested"), "false", "{code}");
        assert_eq!(handling_value(&h, "InfAckRequested"), "false", "{code}");
        assert_eq!(handling_value(&h, "RecipientType"), "FA");
        assert_eq!(
            handling_value(&h, "MessageDefinition"),
            "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-Response-MessageDefinition-1"
        );
        assert_eq!(handling_value(&h, "LocalExtension"), "None");
        assert_eq!(
            h.child("event").unwrap().child_value("code"),
            Some("ITK008M")
        );
        assert_eq!(
            h.child("event").unwrap().child_value("display"),
            Some("ITK Response")
        );
        assert_eq!(h.child_value("timestamp"), Some("2026-01-05T09:05:00Z"));
        assert_eq!(
            h.child("source").unwrap().child_value("endpoint"),
            Some(RESPONDER_MAILBOX)
        );
        assert!(h.child("focus").is_none(), "{code}: no payload");
        assert_eq!(h.child_value("id"), Some(response.message_header_id()));

        // Read back as the requester would.
        let received = ReceivedResponse::from_bytes(response.to_xml().as_bytes()).unwrap();
        let expected_identifier = if code == ResponseCode::Unreadable {
            "UNREADABLE-IN-ORIGINAL-MESSAGE"
        } else {
            REQUEST_ID
        };
        assert_eq!(received.response_identifier, expected_identifier, "{code}");
        assert_eq!(response.response_identifier(), expected_identifier);
        let expected_reference =
            (code != ResponseCode::Unreadable).then_some(REQUEST_SENDER_REFERENCE);
        assert_eq!(received.sender_reference.as_deref(), expected_reference);
        assert_eq!(received.inf_ack_requested, Some(false));
        assert_eq!(received.bus_ack_requested, Some(false));
        assert_eq!(
            received.sender,
            ResponseSender::Organization {
                ods_code: Some(RESPONDER_ODS.to_owned())
            }
        );
        assert_eq!(received.code(), &ReceivedCode::Known(code));
        assert_eq!(
            received.response_type,
            if code.is_positive() {
                ResponseType::Ok
            } else {
                ResponseType::FatalError
            }
        );
        assert_eq!(received.is_positive(), code.is_positive());
        assert_eq!(
            received.kind(),
            if code.is_business() {
                ResponseKind::Business
            } else {
                ResponseKind::Infrastructure
            }
        );
        assert_eq!(received.source_endpoint.as_deref(), Some(RESPONDER_MAILBOX));
        assert_eq!(
            received.bundle_identifier.as_deref(),
            Some(response.bundle_identifier())
        );
        // Every error carries diagnostics (GPCM-SD-074), one issue each.
        for issue in &received.issues {
            assert_eq!(issue.code, ReceivedCode::Known(code));
            assert_eq!(issue.severity.as_deref(), Some(code.severity().code()));
            if !code.is_positive() {
                assert!(issue.diagnostics.is_some(), "{code}");
            }
        }
        let expected_issues = match code {
            ResponseCode::PayloadValidationFailure => 2,
            _ => 1,
        };
        assert_eq!(received.issues.len(), expected_issues, "{code}");

        // The envelope: back on the _ACK workflow to the requester's mailbox.
        let env = response.envelope();
        assert_eq!(env.workflow_id, "GPCONNECT_SEND_DOCUMENT_ACK");
        assert_eq!(env.workflow(), Some(Workflow::SendDocument));
        assert_eq!(env.from.as_str(), RESPONDER_MAILBOX);
        assert_eq!(env.to, REQUEST_MAILBOX);
        assert_eq!(env.local_id, RESPONDER_ODS);
        let kind = if code.is_business() {
            "business"
        } else {
            "infrastructure"
        };
        assert_eq!(
            env.subject,
            format!(
                "ITK3 {kind} response {} for message {expected_identifier}",
                code.code()
            )
        );
    }
}

#[test]
fn the_legacy_workflow_answers_on_its_own_ack_workflow() {
    let mut reply = reply();
    reply.workflow = Workflow::ConsultReport;
    let r = responder(2)
        .infrastructure_response(&reply, ResponseCode::Success, &[])
        .unwrap();
    assert_eq!(r.envelope().workflow_id, "GPFED_CONSULT_REPORT_ACK");
}

#[test]
fn no_patient_data_in_any_response() {
    let request = request();
    let request_xml = request.to_xml();
    // The patient data is really in the request: the check below proves something.
    for term in ["9989453456", "Smith", "Richard", "1957-01-09"] {
        assert!(request_xml.contains(term), "{term} is not in the fixture");
    }
    // A careless receiver copies patient details into its diagnostics.
    let careless = diag(&[
        "NHS number 9989453456 (998 945 3456) does not match SMITH, Richard, born 09/01/1957",
        "birthDate 1957-01-09 / 09011957 disagrees with the MESH address",
    ]);
    let patient = PatientData::from_message(&request);
    for term in [
        "9989453456",
        "Smith",
        "Richard",
        "1957-01-09",
        "09011957",
        "09/01/1957",
    ] {
        assert!(
            patient.terms().iter().any(|t| t == term),
            "{term} not in {:?}",
            patient.terms()
        );
    }
    let redacting = responder(3).redacting(patient);
    let mut responses = redacting
        .responses(
            &reply(),
            &Outcome::rejected(ResponseCode::PayloadValidationFailure, careless.clone()),
        )
        .unwrap();
    responses.extend(
        redacting
            .responses(
                &reply(),
                &Outcome::processed_with(ResponseCode::PatientNotKnown, careless.clone()),
            )
            .unwrap(),
    );
    responses.extend(every_kind());
    for response in &responses {
        let texts = [
            response.to_xml(),
            response.to_json(),
            response.envelope().to_ctl_xml(),
        ];
        for text in &texts {
            for term in PATIENT_DATA {
                assert!(
                    !text
                        .to_ascii_lowercase()
                        .contains(&term.to_ascii_lowercase()),
                    "{term} in response {}:\n{text}",
                    response.code()
                );
            }
            assert!(!text.contains("09/01/1957"));
        }
    }
    // The diagnostics keep their sense, with the patient data masked.
    let received = ReceivedResponse::from_resource(responses[0].resource()).unwrap();
    assert_eq!(
        received.diagnostics(),
        [
            format!("NHS number {REDACTED} ({REDACTED}) does not match {REDACTED}, {REDACTED}, born {REDACTED}"),
            format!("birthDate {REDACTED} / {REDACTED} disagrees with the MESH address"),
        ]
    );
    // Without the request's patient data, NHS-number shapes are still masked.
    let bare = responder(4)
        .infrastructure_response(&reply(), ResponseCode::PayloadValidationFailure, &careless)
        .unwrap();
    let xml = bare.to_xml();
    assert!(!xml.contains("9989453456") && !xml.contains("998 945 3456"));
    assert!(
        xml.contains("SMITH"),
        "only the NHS number is masked without PatientData"
    );
}

#[test]
fn what_is_sent_for_each_outcome() {
    let r = responder(5);
    let codes =
        |out: Vec<Response>| -> Vec<&'static str> { out.iter().map(|r| r.code().code()).collect() };
    let both = reply();
    // A negative code is fatal: only the infrastructure response, nothing follows.
    let rejected = Outcome::rejected(ResponseCode::PayloadValidationFailure, ["bad payload"]);
    assert_eq!(codes(r.responses(&both, &rejected).unwrap()), ["20009"]);
    // ... even when no infrastructure response was asked for.
    let mut none = reply();
    none.inf_ack_requested = false;
    none.bus_ack_requested = false;
    assert_eq!(codes(r.responses(&none, &rejected).unwrap()), ["20009"]);
    let unreadable = ReplyTo::unreadable(
        Workflow::SendDocument,
        Some(MeshMailbox::new(REQUEST_MAILBOX).unwrap()),
    );
    let out = r
        .responses(
            &unreadable,
            &Outcome::rejected(ResponseCode::Unreadable, ["not XML"]),
        )
        .unwrap();
    assert_eq!(codes(out.clone()), ["10009"]);
    assert_eq!(
        out[0].response_identifier(),
        "UNREADABLE-IN-ORIGINAL-MESSAGE"
    );
    assert_eq!(out[0].sender_reference(), "None");

    assert_eq!(
        codes(r.responses(&both, &Outcome::Accepted).unwrap()),
        ["20013"]
    );
    assert_eq!(
        codes(
            r.responses(&both, &Outcome::processed(ResponseCode::PatientKnown))
                .unwrap()
        ),
        ["20013", "30001"]
    );
    assert_eq!(
        codes(
            r.responses(
                &both,
                &Outcome::processed_with(ResponseCode::PatientNotKnown, ["not registered here"])
            )
            .unwrap()
        ),
        ["20013", "30002"]
    );
    let mut bus_only = reply();
    bus_only.inf_ack_requested = false;
    assert_eq!(
        codes(
            r.responses(
                &bus_only,
                &Outcome::processed(ResponseCode::PatientRecentlyDeceased)
            )
            .unwrap()
        ),
        ["30004"]
    );
    let mut inf_only = reply();
    inf_only.bus_ack_requested = false;
    assert_eq!(
        codes(
            r.responses(&inf_only, &Outcome::processed(ResponseCode::PatientKnown))
                .unwrap()
        ),
        ["20013"]
    );
    assert!(r
        .responses(&none, &Outcome::processed(ResponseCode::PatientKnown))
        .unwrap()
        .is_empty());

    // Every response is a new message: fresh ids, distinct from each other.
    let out = r
        .responses(&both, &Outcome::processed(ResponseCode::PatientKnown))
        .unwrap();
    assert_ne!(out[0].message_header_id(), out[1].message_header_id());
    assert_ne!(out[0].bundle_identifier(), out[1].bundle_identifier());
    // Ids and clock injected: the output is reproducible.
    let again = responder(5)
        .infrastructure_response(&both, ResponseCode::Success, &[])
        .unwrap();
    let first = responder(5)
        .infrastructure_response(&both, ResponseCode::Success, &[])
        .unwrap();
    assert_eq!(again.to_xml(), first.to_xml());
    assert_eq!(first.timestamp(), at("2026-01-05T09:05:00Z"));
}

#[test]
fn what_is_refused() {
    let r = responder(6);
    let reply = reply();
    assert_eq!(
        r.infrastructure_response(&reply, ResponseCode::PatientKnown, &[]),
        Err(ResponseError::NotInfrastructure(ResponseCode::PatientKnown))
    );
    assert_eq!(
        r.infrastructure_response(&reply, ResponseCode::PatientNotKnown, &diag(&["x"])),
        Err(ResponseError::NotInfrastructure(
            ResponseCode::PatientNotKnown
        ))
    );
    assert_eq!(
        r.business_response(&reply, ResponseCode::Success, &[]),
        Err(ResponseError::NotBusiness(ResponseCode::Success))
    );
    assert_eq!(
        r.responses(&reply, &Outcome::rejected(ResponseCode::Success, ["?"])),
        Err(ResponseError::NotNegative(ResponseCode::Success))
    );
    assert_eq!(
        r.responses(
            &reply,
            &Outcome::rejected(ResponseCode::PatientNotKnown, ["?"])
        ),
        Err(ResponseError::NotInfrastructure(
            ResponseCode::PatientNotKnown
        ))
    );
    assert_eq!(
        r.responses(&reply, &Outcome::processed(ResponseCode::Success)),
        Err(ResponseError::NotBusiness(ResponseCode::Success))
    );
    // Errors need diagnostics; blank ones do not count.
    assert_eq!(
        r.infrastructure_response(&reply, ResponseCode::DuplicateMessage, &[]),
        Err(ResponseError::MissingDiagnostics(
            ResponseCode::DuplicateMessage
        ))
    );
    assert_eq!(
        r.infrastructure_response(&reply, ResponseCode::DuplicateMessage, &diag(&["  "])),
        Err(ResponseError::MissingDiagnostics(
            ResponseCode::DuplicateMessage
        ))
    );
    // A negative business result with no diagnostic: nothing is built, not even 20013.
    assert_eq!(
        r.responses(
            &reply,
            &Outcome::processed(ResponseCode::PatientNoLongerHere)
        ),
        Err(ResponseError::MissingDiagnostics(
            ResponseCode::PatientNoLongerHere
        ))
    );
    // No mailbox: no address to answer.
    let mut lost = reply.clone();
    lost.mailbox = None;
    let err = r
        .infrastructure_response(&lost, ResponseCode::Success, &[])
        .unwrap_err();
    assert_eq!(err, ResponseError::NoMailbox);
    assert!(err.to_string().contains("no mailbox to answer"), "{err}");
    assert_eq!(
        r.responses(&lost, &Outcome::Accepted),
        Err(ResponseError::NoMailbox)
    );
}

#[test]
fn an_unquotable_request_id_or_reference_is_not_copied() {
    let mut reply = reply();
    reply.message_header_id = Some("not a FHIR id!".to_owned());
    reply.sender_reference = Some("x".repeat(300));
    let r = responder(7)
        .infrastructure_response(
            &reply,
            ResponseCode::HeaderValidationFailure,
            &diag(&["bad id"]),
        )
        .unwrap();
    assert_eq!(r.response_identifier(), "UNREADABLE-IN-ORIGINAL-MESSAGE");
    assert_eq!(r.sender_reference(), "None");
    assert_eq!(
        findings(&validate_message(r.resource()), Severity::Error),
        Vec::<String>::new()
    );
}

#[test]
fn reading_the_official_itk3_examples() {
    let cases = [
        (
            "ITK3-response-10009.xml",
            ResponseCode::Unreadable,
            "UNREADABLE-IN-ORIGINAL-MESSAGE",
            ResponseKind::Infrastructure,
            Some(false),
        ),
        (
            "ITK3-response-20009.xml",
            ResponseCode::PayloadValidationFailure,
            "efaf5984-3473-48a7-ae41-bbbb7314fbde",
            ResponseKind::Infrastructure,
            Some(false),
        ),
        (
            "ITK3-response-20013.xml",
            ResponseCode::Success,
            "cf5e5969-2a93-400f-bf6f-709f101bcf87",
            ResponseKind::Infrastructure,
            Some(false),
        ),
        (
            "ITK3-response-30001.xml",
            ResponseCode::PatientKnown,
            "cf5e5969-2a93-400f-bf6f-709f101bcf87",
            ResponseKind::Business,
            // ITK3's full-acknowledgement pattern, accepted when reading.
            Some(true),
        ),
    ];
    for (name, code, identifier, kind, inf_ack) in cases {
        let r =
            ReceivedResponse::from_bytes(&example(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.code(), &ReceivedCode::Known(code), "{name}");
        assert_eq!(r.codes(), [&ReceivedCode::Known(code)], "{name}");
        assert_eq!(r.response_identifier, identifier, "{name}");
        assert_eq!(r.kind(), kind, "{name}");
        assert_eq!(r.is_positive(), code.is_positive(), "{name}");
        assert_eq!(
            r.is_for_unreadable_message(),
            code == ResponseCode::Unreadable
        );
        assert_eq!(r.inf_ack_requested, inf_ack, "{name}");
        assert_eq!(r.bus_ack_requested, Some(false), "{name}");
        // ITK3's default SenderReference None is no reference.
        assert_eq!(r.sender_reference, None, "{name}");
        assert_eq!(r.source_endpoint.as_deref(), Some("NOROT003"), "{name}");
        assert_eq!(
            r.timestamp_text.as_deref(),
            Some("2017-01-23T10:10:16+00:00")
        );
        assert_eq!(
            r.timestamp.map(|t| t.to_rfc3339()),
            Some("2017-01-23T10:10:16+00:00".to_owned())
        );
        // The unreadable-message example comes from a header Organization, the others
        // from a header Practitioner (accepted when reading).
        if code == ResponseCode::Unreadable {
            assert_eq!(
                r.sender,
                ResponseSender::Organization {
                    ods_code: Some("RR8".to_owned())
                }
            );
            assert_eq!(r.sender_ods_code(), Some("RR8"));
        } else {
            assert!(
                matches!(&r.sender, ResponseSender::Practitioner { sds_user_id: Some(id) } if id.len() == 12),
                "{name}: {:?}",
                r.sender
            );
            assert_eq!(r.sender_ods_code(), None);
        }
        // The examples give no diagnostics.
        assert!(r.diagnostics().is_empty(), "{name}");
        // With a UTF-8 byte order mark, from a resource or from JSON: the same.
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend(example(name));
        assert_eq!(
            ReceivedResponse::from_bytes(&with_bom).unwrap(),
            r,
            "{name}"
        );
        let resource = Resource::from_xml_with(&example(name), &ReadOptions::lenient())
            .unwrap()
            .value;
        assert_eq!(ReceivedResponse::from_resource(&resource).unwrap(), r);
        let json = resource.to_json();
        assert_eq!(
            ReceivedResponse::from_bytes(format!("\n  {json}").as_bytes()).unwrap(),
            r
        );
    }
}

#[test]
fn what_is_no_response() {
    // A Send Document request.
    let err = ReceivedResponse::from_resource(&request()).unwrap_err();
    assert_eq!(
        err,
        ReadError::NotAResponse {
            event: Some("ITK007C".to_owned())
        }
    );
    assert!(err.to_string().contains("Send Document request"), "{err}");
    // Not a Bundle, not FHIR, no MessageHeader.
    let patient = Resource::from_json(br#"{"resourceType":"Patient"}"#).unwrap();
    assert_eq!(
        ReceivedResponse::from_resource(&patient),
        Err(ReadError::NotABundle("Patient".to_owned()))
    );
    assert!(matches!(
        ReceivedResponse::from_bytes(b"this is not FHIR"),
        Err(ReadError::Unreadable { format: "XML", .. })
    ));
    assert!(matches!(
        ReceivedResponse::from_bytes(b"{ not json"),
        Err(ReadError::Unreadable { format: "JSON", .. })
    ));
    let empty = Resource::from_json(br#"{"resourceType":"Bundle","type":"message"}"#).unwrap();
    assert_eq!(
        ReceivedResponse::from_resource(&empty),
        Err(ReadError::NoMessageHeader)
    );

    // The 20013 example, altered.
    let altered = |from: &str, to: &str| -> Result<ReceivedResponse, ReadError> {
        let text = String::from_utf8(example("ITK3-response-20013.xml")).unwrap();
        assert_eq!(text.matches(from).count(), 1, "{from}");
        ReceivedResponse::from_bytes(text.replacen(from, to, 1).as_bytes())
    };
    assert_eq!(
        altered(
            "<identifier value=\"cf5e5969-2a93-400f-bf6f-709f101bcf87\"/>",
            ""
        ),
        Err(ReadError::NoResponseIdentifier)
    );
    assert_eq!(
        altered("<code value=\"ok\"/>", "<code value=\"maybe\"/>"),
        // A lenient read drops a code outside the list: it shows as missing.
        Err(ReadError::BadResponseCode(None))
    );
    assert_eq!(
        altered("<code value=\"ok\"/>", ""),
        Err(ReadError::BadResponseCode(None))
    );
    assert_eq!(
        altered(
            "<system value=\"https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1\"/>",
            "<system value=\"https://example.org/other\"/>"
        ),
        Err(ReadError::NoResponseCode)
    );
    // An unknown code is kept as text: a business one by its range.
    let r = altered("<code value=\"20013\"/>", "<code value=\"30016\"/>").unwrap();
    assert_eq!(r.code(), &ReceivedCode::Other("30016".to_owned()));
    assert_eq!(r.kind(), ResponseKind::Business);
    assert!(r.is_positive(), "response.code ok, code unknown");
    // A code that contradicts response.code counts as negative.
    let r = altered("<code value=\"20013\"/>", "<code value=\"20009\"/>").unwrap();
    assert_eq!(r.response_type, ResponseType::Ok);
    assert!(!r.is_positive());
}

/// Builds `code` for `reply` and reads it back from its XML, as the requester would.
fn round_trip(
    r: &Responder,
    reply: &ReplyTo,
    code: ResponseCode,
    diagnostics: &[&str],
) -> ReceivedResponse {
    let built = if code.is_business() {
        r.business_response(reply, code, &diag(diagnostics))
    } else {
        r.infrastructure_response(reply, code, &diag(diagnostics))
    }
    .unwrap();
    ReceivedResponse::from_bytes(built.to_xml().as_bytes()).unwrap()
}

#[test]
fn correlation_follows_each_message() {
    let r = responder(8);
    let t0 = at("2026-01-05T09:00:00Z");
    let mut c = Correlator::new();
    let sent = SentMessage::from_message(&request(), Workflow::SendDocument, t0).unwrap();
    assert_eq!(sent.message_header_id, REQUEST_ID);
    assert_eq!(
        sent.sender_reference.as_deref(),
        Some(REQUEST_SENDER_REFERENCE)
    );
    assert!(sent.inf_ack_requested && sent.bus_ack_requested);
    assert!(c.record(sent.clone()));
    assert!(!c.record(sent), "recorded twice");
    assert_eq!(
        c.get(REQUEST_ID).unwrap().state(),
        MessageState::AwaitingInfrastructureAck
    );

    let reply = reply();
    let inf = round_trip(&r, &reply, ResponseCode::Success, &[]);
    assert_eq!(
        c.feed(&inf, at("2026-01-05T09:06:00Z")),
        Correlation::Matched {
            message_header_id: REQUEST_ID.to_owned(),
            state: MessageState::AwaitingBusinessAck,
            warnings: vec![],
        }
    );
    let bus = round_trip(&r, &reply, ResponseCode::PatientKnown, &[]);
    assert_eq!(
        c.feed(&bus, at("2026-01-05T09:20:00Z")),
        Correlation::Matched {
            message_header_id: REQUEST_ID.to_owned(),
            state: MessageState::BusinessAckReceived {
                code: ReceivedCode::Known(ResponseCode::PatientKnown)
            },
            warnings: vec![],
        }
    );
    let tracked = c.get(REQUEST_ID).unwrap();
    assert_eq!(tracked.responses.len(), 2);
    assert_eq!(tracked.responses[1].received_at, at("2026-01-05T09:20:00Z"));
    assert!(tracked.warnings.is_empty());
    assert!(!tracked.is_awaiting());

    // The same response delivered again is flagged, not logged twice.
    match c.feed(&bus, at("2026-01-05T09:21:00Z")) {
        Correlation::Matched { warnings, .. } => assert!(
            matches!(&warnings[..], [CorrelationWarning::Redelivered { .. }]),
            "{warnings:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.get(REQUEST_ID).unwrap().responses.len(), 2);
}

/// A recorded message with its own id and SenderReference, and the ReplyTo a
/// receiver would have for it.
fn sent(c: &mut Correlator, n: u8, sent_at: &str) -> (String, ReplyTo) {
    let id = format!("00000000-0000-4000-8000-0000000000{n:02}");
    let reference = format!("urn:uuid:10000000-0000-4000-8000-0000000000{n:02}");
    c.record(SentMessage::new(
        id.clone(),
        Some(reference.clone()),
        Workflow::SendDocument,
        at(sent_at),
    ));
    let mut reply = reply();
    reply.message_header_id = Some(id.clone());
    reply.sender_reference = Some(reference);
    (id, reply)
}

#[test]
fn a_negative_response_rejects_the_message() {
    let r = responder(9);
    let mut c = Correlator::new();
    let (id, reply) = sent(&mut c, 1, "2026-01-05T09:00:00Z");
    let negative = round_trip(
        &r,
        &reply,
        ResponseCode::PayloadValidationFailure,
        &["the Composition has no custodian"],
    );
    let rejected = MessageState::Rejected {
        kind: ResponseKind::Infrastructure,
        code: ReceivedCode::Known(ResponseCode::PayloadValidationFailure),
        diagnostics: vec!["the Composition has no custodian".to_owned()],
    };
    match c.feed(&negative, at("2026-01-05T09:01:00Z")) {
        Correlation::Matched {
            state, warnings, ..
        } => {
            assert_eq!(state, rejected);
            assert!(warnings.is_empty());
        }
        other => panic!("{other:?}"),
    }
    // Nothing should follow a negative response; if something does, it is flagged and
    // the message stays rejected.
    let late = round_trip(&r, &reply, ResponseCode::PatientKnown, &[]);
    match c.feed(&late, at("2026-01-05T09:02:00Z")) {
        Correlation::Matched {
            state, warnings, ..
        } => {
            assert_eq!(state, rejected);
            assert!(
                warnings.contains(&CorrelationWarning::AfterRejection {
                    code: ReceivedCode::Known(ResponseCode::PatientKnown)
                }),
                "{warnings:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(c.get(&id).unwrap().state().is_rejected());
    assert!(c.awaiting(at("2026-01-06T00:00:00Z")).is_empty());

    // A negative business response rejects too (patient not known here).
    let (id2, reply2) = sent(&mut c, 2, "2026-01-05T09:00:00Z");
    c.feed(
        &round_trip(&r, &reply2, ResponseCode::Success, &[]),
        at("2026-01-05T09:01:00Z"),
    );
    c.feed(
        &round_trip(
            &r,
            &reply2,
            ResponseCode::PatientNotKnown,
            &["not registered here"],
        ),
        at("2026-01-05T09:02:00Z"),
    );
    assert_eq!(
        c.get(&id2).unwrap().state(),
        MessageState::Rejected {
            kind: ResponseKind::Business,
            code: ReceivedCode::Known(ResponseCode::PatientNotKnown),
            diagnostics: vec!["not registered here".to_owned()],
        }
    );
}

#[test]
fn unmatched_responses_are_reported() {
    let r = responder(10);
    let mut c = Correlator::new();
    let (id, known) = sent(&mut c, 1, "2026-01-05T09:00:00Z");

    // A response to a message never recorded.
    let mut stranger = reply();
    stranger.message_header_id = Some("99999999-0000-4000-8000-000000000000".to_owned());
    stranger.sender_reference = Some("urn:uuid:someone-else".to_owned());
    let resp = round_trip(&r, &stranger, ResponseCode::Success, &[]);
    match c.feed(&resp, at("2026-01-05T09:01:00Z")) {
        Correlation::Unmatched(u) => {
            assert_eq!(u.reason, UnmatchedReason::UnknownIdentifier);
            assert_eq!(
                u.response.response_identifier,
                "99999999-0000-4000-8000-000000000000"
            );
            assert_eq!(u.possible_match, None);
        }
        other => panic!("{other:?}"),
    }

    // The responder could not read the message: UNREADABLE-IN-ORIGINAL-MESSAGE.
    let unreadable = ReplyTo::unreadable(
        Workflow::SendDocument,
        Some(MeshMailbox::new(REQUEST_MAILBOX).unwrap()),
    );
    let resp = round_trip(&r, &unreadable, ResponseCode::Unreadable, &["not XML"]);
    match c.feed(&resp, at("2026-01-05T09:02:00Z")) {
        Correlation::Unmatched(u) => {
            assert_eq!(u.reason, UnmatchedReason::UnreadableInOriginalMessage);
            assert_eq!(
                u.response.code(),
                &ReceivedCode::Known(ResponseCode::Unreadable)
            );
        }
        other => panic!("{other:?}"),
    }

    // An unknown identifier echoing a recorded SenderReference: a hint, not a match.
    let mut garbled = known.clone();
    garbled.message_header_id = Some("88888888-0000-4000-8000-000000000000".to_owned());
    let resp = round_trip(&r, &garbled, ResponseCode::Success, &[]);
    match c.feed(&resp, at("2026-01-05T09:03:00Z")) {
        Correlation::Unmatched(u) => assert_eq!(u.possible_match.as_deref(), Some(id.as_str())),
        other => panic!("{other:?}"),
    }

    assert_eq!(c.unmatched().len(), 3);
    // The recorded message is untouched.
    assert_eq!(
        c.get(&id).unwrap().state(),
        MessageState::AwaitingInfrastructureAck
    );
    assert!(c.get(&id).unwrap().responses.is_empty());
}

#[test]
fn a_sender_reference_mismatch_is_flagged() {
    let r = responder(11);
    let mut c = Correlator::new();
    let (id, mut reply) = sent(&mut c, 1, "2026-01-05T09:00:00Z");
    reply.sender_reference = Some("urn:uuid:not-what-was-sent".to_owned());
    let resp = round_trip(&r, &reply, ResponseCode::Success, &[]);
    let expected = CorrelationWarning::SenderReferenceMismatch {
        sent: "urn:uuid:10000000-0000-4000-8000-000000000001".to_owned(),
        received: "urn:uuid:not-what-was-sent".to_owned(),
    };
    match c.feed(&resp, at("2026-01-05T09:01:00Z")) {
        Correlation::Matched {
            state, warnings, ..
        } => {
            // Matched all the same: the identifier is what ITK3 correlates on.
            assert_eq!(state, MessageState::AwaitingBusinessAck);
            assert_eq!(warnings, vec![expected.clone()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.get(&id).unwrap().warnings, vec![expected]);

    // ITK3's default `None` is not compared.
    let official = ReceivedResponse::from_bytes(&example("ITK3-response-20013.xml")).unwrap();
    let mut c = Correlator::new();
    c.record(SentMessage::new(
        official.response_identifier.clone(),
        Some("urn:uuid:abc".to_owned()),
        Workflow::SendDocument,
        at("2017-01-23T10:00:00Z"),
    ));
    match c.feed(&official, at("2017-01-23T10:11:00Z")) {
        Correlation::Matched {
            state, warnings, ..
        } => {
            assert_eq!(state, MessageState::AwaitingBusinessAck);
            assert!(warnings.is_empty(), "{warnings:?}");
        }
        other => panic!("{other:?}"),
    }
    // The official 30001 (InfAckRequested=true) completes it.
    let business = ReceivedResponse::from_bytes(&example("ITK3-response-30001.xml")).unwrap();
    match c.feed(&business, at("2017-01-23T10:12:00Z")) {
        Correlation::Matched {
            state, warnings, ..
        } => {
            assert_eq!(
                state,
                MessageState::BusinessAckReceived {
                    code: ReceivedCode::Known(ResponseCode::PatientKnown)
                }
            );
            assert!(warnings.is_empty(), "{warnings:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn out_of_order_and_duplicate_responses() {
    let r = responder(12);
    let mut c = Correlator::new();
    let (id, reply) = sent(&mut c, 1, "2026-01-05T09:00:00Z");
    // The business response overtakes the infrastructure one.
    let bus = round_trip(&r, &reply, ResponseCode::PatientKnown, &[]);
    match c.feed(&bus, at("2026-01-05T09:01:00Z")) {
        Correlation::Matched {
            state, warnings, ..
        } => {
            assert!(matches!(state, MessageState::BusinessAckReceived { .. }));
            assert_eq!(warnings, [CorrelationWarning::BusinessBeforeInfrastructure]);
        }
        other => panic!("{other:?}"),
    }
    let inf = round_trip(&r, &reply, ResponseCode::Success, &[]);
    c.feed(&inf, at("2026-01-05T09:02:00Z"));
    // A second, different, infrastructure response.
    let inf2 = round_trip(&r, &reply, ResponseCode::Success, &[]);
    match c.feed(&inf2, at("2026-01-05T09:03:00Z")) {
        Correlation::Matched {
            state, warnings, ..
        } => {
            assert!(matches!(state, MessageState::BusinessAckReceived { .. }));
            assert_eq!(
                warnings,
                [CorrelationWarning::Duplicate {
                    kind: ResponseKind::Infrastructure,
                    code: ReceivedCode::Known(ResponseCode::Success)
                }]
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.get(&id).unwrap().responses.len(), 3);

    // A negative infrastructure response after the business one still rejects.
    let (id2, reply2) = sent(&mut c, 2, "2026-01-05T09:00:00Z");
    c.feed(
        &round_trip(&r, &reply2, ResponseCode::PatientKnown, &[]),
        at("2026-01-05T09:01:00Z"),
    );
    c.feed(
        &round_trip(
            &r,
            &reply2,
            ResponseCode::ReplacementFailed,
            &["no such document"],
        ),
        at("2026-01-05T09:02:00Z"),
    );
    assert_eq!(
        c.get(&id2).unwrap().state(),
        MessageState::Rejected {
            kind: ResponseKind::Infrastructure,
            code: ReceivedCode::Known(ResponseCode::ReplacementFailed),
            diagnostics: vec!["no such document".to_owned()],
        }
    );
}

#[test]
fn messages_still_awaiting_a_response() {
    let r = responder(13);
    let mut c = Correlator::new();
    let (a, _) = sent(&mut c, 1, "2026-01-05T08:00:00Z");
    let (b, reply_b) = sent(&mut c, 2, "2026-01-05T08:30:00Z");
    let (d, reply_d) = sent(&mut c, 3, "2026-01-05T09:00:00Z");
    let (e, _) = sent(&mut c, 4, "2026-01-05T11:00:00Z");
    // b: infrastructure ack only, still awaiting the business one.
    c.feed(
        &round_trip(&r, &reply_b, ResponseCode::Success, &[]),
        at("2026-01-05T08:31:00Z"),
    );
    // d: complete.
    c.feed(
        &round_trip(&r, &reply_d, ResponseCode::Success, &[]),
        at("2026-01-05T09:01:00Z"),
    );
    c.feed(
        &round_trip(&r, &reply_d, ResponseCode::PatientRecentlyDeceased, &[]),
        at("2026-01-05T09:02:00Z"),
    );
    let ids = |v: Vec<&send_document::response::TrackedMessage>| -> Vec<String> {
        v.iter().map(|m| m.sent.message_header_id.clone()).collect()
    };
    // Sent by 10:00 and still awaiting: a (nothing yet) and b (business ack).
    assert_eq!(
        ids(c.awaiting(at("2026-01-05T10:00:00Z"))),
        [a.as_str(), b.as_str()]
    );
    assert_eq!(ids(c.awaiting(at("2026-01-05T08:00:00Z"))), [a.as_str()]);
    assert_eq!(
        ids(c.awaiting(at("2026-01-05T12:00:00Z"))),
        [a.as_str(), b.as_str(), e.as_str()]
    );
    // Waiting for more than two hours at 10:45: a and b (d is complete, e recent).
    assert_eq!(
        ids(c.overdue(at("2026-01-05T10:45:00Z"), TimeDelta::hours(2))),
        [a.as_str(), b.as_str()]
    );
    assert_eq!(
        ids(c.overdue(at("2026-01-05T10:15:00Z"), TimeDelta::hours(2))),
        [a.as_str()]
    );
    assert_eq!(
        c.get(&b).unwrap().state(),
        MessageState::AwaitingBusinessAck
    );
    assert_eq!(
        c.get(&d).unwrap().state(),
        MessageState::BusinessAckReceived {
            code: ReceivedCode::Known(ResponseCode::PatientRecentlyDeceased)
        }
    );

    // Saved and restored, it says the same.
    let restored = Correlator::restore(c.messages().cloned(), c.unmatched().iter().cloned());
    assert_eq!(
        ids(restored.awaiting(at("2026-01-05T12:00:00Z"))),
        [a.as_str(), b.as_str(), e.as_str()]
    );
    let mut restored = restored;
    assert!(restored.remove(&a).is_some());
    assert!(restored.get(&a).is_none());
    assert_eq!(restored.messages().count(), 3);
}

#[test]
fn the_flags_of_the_sent_message_decide_what_is_awaited() {
    let r = responder(14);
    let mut c = Correlator::new();
    let mut only_inf = SentMessage::new(
        "00000000-0000-4000-8000-000000000001",
        None,
        Workflow::SendDocument,
        at("2026-01-05T09:00:00Z"),
    );
    only_inf.bus_ack_requested = false;
    c.record(only_inf);
    let mut nothing = SentMessage::new(
        "00000000-0000-4000-8000-000000000002",
        None,
        Workflow::SendDocument,
        at("2026-01-05T09:00:00Z"),
    );
    nothing.inf_ack_requested = false;
    nothing.bus_ack_requested = false;
    c.record(nothing);
    assert_eq!(
        c.get("00000000-0000-4000-8000-000000000002")
            .unwrap()
            .state(),
        MessageState::NoResponseRequested
    );
    let mut reply = reply();
    reply.message_header_id = Some("00000000-0000-4000-8000-000000000001".to_owned());
    reply.sender_reference = None;
    c.feed(
        &round_trip(&r, &reply, ResponseCode::Success, &[]),
        at("2026-01-05T09:01:00Z"),
    );
    assert_eq!(
        c.get("00000000-0000-4000-8000-000000000001")
            .unwrap()
            .state(),
        MessageState::InfrastructureAckReceived
    );
    assert!(c.awaiting(at("2026-01-06T00:00:00Z")).is_empty());
    // A positive business response nobody asked for is flagged.
    match c.feed(
        &round_trip(&r, &reply, ResponseCode::PatientKnown, &[]),
        at("2026-01-05T09:02:00Z"),
    ) {
        Correlation::Matched { warnings, .. } => assert_eq!(
            warnings,
            [CorrelationWarning::NotRequested {
                kind: ResponseKind::Business
            }]
        ),
        other => panic!("{other:?}"),
    }
}

/// The receiver's decision, answered: accepted and processed, then the same message
/// again (a duplicate, rejected), then bytes that are no message at all.
#[test]
fn answering_what_the_receiver_decided() {
    use send_document::receive::{MemoryReceiptLog, Receiver, Transport};

    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/send-document-valid.xml"),
    )
    .unwrap();
    let transport = Transport::mesh("GPCONNECT_SEND_DOCUMENT", REQUEST_MAILBOX);
    let receiver = Receiver::default();
    let mut log = MemoryReceiptLog::new();
    let responder = responder(20).redacting(PatientData::from_message(&request()));

    // The requester recorded what it sent.
    let mut c = Correlator::new();
    c.record(
        SentMessage::from_message(
            &request(),
            Workflow::SendDocument,
            at("2026-01-05T09:00:00Z"),
        )
        .unwrap(),
    );

    let received = receiver
        .receive(&bytes, &transport, &mut log)
        .unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(received.reply_to, reply());
    let out = responder
        .responses(
            &received.reply_to,
            &Outcome::processed(ResponseCode::PatientKnown),
        )
        .unwrap();
    assert_eq!(out.len(), 2);
    for r in &out {
        assert_eq!(
            findings(&validate_message(r.resource()), Severity::Error),
            Vec::<String>::new()
        );
        c.feed(
            &ReceivedResponse::from_bytes(r.to_xml().as_bytes()).unwrap(),
            at("2026-01-05T09:10:00Z"),
        );
    }
    assert_eq!(
        c.get(REQUEST_ID).unwrap().state(),
        MessageState::BusinessAckReceived {
            code: ReceivedCode::Known(ResponseCode::PatientKnown)
        }
    );

    // The same message again: a negative infrastructure response, and nothing else.
    let rejection = receiver
        .receive(&bytes, &transport, &mut log)
        .expect_err("a duplicate is rejected");
    assert!(!rejection.code.is_positive());
    let outcome = Outcome::rejected(
        rejection.code,
        rejection.diagnostics.iter().map(ToString::to_string),
    );
    let out = responder.responses(&rejection.reply_to, &outcome).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].code(), rejection.code);
    assert_eq!(out[0].response_identifier(), REQUEST_ID);
    assert_eq!(
        findings(&validate_message(out[0].resource()), Severity::Error),
        Vec::<String>::new()
    );
    let xml = out[0].to_xml();
    for term in PATIENT_DATA {
        assert!(!xml.contains(term), "{term} in {xml}");
    }
    // Fed back, it is flagged as a second infrastructure response; the first one
    // (20013) still decides: a 20007 for a resent copy does not undo it.
    match c.feed(
        &ReceivedResponse::from_bytes(xml.as_bytes()).unwrap(),
        at("2026-01-05T09:11:00Z"),
    ) {
        Correlation::Matched {
            state, warnings, ..
        } => {
            assert_eq!(
                state,
                MessageState::BusinessAckReceived {
                    code: ReceivedCode::Known(ResponseCode::PatientKnown)
                }
            );
            assert_eq!(
                warnings,
                [CorrelationWarning::Duplicate {
                    kind: ResponseKind::Infrastructure,
                    code: ReceivedCode::Known(rejection.code)
                }]
            );
        }
        other => panic!("{other:?}"),
    }

    // Bytes that are no message: 10009, UNREADABLE-IN-ORIGINAL-MESSAGE, unmatched.
    let rejection = receiver
        .check(b"%PDF-1.4 not a message", &transport, &log)
        .expect_err("unreadable");
    assert_eq!(rejection.code, ResponseCode::Unreadable);
    let out = responder
        .responses(
            &rejection.reply_to,
            &Outcome::rejected(
                rejection.code,
                rejection.diagnostics.iter().map(ToString::to_string),
            ),
        )
        .unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].envelope().to, REQUEST_MAILBOX);
    match c.feed(
        &ReceivedResponse::from_bytes(out[0].to_json().as_bytes()).unwrap(),
        at("2026-01-05T09:12:00Z"),
    ) {
        Correlation::Unmatched(u) => {
            assert_eq!(u.reason, UnmatchedReason::UnreadableInOriginalMessage)
        }
        other => panic!("{other:?}"),
    }
}
