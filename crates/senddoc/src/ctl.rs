//! The MESH client control file (`.ctl`, `DTSControl`) of a received `.dat`, as
//! `senddoc receive` needs it: the workflow, From, To, Subject and message type. The
//! file is read by [`nhs_mesh::ControlFile::parse`], which reports faults with their
//! line and column.

use nhs_mesh::ControlFile;
use send_document::receive::Transport;

/// The transport facts a control file gives. Fails, naming the line and column, when
/// the text is not a well-formed `DTSControl` document (or a field such as
/// `MessageType` holds a value MESH does not define).
pub fn transport(xml: &str) -> Result<Transport, String> {
    let cf = ControlFile::parse(xml).map_err(|e| e.to_string())?;
    Ok(send_document_mesh::transport_of(&cf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use send_document::receive::MeshMessageType;

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

    #[test]
    fn faults_carry_their_line_and_column() {
        let err = transport("<DTSControl>\n<From_DTS>A</From_DTS>\n  <MessageType>Other</MessageType>\n</DTSControl>")
            .unwrap_err();
        assert!(err.contains("line 3, column 3"), "{err}");
        assert!(err.contains("MessageType"), "{err}");
        let err = transport("<Bundle/>").unwrap_err();
        assert!(err.contains("line 1, column 1"), "{err}");
        // Empty fields are absent, as before.
        let t = transport("<DTSControl><WorkflowId></WorkflowId><Subject/></DTSControl>").unwrap();
        assert_eq!((t.workflow_id, t.subject), (None, None));
    }
}
