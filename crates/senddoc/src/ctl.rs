//! Just enough of a MESH client control file (`.ctl`, `DTSControl`) for `senddoc
//! receive`: the workflow, From, To, Subject and message type of a received `.dat`.
//! A `.ctl` is flat XML with one element per field; each field's text is read with
//! the five predefined XML entities undone.

use send_document::receive::{MeshMessageType, Transport};

/// The text of the first `<name>…</name>` in `xml`, unescaped; `None` when the
/// element is absent or empty (`<name/>`, `<name></name>`).
fn field(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    let text = xml[start..start + len].trim();
    if text.is_empty() {
        return None;
    }
    Some(
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// The transport facts a control file gives. Fails when the text is not a
/// `DTSControl` document.
pub fn transport(xml: &str) -> Result<Transport, String> {
    if !xml.contains("<DTSControl>") {
        return Err("not a MESH control file (no <DTSControl> element)".into());
    }
    let message_type = match field(xml, "MessageType").as_deref() {
        None => None,
        Some(t) if t.eq_ignore_ascii_case("data") => Some(MeshMessageType::Data),
        Some(t) if t.eq_ignore_ascii_case("report") => Some(MeshMessageType::Report),
        Some(other) => return Err(format!("unknown MessageType {other:?} (Data or Report)")),
    };
    Ok(Transport {
        workflow_id: field(xml, "WorkflowId"),
        message_type,
        from: field(xml, "From_DTS"),
        to: field(xml, "To_DTS"),
        subject: field(xml, "Subject"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_published_example_fields() {
        let ctl = "<DTSControl>\n<Version>1.0</Version>\n<MessageType>Data</MessageType>\n\
                   <From_DTS>GP0001</From_DTS>\n<To_DTS>GPPROVIDER_9000000009_20101022_Smith</To_DTS>\n\
                   <Subject>A &amp; B</Subject>\n<LocalId></LocalId>\n\
                   <WorkflowId>GPFED_CONSULT_REPORT</WorkflowId>\n</DTSControl>";
        let t = transport(ctl).unwrap();
        assert_eq!(t.workflow_id.as_deref(), Some("GPFED_CONSULT_REPORT"));
        assert_eq!(t.from.as_deref(), Some("GP0001"));
        assert_eq!(
            t.to.as_deref(),
            Some("GPPROVIDER_9000000009_20101022_Smith")
        );
        assert_eq!(t.subject.as_deref(), Some("A & B"));
        assert_eq!(t.message_type, Some(MeshMessageType::Data));
        assert!(transport("<Bundle/>").is_err());
        assert!(transport("<DTSControl><MessageType>Other</MessageType></DTSControl>").is_err());
    }
}
