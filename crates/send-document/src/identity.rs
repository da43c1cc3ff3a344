//! Checked identifiers a Send Document message is addressed by: NHS number, ODS
//! code, MESH mailbox, the MESH workflow pair and the `GPPROVIDER` address that
//! routes a message to the patient's registered practice.

use std::fmt;
use std::str::FromStr;

/// Why a value is not a valid identifier of its kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct IdentityError {
    /// What was being read (`NHS number`, `ODS code`...).
    pub kind: &'static str,
    /// The value as given.
    pub value: String,
    /// Why it was refused.
    pub reason: String,
}

fn refuse(kind: &'static str, value: &str, reason: impl Into<String>) -> IdentityError {
    IdentityError {
        kind,
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// An NHS number: ten digits whose last is the Modulus 11 check digit of the first
/// nine (NHS Data Dictionary). Spaces and hyphens are accepted on input
/// (`943 476 5919`) and dropped.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber(String);

impl NhsNumber {
    /// Reads and checks an NHS number.
    pub fn new(value: &str) -> Result<Self, IdentityError> {
        const KIND: &str = "NHS number";
        let digits: String = value.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse(KIND, value, "an NHS number is 10 digits"));
        }
        let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = d[..9]
            .iter()
            .enumerate()
            .map(|(i, digit)| digit * (10 - i as u32))
            .sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => {
                return Err(refuse(
                    KIND,
                    value,
                    "no valid check digit exists for these nine digits (Modulus 11 gives 10)",
                ))
            }
            c => c,
        };
        if d[9] != check {
            return Err(refuse(
                KIND,
                value,
                format!(
                    "the check digit is {}, Modulus 11 of the first nine digits gives {check}",
                    d[9]
                ),
            ));
        }
        Ok(NhsNumber(digits))
    }

    /// The ten digits, as FHIR and MESH carry them.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number grouped 3-3-4 for people to read (`943 476 5919`), as the MESH
    /// Subject and the narrative show it.
    pub fn spaced(&self) -> String {
        format!("{} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..])
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for NhsNumber {
    type Err = IdentityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NhsNumber::new(s)
    }
}

/// An ODS organisation (or site) code: 3 to 10 letters and digits, such as `B82617`
/// or `RR8`. Lower case is upper-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OdsCode(String);

impl OdsCode {
    /// Reads and checks an ODS code.
    pub fn new(value: &str) -> Result<Self, IdentityError> {
        let v = value.trim();
        if !(3..=10).contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(refuse(
                "ODS code",
                value,
                "an ODS code is 3 to 10 letters and digits",
            ));
        }
        Ok(OdsCode(v.to_ascii_uppercase()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for OdsCode {
    type Err = IdentityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OdsCode::new(s)
    }
}

/// A MESH mailbox ID, such as `MESHGP0001` or `X26OT181`: 1 to 20 letters, digits
/// and `_`/`-` (MESH allows no spaces; the sandbox limits `Mex-From` to 100
/// characters, real mailbox IDs are at most 20). Lower case is upper-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MeshMailbox(String);

impl MeshMailbox {
    /// Reads and checks a mailbox ID.
    pub fn new(value: &str) -> Result<Self, IdentityError> {
        let v = value.trim();
        if v.is_empty()
            || v.len() > 20
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(refuse(
                "MESH mailbox ID",
                value,
                "a mailbox ID is 1 to 20 letters, digits, '_' or '-'",
            ));
        }
        Ok(MeshMailbox(v.to_ascii_uppercase()))
    }

    /// The mailbox ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MeshMailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for MeshMailbox {
    type Err = IdentityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MeshMailbox::new(s)
    }
}

/// The MESH workflow a Send Document message travels on. The workflow, not the FHIR
/// payload, is what tells a 2.x message from a 1.3.x consultation summary
/// (`docs/send-document.md`, decision 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Workflow {
    /// `GPCONNECT_SEND_DOCUMENT` (Send Document 2.x, any document type): the default.
    #[default]
    SendDocument,
    /// `GPFED_CONSULT_REPORT`, the legacy 1.3.x consultation summary.
    ConsultReport,
}

impl Workflow {
    /// Both workflows.
    pub const ALL: [Workflow; 2] = [Workflow::SendDocument, Workflow::ConsultReport];

