"""Read one uploaded file from a multipart request: capped, in memory, never spooled to a temp file.

Starlette's default form parsing spools files over 1 MiB to the system temp folder, which
is outside the working folder; this parser keeps the (capped) upload in memory and stops
reading the request as soon as it passes the cap, so nothing is written anywhere until the
upload has been accepted and saved inside the working folder.
"""
from __future__ import annotations

from typing import AsyncGenerator

from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from attnscope.errors import RecordError
from attnscope.serve.files import UploadTooLargeError, Workdir

#: room for the multipart boundaries, part headers and small form fields
OVERHEAD_BYTES = 64 * 1024


async def read_upload(request: Request, wd: Workdir, *, field: str = "file") -> tuple[str, bytes, dict[str, str]]:
    """(file name, content, other form fields) of a multipart upload.

    Raises
    ------
    UploadTooLargeError
        Declared or actual size above ``wd.max_upload_bytes`` (checked before and while reading).
    RecordError
        Not a multipart form, or no file in ``field``.
    """
    cap = wd.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap + OVERHEAD_BYTES:
        wd.check_size(int(declared) - OVERHEAD_BYTES, "upload")
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise RecordError("send the file as multipart/form-data (form field 'file')", field="upload", value=ctype)

    async def capped() -> AsyncGenerator[bytes, None]:
        n = 0
        async for chunk in request.stream():
            n += len(chunk)
            if n > cap + OVERHEAD_BYTES:
                raise UploadTooLargeError(f"upload too large: more than the {cap / 2**20:g} MiB cap",
                                          field="upload", value="upload")
            yield chunk

    class _InMemory(MultiPartParser):
        spool_max_size = cap + OVERHEAD_BYTES + 1  # never roll over to a temp file

    try:
        form = await _InMemory(request.headers, capped(), max_files=1, max_fields=20).parse()
    except MultiPartException as exc:
        raise RecordError(f"malformed multipart upload ({exc.message})", field="upload", value=None) from None
    try:
        up = form.get(field)
        if up is None or isinstance(up, str):
            raise RecordError("no file in the upload (form field 'file')", field="upload", value=None)
        data = await up.read()
        wd.check_size(len(data), up.filename or "upload")
        others = {k: v for k, v in form.items() if isinstance(v, str)}
        return up.filename or "upload", data, others
    finally:
        await form.close()
