"""Pseudonymised views of stored documents for digests and exports: the default for every output."""

from __future__ import annotations

from qualpipe.privacy.pseudonymise import Pseudonymised, Pseudonymiser


class CasePseudonyms:
    """Pseudonymises each case's current documents in date order, so a person gets the same pseudonym
    in every document of the case and in every output, run after run, without storing a key."""

    def __init__(self, project, pseudonymiser: Pseudonymiser | None = None):
        self.project = project
        self.pseudonymiser = pseudonymiser or Pseudonymiser(style=project.config.pseudonym_style,
                                                           institutions=project.config.institutions,
                                                           ner_pipeline=project.config.ner_pipeline)
        self._documents: dict[int, Pseudonymised] = {}
        self._cases: set[str] = set()

    def document(self, document_id: int) -> Pseudonymised:
        if document_id not in self._documents:
            row = self.project.store.query("SELECT case_id FROM documents WHERE id = ?", (document_id,))
            case_id = row[0]["case_id"] if row else None
            if case_id is not None and case_id not in self._cases:
                self._warm(case_id)
            if document_id not in self._documents:
                text = self.project.document_text(document_id)
                self._documents[document_id] = self.pseudonymiser.pseudonymise(text, f"document:{document_id}")
        return self._documents[document_id]

    def _warm(self, case_id: str) -> None:
        self._cases.add(case_id)
        for row in self.project.store.query(
                "SELECT id, text FROM documents WHERE case_id = ? AND superseded_at IS NULL ORDER BY date, id", (case_id,)):
            self._documents[row["id"]] = self.pseudonymiser.pseudonymise(row["text"], f"case:{case_id}")

    def span(self, document_id: int, start: int, end: int) -> tuple[str, int, int]:
        """The pseudonymised document text and where original[start:end] now lies in it."""
        result = self.document(document_id)
        new_start, new_end = result.mapping.from_original(start, end)
        return result.text, new_start, new_end

    def span_text(self, document_id: int, start: int, end: int) -> str:
        """The pseudonymised text of original[start:end] (a segment, a quote, a flag's evidence)."""
        text, new_start, new_end = self.span(document_id, start, end)
        return text[new_start:new_end]