    /// The MESH workflow ID of the document (`GPCONNECT_SEND_DOCUMENT`).
    pub fn id(self) -> &'static str {
        match self {
            Workflow::SendDocument => "GPCONNECT_SEND_DOCUMENT",
            Workflow::ConsultReport => "GPFED_CONSULT_REPORT",
        }
    }

    /// The MESH workflow ID its ITK3 responses travel on (`GPCONNECT_SEND_DOCUMENT_ACK`).
    pub fn ack_id(self) -> &'static str {
        match self {
            Workflow::SendDocument => "GPCONNECT_SEND_DOCUMENT_ACK",
            Workflow::ConsultReport => "GPFED_CONSULT_REPORT_ACK",
        }
    }

    /// The workflow whose document ID is `id`.
    pub fn from_id(id: &str) -> Option<Workflow> {
        Workflow::ALL.into_iter().find(|w| w.id() == id.trim())
    }

    /// The workflow whose acknowledgement ID is `id`.
    pub fn from_ack_id(id: &str) -> Option<Workflow> {
        Workflow::ALL.into_iter().find(|w| w.ack_id() == id.trim())
    }

    /// The Send Document edition the workflow carries.
    pub fn edition(self) -> crate::Edition {
        match self {
            Workflow::SendDocument => crate::Edition::V2,
            Workflow::ConsultReport => crate::Edition::V1_3,
        }
    }
}

impl fmt::Display for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// How the date of birth is written in a `GPPROVIDER` address. NHS's documents
/// disagree (`docs/send-document.md`, decision 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DobFormat {
    /// `YYYYMMDD` (MESH API guidance, a live sender): the default.
    #[default]
    YearFirst,
    /// `DDMMYYYY` (every published `.ctl` example).
    DayFirst,
}

/// The MESH address of a patient's registered GP practice:
/// `GPPROVIDER_<NHS number>_<date of birth>_<surname>`. MESH looks the patient up
/// on PDS and delivers to the practice's mailbox for the workflow.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GpProviderAddress {
    /// The patient's NHS number.
    pub nhs_number: NhsNumber,
    /// Date of birth.
    pub birth_date: chrono::NaiveDate,
    /// Surname as held (MESH upper-cases it).
    pub surname: String,
    /// How the date of birth is written.
    pub dob_format: DobFormat,
}

impl GpProviderAddress {
    /// The prefix of every such address.
    pub const PREFIX: &'static str = "GPPROVIDER_";

    /// Reads an address, accepting either date order (a day-first date that is
    /// not a valid year-first one, or whose year-first reading is implausible, is
    /// read day-first).
    pub fn parse(address: &str) -> Result<Self, IdentityError> {
        const KIND: &str = "GPPROVIDER address";
        let rest = address
            .trim()
            .strip_prefix(Self::PREFIX)
            .ok_or_else(|| refuse(KIND, address, "it does not start with GPPROVIDER_"))?;
        let mut parts = rest.splitn(3, '_');
        let (nhs, dob, surname) = match (parts.next(), parts.next(), parts.next()) {
            (Some(n), Some(d), Some(s)) if !s.is_empty() => (n, d, s),
            _ => {
                return Err(refuse(
                    KIND,
                    address,
                    "expected GPPROVIDER_<NHS number>_<date of birth>_<surname>",
                ))
            }
        };
        let nhs_number = NhsNumber::new(nhs).map_err(|e| refuse(KIND, address, e.to_string()))?;
        let year_first = chrono::NaiveDate::parse_from_str(dob, "%Y%m%d").ok();
        let day_first = chrono::NaiveDate::parse_from_str(dob, "%d%m%Y").ok();
        let plausible = |d: &chrono::NaiveDate| (1850..=2200).contains(&chrono::Datelike::year(d));
        let (birth_date, dob_format) =
            match (year_first.filter(plausible), day_first.filter(plausible)) {
                (Some(d), _) => (d, DobFormat::YearFirst),
                (None, Some(d)) => (d, DobFormat::DayFirst),
                (None, None) => {
                    return Err(refuse(
                        KIND,
                        address,
                        format!("{dob:?} is not a date of birth as YYYYMMDD or DDMMYYYY"),
                    ))
                }
            };
        Ok(GpProviderAddress {
            nhs_number,
            birth_date,
            surname: surname.to_owned(),
            dob_format,
        })
    }

    /// Whether this address names the same patient as the given details: same NHS
    /// number and date of birth, surnames equal ignoring case (MESH upper-cases
    /// them).
    pub fn matches(
        &self,
        nhs_number: &NhsNumber,
        birth_date: chrono::NaiveDate,
        surname: &str,
    ) -> bool {
        &self.nhs_number == nhs_number
            && self.birth_date == birth_date
            && self.surname.trim().eq_ignore_ascii_case(surname.trim())
    }
}

