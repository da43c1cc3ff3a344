//! The attachment-type policy: which MIME types are approved, which are refused as
//! not approved (20004), and what the bytes of each approved type must look like.

/// What the decoded bytes of an attachment must start with (or be) for its declared
/// type. A receiver can only check `contentType` against the bytes: ITK-Attachment-Binary-1
/// has no size or hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signature {
    /// `%PDF-` within the first 1024 bytes (as PDF readers accept).
    Pdf,
    /// The 8-byte PNG signature.
    Png,
    /// `FF D8 FF`.
    Jpeg,
    /// `II*\0` or `MM\0*`.
    Tiff,
    /// The OLE2 compound-file signature `D0 CF 11 E0 A1 B1 1A E1` (`.doc`).
    Ole2,
    /// A ZIP local file header `PK\3\4` (`.docx`, an OOXML package).
    Zip,
    /// `{\rtf`.
    Rtf,
    /// Text: no NUL byte and not one of the binary signatures above.
    Text,
    /// Markup text (HTML, XML): text whose first non-blank character (after a
    /// byte-order mark) is `<`.
    Markup,
}

impl Signature {
    /// Every signature, in the order [`Signature::detect`] tries them.
    pub const ALL: [Signature; 9] = [
        Signature::Pdf,
        Signature::Png,
        Signature::Jpeg,
        Signature::Tiff,
        Signature::Ole2,
        Signature::Zip,
        Signature::Rtf,
        Signature::Markup,
        Signature::Text,
    ];

    /// Whether `bytes` have this signature.
    pub fn matches(self, bytes: &[u8]) -> bool {
        match self {
            Signature::Pdf => bytes.windows(5).take(1024).any(|w| w == b"%PDF-"),
            Signature::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            Signature::Jpeg => bytes.starts_with(b"\xff\xd8\xff"),
            Signature::Tiff => bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*"),
            Signature::Ole2 => bytes.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
            Signature::Zip => bytes.starts_with(b"PK\x03\x04"),
            Signature::Rtf => bytes.starts_with(b"{\\rtf"),
            Signature::Text => is_text(bytes),
            Signature::Markup => {
                is_text(bytes) && {
                    let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
                    b.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'<')
                }
            }
        }
    }

    /// The first signature the bytes have (most specific first), if any.
    pub fn detect(bytes: &[u8]) -> Option<Signature> {
        Signature::ALL.into_iter().find(|s| s.matches(bytes))
    }

    /// The signature in words (`a PDF`), for diagnostics.
    pub fn describe(self) -> &'static str {
        match self {
            Signature::Pdf => "a PDF",
            Signature::Png => "a PNG image",
            Signature::Jpeg => "a JPEG image",
            Signature::Tiff => "a TIFF image",
            Signature::Ole2 => "a legacy Office (OLE2) document",
            Signature::Zip => "a ZIP package",
            Signature::Rtf => "an RTF document",
            Signature::Text => "text",
            Signature::Markup => "markup text",
        }
    }
}

fn is_text(bytes: &[u8]) -> bool {
    !bytes.contains(&0)
        && ![
            Signature::Pdf,
            Signature::Png,
            Signature::Jpeg,
            Signature::Tiff,
            Signature::Ole2,
            Signature::Zip,
        ]
        .into_iter()
        .any(|s| s.matches(bytes))
        && executable(bytes).is_none()
}

/// Whether the bytes are an executable or a script, whatever their declared type:
/// such an attachment is never approved (20004).
pub(crate) fn executable(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"MZ") {
        Some("a Windows executable")
    } else if bytes.starts_with(b"\x7fELF") {
        Some("an ELF executable")
    } else if bytes.starts_with(b"\xca\xfe\xba\xbe")
        || bytes.starts_with(b"\xcf\xfa\xed\xfe")
        || bytes.starts_with(b"\xfe\xed\xfa\xcf")
    {
        Some("a Mach-O executable")
    } else if bytes.starts_with(b"#!") {
        Some("a script")
    } else {
        None
    }
}

