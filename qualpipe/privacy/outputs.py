"""Pseudonymised views of stored documents for digests and exports: the default for every output."""

from __future__ import annotations

import json
from pathlib import Path

from qualpipe.privacy.pseudonymise import Pseudonymised, Pseudonymiser, key_lock


class CasePseudonyms:
    """Pseudonymises each case's current documents in date order, so a person gets the same pseudonym
    in every document of the case and in every output, run after run.

    The case's pseudonyms live in the project's key file (`[privacy] key`, 0600, outside the project for
    projects made by `qualpipe init`), never in the store: the store holds the text and, for browsing,
    its pseudonymised form (`documents_pseudonymised`), but not what turns one into the other. A later
    output processes only documents added since, and a document added later but dated earlier does not
    renumber the people already shown in earlier outputs. The key is read and extended under a lock, so
    two commands at once do not lose each other's pseudonyms."""

    def __init__(self, store, key_path: Path, pseudonymiser: Pseudonymiser,
                 documents: dict[int, Pseudonymised] | None = None):
        self.store = store
        self.key_path = Path(key_path)
        self.pseudonymiser = pseudonymiser
        # `documents`: pseudonymised documents shared between instances (a server's requests); a document's
        # text never changes under its id (a changed entry is a new version), and pseudonyms are kept for good
        self._documents: dict[int, Pseudonymised] = documents if documents is not None else {}
        self._cases: set[str] = set()

    def document(self, document_id: int) -> Pseudonymised:
        if document_id not in self._documents:
            row = self.store.query("SELECT case_id FROM documents WHERE id = ?", (document_id,))
            case_id = row[0]["case_id"] if row else None
            if case_id is not None:
                self.warm([case_id])
            if document_id not in self._documents:
                scope = f"case:{case_id}" if case_id is not None else f"document:{document_id}"
                text = self.store.document_text(document_id)
                self._documents[document_id] = self.pseudonymiser.pseudonymise(text, scope)
        return self._documents[document_id]

    def warm(self, case_ids) -> None:
        """Pseudonymise these cases' documents not done before; extend the key file with their pseudonyms
        and the store with their pseudonymised text (one write each for all the cases)."""
        cases = [c for c in dict.fromkeys(case_ids) if c is not None and c not in self._cases]
        if not cases:
            return
        path = self.key_path
        with key_lock(path):
            saved = Pseudonymiser.from_key(path)
            self.pseudonymiser.key.update(saved.key)
            self.pseudonymiser.originals.update(saved.originals)
            self.pseudonymiser.documents.update(saved.documents)
            fresh = [item for case_id in cases for item in self._warm(case_id)]
            if fresh:
                self.pseudonymiser.write_key(path)
        if fresh:
            with self.store.transaction() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO pseudonymised_documents (document_id, text) VALUES (?, ?)", fresh
                )

    def _warm(self, case_id: str) -> list[tuple[int, str]]:
        """The case's new documents pseudonymised (their ids and texts)."""
        self._cases.add(case_id)
        scope = f"case:{case_id}"
        done = set(self.pseudonymiser.documents.get(scope, []))
        fresh = [
            r["id"]
            for r in self.store.query(
                "SELECT id FROM documents WHERE case_id = ? AND superseded_at IS NULL ORDER BY date, id", (case_id,)
            )
            if r["id"] not in done
        ]
        for document_id in fresh:
            self._documents[document_id] = self.pseudonymiser.pseudonymise(self.store.document_text(document_id), scope)
        if fresh:
            self.pseudonymiser.documents[scope] = sorted(done | set(fresh))
        return [(d, self._documents[d].text) for d in fresh]

    def span(self, document_id: int, start: int, end: int) -> tuple[str, int, int]:
        """The pseudonymised document text and where original[start:end] now lies in it."""
        result = self.document(document_id)
        new_start, new_end = result.mapping.from_original(start, end)
        return result.text, new_start, new_end

    def segment(self, segment):
        """A stored segment (records.Segment) with its text and speaker pseudonymised."""
        from dataclasses import replace

        speaker = (
            self.pseudonymiser.pseudonymise(segment.speaker, f"case:{segment.case_id}").text
            if segment.speaker
            else None
        )
        return replace(segment, text=self.span_text(segment.document_id, segment.start, segment.end), speaker=speaker)

    def span_text(self, document_id: int, start: int, end: int) -> str:
        """The pseudonymised text of original[start:end] (a segment, a quote, a flag's evidence)."""
        text, new_start, new_end = self.span(document_id, start, end)
        return text[new_start:new_end]


def move_key_out_of_store(store, key_path) -> int:
    """Stores made before the key moved out kept case pseudonyms in a table beside the text: move them
    into the key file (merged with what it holds) and drop the table. Returns how many cases moved."""
    if not store.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'case_pseudonyms'"):
        return 0
    rows = store.query("SELECT case_id, labels, originals, documents FROM case_pseudonyms")
    with key_lock(key_path):
        key = Pseudonymiser.from_key(key_path)
        for row in rows:
            scope = f"case:{row['case_id']}"
            key.key.setdefault(scope, json.loads(row["labels"]))
            key.originals.setdefault(scope, json.loads(row["originals"]))
            key.documents.setdefault(scope, json.loads(row["documents"]))
        if rows:
            key.write_key(key_path)
    with store.transaction() as conn:
        conn.execute("DROP TABLE case_pseudonyms")
    return len(rows)
