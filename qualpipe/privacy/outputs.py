"""Pseudonymised views of stored documents for digests and exports: the default for every output."""

from __future__ import annotations

import json

from qualpipe.privacy.pseudonymise import Pseudonymised, Pseudonymiser


class CasePseudonyms:
    """Pseudonymises each case's current documents in date order, so a person gets the same pseudonym
    in every document of the case and in every output, run after run.

    The case's pseudonyms are kept in the store (case_pseudonyms, beside the text they come from), so a
    later output processes only documents added since, and a document added later but dated earlier
    does not renumber the people already shown in earlier outputs."""

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
            if case_id is not None:
                self.warm([case_id])
            if document_id not in self._documents:
                scope = f"case:{case_id}" if case_id is not None else f"document:{document_id}"
                text = self.project.document_text(document_id)
                self._documents[document_id] = self.pseudonymiser.pseudonymise(text, scope)
        return self._documents[document_id]

    def warm(self, case_ids) -> None:
        """Pseudonymise these cases' documents not done before, and keep their pseudonyms in the store,
        all cases in one transaction (an output that shows many cases commits once)."""
        rows = [row for case_id in dict.fromkeys(case_ids) if case_id is not None and case_id not in self._cases
                for row in self._warm(case_id)]
        if rows:
            with self.project.store.transaction() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO case_pseudonyms (case_id, labels, originals, documents) VALUES (?,?,?,?)", rows)

    def _warm(self, case_id: str) -> list[tuple]:
        """The case's new documents pseudonymised; its case_pseudonyms row to store, if it changed."""
        self._cases.add(case_id)
        scope = f"case:{case_id}"
        store = self.project.store
        saved = store.query("SELECT labels, originals, documents FROM case_pseudonyms WHERE case_id = ?", (case_id,))
        done: set[int] = set()
        if saved:
            self.pseudonymiser.key[scope] = json.loads(saved[0]["labels"])
            self.pseudonymiser.originals[scope] = json.loads(saved[0]["originals"])
            done = set(json.loads(saved[0]["documents"]))
        fresh = [r["id"] for r in store.query(
            "SELECT id FROM documents WHERE case_id = ? AND superseded_at IS NULL ORDER BY date, id", (case_id,))
            if r["id"] not in done]
        for document_id in fresh:
            self._documents[document_id] = self.pseudonymiser.pseudonymise(self.project.document_text(document_id), scope)
        if saved and not fresh:
            return []
        return [(case_id, json.dumps(self.pseudonymiser.key.get(scope, {}), ensure_ascii=False),
                 json.dumps(self.pseudonymiser.originals.get(scope, {}), ensure_ascii=False),
                 json.dumps(sorted(done | set(fresh))))]

    def span(self, document_id: int, start: int, end: int) -> tuple[str, int, int]:
        """The pseudonymised document text and where original[start:end] now lies in it."""
        result = self.document(document_id)
        new_start, new_end = result.mapping.from_original(start, end)
        return result.text, new_start, new_end

    def span_text(self, document_id: int, start: int, end: int) -> str:
        """The pseudonymised text of original[start:end] (a segment, a quote, a flag's evidence)."""
        text, new_start, new_end = self.span(document_id, start, end)
        return text[new_start:new_end]