/// One approved attachment type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentType {
    /// The MIME type, lower case, without parameters (`application/pdf`).
    pub mime: String,
    /// What its bytes must look like.
    pub signature: Signature,
}

impl AttachmentType {
    /// An approved type.
    pub fn new(mime: &str, signature: Signature) -> Self {
        AttachmentType {
            mime: normalise(mime),
            signature,
        }
    }
}

/// How a receiver treats each `Binary.contentType` (spec §2.11, §6.3: NHS gives no
/// approved-type list, so the receiver decides).
///
/// A declared type is read in lower case without parameters (`application/pdf;
/// charset=binary` is `application/pdf`), then:
/// 1. an **alias** (`image/jpg`) is read as the type it stands for, with a warning;
/// 2. an **approved** type is accepted when the decoded bytes have its
///    [`Signature`] (else 20009);
/// 3. a **not approved** type (executables, scripts, archives, macro-enabled Office
///    files, `application/octet-stream`) gives **20004**;
/// 4. any other type is **unsupported**: **20005**.
///
/// Whatever the declared type, bytes that are an executable or a script give 20004.
///
/// [`AttachmentPolicy::sd2`] (the default) is SD2's MIME table with its three errors
/// corrected (spec §8.18): `application/rtf` rather than `application/mswrtford`,
/// `image/jpeg` rather than `image/jpg`, and `image/tiff` for `.tiff` rather than
/// `image/png`; the misspellings are accepted as aliases. The fields are public: add
/// or remove types to make a local policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentPolicy {
    /// The approved types.
    pub approved: Vec<AttachmentType>,
    /// Alternative spellings, as (alias, approved type).
    pub aliases: Vec<(String, String)>,
    /// Types refused as not approved (20004).
    pub not_approved: Vec<String>,
}

/// What the policy says about one declared content type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeVerdict {
    /// Approved: the bytes must have `signature`. `mime` is the approved type (the
    /// one an alias stands for); `alias` is true when the declared type was an alias.
    Approved {
        /// The approved MIME type.
        mime: String,
        /// What the bytes must look like.
        signature: Signature,
        /// Whether the declared type was an alias of `mime`.
        alias: bool,
    },
    /// A type the policy refuses: 20004.
    NotApproved,
    /// A type the policy does not know: 20005.
    Unsupported,
}

impl Default for AttachmentPolicy {
    fn default() -> Self {
        AttachmentPolicy::sd2()
    }
}

