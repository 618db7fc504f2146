"""Language of a segment (lingua), falling back to its document's language for short text."""

from __future__ import annotations

from typing import Sequence

from qualpipe import preload

# Below this many words a guess is no better than the document's own language.
MIN_WORDS = 4
# A segment leaves its document's language only when that language is clearly less likely:
# Danish, Norwegian and Swedish share most short everyday sentences.
STICKY_RATIO = 0.5


def _detector(codes: tuple[str, ...]):
    return _detectors.get(codes)


def start_loading(codes: tuple[str, ...]) -> None:
    """Start building the detector for `codes` in the background (lingua releases the GIL while it loads)."""
    _detectors.start(codes)


def _build_detector(codes: tuple[str, ...]):
    """Models preloaded: lingua then loads the languages in parallel (0.9 s for our five languages on
    this project's machine, against 1.5 s when the first texts load them one by one), and any
    ingest of real text needs them all."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    isos = [getattr(IsoCode639_1, code.upper()) for code in codes]
    return (LanguageDetectorBuilder.from_iso_codes_639_1(*isos).with_minimum_relative_distance(0.05)
            .with_preloaded_language_models().build())


_detectors = preload.Loader("lingua", _build_detector)


def detect_language(text: str, codes: tuple[str, ...], fallback: str | None = None) -> str | None:
    """ISO 639-1 code of `text`, or `fallback` when the text is too short or unclear."""
    if len(text.split()) < MIN_WORDS:
        return fallback
    detector = _detector(codes)
    if fallback is None:
        language = detector.detect_language_of(text)
        return language.iso_code_639_1.name.lower() if language is not None else None
    return _sticky(detector.compute_language_confidence_values(text), fallback)


def detect_languages(texts: Sequence[str], codes: tuple[str, ...], fallbacks: Sequence[str]) -> list[str]:
    """`detect_language(text, codes, fallback)` for many texts, each with its own fallback; lingua
    scores the texts in parallel (about twice as fast on two cores), with the same confidences."""
    chosen = list(fallbacks)
    scored = [i for i, text in enumerate(texts) if len(text.split()) >= MIN_WORDS]
    if scored:
        confidences = _detector(codes).compute_language_confidence_values_in_parallel([texts[i] for i in scored])
        for i, values in zip(scored, confidences):
            chosen[i] = _sticky(values, fallbacks[i])
    return chosen


def _sticky(confidences, fallback: str) -> str:
    """The most likely language, unless `fallback` is nearly as likely (STICKY_RATIO)."""
    if not confidences:
        return fallback
    best = confidences[0]
    code = best.language.iso_code_639_1.name.lower()
    if code == fallback:
        return code
    fallback_value = next((c.value for c in confidences if c.language.iso_code_639_1.name.lower() == fallback), 0.0)
    return fallback if fallback_value >= STICKY_RATIO * best.value else code
