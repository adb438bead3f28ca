"""Language check on short support text: tuneloop's stopword-ratio detector vs langdetect (seeded).

    PYTHONPATH=src python benchmarks/lang_bench.py

English: customer messages and agent replies of the synthetic example corpus (example_corpus, seed 7)
plus very short English messages. Other languages: short support messages written for this benchmark
(German, French, Spanish, Italian, Portuguese, Dutch, and non-Latin scripts). Prints accuracy on each
side ("is it English?") and time per text. langdetect is only measured if installed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

SHORT_ENGLISH = [
    "my bulb wont connect to wifi",
    "refund please",
    "where is my order??",
    "app keeps crashing on login",
    "Thermo 2 shows E17 again",
    "cant log in",
    "Hub offline since yesterday",
    "double charged on my card",
    "how do I cancel Lumora Plus",
    "package says delivered but nothing here",
    "reset password link expired",
    "Glow strip flickers after update",
    "need an invoice for order LM-22817",
    "is the hub compatible with Alexa",
]
OTHER = {
    "de": [
        "Meine Glühbirne verbindet sich nicht mit dem WLAN, was kann ich tun?",
        "Ich wurde zweimal belastet, bitte um Rückerstattung.",
        "Wo ist meine Bestellung? Sie ist seit einer Woche unterwegs.",
        "Das Thermostat zeigt den Fehler E17 und startet immer wieder neu.",
        "Ich kann mich nicht anmelden, das Passwort funktioniert nicht.",
        "Bitte kündigen Sie mein Abo zum Monatsende.",
        "Die App stürzt ab, wenn ich die Heizung einstellen will.",
        "Hallo, wie lange dauert der Versand nach Österreich?",
    ],
    "fr": [
        "Mon ampoule ne se connecte pas au wifi, que faire ?",
        "J'ai été débité deux fois, merci de me rembourser.",
        "Où est ma commande ? Elle devait arriver hier.",
        "Le thermostat affiche l'erreur E17 et redémarre sans cesse.",
        "Je n'arrive pas à me connecter à mon compte.",
        "Bonjour, comment annuler mon abonnement Lumora Plus ?",
        "L'application plante quand j'ouvre les paramètres.",
        "Le colis est marqué livré mais je ne l'ai pas reçu.",
    ],
    "es": [
        "Mi bombilla no se conecta al wifi, ¿qué puedo hacer?",
        "Me cobraron dos veces, quiero un reembolso por favor.",
        "¿Dónde está mi pedido? Debía llegar ayer.",
        "El termostato muestra el error E17 y se reinicia.",
        "No puedo iniciar sesión en mi cuenta.",
        "Hola, ¿cómo cancelo mi suscripción?",
        "La aplicación se cierra cuando abro la configuración.",
        "El paquete dice entregado pero no lo tengo.",
    ],
    "it": [
        "La mia lampadina non si collega al wifi, cosa posso fare?",
        "Mi avete addebitato due volte, vorrei un rimborso.",
        "Dov'è il mio ordine? Doveva arrivare ieri.",
        "Il termostato mostra l'errore E17 e si riavvia di continuo.",
        "Non riesco ad accedere al mio account.",
        "Ciao, come posso annullare il mio abbonamento?",
        "L'app si chiude quando apro le impostazioni.",
        "Il pacco risulta consegnato ma non l'ho ricevuto.",
    ],
    "pt": [
        "Minha lâmpada não conecta ao wifi, o que eu faço?",
        "Fui cobrado duas vezes, quero o reembolso por favor.",
        "Cadê o meu pedido? Era para chegar ontem.",
        "O termostato mostra o erro E17 e reinicia sem parar.",
        "Não consigo entrar na minha conta.",
        "Olá, como cancelo a minha assinatura?",
        "O aplicativo fecha quando abro as configurações.",
        "O pacote diz entregue mas não recebi nada.",
    ],
    "nl": [
        "Mijn lamp maakt geen verbinding met de wifi, wat moet ik doen?",
        "Ik ben twee keer belast, graag een terugbetaling.",
        "Waar is mijn bestelling? Die zou gisteren komen.",
        "De thermostaat geeft fout E17 en start steeds opnieuw op.",
        "Ik kan niet inloggen op mijn account.",
        "Hallo, hoe zeg ik mijn abonnement op?",
        "De app crasht als ik de instellingen open.",
        "Het pakket staat op bezorgd maar ik heb niets ontvangen.",
    ],
    "other-script": [
        "Моя лампочка не подключается к Wi-Fi, что делать?",
        "注文した商品がまだ届いていません。",
        "我的恒温器显示错误E17，一直重启。",
        "لا أستطيع تسجيل الدخول إلى حسابي",
    ],
}


def english_texts() -> list[str]:
    import json

    from tuneloop.data import example as example_corpus

    with tempfile.TemporaryDirectory() as tmp:
        example_corpus.generate(Path(tmp), n_tickets=200, seed=7)
        rows = []
        for line in (Path(tmp) / "tickets.jsonl").read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    texts = [r.get(f) for r in rows for f in ("customer_message", "agent_reply")]
    return [t for t in texts if isinstance(t, str) and len(t.split()) >= 3] + SHORT_ENGLISH


def evaluate(name: str, is_english) -> dict:
    english = english_texts()
    other = [t for texts in OTHER.values() for t in texts]
    start = time.perf_counter()
    en_ok = sum(is_english(t) is True for t in english)
    other_ok = sum(is_english(t) is False for t in other)
    short_ok = sum(is_english(t) is True for t in SHORT_ENGLISH)
    seconds = time.perf_counter() - start
    n = len(english) + len(other)
    row = {
        "detector": name,
        "english_recall": round(en_ok / len(english), 3),
        "short_english_recall": round(short_ok / len(SHORT_ENGLISH), 3),
        "other_rejected": round(other_ok / len(other), 3),
        "ms_per_text": round(1000 * seconds / (n + len(SHORT_ENGLISH)), 3),
        "texts": n,
    }
    print(row)
    return row


def main() -> None:
    from tuneloop.data.quality import detect_language

    # undecided (None) counts as "not rejected": quality only lowers the score for it
    evaluate("stopwords", lambda t: detect_language(t)[0] in ("en", None))
    english = english_texts()
    undecided = sum(detect_language(t)[0] is None for t in english)
    print(
        {
            "detector": "stopwords",
            "english_undecided": round(undecided / len(english), 3),
            "short_english_undecided": round(
                sum(detect_language(t)[0] is None for t in SHORT_ENGLISH) / len(SHORT_ENGLISH), 3
            ),
        }
    )
    try:
        from langdetect import DetectorFactory, detect
        from langdetect.lang_detect_exception import LangDetectException
    except ImportError:
        print("langdetect not installed: skipped")
        return
    DetectorFactory.seed = 0

    def langdetect_is_english(text: str) -> bool:
        try:
            return detect(text) == "en"
        except LangDetectException:
            return True

    evaluate("langdetect", langdetect_is_english)


if __name__ == "__main__":
    main()
