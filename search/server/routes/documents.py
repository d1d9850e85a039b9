"""Documents: read one (or a span of it), and with the write token add, replace and remove them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from ...errors import InvalidInput
from ...retrieval.live import LiveIndex
from ..deps import EngineDep, SettingsDep, require_token
from ..schemas import AddRequest, ChangeResponse, DocumentResponse

router = APIRouter(tags=["documents"])


@router.get("/documents/{doc_id:path}", response_model=DocumentResponse)
def get_document(
    engine: EngineDep,
    doc_id: str,
    start: Annotated[int | None, Query(ge=0)] = None,
    end: Annotated[int | None, Query(ge=0)] = None,
) -> DocumentResponse:
    """A stored document; with ``start``/``end`` also that span of its text."""
    doc = engine.document(doc_id)
    out = DocumentResponse(
        doc_id=doc.doc_id,
        title=doc.title,
        date=doc.date,
        source=doc.source,
        hash=doc.hash,
        metadata=doc.metadata,
        text=doc.text,
    )
    if start is not None or end is not None:
        s = 0 if start is None else start
        e = len(doc.text) if end is None else end
        if not s <= e <= len(doc.text):
            raise InvalidInput(f"span {s}-{e} is outside the document (0-{len(doc.text)})")
        out.start, out.end, out.span = s, e, doc.text[s:e]
    return out


def changed(request: Request, report) -> ChangeResponse:
    holder: LiveIndex = request.app.state.holder
    holder.reload()
    return ChangeResponse(
        generation=holder.engine.store.version,
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        removed=report.removed,
        missing=report.missing,
        passages=report.passages,
        seconds=round(report.seconds, 3),
    )


@router.post("/documents", response_model=ChangeResponse, dependencies=[Depends(require_token)])
def add_docs(request: Request, engine: EngineDep, settings: SettingsDep, body: AddRequest) -> ChangeResponse:
    """Add documents or replace changed ones, then serve the new index generation (needs the token)."""
    from ...documents import Document, clean_text
    from ...indexing import add_documents

    if len(body.documents) > settings.max_add_documents:
        raise InvalidInput(f"{len(body.documents)} documents; the limit is {settings.max_add_documents}")
    docs = [
        Document(
            doc_id=clean_text(d.doc_id),
            text=clean_text(d.text),
            title=clean_text(d.title),
            date=d.date,
            source=d.source,
            metadata=d.metadata,
        )
        for d in body.documents
    ]
    return changed(request, add_documents(docs, request.app.state.index, model=engine.embedder))


@router.delete("/documents/{doc_id:path}", response_model=ChangeResponse, dependencies=[Depends(require_token)])
def remove_doc(request: Request, doc_id: str) -> ChangeResponse:
    """Remove a document from the index (needs the token)."""
    from ...indexing import remove

    return changed(request, remove([doc_id], request.app.state.index))
