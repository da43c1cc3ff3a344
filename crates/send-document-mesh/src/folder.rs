//! The MESH client's folder route: a built message into `OUT`, a received one read
//! from `IN` with the transport facts its control file gives.

use nhs_mesh::control::{ControlFile, MessageType};
use nhs_mesh::folder::{FolderError, OutFolder, Placed};
use send_document::build::{BuiltMessage, Format};
use send_document::receive::{MeshMessageType, Transport};

/// Places a built message in a MESH client's `OUT` folder as
/// `<message bundle id>.dat` (the message in `format`) and `.ctl` (its envelope), the
/// payload first, each written atomically.
pub fn put_in_out_folder(
    out: &OutFolder,
    built: &BuiltMessage,
    format: Format,
) -> Result<Placed, FolderError> {
    let name = built.identifiers().message_bundle_identifier.to_string();
    out.put(
        &name,
        built.serialize(format).as_bytes(),
        &built.envelope().to_control_file(),
    )
}

/// What a received control file says about its message, for
/// [`Receiver::receive`](send_document::receive::Receiver::receive): workflow,
/// message type, From, To and Subject.
pub fn transport_of(control: &ControlFile) -> Transport {
    Transport {
        workflow_id: control.workflow_id.clone(),
        message_type: control.message_type.map(|t| match t {
            MessageType::Data => MeshMessageType::Data,
            MessageType::Report => MeshMessageType::Report,
        }),
        from: control.from_dts.clone(),
        to: control.to_dts.clone(),
        subject: control.subject.clone(),
    }
}
