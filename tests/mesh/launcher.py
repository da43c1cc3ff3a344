"""Test launcher for NHS Digital's MESH sandbox (PyPI ``mesh-sandbox``).

Run with ``uvicorn launcher:app --app-dir tests/mesh`` (scripts/mesh-sandbox.sh does this).
The installed ``mesh_sandbox`` package is imported, never edited. On top of it this module adds:

1. Mailboxes and workflows from ``$MESH_SANDBOX_CONFIG_DIR/mailboxes.jsonl`` and
   ``workflows.jsonl`` (same line format as the sandbox's own data files), in addition to the
   canned X26ABC1/2/3 mailboxes. They feed authentication, sending and endpoint lookup, and they
   survive ``DELETE /messageexchange/admin/reset`` (the store re-reads them).
2. GPPROVIDER routing emulation: a send whose ``mex-To`` is
   ``GPPROVIDER_<nhs number>_<dob YYYYMMDD>_<surname>`` is resolved through
   ``$MESH_SANDBOX_CONFIG_DIR/patients.json`` and the sandbox's own endpoint lookup for
   (practice ODS code, ``mex-WorkflowID``). Exactly one mailbox: the send is delivered there (the
   recipient sees ``mex-To: <mailbox>``). Otherwise the send is answered 202 with a fresh message
   ID and an error REPORT (EPL-150..154) is put into the sender's inbox, as Spine does.

In file store mode (what scripts/mesh-sandbox.sh uses) the admin resets also delete the stored
files, so that ``DELETE /messageexchange/admin/reset`` really empties every mailbox (upstream it
reloads all messages from the files).

The hooks are FastAPI dependency overrides on the sandbox's own app (``get_messaging`` and
``OutboxHandler``); every other request is handled by the sandbox unchanged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import warnings
from collections import defaultdict
from functools import lru_cache
from typing import Optional
from uuid import uuid4

# mesh-sandbox 1.0.137 uses FastAPI's deprecated `example=` argument ~30 times; keep the log readable
warnings.filterwarnings("ignore", message=".*`example` has been deprecated")

# pylint: disable=wrong-import-position
from fastapi import BackgroundTasks, HTTPException, Request
from fastapi import status as http_status
from mesh_sandbox.api import app
from mesh_sandbox.common import constants
from mesh_sandbox.common.exceptions import MessagingException
from mesh_sandbox.common.messaging import Messaging
from mesh_sandbox.common.mex_headers import MexHeaders
from mesh_sandbox.dependencies import get_env_config, get_logger, get_messaging
from mesh_sandbox.handlers.admin import AdminHandler
from mesh_sandbox.handlers.outbox import OutboxHandler, get_chunk_range
from mesh_sandbox.models.mailbox import Mailbox
from mesh_sandbox.models.message import MessageStatus
from mesh_sandbox.models.workflow import Workflow
from mesh_sandbox.store.canned_store import CannedStore
from mesh_sandbox.store.file_store import FileStore
from mesh_sandbox.store.memory_store import MemoryStore
from mesh_sandbox.store.serialisation import deserialise_model
from mesh_sandbox.views.admin import CreateReportRequest
from mesh_sandbox.views.outbox import SendMessageV1, SendMessageV2, UploadChunkV1

__all__ = ["app"]

CONFIG_DIR = os.path.abspath(os.environ.get("MESH_SANDBOX_CONFIG_DIR") or os.path.dirname(os.path.abspath(__file__)))

_log = logging.getLogger("mesh-sandbox")


# --------------------------------------------------------------------------------------------
# 1. custom mailboxes and workflows
# --------------------------------------------------------------------------------------------


def _read_jsonl(name: str, model: type) -> list:
    path = os.path.join(CONFIG_DIR, name)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [deserialise_model(json.loads(line), model) for line in f if line.strip()]


class _ConfigDirMixin:
    """Adds the config dir's mailboxes and workflows to whatever the sandbox store loads.

    ``initialise()`` (run at start-up and by the admin reset) calls these two loaders, so the
    extra mailboxes and endpoints are there after every reset too.
    """

    mailboxes: dict[str, Mailbox]

    def _load_mailboxes(self) -> dict[str, Mailbox]:
        mailboxes = super()._load_mailboxes()  # type: ignore[misc]
        for mailbox in _read_jsonl("mailboxes.jsonl", Mailbox):
            mailboxes[mailbox.mailbox_id] = mailbox
        return mailboxes

    def _load_endpoints(self) -> dict[str, list[Mailbox]]:
        # same indexing as CannedStore._load_endpoints (receivers only; keys "<workflow>" and
        # "<ODS>/<workflow>"), applied to the config dir's workflows
        endpoints: dict[str, list[Mailbox]] = defaultdict(list, super()._load_endpoints())  # type: ignore[misc]
        for workflow in _read_jsonl("workflows.jsonl", Workflow):
            for receiver in workflow.receivers:
                mailbox = self.mailboxes.get(receiver)
                if not mailbox:
                    _log.warning(f"workflow {workflow.workflow_id}: unknown receiver mailbox {receiver}")
                    continue
                endpoints[workflow.workflow_id].append(mailbox)
                ods_code = (mailbox.ods_code or "").strip().upper()
                if ods_code:
                    endpoints[f"{ods_code}/{workflow.workflow_id}"].append(mailbox)
        return endpoints


class ConfigCannedStore(_ConfigDirMixin, CannedStore):
    pass


class ConfigMemoryStore(_ConfigDirMixin, MemoryStore):
    pass


class ConfigFileStore(_ConfigDirMixin, FileStore):
    """File store whose admin resets also delete the stored files.

    Upstream, ``DELETE /messageexchange/admin/reset`` in file mode re-initialises the store *from
    the files*, so every message comes back, and ``DELETE .../admin/reset/{mailbox}`` clears the
    mailbox in memory only (the next full reset brings its messages back). Tests expect a reset to
    empty the mailboxes, so the files go first.
    """

    async def reset(self):
        data_dir = self._mailboxes_data_dir
        if os.path.isdir(data_dir):
            for entry in os.scandir(data_dir):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.remove(entry.path)
        await super().reset()

    async def reset_mailbox(self, mailbox_id: str):
        shutil.rmtree(os.path.join(self._mailboxes_data_dir, mailbox_id), ignore_errors=True)
        await super().reset_mailbox(mailbox_id)


@lru_cache
def get_config_messaging() -> Messaging:
    """Replacement for mesh_sandbox.dependencies.get_messaging (same store choice by STORE_MODE)."""
    config = get_env_config()
    logger = get_logger()
    store_types = {"canned": ConfigCannedStore, "memory": ConfigMemoryStore, "file": ConfigFileStore}
    if config.store_mode not in store_types:
        raise ValueError(f"unrecognised store mode {config.store_mode}")
    return Messaging(store=store_types[config.store_mode](config, logger))


# --------------------------------------------------------------------------------------------
# 2. GPPROVIDER_<nhs>_<dob>_<surname> routing
# --------------------------------------------------------------------------------------------

GPPROVIDER_PREFIX = "GPPROVIDER_"

EPL_MULTIPLE_MAILBOXES = ("EPL-150", constants.ERROR_TOO_MANY_MAILBOX_MATCHES)  # "Multiple mailboxes matches"
EPL_NO_MAILBOX = ("EPL-151", constants.ERROR_NO_MAILBOX_MATCHES)  # "No mailbox matched"
EPL_INVALID_NHS_NUMBER = ("EPL-152", constants.ERROR_INVALID_NHSNUMBER)  # "Invalid NHS Number"
EPL_NHS_NUMBER_NOT_FOUND = ("EPL-153", constants.ERROR_NHSNUMBER_NOT_FOUND)  # "NHS Number not found"
EPL_DEMOGRAPHICS_MISMATCH = ("EPL-154", constants.ERROR_NO_DEMOGRAPHICS_MATCH)


def nhs_number_is_valid(nhs_number: str) -> bool:
    """10 digits and the Modulus 11 check digit (weights 10..2; 11 -> 0; 10 is never valid)."""
    if len(nhs_number) != 10 or not nhs_number.isascii() or not nhs_number.isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(nhs_number[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(nhs_number[9])


def _surname_key(surname: str) -> str:
    return re.sub(r"[^A-Z]", "", surname.upper())


def _load_patients() -> dict:
    # read per send, so a test can change the table without restarting the sandbox
    path = os.path.join(CONFIG_DIR, "patients.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


async def resolve_gpprovider(messaging: Messaging, address: str, workflow_id: str) -> tuple[Optional[Mailbox], tuple]:
    """Returns (mailbox, ()) on success, else (None, (code, description))."""
    parts = address.split("_")
    if len(parts) != 4:
        return None, EPL_INVALID_NHS_NUMBER
    _, nhs_number, birth_date, surname = parts
    if not nhs_number_is_valid(nhs_number):
        return None, EPL_INVALID_NHS_NUMBER
    patient = _load_patients().get(nhs_number)
    if not patient:
        return None, EPL_NHS_NUMBER_NOT_FOUND
    if birth_date != str(patient.get("birth_date", "")) or _surname_key(surname) != _surname_key(
        str(patient.get("surname", ""))
    ):
        return None, EPL_DEMOGRAPHICS_MISMATCH
    ods_code = str(patient.get("ods_code", "")).strip().upper()
    mailboxes = await messaging.lookup_by_ods_code_and_workflow_id(ods_code=ods_code, workflow_id=workflow_id)
    if not mailboxes:
        return None, EPL_NO_MAILBOX
    if len(mailboxes) > 1:
        return None, EPL_MULTIPLE_MAILBOXES
    return mailboxes[0], ()


# message id -> (sender mailbox, total chunks, content encoding) of chunked sends that failed
# routing: their later chunks are accepted and dropped, so the sender's upload completes
_UNROUTED_CHUNKED: dict[str, tuple[str, int, str]] = {}


class GpProviderOutboxHandler(OutboxHandler):
    """The sandbox's outbox handler, with GPPROVIDER_ addresses resolved before sending."""

    async def send_message(  # pylint: disable=too-many-arguments
        self,
        background_tasks: BackgroundTasks,
        request: Request,
        sender_mailbox: Mailbox,
        mex_headers: MexHeaders,
        content_encoding: str,
        content_type: str,
        accepts_api_version: int = 1,
    ):
        # the sandbox has already upper-cased and stripped mex-To
        deliver, error = True, None
        if mex_headers.mex_to.startswith(GPPROVIDER_PREFIX):
            mailbox, error = await resolve_gpprovider(
                self.messaging, mex_headers.mex_to, mex_headers.mex_workflow_id
            )
            deliver = mailbox is not None
            if mailbox:
                self.logger.info(f"GPPROVIDER routing: {mex_headers.mex_to} -> {mailbox.mailbox_id}")
                mex_headers = mex_headers.update(mex_to=mailbox.mailbox_id)
        if deliver:
            return await super().send_message(
                background_tasks=background_tasks,
                request=request,
                sender_mailbox=sender_mailbox,
                mex_headers=mex_headers,
                content_encoding=content_encoding,
                content_type=content_type,
                accepts_api_version=accepts_api_version,
            )

        # the checks the sandbox makes after its recipient check, in its order and with its errors
        if content_encoding and content_encoding != "gzip":
            raise HTTPException(
                status_code=http_status.HTTP_422_UNPROCESSABLE_ENTITY, detail=constants.UNSUPPORTED_CONTENT_ENCODING
            )
        chunk_error, chunk_no, total_chunks = get_chunk_range(mex_headers.mex_chunk_range or "", 1)
        if chunk_error or chunk_no > 1:
            raise HTTPException(
                status_code=http_status.HTTP_417_EXPECTATION_FAILED, detail=constants.ERROR_INVALID_HEADER_CHUNKS
            )
        if len(await request.body()) == 0:
            raise HTTPException(status_code=http_status.HTTP_417_EXPECTATION_FAILED, detail="MissingDataFile")

        message_id = uuid4().hex.upper()
        code, description = error
        report = await AdminHandler(self.messaging).create_report(
            CreateReportRequest(
                mailbox_id=sender_mailbox.mailbox_id,
                code=code,
                description=description,
                workflow_id=mex_headers.mex_workflow_id,
                subject=mex_headers.mex_subject or None,
                local_id=mex_headers.mex_localid or None,
                file_name=mex_headers.mex_filename or None,
                status=MessageStatus.ERROR,
                linked_message_id=message_id,
            ),
            background_tasks,
        )
        # the admin call records error reports as TRANSFER events; endpoint-lookup failures are
        # SEND events (documented StatusRecord of EPL reports; the sandbox's own ErrorCodeMap)
        if report.error_event:
            report.error_event.event = "SEND"
            await self.messaging.save_message(message=report)
        if total_chunks > 1:
            _UNROUTED_CHUNKED[message_id] = (sender_mailbox.mailbox_id, total_chunks, content_encoding)
        self.logger.info(
            f"GPPROVIDER routing: {mex_headers.mex_to} workflow={mex_headers.mex_workflow_id} failed "
            f"{code} {description}; message_id={message_id} report={report.message_id} "
            f"to={sender_mailbox.mailbox_id}"
        )
        if accepts_api_version < 2:
            return SendMessageV1(messageID=message_id)
        return SendMessageV2(message_id=message_id)

    async def send_chunk(  # pylint: disable=too-many-arguments
        self,
        background_tasks: BackgroundTasks,
        request: Request,
        sender_mailbox: Mailbox,
        message_id: str,
        chunk_number: int,
        mex_chunk_range: str,
        content_encoding: str,
        accepts_api_version: int = 1,
    ):
        unrouted = _UNROUTED_CHUNKED.get(message_id)
        if not unrouted:
            return await super().send_chunk(
                background_tasks=background_tasks,
                request=request,
                sender_mailbox=sender_mailbox,
                message_id=message_id,
                chunk_number=chunk_number,
                mex_chunk_range=mex_chunk_range,
                content_encoding=content_encoding,
                accepts_api_version=accepts_api_version,
            )

        sender, total_chunks, first_encoding = unrouted
        error, _, _ = get_chunk_range((mex_chunk_range or "").strip(), chunk_number)
        if not (mex_chunk_range or "").strip() or error:
            raise MessagingException(
                status_code=http_status.HTTP_417_EXPECTATION_FAILED,
                detail=constants.ERROR_INVALID_HEADER_CHUNKS,
                message_id=message_id,
            )
        if sender_mailbox.mailbox_id != sender:
            raise HTTPException(status_code=http_status.HTTP_403_FORBIDDEN)
        if chunk_number > total_chunks:
            raise MessagingException(status_code=http_status.HTTP_406_NOT_ACCEPTABLE, message_id=message_id)
        if (content_encoding or "").strip() != first_encoding:
            raise MessagingException(
                status_code=http_status.HTTP_417_EXPECTATION_FAILED,
                detail=constants.ERROR_CONTENT_ENCODING_CHANGED,
                message_id=message_id,
            )
        async for _ in request.stream():  # read and drop the chunk
            pass
        if accepts_api_version < 2:
            return UploadChunkV1(messageID=message_id, blockID=chunk_number)
        return None


app.dependency_overrides[get_messaging] = get_config_messaging
app.dependency_overrides[OutboxHandler] = GpProviderOutboxHandler
