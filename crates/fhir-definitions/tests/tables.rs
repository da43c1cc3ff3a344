//! The generated conformance tables hold what the packages say.

use fhir_definitions::*;

#[test]
fn tables_are_sorted_and_complete() {
    assert!(STRUCTURE_DEFINITIONS
        .windows(2)
        .all(|w| w[0].url < w[1].url));
    assert!(VALUE_SETS.windows(2).all(|w| w[0].url < w[1].url));
    // 790 StructureDefinitions in the three packages; one has no snapshot.
    assert_eq!(STRUCTURE_DEFINITIONS.len() + SKIPPED_DEFINITIONS.len(), 790);
    assert_eq!(SKIPPED_DEFINITIONS.len(), 1, "{SKIPPED_DEFINITIONS:?}");
    assert_eq!(PACKAGES.len(), 3);
    // 186 distinct FHIRPath expressions (profiles.md); the table is keyed by
    // (key, severity, description, expression), so it may hold more rows.
    let mut exprs: Vec<&str> = CONSTRAINTS.iter().map(|c| c.expression).collect();
    exprs.sort();
    exprs.dedup();
    assert_eq!(exprs.len(), 186);
}

#[test]
fn careconnect_patient_nhs_number_slice() {
    let sd = structure_definition(
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1|1.3.0",
    )
    .unwrap();
    assert_eq!(
        (sd.name, sd.version, sd.type_name),
        ("CareConnect-Patient-1", "1.3.0", "Patient")
    );
    assert_eq!(sd.derivation, Derivation::Constraint);
    let identifier = sd
        .elements
        .iter()
        .find(|e| e.id == "Patient.identifier")
        .unwrap();
    let slicing = identifier.slicing.as_ref().unwrap();
    assert_eq!(slicing.rules, SlicingRules::OpenAtEnd);
    assert_eq!(slicing.discriminators[0].kind, DiscriminatorKind::Value);
    assert_eq!(slicing.discriminators[0].path, "system");
    let system = sd
        .elements
        .iter()
        .find(|e| e.id == "Patient.identifier:nhsNumber.system")
        .unwrap();
    let fixed = system.fixed.as_ref().unwrap();
    assert_eq!(
        (fixed.type_suffix, fixed.json),
        ("Uri", "\"https://fhir.nhs.uk/Id/nhs-number\"")
    );
    assert_eq!((system.min, system.max), (1, Max::Count(1)));
}

#[test]
fn invariants_and_bindings() {
    let patient = base_definition("Patient").unwrap();
    let root = &patient.elements[0];
    let keys: Vec<&str> = root.constraints().map(|c| c.key).collect();
    assert!(
        keys.contains(&"dom-2") && keys.contains(&"dom-3"),
        "{keys:?}"
    );
    let gender = patient
        .elements
        .iter()
        .find(|e| e.path == "Patient.gender")
        .unwrap();
    let binding = gender.binding.as_ref().unwrap();
    assert_eq!(binding.strength, Strength::Required);
    let vs = value_set(binding.value_set.unwrap()).unwrap();
    assert_eq!(
        vs.contains(Some("http://hl7.org/fhir/administrative-gender"), "female"),
        Some(true)
    );
    assert_eq!(vs.contains(None, "woman"), Some(false));
    // SNOMED CT value sets cannot be expanded here, and say so.
    let sct = VALUE_SETS
        .iter()
        .find(|v| v.expansion.is_err_and(|why| why.contains("snomed")))
        .unwrap();
    assert_eq!(sct.contains(None, "371531000"), None);
}

#[test]
fn itk_message_handling_extension() {
    let sd = STRUCTURE_DEFINITIONS
        .iter()
        .find(|sd| sd.name == "Extension-ITK-MessageHandling-2")
        .unwrap();
    assert_eq!(sd.type_name, "Extension");
    let slices: Vec<&str> = sd
        .elements
        .iter()
        .filter(|e| e.path == "Extension.extension")
        .filter_map(|e| e.slice_name)
        .collect();
    assert!(slices.contains(&"BusAckRequested"), "{slices:?}");
    assert!(slices.contains(&"InfAckRequested"), "{slices:?}");
}
