"""The {slot} values of one ticket: which product, order, phone, router, agent... it talks about.

All of a ticket's texts are filled from the same slots, so a ticket stays consistent (one product, one order
number) from subject to agent reply. The draws from rng are part of the corpus: keep their order.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

from tuneloop.data.example.content import facts, people, vocab


def weighted(rng: random.Random, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


def with_article(noun: str) -> str:
    """Noun with its indefinite article: an iPhone 15, an eero Pro 6, a Pixel 8, a OnePlus 11."""
    return ("an " if re.match(r"[aeioAEIO](?!ne)", noun) else "a ") + noun


def fill(template: str, slots: dict) -> str:
    return template.format_map(slots)


def _tracking_number(rng: random.Random, carrier: str) -> str:
    if carrier == "UPS":
        tracking = "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKRWXY") for _ in range(8))
        return tracking + f"{rng.randrange(10**8):08d}"
    return "9400" + "".join(str(rng.randrange(10)) for _ in range(18))


def make_slots(rng: random.Random, created: datetime) -> dict:
    """All slot values one ticket may use, plus every company fact (facts.yaml) under its own name."""
    words, names, company = vocab(), people(), facts()
    name, noun, price = weighted(rng, words.products, words.product_weights)
    phone_model, os_name = rng.choice(words.phones)
    gateway, gateway_isp = rng.choice(words.gateways)
    android_model = rng.choice([model for model, os_ in words.phones if os_.startswith("Android")])
    router, old_brand, store = rng.choice(words.routers), rng.choice(words.old_brands), rng.choice(words.stores)
    order_digits = rng.randint(10000, 99999)
    plan = weighted(rng, ("monthly", "annual"), (65, 35))
    carrier = rng.choice(words.carriers)
    tracking = _tracking_number(rng, carrier)
    promo, pct = rng.choice(words.promos)
    past = created - timedelta(days=rng.randint(3, 26))
    first = rng.choice(names.first_names)
    slots = dict(company)
    # Keyword arguments are evaluated left to right: their order below is the order of the draws.
    slots.update(
        product=name,
        product_short=name.removeprefix("Lumora "),
        device=noun,
        price=f"${price:,.2f}",
        discount=f"${price * rng.choice((0.1, 0.15, 0.2)):,.2f}",
        tax=f"${price * rng.uniform(0.05, 0.095):,.2f}",
        order_id=f"#LM-{order_digits}",
        order=weighted(rng, (f"#LM-{order_digits}", f"LM-{order_digits}", f"LM{order_digits}"), (7, 2, 1)),
        thermo=rng.choice(words.thermostats),
        bulb=rng.choice(words.bulbs),
        n_bulbs=rng.randint(2, 8),
        room=rng.choice(words.rooms),
        app_version=rng.choice(words.app_versions),
        phone_model=phone_model,
        os=os_name,
        router=router,
        isp=rng.choice(words.isps),
        gateway=gateway,
        gateway_isp=gateway_isp,
        hvac=rng.choice(words.hvacs),
        old_brand=old_brand,
        a_phone_model=with_article(phone_model),
        a_router=with_article(router),
        a_old_brand=with_article(old_brand),
        a_store=with_article(store),
        a_android_model=with_article(android_model),
        when=rng.choice(words.when),
        past_date=f"{past:%B} {past.day}",
        days=rng.randint(3, 12),
        weeks=rng.randint(2, 6),
        months=rng.randint(3, 20),
        times=rng.choice(words.times),
        plan=plan,
        plan_price=company["monthly_price"] if plan == "monthly" else company["annual_price"],
        last4=f"{rng.randrange(10000):04d}",
        carrier=carrier,
        tracking=tracking,
        hub_city=rng.choice(words.hub_cities),
        promo=promo,
        pct=pct,
        year=rng.randint(2019, 2024),
        store=store,
        temp=rng.randint(64, 76),
        feet=rng.randint(15, 70),
        city=rng.choice(names.cities)[0],
        error_app=rng.choice(words.app_errors),
        n_automations=rng.randint(12, 30),
        trial_length_short=company["trial_length"].split("-")[0],
        cust_first=first,
        agent=rng.choice(words.agents),
    )
    return slots
