//! The published NHS example messages (`../shared/examples/`): read leniently,
//! each element-order fault reported with its location, written back in
//! canonical order, and the written file reads strictly.

use fhir_stu3::{ErrorKind, ReadOptions, Resource, Severity};
use workspace_tests::{shared_dir, xml_equal};

/// An order fault: (path, line, column).
type Fault = (&'static str, usize, usize);

/// (file, the exact order faults lenient reading reports).
const EXPECTED: &[(&str, &[Fault])] = &[
    ("ITK3-response-10009.xml", &[]),
    ("ITK3-response-20009.xml", &[]),
    ("ITK3-response-20013.xml", &[]),
    ("ITK3-response-30001.xml", &[]),
    ("MessageDefinition-ITK-GPConnectSendDocument-MessageDefinition-1.xml", &[]),
    (
        "v1.3.0-release_consultation_report.xml",
        &[
            ("Bundle.entry[0].resource.ofType(MessageHeader).event", 57, 9),
            ("Bundle.entry[0].resource.ofType(MessageHeader).sender", 62, 9),
            ("Bundle.entry[0].resource.ofType(MessageHeader).timestamp", 65, 9),
            ("Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).title", 127, 15),
            ("Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).text", 128, 15),
            ("Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).subject", 135, 15),
            ("Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).author[0]", 139, 15),
            ("Bundle.entry[2].resource.ofType(Bundle).entry[2].resource.ofType(Practitioner).name[0].use", 188, 17),
            ("Bundle.entry[2].resource.ofType(Bundle).entry[4].resource.ofType(Patient).identifier[0]", 230, 15),
        ],
    ),
    // Its element order is correct; its faults are profile-level (missing meta.profile,
    // custodian, Binary id), which the profile validator reports.
    ("v2.0.2_send-document--generic-example.xml", &[]),
    (
        "v2_example-generic-wireframe-moe-degrasse.xml",
        &[
            ("Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).extension[0]", 124, 15),
            ("Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).event[0]", 163, 15),
        ],
    ),
];

/// Files in the folder that are not FHIR at all (MESH control files and a MESH report).
const NOT_FHIR: &[&str] = &[
    "v1.3.0_mesh-error-report_StatusRecord.xml",
    "v1.3.1_mesh-client_example.ctl.xml",
    "v2_mesh-client_example.ctl.xml",
];

#[test]
fn nhs_examples_read_leniently_report_order_faults_and_write_canonically() {
    let dir = shared_dir().join("examples");
    let mut listed: Vec<&str> = EXPECTED
        .iter()
        .map(|e| e.0)
        .chain(NOT_FHIR.iter().copied())
        .collect();
    listed.sort();
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    present.sort();
    assert_eq!(listed, present, "every XML example must be accounted for");

    for (file, expected) in EXPECTED {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let parsed = Resource::from_xml_with(&bytes, &ReadOptions::lenient())
            .unwrap_or_else(|e| panic!("{file}: lenient read failed: {e}"));
        let found: Vec<(String, usize, usize)> = parsed
            .warnings
            .iter()
            .map(|w| {
                assert_eq!(w.kind(), ErrorKind::Order, "{file}: unexpected warning {w}");
                assert_eq!(w.severity(), Severity::Warning);
                (w.path().to_owned(), w.line(), w.column())
            })
            .collect();
        let expected: Vec<(String, usize, usize)> = expected
            .iter()
            .map(|(p, l, c)| (p.to_string(), *l, *c))
            .collect();
        assert_eq!(found, expected, "{file}");

        // Strict reading refuses exactly the files with faults, at the first one.
        match (Resource::from_xml(&bytes), expected.first()) {
            (Ok(_), None) => {}
            (Err(e), Some((path, line, col))) => {
                assert_eq!(
                    (e.kind(), e.path(), e.line(), e.column()),
                    (ErrorKind::Order, path.as_str(), *line, *col),
                    "{file}"
                )
            }
            (r, _) => panic!("{file}: strict result {r:?} does not match the expected faults"),
        }

        // Written back in canonical order: it reads strictly, to the same model,
        // and writing it again changes nothing.
        let written = parsed.value.to_xml();
        let again = Resource::from_xml(written.as_bytes())
            .unwrap_or_else(|e| panic!("{file}: the canonical output does not read strictly: {e}"));
        assert!(
            again == parsed.value,
            "{file}: model changed on the way through canonical XML"
        );
        xml_equal(&written, &again.to_xml()).unwrap();
        // Without order faults, the canonical output is the input itself.
        if expected.is_empty() {
            xml_equal(std::str::from_utf8(&bytes).unwrap(), &written)
                .unwrap_or_else(|d| panic!("{file}: {d}"));
        }
    }
}

#[test]
fn mesh_files_in_the_examples_folder_are_refused_as_not_fhir() {
    let dir = shared_dir().join("examples");
    for file in NOT_FHIR {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        for opts in [ReadOptions::strict(), ReadOptions::lenient()] {
            let err = Resource::from_xml_with(&bytes, &opts).expect_err(file);
            assert_eq!(err.kind(), ErrorKind::Namespace, "{file}: {err}");
            assert_eq!((err.line(), err.column()), (1, 1), "{file}: {err}");
        }
    }
}