impl fmt::Display for GpProviderAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dob = match self.dob_format {
            DobFormat::YearFirst => self.birth_date.format("%Y%m%d"),
            DobFormat::DayFirst => self.birth_date.format("%d%m%Y"),
        };
        write!(
            f,
            "{}{}_{}_{}",
            Self::PREFIX,
            self.nhs_number,
            dob,
            self.surname
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers_are_modulus_11_checked() {
        // NHS's published test numbers.
        for good in ["9690937278", "943 476 5919", "943-476-5919", "9000000009"] {
            assert!(NhsNumber::new(good).is_ok(), "{good}");
        }
        let e = NhsNumber::new("9690937279").unwrap_err();
        assert!(e.reason.contains("check digit is 9"), "{e}");
        assert!(NhsNumber::new("969093727").is_err());
        assert!(NhsNumber::new("96909372781").is_err());
        assert!(NhsNumber::new("96909372A8").is_err());
        // 123456789 gives a remainder of 1, so no check digit exists.
        assert!(NhsNumber::new("1234567890")
            .unwrap_err()
            .reason
            .contains("gives 10"));
        // The spec's own Subject example number fails the check.
        assert!(NhsNumber::new("485 777 3456").is_err());
        assert_eq!(
            NhsNumber::new("943 476 5919").unwrap().as_str(),
            "9434765919"
        );
        assert_eq!(
            NhsNumber::new("9434765919").unwrap().spaced(),
            "943 476 5919"
        );
    }

    #[test]
    fn ods_codes_and_mailboxes() {
        assert_eq!(OdsCode::new("b82617").unwrap().as_str(), "B82617");
        assert!(OdsCode::new("A(*)").is_err());
        assert!(OdsCode::new("AB").is_err());
        assert_eq!(
            MeshMailbox::new("meshgp0001").unwrap().as_str(),
            "MESHGP0001"
        );
        assert!(MeshMailbox::new("MESH GP").is_err());
        assert!(MeshMailbox::new("").is_err());
    }

    #[test]
    fn workflows_pair_with_their_ack() {
        assert_eq!(Workflow::default().id(), "GPCONNECT_SEND_DOCUMENT");
        assert_eq!(
            Workflow::SendDocument.ack_id(),
            "GPCONNECT_SEND_DOCUMENT_ACK"
        );
        assert_eq!(Workflow::ConsultReport.ack_id(), "GPFED_CONSULT_REPORT_ACK");
        assert_eq!(
            Workflow::from_id("GPFED_CONSULT_REPORT"),
            Some(Workflow::ConsultReport)
        );
        assert_eq!(
            Workflow::from_ack_id("GPCONNECT_SEND_DOCUMENT_ACK"),
            Some(Workflow::SendDocument)
        );
        assert_eq!(Workflow::from_id("GPCONNECT_SEND_DOCUMENT_ACK"), None);
    }

    #[test]
    fn gpprovider_addresses_in_both_date_orders() {
        let address = GpProviderAddress {
            nhs_number: NhsNumber::new("9690937278").unwrap(),
            birth_date: chrono::NaiveDate::from_ymd_opt(1955, 1, 9).unwrap(),
            surname: "Smith".into(),
            dob_format: DobFormat::YearFirst,
        };
        assert_eq!(address.to_string(), "GPPROVIDER_9690937278_19550109_Smith");
        let day_first = GpProviderAddress {
            dob_format: DobFormat::DayFirst,
            ..address.clone()
        };
        assert_eq!(
            day_first.to_string(),
            "GPPROVIDER_9690937278_09011955_Smith"
        );
        assert_eq!(
            GpProviderAddress::parse(&address.to_string()).unwrap(),
            address
        );
        assert_eq!(
            GpProviderAddress::parse(&day_first.to_string()).unwrap(),
            day_first
        );
        assert!(address.matches(&address.nhs_number, address.birth_date, "SMITH"));
        assert!(!address.matches(&address.nhs_number, address.birth_date, "Smyth"));
        assert!(GpProviderAddress::parse("GPPROVIDER_9690937278_19550109").is_err());
        assert!(GpProviderAddress::parse("GPPROVIDER_9690937279_19550109_Smith").is_err());
        assert!(GpProviderAddress::parse("MESHGP0001").is_err());
    }
}