impl AttachmentPolicy {
    /// SD2's MIME table, corrected (see the type's documentation).
    pub fn sd2() -> Self {
        use Signature::*;
        let approved = [
            ("application/pdf", Pdf),
            ("application/msword", Ole2),
            (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                Zip,
            ),
            ("application/rtf", Rtf),
            ("text/html", Markup),
            ("text/plain", Text),
            ("text/xml", Markup),
            ("application/xml", Markup),
            ("image/jpeg", Jpeg),
            ("image/png", Png),
            ("image/tiff", Tiff),
        ]
        .into_iter()
        .map(|(m, s)| AttachmentType::new(m, s))
        .collect();
        let aliases = [
            ("image/jpg", "image/jpeg"),
            ("image/pjpeg", "image/jpeg"),
            ("application/mswrtford", "application/rtf"),
            ("text/rtf", "application/rtf"),
            ("image/tif", "image/tiff"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let not_approved = [
            "application/octet-stream",
            "application/x-msdownload",
            "application/x-msdos-program",
            "application/x-dosexec",
            "application/x-executable",
            "application/vnd.microsoft.portable-executable",
            "application/x-msi",
            "application/x-sh",
            "application/x-bat",
            "application/hta",
            "application/javascript",
            "application/x-javascript",
            "text/javascript",
            "application/java-archive",
            "application/zip",
            "application/x-zip-compressed",
            "application/x-7z-compressed",
            "application/x-rar-compressed",
            "application/vnd.rar",
            "application/gzip",
            "application/x-tar",
            "application/x-shockwave-flash",
            "application/vnd.ms-word.document.macroenabled.12",
            "application/vnd.ms-excel.sheet.macroenabled.12",
            "application/vnd.ms-powerpoint.presentation.macroenabled.12",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        AttachmentPolicy {
            approved,
            aliases,
            not_approved,
        }
    }

    /// What the policy says about a declared `contentType`.
    pub fn classify(&self, content_type: &str) -> TypeVerdict {
        let declared = normalise(content_type);
        let (mime, alias) = match self.aliases.iter().find(|(a, _)| normalise(a) == declared) {
            Some((_, target)) => (normalise(target), true),
            None => (declared.clone(), false),
        };
        if let Some(t) = self.approved.iter().find(|t| normalise(&t.mime) == mime) {
            return TypeVerdict::Approved {
                mime,
                signature: t.signature,
                alias,
            };
        }
        if self.not_approved.iter().any(|n| normalise(n) == declared) {
            TypeVerdict::NotApproved
        } else {
            TypeVerdict::Unsupported
        }
    }
}

/// A MIME type in lower case without parameters or blanks.
pub(crate) fn normalise(mime: &str) -> String {
    mime.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Decodes base64, ignoring ASCII whitespace (line breaks included) and accepting
/// missing padding.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    use base64::engine::{general_purpose, DecodePaddingMode, GeneralPurpose};
    use base64::Engine as _;
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        general_purpose::GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    // Most senders write base64 without blanks: decode the text as it is, and only
    // when that fails on a blank, copy the runs between blanks once and decode again
    // (positions in errors are then counted without the blanks, as the message says).
    let bytes = text.as_bytes();
    let compact: Vec<u8>;
    let input = match ENGINE.decode(bytes) {
        Ok(decoded) => return Ok(decoded),
        Err(_) if bytes.iter().any(u8::is_ascii_whitespace) => {
            compact = bytes
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            &compact[..]
        }
        Err(_) => bytes,
    };
    ENGINE.decode(input).map_err(|e| match e {
        base64::DecodeError::InvalidByte(offset, _) => {
            format!("a character that is not base64 at position {offset} (blanks ignored)")
        }
        base64::DecodeError::InvalidLength(_) => "a length that base64 cannot have".to_owned(),
        base64::DecodeError::InvalidLastSymbol(offset, _) => {
            format!("an invalid last symbol at position {offset}")
        }
        base64::DecodeError::InvalidPadding => "invalid padding".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sd2_policy_with_its_errors_corrected() {
        let p = AttachmentPolicy::sd2();
        assert!(matches!(
            p.classify("Application/PDF; charset=binary"),
            TypeVerdict::Approved {
                signature: Signature::Pdf,
                alias: false,
                ..
            }
        ));
        assert!(matches!(
            p.classify("image/jpg"),
            TypeVerdict::Approved {
                signature: Signature::Jpeg,
                alias: true,
                ..
            }
        ));
        assert_eq!(
            p.classify("application/x-msdownload"),
            TypeVerdict::NotApproved
        );
        assert_eq!(p.classify("video/mp4"), TypeVerdict::Unsupported);
        assert_eq!(p.classify(""), TypeVerdict::Unsupported);
    }

    #[test]
    fn signatures_and_base64() {
        assert_eq!(Signature::detect(b"%PDF-1.4\n"), Some(Signature::Pdf));
        assert_eq!(
            Signature::detect(b"\x89PNG\r\n\x1a\n...."),
            Some(Signature::Png)
        );
        assert_eq!(Signature::detect(b"  <html/>"), Some(Signature::Markup));
        assert_eq!(Signature::detect(b"hello"), Some(Signature::Text));
        assert_eq!(Signature::detect(b"a\0b"), None);
        assert!(!Signature::Text.matches(b"MZ\x90\0"));
        assert!(executable(b"MZ\x90\0").is_some());
        assert_eq!(decode_base64("aGVs\n bG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVsbG8").unwrap(), b"hello");
        assert!(decode_base64("aGV*bG8=").is_err());
    }
}
