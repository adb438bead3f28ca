"""Deterministic synthetic support corpus for Lumora, a fictional smart-home company.

Lumora sells the Thermo 2 and Thermo Mini smart thermostats, Glow smart bulbs and light strips, a Room
Sensor and the Lumora Hub, all run from the Lumora Home app, plus a paid "Lumora Plus" subscription.
This module writes what a helpdesk export and a small knowledge base of such a company look like, so
the whole pipeline can run end to end without any real customer data:

    PYTHONPATH=src python -m tuneloop.example_corpus --out data/raw
    PYTHONPATH=src python -m tuneloop.example_corpus --out /tmp/corpus --n-tickets 80 --seed 7

Output (byte-identical for the same n_tickets and seed, stdlib only, no network):

    out/tickets.jsonl   one ticket per line: ticket_id, created_at, channel, subject, customer_message,
                        agent_reply, category, priority, status, satisfaction
    out/kb/*.md         13 knowledge-base articles; the policy facts they state (return window, refund
                        timing, prices, error codes...) are the ones agents quote in their replies

Like a real export, the ticket file has data-quality problems planted on purpose, and the summary that
`generate` returns counts each of them:

    exact_duplicates   same ticket submitted twice (identical content, new ticket_id and created_at)
    near_duplicates    the same message resubmitted with a small edit (greeting, an extra word, punctuation)
    with_pii           tickets whose customer message holds an email, phone, card number, address or full
                       name (about 15%), including the three CANARIES, each planted at least once
    unusable           valid JSON lines that cannot be used: empty or emoji-only message, null agent_reply,
                       a category outside CATEGORIES, or no category key at all
    malformed_lines    exactly one line cut off mid-write (not valid JSON), in the middle of the file

`per_category` counts the well-formed lines whose category is one of CATEGORIES (duplicates included).
n_tickets is the number of lines in tickets.jsonl, problems included.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

__all__ = ["CATEGORIES", "PRIORITIES", "CANARIES", "generate", "main"]

CATEGORIES: tuple[str, ...] = (
    "billing", "account_access", "shipping_delivery", "returns_refunds",
    "device_setup", "connectivity", "app_bug", "subscription",
)
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
CANARY_EMAIL, CANARY_PHONE, CANARY_CARD = "canary.k7q2@lumora-canary.test", "+1 415-555-0199", "4111 1111 1111 1111"
CANARIES: tuple[str, ...] = (CANARY_EMAIL, CANARY_PHONE, CANARY_CARD)

# ---------------------------------------------------------------------------------------------------
# Company facts: the single source for every policy number quoted by agents and by the KB articles.
# ---------------------------------------------------------------------------------------------------

FACTS = {
    "descriptor": "LUMORA*HOME",
    "support_hours": "7 AM to 9 PM ET, seven days a week",
    "returns_url": "lumora.com/returns",
    "status_page": "status.lumora.com",
    # returns, refunds, warranty
    "return_window": "30 days",
    "refund_time": "5-7 business days",
    "return_fee": "$7.95",
    "label_time": "1 business day",
    "warranty": "2-year limited warranty",
    "plus_warranty": "3 years",
    "replacement_return_window": "14 days",
    # shipping
    "free_ship_threshold": "$50",
    "standard_fee": "$5.95",
    "standard_time": "3-5 business days",
    "express_fee": "$12.95",
    "express_time": "1-2 business days",
    "ship_cutoff": "2 PM ET",
    "tracking_lag": "24 hours",
    "lost_threshold": "5 business days",
    "canada_time": "5-8 business days",
    # billing
    "pending_release": "3-5 business days",
    "price_adjust_window": "14 days",
    "invoice_edit_window": "90 days",
    "payment_retry": "7 days",
    # account
    "reset_link_valid": "60 minutes",
    "lockout_attempts": "5",
    "lockout_duration": "30 minutes",
    "backup_codes": "10",
    "sms_code_valid": "10 minutes",
    "deletion_days": "30 days",
    "max_members": "6",
    # Lumora Plus
    "monthly_price": "$4.99",
    "annual_price": "$49.99",
    "trial_length": "14-day",
    "trial_reminder": "3 days",
    "annual_refund_window": "14 days",
    "free_automations": "10",
    "free_history": "7 days",
    "plus_history": "12 months",
    "plus_homes": "3",
    # devices
    "pair_hold": "10 seconds",
    "bulb_reset": "five times",
    "bluetooth_bulb_limit": "10",
    "adapter_price": "$19.99",
    "wifi_band": "2.4 GHz",
}

# (name, casual noun, price in USD)
PRODUCTS = (
    ("Lumora Thermo 2", "thermostat", 179.00),
    ("Lumora Thermo Mini", "thermostat", 119.00),
    ("Lumora Glow A19 bulb", "bulb", 24.99),
    ("Lumora Glow BR30 bulb", "bulb", 29.99),
    ("Lumora Glow A19 4-pack", "pack of bulbs", 89.99),
    ("Lumora Glow Strip", "light strip", 49.99),
    ("Lumora Hub", "hub", 69.00),
    ("Lumora Room Sensor", "sensor", 39.00),
    ("Lumora Starter Kit", "starter kit", 249.00),
)
PRODUCT_WEIGHTS = (22, 12, 12, 5, 10, 8, 12, 6, 13)
THERMOSTATS = ("Thermo 2", "Thermo 2", "Thermo 2", "Thermo Mini")
BULBS = ("Glow A19", "Glow A19", "Glow BR30", "Glow Strip")
PROMOS = (("WELCOME10", 10), ("SPRING15", 15), ("GLOW20", 20), ("COZY15", 15), ("NEWHOME10", 10))
PHONES = (("iPhone 15", "iOS 18.1"), ("iPhone 13", "iOS 17.6"), ("iPhone 12 mini", "iOS 17.5"),
          ("iPhone 15 Pro", "iOS 18.0"), ("iPad Air", "iPadOS 17.6"), ("Pixel 8", "Android 15"),
          ("Pixel 6a", "Android 14"), ("Galaxy S23", "Android 14"), ("Galaxy A54", "Android 13"),
          ("OnePlus 11", "Android 14"), ("Moto G Power", "Android 13"))
APP_VERSIONS = ("4.9.2", "4.10.0", "4.10.1", "4.11.0", "4.11.2", "4.12.0", "4.12.1")
ROUTERS = ("Netgear Nighthawk R7000", "TP-Link Archer AX55", "eero Pro 6", "Google Nest Wifi", "Orbi RBR750",
           "ASUS RT-AX86U", "Linksys Velop", "TP-Link Deco X20", "Ubiquiti UniFi Dream Router")
ISPS = ("Xfinity", "Spectrum", "AT&T Fiber", "Verizon Fios", "Cox", "Frontier", "Google Fiber")
GATEWAYS = (("Xfinity xFi gateway", "Xfinity"), ("AT&T BGW320", "AT&T"), ("Spectrum Wave 2 router", "Spectrum"),
            ("Verizon Fios router", "Verizon"), ("Cox Panoramic gateway", "Cox"))
HVACS = ("gas furnace", "heat pump", "boiler", "furnace with central AC", "dual-fuel heat pump", "heat pump with aux heat")
OLD_BRANDS = ("Nest", "ecobee", "Honeywell", "Emerson Sensi", "Honeywell dial", "White-Rodgers")
ROOMS = ("living room", "bedroom", "kitchen", "hallway", "office", "nursery", "basement", "guest room")
STORES = ("Best Buy", "Amazon", "Home Depot", "Costco", "Target", "Lowe's")
CARRIERS = ("UPS", "USPS")
HUB_CITIES = ("Louisville, KY", "Memphis, TN", "Ontario, CA", "Hodgkins, IL", "Jacksonville, FL", "Dallas, TX")
APP_ERRORS = ("SYNC-503", "SYNC-408", "HOME-404", "NET-1002", "AUTH-401")
WHEN = ("yesterday", "this morning", "last night", "two days ago", "on Monday", "over the weekend",
        "last week", "earlier today", "on Friday")
TIMES = ("three", "four", "five", "like six", "several", "a dozen")
AGENTS = ("Priya", "Marcus", "Elena", "Tomás", "Aisha", "Jordan", "Wei", "Hannah", "Diego", "Noor", "Sam",
          "Kateryna", "Luis", "Grace")
FIRST_NAMES = ("Dana", "Michael", "Jessica", "Rahul", "Maria", "Tom", "Linda", "Kevin", "Aaliyah", "Chris",
               "Nguyen", "Sarah", "David", "Fatima", "Brian", "Emily", "Jorge", "Megan", "Ahmed", "Rachel",
               "Greg", "Sofia", "Tyler", "Mei", "Patrick", "Olivia", "Daniel", "Keisha", "Robert", "Hana",
               "Steve", "Ana", "Jamal", "Laura", "Ben", "Priscilla", "Victor", "Chloe", "Andre", "Nina")
LAST_NAMES = ("Reyes", "Thompson", "Patel", "Kowalski", "Nguyen", "O'Brien", "Garcia", "Johnson", "Kim",
              "Schneider", "Okafor", "Martinez", "Williams", "Haddad", "Rossi", "Chen", "Fischer", "Brooks",
              "Alvarez", "Murphy", "Singh", "Novak", "Bennett", "Hughes", "Yamamoto", "Castillo", "Ward")
EMAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com",
                 "comcast.net", "protonmail.com", "aol.com")
AREA_CODES = ("212", "312", "415", "503", "512", "602", "614", "617", "646", "678", "702", "713", "720", "773",
              "818", "904", "919", "206", "305", "404")
STREETS = ("Maple", "Oak", "Cedar", "Pine", "Elm", "Washington", "Lakeview", "Sunset", "Highland", "Willow",
           "Park", "Hillcrest", "Madison", "Jefferson", "River")
STREET_SUFFIXES = ("St", "Ave", "Dr", "Ln", "Rd", "Ct", "Blvd", "Way")
CITIES = (("Portland", "OR", "97"), ("Austin", "TX", "78"), ("Columbus", "OH", "43"), ("Denver", "CO", "80"),
          ("Raleigh", "NC", "27"), ("Madison", "WI", "53"), ("Tampa", "FL", "33"), ("Sacramento", "CA", "95"),
          ("Boise", "ID", "83"), ("Pittsburgh", "PA", "15"), ("Minneapolis", "MN", "55"), ("Atlanta", "GA", "30"))

# ---------------------------------------------------------------------------------------------------
# Ticket templates. Each category has 10 situations; each situation lists subjects, message bodies
# (1-2 sentences), optional situation-specific asks, agent reply cores (1-3 sentences) and optional
# follow-ups. {slots} are filled per ticket from _make_slots() and FACTS.
# ---------------------------------------------------------------------------------------------------

PRIORITY_WEIGHTS = {
    "low": (6, 4, 1, 0),
    "normal": (2, 7, 2, 0),
    "high": (0, 3, 6, 2),
    "urgent": (0, 1, 4, 6),
}


def _sit(subjects, bodies, replies, asks=(), followups=(), priority="normal") -> dict:
    return {"subjects": subjects, "bodies": bodies, "replies": replies, "asks": asks,
            "followups": followups, "priority": priority}


SITUATIONS: dict[str, tuple[dict, ...]] = {
    "billing": (
        _sit(("Charged twice for order {order}", "Double charge on my card", "duplicate charge??",
              "Two charges of {price} for one order"),
             ("I placed order {order} for a {product} and my card was charged {price} twice.",
              "My bank statement shows two identical charges of {price} from {descriptor} {when}, but I only ordered one {device}.",
              "Just checked my credit card and you charged me twice for the same order ({order}). I only clicked Place Order once."),
             ("I checked order {order_id} and there is one completed charge of {price}; the second line is a pending authorization that was never captured. Your bank releases pending authorizations within {pending_release}, so it will drop off without any action from you.",
              "You're right, order {order_id} was captured twice after a payment retry on our side. I've refunded the duplicate {price} today, and it will reach your original payment method within {refund_time}."),
             asks=("Can you refund the extra charge?", "Please reverse the duplicate one.",
                   "Which one is the real charge and when does the other one go away?"),
             followups=("If the second charge is still there after {pending_release}, reply with a screenshot of the statement line (card number hidden) and I'll escalate it to our payments team.",),
             priority="high"),
        _sit(("What is this {descriptor} charge?", "Unknown charge on my statement", "Charge I don't recognize - {plan_price}"),
             ("There's a {plan_price} charge from {descriptor} on my statement and I don't remember buying anything from you recently.",
              "I see a {plan_price} charge labelled {descriptor} from {when}. I own a {thermo} but as far as I know I never signed up for anything paid.",
              "Can someone explain a {plan_price} charge from Lumora? My partner set up our thermostat so maybe it's related, but neither of us recognizes it."),
             ("Charges from us show up on statements as {descriptor}. This one is a Lumora Plus {plan} payment on the account linked to your email; Plus starts as a {trial_length} free trial in the Lumora Home app and renews automatically once the trial ends.",
              "I've looked up the account and the {plan_price} charge is for Lumora Plus ({plan}), which was started from the Lumora Home app after the thermostat was set up. If you'd rather not keep it, you can cancel under Account > Lumora Plus > Manage, and Plus stays active until the end of the period you've paid for."),
             asks=("What is it for?", "Can you tell me what this is and refund it if it's a mistake?",
                   "I'd like to know what I'm paying for."),
             followups=("Annual plans can be refunded in full within {annual_refund_window} of the charge, so if this was an annual payment just let me know and I'll process that for you.",)),
        _sit(("Card declined at checkout", "Payment keeps failing", "can't pay for my order"),
             ("I'm trying to buy a {product} but my card keeps getting declined at checkout. The same card works everywhere else.",
              "Checkout fails with 'Payment could not be processed' every time I try to order the {product}. I've tried two different cards already.",
              "Tried to check out {times} times now and it keeps saying the payment was declined. My bank says they don't see any attempts on their end."),
             ("Sorry about the trouble at checkout. Most declines happen when the billing ZIP code doesn't exactly match what your bank has on file, or when the bank's fraud screen stops an online purchase; we never see the card details ourselves.",
              "I checked our payment logs and the attempts were declined by the card issuer rather than by us. We also accept PayPal, Apple Pay, Visa, Mastercard, American Express and Discover, so another method should go through right away."),
             asks=("What am I doing wrong?", "Is something wrong with your payment system?", "How can I complete the order?"),
             followups=("Could you try once more with the billing address exactly as it appears on your statement, and let me know if it fails again?",
                        "If you'd like to keep using this card, a quick call to your bank usually clears the block within minutes.")),
        _sit(("Invoice for order {order}", "Need an itemized receipt", "Receipt for expense report"),
             ("Could you send me an itemized invoice for order {order}? I need it for an expense report at work.",
              "I need a proper invoice with the sales tax broken out for the {product} I bought on {past_date}. The order confirmation email isn't accepted by our accounting department.",
              "Where can I download receipts? I bought {n_bulbs} Glow bulbs for our office and need an invoice with the company name on it."),
             ("You can download an itemized invoice for any order under Account > Orders on lumora.com or in the Lumora Home app; open the order and choose Download invoice (PDF). Sales tax is shown on its own line.",
              "I've emailed an itemized PDF invoice for {order_id} to the address on the order. If you need a company name or tax ID added, reply with the exact details and I'll reissue it, since we can edit invoices within {invoice_edit_window} of purchase."),
             asks=("Is that possible?", "Where do I find it?"),
             priority="low"),
        _sit(("Price dropped right after I bought", "Price adjustment request", "{product_short} went on sale"),
             ("I bought a {product} on {past_date} and it went on sale a few days later. Is there any way to get the difference back?",
              "The {product} I ordered ({order}) is now {discount} cheaper on your site. Do you do price adjustments?",
              "Kind of annoyed, I paid full price for the {product_short} and now it's on sale. Can I get the difference refunded?"),
             ("We offer a one-time price adjustment when the price on lumora.com drops within {price_adjust_window} of purchase. Your order {order_id} qualifies, so I've refunded the {discount} difference to your original payment method and it should appear within {refund_time}.",
              "Unfortunately {order_id} was placed more than {price_adjust_window} before the price change, which is outside our price adjustment window. I know that's frustrating, and I've passed your feedback on to our pricing team."),
             priority="low"),
        _sit(("Promo code not working", "Code {promo} didn't apply", "discount code invalid?"),
             ("I tried to use code {promo} at checkout and it says the code is invalid. It came in your newsletter.",
              "The code {promo} is supposed to be {pct}% off but my total didn't change at all.",
              "Your email said {pct}% off with {promo} but checkout won't take it for the {product_short}."),
             ("Promo codes apply at checkout, one code per order, and {promo} excludes Lumora Plus and items that are already on sale, which is why the total didn't change. If your cart has a full-price device in it, the discount shows on the review page before you pay.",
              "I checked {promo} and it's active, but it can't be combined with another code or used on items already on sale or on Lumora Plus. Removing any other code from the cart should let it apply."),
             priority="low"),
        _sit(("Forgot to use my discount code", "Apply promo code after ordering?", "Missed the coupon on {order}"),
             ("I forgot to enter {promo} when I ordered the {product}. Can you still apply it to order {order}?",
              "Just placed an order and realized I had a {pct}% off code ({promo}) that I didn't use.",
              "Is it too late to use a discount code? My order {order} went through {when}."),
             ("Since your order was placed within the last {price_adjust_window}, I've applied {promo} after the fact and refunded the {pct}% discount to your original payment method. You'll see it within {refund_time}.",
              "We can apply a missed code within {price_adjust_window} of purchase, so I've added {promo} to {order_id} and refunded the difference. It goes back to your original payment method within {refund_time}."),
             priority="low"),
        _sit(("Why was I charged sales tax?", "Tax on order {order}", "Question about tax on my order"),
             ("I was charged {tax} in sales tax on order {order}. I thought online orders didn't have tax in my state?",
              "Why is there tax on my {product_short} order? The price on the product page was {price}.",
              "Quick question, the total for my {product} was more than the listed {price}. Is that tax or some kind of fee?"),
             ("We're required to collect sales tax based on the shipping address, and it's listed on a separate line at checkout and on your invoice. The amount on {order_id} matches the combined state and local rate for your ZIP code.",
              "Sales tax is calculated from the shipping address at checkout, which is why the total came out higher than the {price} list price; there are no other fees. You can see the breakdown on the invoice under Account > Orders."),
             priority="low"),
        _sit(("Payment failed email", "How do I update my card?", "card expired - update payment method"),
             ("I got an email saying my payment failed. My card ending in {last4} expired last month, how do I put in the new one?",
              "Need to update the card on my account, the old one was cancelled after a fraud alert. I don't want my Plus to stop working.",
              "Your system keeps trying to charge a card I no longer have (ending {last4}). Where do I change the payment method?"),
             ("You can update your card under Account > Payment methods on lumora.com or in the app; set the new card as default and we'll use it for the next charge. When a renewal fails we retry for {payment_retry}, and your Plus features stay active during that time.",
              "The failed payment was for your Lumora Plus renewal. Once you add the new card under Account > Payment methods, we'll retry the charge automatically within 24 hours and the reminder emails will stop.")),
        _sit(("Charged after I cancelled", "Still being billed for Plus??", "Charged {plan_price} after cancelling"),
             ("I cancelled Lumora Plus weeks ago and I was still charged {plan_price} {when}.",
              "Why am I still being billed? I turned off Plus in the app last month and now there's another {plan_price} from {descriptor} on my card.",
              "Got charged again for the subscription even though I cancelled it. I have the cancellation email."),
             ("I'm sorry for the confusion. The cancellation on your account didn't complete because the last confirmation step in the app wasn't tapped, so the plan renewed; I've now cancelled Plus and refunded the {plan_price}, which will reach your original payment method within {refund_time}.",
              "I can see the cancellation on your account, and the {plan_price} was charged by mistake after it took effect. I've refunded it in full, and you'll see it on your statement within {refund_time}."),
             asks=("I want this money back.", "Please refund it.", "Please fix this and refund me."),
             priority="high"),
        _sit(("Multiple charges for one order", "Charged in two parts?", "Why two charges for {order}"),
             ("I placed one order ({order}) but I see two separate charges on my card for different amounts.",
              "My order had a {product_short} and a few bulbs and I've been charged twice, a different amount each time. Is that right?",
              "There are two {descriptor} charges on my card from the same week and I only placed one order."),
             ("When items in one order ship separately, we charge each shipment as it leaves our warehouse, so {order_id} shows up as two charges. Together they add up exactly to your order total, and you won't be charged again.",
              "That's expected for a split shipment: part of {order_id} shipped first and the rest followed, and each part is charged when it ships. You can see the breakdown under Account > Orders.")),
    ),
    "account_access": (
        _sit(("Password reset email never arrives", "No reset email", "can't reset my password"),
             ("I've requested a password reset {times} times and the email never shows up. I checked spam too.",
              "Forgot my password and the reset link isn't arriving in my inbox.",
              "reset email not coming through, been trying for an hour"),
             ("Reset emails come from no-reply@lumora.com, usually within a couple of minutes, and each link is valid for {reset_link_valid}. I can see the last request went out, so please check any Promotions or Updates tabs and add that address to your contacts.",
              "I checked the account and the reset emails are going to a different address than the one you're writing from. For security I can't share it here, but if you no longer have access to that inbox I can verify your identity and update it."),
             asks=("Can you help me get back in?", "Is there another way to reset it?"),
             followups=("To verify the account, please reply with your most recent order number and the last 4 digits of the card used for it.",)),
        _sit(("Reset link expired", "Password reset link doesn't work", "link says expired"),
             ("Every time I click the password reset link it says the link has expired, even though I just got the email.",
              "The reset link takes me to a page that says 'This link is no longer valid'. I've tried it on my laptop and my phone."),
             ("Reset links are valid for {reset_link_valid} and only the most recent one works, so if you requested several, the older emails will show as expired. Please request one new link and use it right away.",
              "That message usually means an email security scanner opened the link before you did, which uses it up. Request a new link, then copy it into your browser rather than tapping it from a preview.")),
        _sit(("Account locked", "Locked out of my account", "Too many login attempts"),
             ("I tried to log in a few times with the wrong password and now it says my account is locked.",
              "App says 'Account temporarily locked'. I need to change the temperature and I can't get in.",
              "locked out after typing my password wrong, how long does this last"),
             ("For security, accounts lock for {lockout_duration} after {lockout_attempts} failed sign-in attempts. Your thermostat keeps following its schedule in the meantime, and after the lock clears you can use Forgot password to set a new one.",
              "I've cleared the temporary lock on your account, so you can sign in again now. If you're not sure of the password, use Forgot password on the sign-in screen rather than guessing, since {lockout_attempts} failed attempts trigger the lock again."),
             priority="normal"),
        _sit(("Lost phone, can't get 2FA code", "Two-factor code problem", "New phone, authenticator codes gone"),
             ("I got a new phone and my authenticator app didn't transfer, so I can't get the two-factor code for my Lumora account.",
              "I lost my phone and can't log in because it asks for a verification code. I never saved any backup codes.",
              "Switched phones and now I'm stuck at the 2FA screen."),
             ("When you turned on two-factor authentication we gave you {backup_codes} one-time backup codes; any of them works in place of the app code on the sign-in screen. If you don't have them, we can remove 2FA after verifying your identity.",
              "No problem, we can turn off two-factor authentication once we've confirmed the account is yours. After you sign in, set 2FA up again on the new phone under Account > Security and save the new backup codes somewhere safe."),
             followups=("Please reply with your most recent order number and the last 4 digits of the card used for it so I can verify the account.",),
             priority="high"),
        _sit(("Not receiving SMS code", "Verification text never comes", "No SMS verification code"),
             ("The text message with my login code never arrives. I've pressed resend {times} times.",
              "I'm not getting the SMS verification code when I try to sign in on my new {phone_model}."),
             ("SMS codes can take a minute or two to arrive and each one expires after {sms_code_valid}; pressing resend invalidates the earlier code. Some carriers also filter short-code messages, so an authenticator app is the more reliable option.",
              "I can see several codes were sent to the number on file, so it may be a carrier filter. You can use one of your backup codes to sign in, then switch to an authenticator app under Account > Security.")),
        _sit(("Change the email on my account", "Update login email", "Old email no longer works"),
             ("I need to change the email on my Lumora account. The old address was my work email and I don't have access to it anymore.",
              "How do I change my login email? I'm moving everything over to a new address.",
              "My account is tied to an email I can't access anymore, but I can still log in on my phone."),
             ("You can change it under Account > Profile > Email; we send a confirmation link to the new address and a notice to the old one. You don't need access to the old inbox as long as you're signed in somewhere.",
              "If you're still signed in anywhere, go to Account > Profile > Email and enter the new address, then confirm it from the link we send. If you aren't signed in, I can make the change for you after verifying your identity."),
             followups=("If you're not signed in anywhere, reply with your most recent order number and the last 4 digits of the card used for it so I can verify the account.",),
             priority="low"),
        _sit(("Family member can't see our devices", "Share thermostat with my wife", "Add another user to my home"),
             ("My wife installed the app but she can't see our thermostat or the bulbs. We're using the same home.",
              "How do I give my roommate access to the thermostat without sharing my password?",
              "My son logged in with his own account and the home is empty for him."),
             ("Each person needs to be invited to the home; in the Lumora Home app go to Home settings > Members > Invite and enter their email. Once they accept, they'll see every device in that home, and a home can have up to {max_members} members.",
              "Devices belong to a home, not to a login, so a second account starts out empty. Invite them from Home settings > Members and they'll get full access without needing your password."),
             followups=("If the invite email doesn't show up, they can also accept it in the Lumora Home app after signing in with the invited address.",),
             priority="low"),
        _sit(("Can't log in on Android - used Apple sign in", "Switched to Android, can't sign in", "Sign in with Apple on Android?"),
             ("I originally signed up with Sign in with Apple and now I can't log in on my new Android phone.",
              "Switched from my iPhone to {a_android_model} and my login doesn't work. I think I used the Apple button when I signed up."),
             ("Accounts created with Sign in with Apple work on Android too: choose Continue with Apple on the sign-in screen and log in with your Apple ID in the browser window. You can also add a regular password from an iPhone under Account > Security.",
              "You can keep using Sign in with Apple on Android; tap Continue with Apple and sign in with your Apple ID when the browser opens. If you'd rather have a normal password, I can send you a link to set one.")),
        _sit(("Sign in with Google opens empty account", "Google login shows no devices", "Logged in and all my devices are gone"),
             ("When I tap Continue with Google it creates a new empty account instead of opening my existing one.",
              "I logged in with Google today and all my devices are gone, the app acts like I'm a brand new user."),
             ("That happens when the Google address is different from the email on your original account. Sign out, choose Sign in with email instead, and use the address you registered with; I can delete the empty duplicate account for you if you like.",
              "Your devices are safe; they're on your original account, which uses a different email than your Google login. Sign out and sign back in with that original email, and everything will be there.")),
        _sit(("Delete my account", "Account deletion request", "Please remove my data"),
             ("Please delete my Lumora account and all the data you have on me. I sold the house and the thermostat stays with it.",
              "How do I close my account? We're switching to a different system."),
             ("You can delete the account under Account > Privacy > Delete account; please remove your devices first so the new owner can set them up. Deletion is completed within {deletion_days}, and any Lumora Plus subscription is cancelled automatically.",
              "I've started the deletion for you, and everything is removed within {deletion_days}. Before that, please remove your devices from your home (or factory reset them) so they can be set up on another account."),
             followups=("You'll get a confirmation email once it's done, and the account can't be restored after that.",),
             priority="low"),
        _sit(("Someone got into my account", "Account hacked?", "URGENT - unknown login on my account"),
             ("I got an email about a new sign-in from a device I don't own and now my password doesn't work.",
              "Someone changed the schedule on my thermostat in the middle of the night and I think my account was hacked.",
              "My password was changed and I didn't do it. Please lock my account."),
             ("I've signed out every session on your account and locked it, so nobody can change your devices right now. Please use Forgot password to set a new password you haven't used elsewhere, then turn on two-factor authentication under Account > Security.",
              "Thanks for reporting this quickly. I've reset your password, ended all active sessions and removed the unknown device; we strongly recommend turning on two-factor authentication once you're back in."),
             followups=("If you notice anything else unusual, like a device or member you don't recognize, reply right away and we'll take care of it.",),
             priority="urgent"),
    ),
    "shipping_delivery": (
        _sit(("Where is my order?", "Order {order} status", "Order not shipped yet"),
             ("I ordered a {product} on {past_date} and it still says processing. When will it ship?",
              "Where is my order {order}? I haven't gotten a shipping email yet.",
              "It's been {days} days since I ordered and I have no idea where my package is."),
             ("Orders placed before {ship_cutoff} on a business day ship the same day, and {order_id} left our warehouse with {carrier}; the tracking number is {tracking}. Standard shipping takes {standard_time}, so it should arrive in the next couple of days.",
              "I checked {order_id} and it shipped with {carrier}, but the shipping email seems to have gone astray. Your tracking number is {tracking}, and tracking can take up to {tracking_lag} to show the first scan."),
             asks=("Can you give me an update?", "Can you check on it?", "When will it actually arrive?")),
        _sit(("Tracking hasn't updated", "Package stuck in transit", "No tracking updates for days"),
             ("My tracking number hasn't updated in {days} days. It's just sitting at the {carrier} facility in {hub_city}.",
              "Tracking for {order} says 'Label created' and nothing since.",
              "The package has been 'in transit' since {past_date} with no movement."),
             ("Tracking can lag by up to {tracking_lag}, but no movement for this long isn't normal. If a package shows no progress for {lost_threshold}, we open a claim with {carrier} and ship a replacement at no cost; I've started that for {order_id} today.",
              "I've contacted {carrier} about {order_id}. If there's still no scan after {lost_threshold} in total, we'll send a replacement right away, and you won't need to do anything else."),
             priority="normal"),
        _sit(("Package says delivered but not here", "Marked delivered, never received", "Missing package"),
             ("{carrier} says my package was delivered {when} but there's nothing at my door.",
              "Tracking shows delivered for order {order} but I never got it. I checked with my neighbors and the mailroom.",
              "package marked delivered, not here. this is the second time with {carrier}"),
             ("Sorry about that. Packages are sometimes marked delivered a day early or left at a side door or mailroom, so please check once more over the next 24 hours; if it hasn't turned up by then, we'll open a carrier investigation and reship {order_id} at no cost.",
              "I've opened an investigation with {carrier} for {order_id} and shipped a replacement at no cost, so you don't have to wait for the result. You'll get a new tracking email shortly."),
             asks=("What can you do?", "Can you send another one?", "What are my options?"),
             priority="high"),
        _sit(("Change shipping address", "Wrong address on my order", "Need to update delivery address"),
             ("I just realized I put my old address on order {order}. Can you change it before it ships?",
              "Can I change the shipping address on my order? I'll be at my parents' place next week.",
              "Typo in my street number on {order}, please fix before shipping!"),
             ("Addresses can be changed until the order status changes to Shipped, and {order_id} hasn't shipped yet. Please reply with the full corrected address, including any apartment number, and I'll update it right away.",
              "Unfortunately {order_id} has already shipped, so we can't change the address on our side. You can request a redirect with {carrier} using tracking number {tracking}, or it will come back to us and we'll reship it."),
             priority="normal"),
        _sit(("Paid for express, still not here", "Express shipping late", "express shipping refund?"),
             ("I paid {express_fee} for express shipping on {order} and it's been {days} business days.",
              "Why did my express order take as long as regular shipping?",
              "Express was supposed to be 1-2 days and my {product_short} still isn't here."),
             ("Express shipping delivers in {express_time} after the order ships, and orders placed before {ship_cutoff} ship the same business day. Since {order_id} missed that, I've refunded the {express_fee} express fee to your original payment method.",
              "You're right, {order_id} should have arrived within {express_time} of shipping. I've refunded the {express_fee} express fee, and it will reach your original payment method within {refund_time}."),
             priority="normal"),
        _sit(("Will it arrive by Friday?", "Need my order before the weekend", "Delivery time question"),
             ("I need the {product_short} by Friday for a move-in. If I order express today will it get here in time?",
              "How fast can you get a {product} to {city}? I'm hoping to install it this weekend."),
             ("If you order before {ship_cutoff} today with express shipping, it ships today and arrives within {express_time}. Orders placed after the cutoff ship the next business day.",
              "Standard shipping takes {standard_time} and express takes {express_time}, both counted from when the order ships. Orders placed before {ship_cutoff} on a business day ship the same day."),
             followups=("If you order now, I'll keep an eye on it and make sure it goes out today.",),
             priority="low"),
        _sit(("Received the wrong item", "Wrong product in my box", "This isn't what I ordered"),
             ("I ordered a {product} but the box had a different product in it.",
              "Order {order} came today and it's the wrong item. I ordered the Thermo 2 and got a Thermo Mini.",
              "Got {n_bulbs} BR30 bulbs instead of the A19s I ordered."),
             ("I'm sorry about the mix-up. I've shipped the correct item today at no cost, and you'll receive a prepaid label within {label_time} to send back the wrong one.",
              "That's our warehouse's mistake, sorry. The correct item for {order_id} is on its way with express shipping, and a prepaid return label for the wrong item will be emailed to you."),
             asks=("How do I get the right one?", "Can you send the right one?"),
             priority="normal"),
        _sit(("Missing item in my package", "Part missing from the box", "Only got part of my order"),
             ("My {product_short} arrived but the wall plate and screws are missing from the box.",
              "Order {order} was supposed to have {n_bulbs} bulbs and only part of it came.",
              "The box for {order} came without the power adapter."),
             ("Orders with several items sometimes ship in separate boxes, and the rest of {order_id} is on its way with tracking number {tracking}. If it doesn't arrive within {standard_time}, let us know and we'll send the missing part.",
              "Sorry about that. I've sent the missing part at no cost, and it should reach you within {standard_time}; there's no need to return anything."),
             priority="normal"),
        _sit(("Do you ship to Canada?", "International shipping", "Shipping to Toronto"),
             ("Do you ship to Canada? I'm in Vancouver and want to order a {product_short}.",
              "Can I order from the US site and ship to the UK?",
              "Are duties included if I order to Canada, or will I get a bill at the door?"),
             ("We ship to the US and Canada. Orders to Canada take {canada_time} and duties and taxes are calculated and paid at checkout, so there's nothing extra to pay on delivery.",
              "Right now we only ship to addresses in the US and Canada, so we can't send orders to other countries yet. Canadian orders arrive within {canada_time} with duties included at checkout."),
             followups=("You'll get a tracking email as soon as the order leaves our warehouse.",),
             priority="low"),
        _sit(("Why was I charged shipping?", "Shipping cost question", "Free shipping?"),
             ("I thought shipping was free but I paid {standard_fee} on order {order}.",
              "How much is shipping to {city}? And is there free shipping?"),
             ("Standard shipping is free on orders over {free_ship_threshold}; below that it's {standard_fee} and takes {standard_time}. Express shipping is {express_fee} and arrives in {express_time} after the order ships.",
              "Orders over {free_ship_threshold} ship free with standard shipping, which takes {standard_time}; smaller orders pay {standard_fee}. If you need it faster, express is {express_fee}."),
             followups=("Shipping costs are always shown at checkout before you pay.",),
             priority="low"),
        _sit(("Order stuck on processing", "Backorder?", "When will the Glow Strip ship?"),
             ("My order {order} has said processing for over a week now. Is something out of stock?",
              "The {product_short} I ordered on {past_date} still hasn't shipped. Is it backordered?"),
             ("One item in {order_id} is on backorder, so the whole order is being held; we expect new stock within the next week and will ship it with {carrier} as soon as it arrives. If you'd prefer, we can ship the in-stock items now at no extra cost.",
              "That item is backordered at the moment, which is why {order_id} hasn't moved. You can cancel the backordered item for a full refund, or keep the order and we'll email tracking as soon as it ships."),
             followups=("Just reply to let me know whether you'd like the in-stock items sent now.",)),
    ),
    "returns_refunds": (
        _sit(("Return request", "I want to return my {product_short}", "How do I return this?"),
             ("I'd like to return the {product} I bought. It's not really what I needed.",
              "How do I send back a {product_short}? We ended up going with a different system.",
              "I want to return order {order}, everything is still in the box."),
             ("You can return any item within {return_window} of delivery; start the return at {returns_url} with your order number and we'll email a prepaid label within {label_time}. For change-of-mind returns, {return_fee} return shipping is deducted from the refund.",
              "No problem. Go to {returns_url}, enter {order_id} and choose the item; once the warehouse receives it, the refund goes to your original payment method within {refund_time}."),
             priority="low"),
        _sit(("Where is my refund?", "Refund not received", "Still waiting on my refund"),
             ("I returned my {product_short} {weeks} weeks ago and still haven't gotten my refund.",
              "The return for {order} was delivered to you on {past_date} and I haven't seen any money back.",
              "Where is my refund??? UPS shows you got the return days ago."),
             ("Refunds are issued once the return is received and checked at our warehouse, and then take {refund_time} to appear on your original payment method. I can see your return for {order_id} was received and the refund of {price} was issued, so it should show up within that window.",
              "I'm sorry for the wait. Your return for {order_id} was received but hadn't been processed, so I've issued the {price} refund now, and it will reach your original payment method within {refund_time}."),
             asks=("Can you check what's going on?", "When will I get my money?", "Please look into it."),
             priority="high"),
        _sit(("Return after 30 days?", "Past the return window", "Can I still return this?"),
             ("I bought a {product} about {weeks} weeks ago. Can I still return it?",
              "It's been a bit over a month since delivery, but I barely used the {product_short}. Is it too late to return?"),
             ("Our return window is {return_window} from delivery, so unfortunately {order_id} is no longer eligible for a refund. If the device isn't working properly, though, it's covered by our {warranty} and we can replace it.",
              "Returns are accepted within {return_window} of delivery, and this order is past that. If something is wrong with the device, let me know, as it's still covered by the {warranty}."),
             priority="low"),
        _sit(("Thermostat stopped working", "Defective {product_short}", "Warranty claim"),
             ("My {thermo} just died after {months} months. The screen is black and it won't turn on.",
              "One of my Glow bulbs started flickering constantly and now won't turn on at all. I've only had it since {past_date}.",
              "The {product_short} stopped working completely. Is this covered under warranty?"),
             ("Sorry it stopped working. It's covered by our {warranty}, and we'll ship a replacement first; you then have {replacement_return_window} to send the faulty one back with the prepaid label in the box.",
              "That's covered under warranty, and I've set up an advance replacement, so the new one ships today. Please return the faulty unit within {replacement_return_window} using the included label."),
             followups=("Could you confirm the shipping address for the replacement and send a photo of the serial number on the back of the device?",),
             priority="high"),
        _sit(("Item arrived damaged", "Broken on arrival", "Box crushed, bulb shattered"),
             ("My {thermo} arrived today with a cracked screen. The box looked like it was run over.",
              "One of the bulbs in my 4-pack was shattered when I opened the box.",
              "Order {order} arrived damaged. What do I do?"),
             ("I'm sorry it arrived damaged. I've shipped a replacement at no cost, and you don't need to send the damaged one back; please just dispose of it safely.",
              "Sorry about that. Items damaged in transit are replaced free of charge, and I've sent a new one for {order_id}; you'll receive a prepaid label to send back the damaged unit."),
             followups=("Could you reply with a photo of the damage and the shipping box? It helps us file the claim with the carrier.",),
             priority="high"),
        _sit(("Never got my return label", "Return label not received", "Where's the shipping label?"),
             ("I started a return for {order} {days} days ago and never got the label.",
              "The return page said I'd get a prepaid label by email but nothing came."),
             ("Return labels are emailed within {label_time} of starting the return, and I've just resent yours for {order_id}. You can also download it any time from {returns_url} by entering your order number.",
              "It looks like the label email bounced, so I've resent it to the address on the order. Drop the package at any {carrier} location once it's printed."),
             priority="normal"),
        _sit(("Bought at {store}, can I return to you?", "Return item bought from retailer", "Return {a_store} purchase"),
             ("I bought the {product_short} at {store}. Can I return it directly to Lumora?",
              "Got a Lumora {device} from {store} as a gift and I want to return it."),
             ("Purchases from other retailers need to be returned to that retailer under their return policy, since the refund goes back through them. If the device is faulty, though, we handle warranty claims directly with proof of purchase.",
              "Items bought from {store} have to go back to {store}, as we don't have a record of the payment. Warranty replacements are a different story, and we're happy to help with those directly."),
             priority="low"),
        _sit(("Return part of a multi-pack", "Return 2 bulbs from the 4-pack", "Partial return question"),
             ("Can I return just two of the bulbs from the Glow 4-pack? I only need two.",
              "I bought the Starter Kit but I already had a hub. Can I send back only the hub?"),
             ("Multi-packs and kits are sold as one item, so they need to be returned complete for a refund. You can return the full pack within {return_window} of delivery and order single items instead.",
              "Unfortunately we can't accept partial returns of packs or kits, so it would need to come back complete within {return_window} of delivery. If you return it, the refund goes to your original payment method within {refund_time}."),
             priority="low"),
        _sit(("Refund amount is wrong", "Refund less than what I paid", "Partial refund?"),
             ("I got a refund for {order} but it's less than what I paid.",
              "Why was {return_fee} taken off my refund? The {product_short} was fine, I just didn't need it."),
             ("For change-of-mind returns, the {return_fee} return shipping fee is deducted, and original shipping charges aren't refunded. Returns of defective or damaged items are free, with no deductions.",
              "I've checked the refund for {order_id}: it's the item price minus the {return_fee} return shipping fee for change-of-mind returns. If the item was actually faulty, let me know and I'll refund that fee."),
             priority="normal"),
        _sit(("Exchange Thermo Mini for Thermo 2", "Can I exchange my order?", "Swap for a different model"),
             ("Can I exchange the Thermo Mini I bought for a Thermo 2? I want the bigger display.",
              "I'd like to swap my A19 bulbs for BR30s. How does an exchange work?"),
             ("We don't do direct exchanges, but the fastest way is to place a new order for the model you want and start a return for the original at {returns_url}. The refund goes to your original payment method within {refund_time} after we receive it.",
              "Exchanges work as a return plus a new order, so you're never without a device. Start the return within {return_window} of delivery, and the refund for the original arrives within {refund_time} after we receive it."),
             priority="low"),
    ),
    "device_setup": (
        _sit(("No C-wire - where does the power adapter go?", "Thermostat says low power E17", "C wire question"),
             ("My old {old_brand} thermostat didn't use a C-wire and the {thermo} screen shows E17. Do I need an electrician?",
              "There's no C-wire at my thermostat, just R, W, Y and G. How do I power the {thermo}?",
              "Installing the {thermo} and it keeps rebooting after a few minutes."),
             ("E17 means the thermostat isn't getting enough power, which is common without a C-wire. The Lumora Power Adapter solves this; it comes in the box with Thermo 2 and is sold separately for {adapter_price} for Thermo Mini.",
              "Frequent reboots without a C-wire usually mean the thermostat is short on power. Installing the Power Adapter at your furnace control board gives it steady power, and most people do it in about 15 minutes without an electrician."),
             followups=("Here's how: (1) turn off power to the HVAC system at the breaker, (2) connect the adapter's wires to the R and C terminals on the control board, and (3) connect the other end to the G wire at the thermostat and select Power Adapter in the app.",
                        "Could you send a photo of the wires at the thermostat and at the furnace control board so I can tell you exactly where each one goes?")),
        _sit(("Will it work with my system?", "Compatibility question", "Is the Thermo 2 compatible with baseboard heat?"),
             ("Will the {thermo} work with my {hvac}? The current thermostat is {a_old_brand}.",
              "Is the Thermo 2 compatible with electric baseboard heaters?",
              "We have a {hvac} and radiant floors upstairs. Which Lumora thermostat should I get?"),
             ("Thermo 2 and Thermo Mini work with most 24V heating and cooling systems, including gas furnaces, heat pumps with aux heat and 24V boilers. They aren't compatible with line-voltage (120V or 240V) systems such as electric baseboard heaters.",
              "If your current thermostat has thin wires labelled R, W, Y or G, it's a 24V system and the {thermo} will work. Thick wires joined with wire nuts usually mean line voltage, which our thermostats don't support."),
             followups=("You can also run the compatibility checker in the Lumora Home app before you buy; it asks for a photo of your current wiring.",),
             priority="low"),
        _sit(("Can't add thermostat in the app", "Setup stuck on 'Looking for device'", "Pairing fails"),
             ("The app is stuck on 'Looking for your thermostat' during setup of my new {thermo}.",
              "Trying to add the {thermo} to the app but it can't find it. The thermostat screen is on.",
              "Setup keeps failing at the last step when adding the thermostat."),
             ("Put the thermostat back in pairing mode by pressing and holding the dial for {pair_hold} until the ring pulses blue, then start Add device again. Keep your phone within a few feet and make sure Bluetooth and location permissions are on for the Lumora Home app.",
              "Setup uses Bluetooth first and then Wi-Fi, so both need to be on, and the app needs location permission to find nearby devices. Restarting pairing mode (hold the dial for {pair_hold}) fixes most cases."),
             followups=("If it still fails, tell me the exact message on the thermostat screen and your phone model, and I'll take a look at the setup logs.",)),
        _sit(("Glow bulb won't pair", "New bulb not showing up in app", "Can't add Glow bulb"),
             ("I bought {n_bulbs} Glow bulbs and one of them won't show up in the app.",
              "My new {bulb} bulb won't pair. It's screwed into the {room} lamp and it's on.",
              "The app can't find my Glow bulb, the others worked fine."),
             ("Please reset the bulb: turn the light switch off and on {bulb_reset}, about a second each, until the bulb blinks twice. Then tap Add device in the app and keep your phone within about 10 feet of the bulb.",
              "A quick reset usually fixes this: switch the bulb off and on {bulb_reset} until it blinks twice, then add it again. Note that without a Lumora Hub you can control up to {bluetooth_bulb_limit} bulbs over Bluetooth."),
             priority="low"),
        _sit(("Setting up Lumora Hub", "Hub light stays orange", "Hub setup not completing"),
             ("I plugged in the Lumora Hub and the light just keeps pulsing orange. The app doesn't see it.",
              "How do I set up the hub? I want to control my bulbs when I'm away.",
              "Hub setup gets to 'Connecting to network' and then fails."),
             ("A pulsing orange light means the Hub is in setup mode and waiting for the app; solid white means it's online. The easiest setup is with the included Ethernet cable plugged into your router, and then tap Add device > Lumora Hub in the app.",
              "The Hub connects over Ethernet or {wifi_band} Wi-Fi, and once it shows solid white it links your Glow bulbs for remote control. If it fails at 'Connecting to network', try the Ethernet cable first."),
             priority="normal"),
        _sit(("AC runs when I set heat", "Heat pump blowing cold air", "Heat and cool reversed"),
             ("After installing the {thermo} on my heat pump, it blows cold air when I set it to heat.",
              "My heat pump runs the AC when the thermostat is in heat mode."),
             ("That means the reversing valve setting is flipped. In the app, go to Settings > Equipment > Heat pump and change the O/B setting from O to B (or the other way), then test heat again.",
              "Heat pumps use an O/B wire to switch between heating and cooling, and different brands use opposite settings. Changing the O/B setting under Settings > Equipment > Heat pump should fix it right away."),
             priority="high"),
        _sit(("Glow bulbs flickering on dimmer", "Bulbs flicker", "Can I use Glow with a dimmer switch?"),
             ("My Glow bulbs flicker and buzz when the wall dimmer is below full.",
              "Can I use Glow bulbs in fixtures with a dimmer switch?"),
             ("Glow bulbs need a standard on/off switch or a dimmer left at full brightness; a wall dimmer cuts power in a way that makes smart bulbs flicker. Leave the switch on and dim from the app or a voice assistant instead.",
              "Wall dimmers and smart bulbs don't mix well, which is where the flicker comes from. Set the dimmer to 100% (or swap it for a regular switch) and control brightness in the Lumora Home app."),
             priority="low"),
        _sit(("Setting up two thermostats", "Two zones, two thermostats", "Multi-zone setup"),
             ("We have two zones, upstairs and downstairs. Can I run two {thermo} thermostats in one app?",
              "How do I add a second thermostat? The first one is already set up."),
             ("Yes, just add each thermostat separately with Add device and give them names like Upstairs and Downstairs. Each one gets its own schedule, and you can group them in one home.",
              "Add the second one the same way as the first, then name it by zone in its settings. Both will appear on the home screen, each with its own schedule."),
             priority="low"),
        _sit(("How to pair the Room Sensor", "Room Sensor setup", "Use sensor temperature instead of thermostat"),
             ("I got a Room Sensor for the {room}. How do I make the thermostat use its temperature instead?",
              "The Room Sensor doesn't show up when I try to add it to my {thermo}."),
             ("Pull the battery tab on the sensor and add it from Add device > Room Sensor; it then appears under your thermostat in Settings > Sensors, where you can choose which rooms to average. Room Sensors work with Thermo 2 only, not Thermo Mini.",
              "Room Sensors pair with Thermo 2 (Thermo Mini doesn't support them). Pull the battery tab, keep the sensor within 30 feet of the thermostat during setup, and select it under Settings > Sensors."),
             priority="low"),
        _sit(("Connect to Alexa", "Google Home integration", "Voice control setup"),
             ("How do I connect my {thermo} and Glow bulbs to Alexa?",
              "Google Home says it can't find any devices after I linked my Lumora account."),
             ("For Alexa, enable the Lumora Home skill in the Alexa app; for Google Home, tap Add > Works with Google and choose Lumora. Sign in with your Lumora account and run device discovery, and your thermostat and bulbs show up with the names you gave them in our app.",
              "Linking uses the same Lumora account you sign in with in our app, so make sure it's the one that owns the home. If no devices show up, unlink Lumora in the assistant app, link it again and run device discovery."),
             priority="low"),
    ),
    "connectivity": (
        _sit(("Devices offline after new router", "Changed router, thermostat offline", "New Wi-Fi, everything offline"),
             ("We switched to {a_router} and now the thermostat and all the bulbs show offline.",
              "Got a new router from {isp} and my {thermo} won't reconnect.",
              "Changed my Wi-Fi password and now the thermostat is offline in the app."),
             ("Lumora devices remember the old network, so they need the new details: on the thermostat go to Settings > Wi-Fi and pick the new network, or in the app open the device and choose Change Wi-Fi network. Glow bulbs connected through the Hub come back once the Hub is on the new network.",
              "After a router change, each Wi-Fi device needs to be moved to the new network. The quickest way is in the app under Device settings > Change Wi-Fi network, which walks you through it without resetting anything."),
             asks=("How do I reconnect them?", "Do I have to set everything up again?")),
        _sit(("Thermostat can't see my Wi-Fi", "Wi-Fi network not showing up", "5GHz network not listed"),
             ("My Wi-Fi network doesn't show up in the list when I set up the {thermo}. My phone sees it fine.",
              "The thermostat only lists my neighbors' networks, not mine. I have {a_router}."),
             ("Our thermostats and the Hub use {wifi_band} Wi-Fi only, so a network that broadcasts only on 5 GHz won't appear. Mesh routers like the {router} usually combine both bands; turning on a separate {wifi_band} network, even temporarily, fixes it.",
              "That usually means the router is only offering 5 GHz at that spot, and our devices need {wifi_band}. Check your router's app for a setting like 'separate bands' or 'smart connect' and turn it off during setup."),
             followups=("Let me know your router model if you need help finding that setting.",)),
        _sit(("Error E21 connecting to Wi-Fi", "E21 error", "Wi-Fi password rejected"),
             ("The {thermo} shows error E21 every time I enter my Wi-Fi password. I'm 100% sure the password is right.",
              "Getting E21 on the thermostat after the router update."),
             ("E21 means the router rejected the Wi-Fi password. Passwords are case-sensitive, and our devices don't support WPA3-only networks, so please set your router's security to WPA2 or WPA2/WPA3 mixed mode.",
              "E21 is often caused by a router set to WPA3-only security, which firmware updates sometimes switch on. Changing it to WPA2/WPA3 mixed mode in your router settings lets the thermostat connect."),
             priority="normal"),
        _sit(("Error E34 - can't reach server", "E34 on thermostat", "Connected to Wi-Fi but offline"),
             ("The thermostat is connected to Wi-Fi but shows E34 and the app says offline.",
              "E34 error on my {thermo}. Internet works on everything else in the house.",
              "Hub says connected to network but no internet, error E34."),
             ("E34 means the device is on your Wi-Fi but can't reach the Lumora cloud, which is usually a firewall, DNS filter or ad blocker such as Pi-hole blocking our servers. Please allow *.lumora.com and restart the router.",
              "With E34 the Wi-Fi connection is fine but traffic to our servers is blocked somewhere. Parental-control and security features on routers are the usual cause, so try turning them off briefly to confirm."),
             priority="normal"),
        _sit(("Thermostat keeps going offline", "Devices drop offline randomly", "Intermittent connection"),
             ("My {thermo} goes offline {times} times a day and then comes back on its own.",
              "The Hub drops offline every evening and all my bulbs go with it.",
              "Every night the thermostat shows offline for a couple of hours."),
             ("Frequent drops are almost always weak signal. You can check it under Settings > About > Wi-Fi signal; anything below -70 dBm is too weak, and moving the router or adding a mesh point closer usually fixes it.",
              "Try giving the device a reserved IP address (DHCP reservation) in your router settings and check the signal strength in Settings > About. If your router restarts itself at night, that would also explain the overnight drops."),
             followups=("If you send me the signal strength reading, I can tell you whether it's the likely cause.",)),
        _sit(("Hub error E42", "Bulbs unresponsive through hub", "Hub lost my bulbs"),
             ("The Hub shows E42 in the app and none of my Glow bulbs respond.",
              "Half my bulbs say 'No response' since {when}. They're all connected through the Hub."),
             ("E42 means the Hub lost contact with its connected devices. Unplug the Hub for 30 seconds, make sure the bulbs' wall switches are on, and keep the Hub within about 30 feet of the nearest bulb.",
              "When bulbs are switched off at the wall they drop off the Hub's network, which can trigger E42. Turn all the switches on, restart the Hub, and the bulbs should reconnect within a few minutes."),
             priority="normal"),
        _sit(("Is there an outage?", "All devices offline - outage?", "App can't reach anything"),
             ("All of my devices show offline in the app and my internet is fine. Is something down on your end?",
              "Is Lumora having an outage? Nothing in my house responds in the app.",
              "none of my devices are connecting right now, whats going on"),
             ("We had a service disruption earlier today that affected remote access for some customers; it's resolved now, and you can follow updates at {status_page}. Your thermostat keeps running its schedule locally while offline, so heating and cooling weren't affected.",
              "Yes, we were having a cloud issue that made devices appear offline in the app. It has been fixed, and devices reconnect on their own; you can check {status_page} any time you suspect an outage."),
             followups=("If any device is still offline an hour from now, restart it and let me know.",),
             priority="urgent"),
        _sit(("Bulbs only work when I'm home", "Can't control lights remotely", "Remote control not working"),
             ("My Glow bulbs work fine at home but as soon as I leave I can't control them.",
              "Why can I only control the lights when I'm in the house?"),
             ("Without a Lumora Hub, Glow bulbs connect to your phone over Bluetooth, which only works within range. Adding a Hub connects them to the internet so you can control them from anywhere.",
              "That's expected with a Bluetooth-only setup: your phone talks to the bulbs directly, so it needs to be nearby. For remote control and automations while you're away, you'll need the Lumora Hub."),
             followups=("The Lumora Hub is $69.00 on lumora.com and works with all Glow bulbs and the Glow Strip.",),
             priority="low"),
        _sit(("Can't connect to {gateway_isp} gateway", "Problems with ISP router", "Thermostat won't join {gateway_isp} Wi-Fi"),
             ("I have the {gateway} from {gateway_isp} and the thermostat just won't connect during setup.",
              "Our internet provider's modem/router combo doesn't seem to work with the Lumora Hub."),
             ("ISP gateways like the {gateway} often combine 2.4 and 5 GHz under one name, which can confuse setup. In the gateway's settings, split the bands or temporarily disable 5 GHz, then run setup again.",
              "We've seen this with some {gateway_isp} gateways. The Hub's Ethernet port is the simplest workaround; otherwise, turning off band steering in the gateway settings usually does it."),
             followups=("If you can't access the gateway settings, {gateway_isp} support can do it for you in a few minutes.",)),
        _sit(("Device unreachable on guest network", "Setup fails on guest Wi-Fi", "Phone and thermostat on different networks"),
             ("I put the thermostat on our guest network and now the app says the device is unreachable.",
              "Setup fails at the 'connecting to device' step, my phone is on my work VPN."),
             ("During setup your phone and the device need to be on the same network, and guest networks or VPNs stop them from finding each other. Please turn off any VPN and connect both to your main Wi-Fi.",
              "Guest networks usually have client isolation turned on, and VPNs route your phone off the local network; both block the app from reaching the device. Use your main network for smart-home devices and turn the VPN off while running setup."),
             priority="low"),
    ),
    "app_bug": (
        _sit(("App crashes on launch", "App crashing after update", "Lumora Home app won't open"),
             ("Since updating to {app_version}, the Lumora Home app crashes as soon as I open it.",
              "The app closes immediately when I tap it. I'm on {a_phone_model} with {os}.",
              "app keeps crashing on startup, can't control anything"),
             ("Thanks for the details. We've confirmed a crash on launch affecting some {os} devices after the {app_version} update, and a fix is in the next release. In the meantime, deleting and reinstalling the app clears it for most people.",
              "Sorry about that. Please update to the latest version from the App Store or Google Play, then restart your phone; your devices keep running their schedules even when the app is closed."),
             followups=("If it still crashes, open Settings > Help > Send diagnostics and reply with the report ID it shows.",),
             priority="high"),
        _sit(("Energy history graph blank", "History not loading", "Usage graph empty"),
             ("The energy history graph in the app has been blank since {when}.",
              "When I open the temperature history it just spins forever.",
              "Graphs show 'No data' even though the thermostat has been running for weeks."),
             ("We're aware of an issue where history graphs fail to load on app version {app_version}, and our engineers are working on a fix. Your data is still being recorded; it will show up again once the fix is out.",
              "Pull down on the history screen to refresh, and if it's still blank, sign out and back in. History is kept for {free_history} on the free plan and {plus_history} with Lumora Plus."),
             priority="low"),
        _sit(("Schedule changes don't save", "Schedule keeps reverting", "Can't edit schedule"),
             ("Every time I edit my heating schedule in the app and tap Save, it reverts to the old one.",
              "The weekday schedule I set keeps resetting. I've changed it {times} times."),
             ("This is a known bug in {app_version} when a schedule has more than six changes in one day. Until the fix ships, please keep each day to six set points or edit the schedule directly on the thermostat.",
              "Thanks for reporting this. Please make sure the app is up to date, and try saving the schedule from the thermostat itself under Menu > Schedule in the meantime."),
             priority="normal"),
        _sit(("Not getting notifications", "Push notifications stopped", "No alerts from the app"),
             ("I'm not getting any notifications from the app anymore, not even the filter reminder.",
              "Temperature alerts stopped working on my {phone_model}."),
             ("Please check that notifications are allowed for Lumora Home in your phone settings and in the app under Settings > Notifications. On Android, battery optimization can also stop alerts, so set Lumora Home to Unrestricted.",
              "Notifications sometimes stop after an OS update. Signing out and back in re-registers your phone for alerts, which fixes most cases."),
             priority="low"),
        _sit(("Widget shows wrong temperature", "Home screen widget not updating", "Widget stuck"),
             ("The home screen widget shows a temperature from hours ago.",
              "My widget says {temp} degrees but the thermostat says something else."),
             ("Widgets refresh about every 15 minutes, as limited by your phone's operating system, so they can lag behind the app. Removing and re-adding the widget after an app update usually gets it refreshing again.",
              "That's a known issue with the widget on {os}; the thermostat itself is reading correctly. A fix is planned for the next app release."),
             priority="low"),
        _sit(("App keeps logging me out", "Have to sign in every time", "Session expired error"),
             ("The app logs me out every time I close it and I have to sign in again.",
              "I keep getting 'Session expired, please sign in' in the app."),
             ("We've identified a bug in {app_version} that clears saved sign-ins on some phones, and the next update fixes it. Clearing the app's cache or reinstalling it should help until then.",
              "Please update to the latest version of Lumora Home; this was caused by an expired security token and has been fixed."),
             priority="normal"),
        _sit(("Text invisible in dark mode", "Dark mode display bug", "Buttons blank in dark mode"),
             ("In dark mode some of the text in the app is black on black and I can't read the settings.",
              "The schedule screen is unreadable with dark mode on. {phone_model}, app {app_version}."),
             ("Thanks for the report, and sorry about that. It's a display bug in dark mode that our team is fixing; switching your phone to light mode is a workaround for now.",
              "We've reproduced the dark mode issue on {app_version} and the fix is coming in the next update."),
             priority="low"),
        _sit(("App shows Celsius", "Wrong temperature units", "Units switched to Celsius"),
             ("After the update the app shows everything in Celsius, but I set it to Fahrenheit.",
              "The thermostat shows Fahrenheit but the app insists on Celsius."),
             ("Units are set per home, under Home settings > Units. An app update reset this setting for some accounts; switching it back to Fahrenheit there fixes it everywhere.",
              "This was a bug in {app_version} that reset the units setting, and it's fixed in the latest version. After updating, check Home settings > Units."),
             priority="low"),
        _sit(("Automation not running", "Sunset automation doesn't trigger", "Away mode not activating"),
             ("My automation to turn on the porch lights at sunset hasn't run in a week.",
              "Away mode never turns on when we leave, even though the automation is enabled."),
             ("Location-based automations need location access set to 'Always' for Lumora Home, and sunset automations need the home's address set under Home settings. Please check both, then try disabling and re-enabling the automation.",
              "We found a bug where automations edited in {app_version} stopped triggering. Opening the automation and saving it again re-registers it with our servers."),
             priority="normal"),
        _sit(("Error {error_app} in app", "'Something went wrong' message", "App error code {error_app}"),
             ("The app keeps showing 'Something went wrong ({error_app})' when I try to open the thermostat.",
              "Getting error {error_app} whenever I change the temperature in the app. It works on the thermostat itself."),
             ("{error_app} is a temporary sync error between the app and our servers. Pull down to refresh, or close and reopen the app; if it keeps happening, signing out and back in usually clears it.",
              "Thanks for reporting this. It's a sync error that we're investigating, and your thermostat keeps following its schedule in the meantime."),
             followups=("If it keeps coming back, open Settings > Help > Send diagnostics and reply with the report ID.",),
             priority="normal"),
    ),
    "subscription": (
        _sit(("Cancel Lumora Plus", "How do I cancel my subscription?", "Cancel Plus"),
             ("How do I cancel Lumora Plus? I don't use the energy reports.",
              "Please cancel my Plus subscription, I can't find where to do it in the app.",
              "I'd like to cancel Plus before it renews next week."),
             ("You can cancel any time in the app under Account > Lumora Plus > Manage > Cancel subscription. Plus stays active until the end of the period you've already paid for, and your devices keep working on the free plan afterwards.",
              "I've cancelled your Lumora Plus subscription, so you won't be charged again. You keep Plus features until the end of your current billing period."),
             priority="low"),
        _sit(("Free trial question", "Does the trial auto-renew?", "Lumora Plus trial"),
             ("Does the Lumora Plus free trial turn into a paid plan automatically?",
              "How long is the Plus trial and will I be charged when it ends?",
              "I started the Plus trial by accident during setup. Will it charge me?"),
             ("The Lumora Plus trial lasts {trial_length_short} days and converts to the plan you picked ({monthly_price}/month or {annual_price}/year) unless you cancel. We email you a reminder {trial_reminder} before it ends, and each account gets one trial.",
              "You won't be charged during the {trial_length} free trial, and you can cancel any time before it ends under Account > Lumora Plus > Manage. If you cancel, you lose the Plus features right away."),
             priority="low"),
        _sit(("Paid for Plus but features missing", "Plus features not showing", "Subscribed but still on free plan"),
             ("I subscribed to Lumora Plus {when} but the app still says I'm on the free plan.",
              "I'm paying for Plus but I can't see the energy reports anywhere.",
              "Upgraded to Plus and my automation limit didn't change."),
             ("Plus is tied to your account, so please sign out of the app and back in to refresh it. Energy reports also need about 7 days of data before the first one appears.",
              "I can see an active Plus subscription on your account, so this is a display issue. Signing out and back in refreshes the subscription status, and if you have more than one home, check you're viewing the home you upgraded."),
             priority="normal"),
        _sit(("Switch from monthly to annual", "Change to yearly plan", "Annual plan discount?"),
             ("Can I switch my Plus from monthly to annual? I'd rather pay once a year.",
              "Is there a discount if I pay for Plus yearly?"),
             ("Yes: Plus annual is {annual_price}/year, which works out cheaper than {monthly_price}/month. Go to Account > Lumora Plus > Manage > Change plan; the switch takes effect at your next renewal date.",
              "The annual plan costs {annual_price}, about two months free compared to monthly. You can switch under Account > Lumora Plus > Manage, and you won't be charged twice for the current month."),
             priority="low"),
        _sit(("What's included in Lumora Plus?", "Is Plus worth it?", "Plus features"),
             ("What exactly do I get with Lumora Plus? I only have one thermostat and a few bulbs.",
              "Trying to decide whether Plus is worth it. What's the difference from the free plan?"),
             ("Lumora Plus adds unlimited automations (the free plan allows {free_automations}), {plus_history} of history instead of {free_history}, monthly energy reports, priority support and an extended warranty of {plus_warranty} on your devices. It costs {monthly_price}/month or {annual_price}/year after a {trial_length} free trial.",
              "Plus is {monthly_price} a month or {annual_price} a year and covers up to {plus_homes} homes on one account. The biggest extras are unlimited automations, {plus_history} of history, energy reports and the warranty extension to {plus_warranty}."),
             priority="low"),
        _sit(("Hit the automation limit", "Can't create more automations", "Automation limit reached"),
             ("The app won't let me create another automation, it says I've reached the limit.",
              "Why can I only have {free_automations} automations? Is that a bug?"),
             ("The free plan includes up to {free_automations} automations, and Lumora Plus removes the limit. If you don't want to upgrade, you can combine several actions into one automation to free up slots.",
              "That's not a bug: {free_automations} automations is the free plan limit. Lumora Plus ({monthly_price}/month) gives you unlimited automations, and you can try it free for {trial_length_short} days."),
             priority="low"),
        _sit(("Plus for multiple homes", "Does Plus cover my vacation home?", "Second home subscription"),
             ("We have a cabin with another {thermo}. Do I need a second Plus subscription?",
              "Does one Lumora Plus subscription cover both my house and my rental?"),
             ("One Lumora Plus subscription covers up to {plus_homes} homes on the same account, so your cabin is included. Just add it as a second home in the app.",
              "Plus applies to every home on your account, up to {plus_homes}, so there's no need for a second subscription."),
             priority="low"),
        _sit(("Refund for annual renewal", "Plus renewed - want refund", "Forgot to cancel annual plan"),
             ("My Lumora Plus annual plan renewed for {annual_price} {when} and I forgot to cancel. Can I get a refund?",
              "I didn't mean to renew Plus for another year. Is it too late to get my money back?"),
             ("Annual plans can be refunded in full within {annual_refund_window} of the renewal charge, so you're covered. I've cancelled the subscription and refunded {annual_price} to your original payment method, which takes {refund_time}.",
              "Since the renewal was less than {annual_refund_window} ago, I've refunded the {annual_price} and cancelled Plus. Monthly payments aren't refundable, but annual renewals are within that window."),
             priority="normal"),
        _sit(("What happens if I cancel Plus?", "Will I lose my data if I downgrade?", "Downgrade to free plan"),
             ("If I cancel Plus, do I lose my history and automations?",
              "Thinking of downgrading to the free plan. What happens to my {n_automations} automations?"),
             ("When Plus ends, history older than {free_history} is hidden but kept for {plus_history}, so it comes back if you resubscribe. Automations beyond the first {free_automations} are paused, not deleted, and you choose which ones stay active.",
              "Nothing is deleted when you downgrade: extra automations are paused and your older history is kept for {plus_history} in case you come back. Your devices keep working normally on the free plan."),
             priority="low"),
        _sit(("Does Plus extend the warranty?", "Plus warranty question", "Extended warranty with subscription"),
             ("Does Lumora Plus include an extended warranty on my {thermo}?",
              "My thermostat is 2 and a half years old and I have Plus. Is it still covered?"),
             ("Yes: while Lumora Plus is active, the {warranty} on your devices extends to {plus_warranty} from purchase. If your thermostat is within {plus_warranty} and Plus is active, it's covered.",
              "With an active Plus subscription your devices are covered for {plus_warranty} from purchase instead of two. Just contact us if something goes wrong and we'll arrange a replacement."),
             priority="low"),
    ),
}

# Extra sentences a customer may add, by category (must fit any situation of that category).
CONTEXT: dict[str, tuple[str, ...]] = {
    "billing": ("I've been a Lumora customer since {year}.",
                "The card on file ends in {last4}.", "I checked my banking app twice to be sure.",
                "My partner handles most of our bills so I might be missing something.",
                "Order number is {order} if that helps."),
    "account_access": ("I've had the account since {year}.", "I tried on both the website and the app.",
                       "I'm on {a_phone_model} with the latest version of the app.",
                       "Not very tech savvy, so please keep it simple."),
    "shipping_delivery": ("It's a gift, so timing matters.", "I live in an apartment building with a front desk.",
                          "First time ordering from you.", "I'm usually home during the day if that matters."),
    "returns_refunds": ("Order number is {order}.", "This is my first time contacting support.",
                        "I've been happy with Lumora otherwise.", "My email on the order is the one I'm writing from."),
    "device_setup": ("I'm setting it up from {a_phone_model} running {os}.",
                     "I followed the quick start guide in the box.", "Already watched the setup video twice.",
                     "I'm pretty handy but this one has me stumped."),
    "connectivity": ("Internet is from {isp} and everything else in the house works fine.",
                     "I already rebooted the router twice.", "My router is {a_router}.",
                     "The device is about {feet} feet from the router.",
                     "My phone and laptop are on the same Wi-Fi with no problems."),
    "app_bug": ("I'm on {a_phone_model} running {os}, app version {app_version}.",
                "I already tried deleting and reinstalling the app.",
                "My partner's phone has the same problem.", "App version is {app_version}."),
    "subscription": ("I only have one thermostat and a few bulbs.", "I manage the app for my parents' house too.",
                     "Just want to understand how it works before I do anything.",
                     "I use the app every day, love it otherwise."),
}

ASKS: dict[str, tuple[str, ...]] = {
    "billing": ("Can you please look into this?", "Please let me know what happened.", "How do I get this fixed?"),
    "account_access": ("Can you help me get back into my account?", "What should I do?", "Please help."),
    "shipping_delivery": ("Can you check on it?", "What should I do?", "Please let me know."),
    "returns_refunds": ("What are my options?", "How do I go about this?", "Please advise."),
    "device_setup": ("What am I doing wrong?", "Any tips?", "Can you walk me through it?"),
    "connectivity": ("How do I fix this?", "Any ideas?", "What should I try next?"),
    "app_bug": ("Is this a known bug?", "Is there a fix?", "Can you look into it?"),
    "subscription": ("Can you help?", "Thanks for clarifying.", "How does that work?"),
}

ACKS: dict[str, tuple[str, ...]] = {
    "billing": ("Thanks for reaching out about this charge.", "Thanks for flagging this.",
                "I've looked into the payments on your account."),
    "account_access": ("Thanks for contacting us about your account.", "Sorry you're having trouble signing in.",
                       "Happy to help you get back into your account."),
    "shipping_delivery": ("Thanks for checking in about your order.", "I've looked up your shipment.",
                          "Sorry for the trouble with your delivery."),
    "returns_refunds": ("Thanks for reaching out about your return.", "I've pulled up your order.",
                        "Happy to help with this."),
    "device_setup": ("Thanks for reaching out, happy to help with the setup.", "Great question.",
                     "Let's get this working for you."),
    "connectivity": ("Sorry your devices are having trouble staying connected.", "Thanks for the details.",
                     "Let's get you back online."),
    "app_bug": ("Thanks for reporting this.", "Sorry about the trouble with the app.",
                "Thanks for letting us know."),
    "subscription": ("Thanks for your question about Lumora Plus.", "Happy to help with your subscription.",
                     "Thanks for reaching out."),
}

FOLLOWUPS: dict[str, tuple[str, ...]] = {
    "billing": ("If anything still looks off, just reply here and I'll take another look.",),
    "account_access": ("If that doesn't work, reply from the email address on the account and I'll verify your identity.",),
    "shipping_delivery": ("If anything changes with the delivery, just reply here and I'll follow up with the carrier.",),
    "returns_refunds": ("If there's anything else about this order I can check for you, just reply here.",),
    "device_setup": ("If you get stuck, send a photo or screenshot of what you see and I'll walk you through the next step.",),
    "connectivity": ("If it's still not working after that, reply with the Wi-Fi signal reading from Settings > About and I'll dig deeper.",),
    "app_bug": ("If it happens again, open Settings > Help > Send diagnostics and reply with the report ID so our engineers can take a look.",),
    "subscription": ("Let me know if you'd like me to make the change for you.",),
}

ANGRY_LINES = ("This is ridiculous.", "I've already wasted an hour on this.", "Really disappointed so far.",
               "Please fix this ASAP.", "This is the second time I've had to write in.",
               "Honestly considering returning everything.", "This is not acceptable.")
POLITE_LINES = ("Thanks so much for your help!", "Appreciate any help you can give.", "No rush, just wanted to flag it.",
                "Sorry if this has been asked before.", "Thank you in advance!")
APOLOGIES = ("I'm really sorry for the frustration this has caused.", "I completely understand, and I'm sorry for the hassle.",
             "Sorry this has taken up so much of your time.")
AGENT_CLOSINGS = ("Let us know if there's anything else we can help with.", "Hope that helps!",
                  "Just reply to this message if you have any other questions.", "Have a great rest of your day.",
                  "If you need anything else, we're here {support_hours}.", "Thanks for your patience.")
SIGNATURES = ("— {agent}, Lumora Support", "Best,\n{agent}\nLumora Support", "{agent} | Lumora Support",
              "Kind regards,\n{agent} (Lumora Support)", "Thanks,\n{agent}")
GREETINGS = {
    "email": ("Hi,", "Hello,", "Hi Lumora team,", "Hello Lumora Support,", "Good morning,", "Hi there,",
              "Dear Lumora,", "To whom it may concern,", "Hey,"),
    "chat": ("hi,", "Hi!", "hello,", "hey there,", "Hi,", "Hello!"),
    "web_form": ("Hello,", "Hi,"),
    "phone": ("Hi, this is {cust_first}.", "Hello, my name is {cust_first}.", "Yes hi, it's {cust_first} calling."),
}
SIGNOFFS = ("Thanks,\n{cust_first}", "Thank you,\n{cust_first}", "Best,\n{cust_first}", "Regards,\n{cust_first}",
            "Cheers,\n{cust_first}", "{cust_first}", "Thanks in advance!", "Thanks")
NEAR_DUP_EDITS = (("I've ", "I have "), ("I'm ", "I am "), ("don't", "do not"), ("can't", "cannot"),
                  ("doesn't", "does not"), ("won't", "will not"), (" but ", " but honestly "), ("Can you ", "Could you "),
                  ("Thanks", "Thanks a lot"), ("Please ", "Could you please "), (" the app ", " the Lumora app "))
MISSPELLINGS = {"receive": "recieve", "received": "recieved", "definitely": "definately", "separate": "seperate",
                "address": "adress", "because": "becuase", "password": "pasword", "already": "allready",
                "until": "untill", "thermostat": "thermostst", "tomorrow": "tommorow", "which": "wich"}

# PII sentences the customer may add; {pii} is the planted value.
PII_SENTENCES = {
    "email": ("My account email is {pii}.", "You can reach me at {pii}.",
              "Please send updates to {pii}, that's the inbox I actually check.", "The login email is {pii} in case you need it."),
    "phone": ("Call me at {pii} if that's easier.", "My phone number is {pii}.",
              "Best number to reach me is {pii}, any time after 5.", "You can text me at {pii}."),
    "card": ("The card I used is {pii}, exp {exp}.", "Card number is {pii} if that helps you find it.",
             "It was charged to my card {pii}."),
    "address": ("My address is {pii}.", "It's supposed to go to {pii}.", "Shipping address on the order: {pii}."),
    "name": ("The account is under {pii}.", "The order is under the name {pii}.", "This is {pii}, the account holder."),
}
PII_ECHOES = {
    "email": ("I've added {pii} as the contact email on this ticket.", "I've sent a copy of this to {pii} as well."),
    "phone": ("If it's easier, we can call you at {pii} during our support hours.",),
    "address": ("I've confirmed the shipping address as {pii}.",),
    "name": ("I found the account under {pii}.",),
    "card": ("For your security, please don't share full card numbers over email or chat; we've masked it on our side.",),
}
PII_TYPE_WEIGHTS = {  # email, phone, card, address, name
    "billing": (3, 3, 5, 0, 1), "account_access": (6, 3, 0, 0, 1), "shipping_delivery": (3, 3, 0, 3, 1),
    "returns_refunds": (3, 3, 2, 1, 1), "device_setup": (4, 5, 0, 1, 0), "connectivity": (4, 5, 0, 0, 1),
    "app_bug": (6, 4, 0, 0, 0), "subscription": (5, 3, 3, 0, 1),
}
PII_TYPES = ("email", "phone", "card", "address", "name")
CANARY_PLAN = ((CANARY_EMAIL, "email", ("account_access", "subscription")),
               (CANARY_PHONE, "phone", ("connectivity", "device_setup")),
               (CANARY_CARD, "card", ("billing",)))

CATEGORY_WEIGHTS = (0.13, 0.12, 0.14, 0.12, 0.13, 0.13, 0.11, 0.12)
CHANNELS = ("email", "chat", "web_form", "phone")
CHANNEL_WEIGHTS = (40, 30, 20, 10)
TONES = ("neutral", "polite", "angry", "terse")
TONE_WEIGHTS = (50, 25, 15, 10)
STATUSES = ("solved", "closed", "pending")
STATUS_WEIGHTS = (60, 30, 10)
UNUSABLE_KINDS = ("empty_message", "emoji_message", "null_reply", "unknown_category", "missing_category")
EMOJI_MESSAGES = ("🙏", "👍👍", "  \n  ", "😡😡😡", "\t \t", "🔥❄️", " 🤷 ")
BAD_CATEGORIES = ("misc", "other", "General Inquiry", "")
START = datetime(2025, 1, 6, tzinfo=timezone.utc)
SPAN_DAYS = 98
HOUR_WEIGHTS = (5, 3, 2, 1, 1, 1, 1, 1, 1, 1, 2, 3, 6, 8, 9, 9, 9, 9, 9, 8, 8, 7, 7, 6)  # UTC, US daytime peak
PII_SHARE = 0.145  # of all lines; duplicates of a ticket with PII add a little on top
SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")

# ---------------------------------------------------------------------------------------------------
# Knowledge base: fixed articles, filled from FACTS so agents and articles always agree.
# ---------------------------------------------------------------------------------------------------

KB_ARTICLES: dict[str, str] = {
    "billing-charges-and-invoices": """
        # Understanding Charges and Invoices

        Every purchase from lumora.com and every Lumora Plus payment appears on your card or bank statement as **{descriptor}**. This article explains the charges you may see and how to get an invoice.

        ## Pending authorizations and duplicate charges

        When you place an order, we ask your bank to authorize the order total, and the charge is captured when the order ships. If a payment is retried at checkout, you may briefly see two entries:

        - one completed charge for the order total, and
        - one pending authorization that is never captured.

        Pending authorizations are released by your bank within {pending_release}. If two *completed* charges appear for the same order, contact us and we will refund the duplicate right away. Refunds go back to the original payment method within {refund_time}.

        ## Split shipments and sales tax

        If the items in one order ship separately, each shipment is charged when it leaves our warehouse, so you may see two or more charges that add up to your order total. You are never charged more than the total shown at checkout.

        We collect sales tax based on the shipping address, as required by state law. Tax appears on its own line at checkout and on your invoice. There are no other fees beyond shipping.

        ## Downloading an invoice

        1. Sign in at lumora.com or open the Lumora Home app.
        2. Go to **Account > Orders** and select the order.
        3. Choose **Download invoice (PDF)**.

        Need a company name or tax ID on the invoice? Contact support within {invoice_edit_window} of purchase and we will reissue it.
        """,
    "payments-promo-codes-and-price-adjustments": """
        # Payments, Promo Codes and Price Adjustments

        ## Accepted payment methods

        We accept Visa, Mastercard, American Express, Discover, PayPal and Apple Pay. To change the card used for orders and Lumora Plus, go to **Account > Payment methods**, add the new card and set it as default.

        ## Declined payments

        We never see your full card details, so a decline comes from your bank. Common causes:

        - the billing ZIP code does not exactly match the one your bank has on file;
        - your bank's fraud screen stopped an online purchase;
        - the card has expired or been replaced.

        Try again with the billing address as it appears on your statement, use another payment method, or call your bank. If a Lumora Plus renewal fails, we retry the payment for {payment_retry} and your Plus features stay active during that time.

        ## Promo codes

        Enter a promo code on the checkout page before you pay. Only one code can be used per order, and codes do not apply to Lumora Plus or to items that are already on sale. Forgot to enter a code? Contact us within {price_adjust_window} of purchase and we can apply it to your order.

        ## Price adjustments

        If the price of an item on lumora.com drops within {price_adjust_window} of your purchase, we refund the difference once per order to your original payment method. Price adjustments do not cover purchases from other retailers.
        """,
    "account-login-and-password-reset": """
        # Signing In and Resetting Your Password

        ## Resetting your password

        1. On the sign-in screen, tap **Forgot password**.
        2. Enter the email address on your account.
        3. Open the email from no-reply@lumora.com and follow the link.

        Reset links are valid for {reset_link_valid}, and only the most recent link works. If the email does not arrive within a few minutes, check your spam, Promotions or Updates folders. If an email security scanner opens the link before you do, request a new one and paste it into your browser.

        ## Locked accounts

        After {lockout_attempts} failed sign-in attempts, your account is locked for {lockout_duration}. Your devices keep following their schedules while you are locked out. When the lock clears, use **Forgot password** instead of guessing.

        ## Signing in with Apple or Google

        If you created your account with Sign in with Apple or Google, use the same button on every device, including Android phones and the website. Choosing a different method with a different email creates a new, empty account. You can add a regular password under **Account > Security**.

        ## Sharing access with your household

        Devices belong to a home, not to a login. To give someone access, open **Home settings > Members > Invite** and enter their email. Each home can have up to {max_members} members, and nobody needs to share a password.
        """,
    "two-factor-authentication-and-account-security": """
        # Two-Factor Authentication and Account Security

        ## Turning on two-factor authentication

        Two-factor authentication (2FA) protects your account even if your password is stolen.

        1. Go to **Account > Security > Two-factor authentication**.
        2. Choose an authenticator app (recommended) or SMS.
        3. Save the {backup_codes} one-time backup codes somewhere safe.

        SMS codes expire after {sms_code_valid}, and requesting a new code cancels the previous one. Some carriers filter short-code messages, so an authenticator app is more reliable.

        ## Lost your phone or backup codes

        Any backup code works in place of the 2FA code on the sign-in screen. If you have no backup codes, contact support. To verify your identity we ask for your most recent order number and the last 4 digits of the card used for it. We never ask for your password or full card number.

        ## Changing your email address

        Go to **Account > Profile > Email** and enter the new address. We send a confirmation link to the new address and a notice to the old one. If you can no longer sign in, support can change it after verifying your identity.

        ## Suspicious activity and account deletion

        If you see a sign-in you don't recognize, reset your password and contact us: we can end all sessions and lock the account. To delete your account, remove your devices first, then go to **Account > Privacy > Delete account**. Deletion is completed within {deletion_days} and cancels any Lumora Plus subscription.
        """,
    "shipping-times-and-tracking": """
        # Shipping Times and Tracking

        ## Shipping options

        | Option | Cost | Delivery time after shipping |
        |---|---|---|
        | Standard | Free on orders over {free_ship_threshold}, otherwise {standard_fee} | {standard_time} |
        | Express | {express_fee} | {express_time} |

        We ship with UPS and USPS. Orders placed before {ship_cutoff} on a business day ship the same day; later orders ship the next business day.

        ## Tracking your package

        You will receive a shipping email with a tracking number when your order leaves our warehouse. You can also find tracking under **Account > Orders**. Tracking can take up to {tracking_lag} to show the first scan.

        If an item is backordered, we hold the order and email you. You can ask us to ship the in-stock items first at no extra cost, or cancel the backordered item for a full refund.

        ## Shipping to Canada

        We ship to the US and Canada only. Orders to Canada arrive within {canada_time}. Duties and taxes are calculated and paid at checkout, so there is nothing extra to pay on delivery.
        """,
    "lost-late-or-incorrect-deliveries": """
        # Lost, Late or Incorrect Deliveries

        ## Tracking has not updated

        Tracking often pauses while a package moves between carrier facilities. If there has been no movement for {lost_threshold}, contact us: we open a claim with the carrier and ship a replacement at no cost.

        ## Marked delivered but not received

        1. Check around your property, side doors and any mailroom or front desk.
        2. Ask your neighbors, and wait 24 hours, since carriers sometimes mark a package delivered early.
        3. If it still hasn't arrived, contact us with your order number.

        We will open a carrier investigation and reship your order at no cost.

        ## Wrong or missing items

        If you received the wrong item, we ship the correct one right away and email a prepaid label within {label_time} to return the wrong item. Orders with several items sometimes arrive in separate boxes, so check your shipping emails for a second tracking number. If a part is missing from a box, we send it at no cost.

        ## Changing your shipping address

        You can change the shipping address until the order status changes to **Shipped**. After that, request a redirect with the carrier using your tracking number; if the package is returned to us, we reship it.
        """,
    "returns-and-refunds-policy": """
        # Returns and Refunds Policy

        ## Return window and conditions

        You can return any item bought on lumora.com within **{return_window} of delivery**, opened or not, as long as all parts are included. Multi-packs and kits must be returned complete.

        - Change-of-mind returns: {return_fee} return shipping is deducted from your refund, and original shipping charges are not refunded.
        - Defective, damaged or incorrect items: return shipping is free, with no deductions.

        ## How to start a return

        1. Go to **{returns_url}** and enter your order number and email.
        2. Choose the items you are returning and the reason.
        3. Print the prepaid label we email you within {label_time}.
        4. Drop the package at any UPS or USPS location.

        We don't offer direct exchanges. To get a different model, place a new order and return the original.

        ## Refund timing

        Refunds are issued to the **original payment method** once your return is received and checked at our warehouse. They appear within {refund_time}, depending on your bank.

        ## Items bought from other retailers

        Purchases from retailers such as Best Buy or Amazon must be returned to that retailer under its own policy. Warranty claims for those devices can come to us directly, with proof of purchase.
        """,
    "warranty-and-replacements": """
        # Warranty and Replacements

        ## What the warranty covers

        Every Lumora device comes with a **{warranty}** from the date of purchase, covering defects in materials and workmanship. With an active Lumora Plus subscription, the warranty extends to **{plus_warranty}** from purchase. The warranty does not cover damage from incorrect wiring, water or accidents.

        ## Advance replacement

        We ship your replacement first, so you are never without a working device.

        1. Contact support with your order number and a description of the problem.
        2. Send a photo of the serial number on the back of the device if we ask for it.
        3. We ship the replacement, with a prepaid return label in the box.
        4. Send the faulty device back within {replacement_return_window} of receiving the replacement.

        ## Items damaged in transit

        If a device arrives damaged, contact us with a photo of the item and the shipping box. We send a replacement at no cost. Please don't return broken glass from Glow bulbs; dispose of it safely instead.
        """,
    "thermo-2-installation-guide": """
        # Thermo 2 Installation Guide

        ## Compatibility

        Thermo 2 and Thermo Mini work with most 24V heating and cooling systems: gas furnaces, central AC, heat pumps with auxiliary heat and 24V boilers. They are **not** compatible with line-voltage (120V or 240V) systems such as electric baseboard heaters. Thin wires labelled R, W, Y or G mean a 24V system; thick wires joined with wire nuts usually mean line voltage. Room Sensors work with Thermo 2 only.

        ## Power and the C-wire

        The thermostat needs constant power from a C-wire. If you have no C-wire, use the Lumora Power Adapter, included with Thermo 2 and sold separately for Thermo Mini ({adapter_price}). Error **E17** or frequent reboots mean the thermostat is short on power.

        ## Installing the thermostat

        1. Turn off power to your HVAC system at the breaker.
        2. Take a photo of your old thermostat's wiring, then label and disconnect the wires.
        3. Mount the base plate (a trim plate is included) and connect each wire to the matching terminal.
        4. Attach the display, restore power and open the Lumora Home app.
        5. Tap **Add device**. If the app can't find the thermostat, press and hold the dial for {pair_hold} until the ring pulses blue.

        Keep your phone nearby with Bluetooth and location permission turned on; setup uses Bluetooth first, then {wifi_band} Wi-Fi.

        ## Heat pump settings

        If your heat pump blows cold air in heat mode, open **Settings > Equipment > Heat pump** and switch the O/B reversing valve setting between O and B.
        """,
    "glow-bulbs-and-hub-setup": """
        # Glow Bulbs and Lumora Hub Setup

        ## Adding Glow bulbs

        Screw in the bulb, switch it on and tap **Add device** in the Lumora Home app. Without a Hub, bulbs connect to your phone over Bluetooth: you can control up to {bluetooth_bulb_limit} bulbs, but only while your phone is in range. Glow bulbs need a regular switch; on a wall dimmer, leave it at full brightness and dim from the app.

        ## Resetting a bulb

        1. Turn the wall switch off and on {bulb_reset}, about one second each time.
        2. Wait until the bulb blinks twice.
        3. Add it again from the app, keeping your phone within about 10 feet.

        ## Setting up the Lumora Hub

        The Hub connects your bulbs to the internet for remote control and automations while you are away. Plug it into your router with the included Ethernet cable (or use {wifi_band} Wi-Fi) and tap **Add device > Lumora Hub**.

        - Pulsing orange: setup mode, waiting for the app.
        - Solid white: online.

        Keep the Hub within about 30 feet of the nearest bulb, and keep the bulbs' wall switches on.

        ## Room Sensors and voice assistants

        To add a Room Sensor, pull its battery tab and choose **Add device > Room Sensor**, then pick rooms under **Settings > Sensors** on your Thermo 2. For Alexa, enable the Lumora Home skill; for Google Home, choose **Works with Google > Lumora**, sign in with your Lumora account and discover devices.
        """,
    "wifi-and-connectivity-troubleshooting": """
        # Wi-Fi and Connectivity Troubleshooting

        ## Network requirements

        - Thermo 2, Thermo Mini and the Lumora Hub use **{wifi_band}** Wi-Fi; the Hub can also use Ethernet.
        - Security must be WPA2 or WPA2/WPA3 mixed mode; WPA3-only networks are not supported.
        - During setup, your phone and the device must be on the same network. Guest networks with client isolation, and VPNs, block setup.

        Mesh routers and ISP gateways often combine 2.4 and 5 GHz under one name. If your network doesn't appear, turn off band steering ("smart connect") or create a separate {wifi_band} network.

        ## Error codes

        - **E17**: low power; see the Thermo 2 Installation Guide.
        - **E21**: the router rejected the Wi-Fi password. Check capitalization and the security mode.
        - **E34**: connected to Wi-Fi but can't reach the Lumora cloud. Allow *.lumora.com in firewalls, DNS filters and parental controls.
        - **E42**: the Hub lost contact with its bulbs or sensors.

        ## Devices going offline

        1. Restart the router and the device.
        2. Check signal strength under **Settings > About > Wi-Fi signal**; below -70 dBm is too weak.
        3. Move the router or add a mesh point closer, and consider a DHCP reservation for the device.
        4. After changing routers or passwords, use **Device settings > Change Wi-Fi network** in the app.

        ## Service status

        Check {status_page} if all your devices go offline at once. Thermostats keep running their schedules locally while offline.
        """,
    "lumora-home-app-troubleshooting": """
        # Lumora Home App Troubleshooting

        ## Supported phones

        The Lumora Home app runs on iOS 16 or later and Android 10 or later. Keep the app updated from the App Store or Google Play, since most fixes ship in app updates. Your devices keep following their schedules even when the app is closed or not working.

        ## Basic fixes

        1. Pull down on the screen to refresh.
        2. Close and reopen the app, then restart your phone.
        3. Sign out and back in; this refreshes your subscription status and notification settings.
        4. Delete and reinstall the app. Your devices and settings are stored in your account.

        ## Common issues

        - **No notifications**: allow notifications for Lumora Home in your phone settings and under **Settings > Notifications**. On Android, set battery usage to Unrestricted.
        - **Wrong units**: units are set per home under **Home settings > Units**.
        - **Widget out of date**: widgets refresh about every 15 minutes.
        - **Automations not running**: location-based automations need location access set to Always.
        - **Sync errors** (codes starting with SYNC): refresh, or sign out and back in.

        ## Sending diagnostics

        If a problem continues, open **Settings > Help > Send diagnostics** and include the report ID when you contact support. It helps our engineers find the cause quickly.
        """,
    "lumora-plus-subscription": """
        # Lumora Plus Subscription

        ## Plans and features

        Lumora Plus costs **{monthly_price}/month** or **{annual_price}/year** and covers up to {plus_homes} homes on one account.

        | Feature | Free | Lumora Plus |
        |---|---|---|
        | Automations | up to {free_automations} | unlimited |
        | History | {free_history} | {plus_history} |
        | Energy reports | no | monthly |
        | Warranty | 2 years | {plus_warranty} |
        | Support | standard | priority |

        Energy reports need about 7 days of data before the first one appears.

        ## Free trial

        Each account can start one {trial_length} free trial. It converts to the plan you picked unless you cancel, and we email a reminder {trial_reminder} before it ends.

        ## Changing or cancelling

        1. Open **Account > Lumora Plus > Manage**.
        2. Choose **Change plan** to switch between monthly and annual (it takes effect at your next renewal), or **Cancel subscription**.

        After cancelling, Plus stays active until the end of the period you've paid for. Monthly payments are not refundable. Annual plans can be refunded in full within {annual_refund_window} of the charge.

        ## When Plus ends

        Nothing is deleted. History older than {free_history} is hidden but kept for {plus_history}, and automations beyond the first {free_automations} are paused until you resubscribe.
        """,
}


# ---------------------------------------------------------------------------------------------------
# Random helpers
# ---------------------------------------------------------------------------------------------------

def _weighted(rng: random.Random, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


def _luhn_complete(rng: random.Random, prefix: str, length: int) -> str:
    digits = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(digits)):  # the check digit goes to the right, so i == 0 is doubled
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return digits + str((10 - total % 10) % 10)


def _card_number(rng: random.Random) -> str:
    brand = rng.choice(("visa", "visa", "mastercard", "amex", "discover"))
    if brand == "amex":
        num = _luhn_complete(rng, rng.choice(("34", "37")), 15)
        groups = (num[:4], num[4:10], num[10:])
    else:
        prefix = {"visa": "4", "mastercard": f"5{rng.randint(1, 5)}", "discover": "6011"}[brand]
        num = _luhn_complete(rng, prefix, 16)
        groups = (num[:4], num[4:8], num[8:12], num[12:])
    return rng.choice((" ", " ", "-", "")).join(groups)


def _phone_number(rng: random.Random) -> str:
    area, exchange, line = rng.choice(AREA_CODES), rng.randint(201, 989), rng.randint(0, 9999)
    if exchange == 555:
        exchange = 556
    a, b, c = area, f"{exchange:03d}", f"{line:04d}"
    fmt = rng.choice(("({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "+1 {a} {b} {c}", "+1 ({a}) {b}-{c}",
                      "{a} {b} {c}", "+1-{a}-{b}-{c}"))
    return fmt.format(a=a, b=b, c=c)


def _email(rng: random.Random, first: str, last: str) -> str:
    f, l = first.lower(), re.sub(r"[^a-z]", "", last.lower())
    user = rng.choice((f"{f}.{l}", f"{f}{l}", f"{f[0]}{l}", f"{f}.{l}{rng.randint(1, 99)}",
                       f"{f}{rng.randint(70, 99)}", f"{l}.{f}"))
    return f"{user}@{rng.choice(EMAIL_DOMAINS)}"


def _address(rng: random.Random) -> str:
    city, state, zip_prefix = rng.choice(CITIES)
    apt = rng.choice(("", "", "", f", Apt {rng.randint(1, 30)}{rng.choice('ABCD')}", f" Unit {rng.randint(100, 450)}"))
    return (f"{rng.randint(12, 9870)} {rng.choice(STREETS)} {rng.choice(STREET_SUFFIXES)}{apt}, "
            f"{city}, {state} {zip_prefix}{rng.randint(100, 999)}")


def _a(noun: str) -> str:
    """Noun with its indefinite article: an iPhone 15, an eero Pro 6, a Pixel 8, a OnePlus 11."""
    return ("an " if re.match(r"[aeioAEIO](?!ne)", noun) else "a ") + noun


def _fill(template: str, slots: dict) -> str:
    return template.format_map(slots)


def _count_sentences(text: str) -> int:
    return max(1, len(SENTENCE_END.findall(text)))


# ---------------------------------------------------------------------------------------------------
# Ticket construction
# ---------------------------------------------------------------------------------------------------

def _make_slots(rng: random.Random, created: datetime) -> dict:
    """All slot values one ticket may use; consistent within the ticket (one product, one order...)."""
    name, noun, price = _weighted(rng, PRODUCTS, PRODUCT_WEIGHTS)
    phone_model, os_name = rng.choice(PHONES)
    gateway, gateway_isp = rng.choice(GATEWAYS)
    android_model = rng.choice([model for model, os_ in PHONES if os_.startswith("Android")])
    router, old_brand, store = rng.choice(ROUTERS), rng.choice(OLD_BRANDS), rng.choice(STORES)
    order_digits = rng.randint(10000, 99999)
    plan = _weighted(rng, ("monthly", "annual"), (65, 35))
    carrier = rng.choice(CARRIERS)
    if carrier == "UPS":
        tracking = "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKRWXY") for _ in range(8))
        tracking += f"{rng.randrange(10**8):08d}"
    else:
        tracking = "9400" + "".join(str(rng.randrange(10)) for _ in range(18))
    promo, pct = rng.choice(PROMOS)
    past = created - timedelta(days=rng.randint(3, 26))
    first = rng.choice(FIRST_NAMES)
    slots = dict(FACTS)
    slots.update(
        product=name, product_short=name.removeprefix("Lumora "), device=noun, price=f"${price:,.2f}",
        discount=f"${price * rng.choice((0.1, 0.15, 0.2)):,.2f}", tax=f"${price * rng.uniform(0.05, 0.095):,.2f}",
        order_id=f"#LM-{order_digits}",
        order=_weighted(rng, (f"#LM-{order_digits}", f"LM-{order_digits}", f"LM{order_digits}"), (7, 2, 1)),
        thermo=rng.choice(THERMOSTATS), bulb=rng.choice(BULBS), n_bulbs=rng.randint(2, 8),
        room=rng.choice(ROOMS), app_version=rng.choice(APP_VERSIONS), phone_model=phone_model, os=os_name,
        router=router, isp=rng.choice(ISPS), gateway=gateway, gateway_isp=gateway_isp, hvac=rng.choice(HVACS),
        old_brand=old_brand, a_phone_model=_a(phone_model), a_router=_a(router), a_old_brand=_a(old_brand),
        a_store=_a(store), a_android_model=_a(android_model), when=rng.choice(WHEN), past_date=f"{past:%B} {past.day}",
        days=rng.randint(3, 12), weeks=rng.randint(2, 6), months=rng.randint(3, 20), times=rng.choice(TIMES),
        plan=plan, plan_price=FACTS["monthly_price"] if plan == "monthly" else FACTS["annual_price"],
        last4=f"{rng.randrange(10000):04d}", carrier=carrier, tracking=tracking, hub_city=rng.choice(HUB_CITIES),
        promo=promo, pct=pct, year=rng.randint(2019, 2024), store=store, temp=rng.randint(64, 76),
        feet=rng.randint(15, 70), city=rng.choice(CITIES)[0], error_app=rng.choice(APP_ERRORS),
        n_automations=rng.randint(12, 30), trial_length_short=FACTS["trial_length"].split("-")[0],
        cust_first=first, agent=rng.choice(AGENTS),
    )
    return slots


def _pii_value(rng: random.Random, kind: str, slots: dict) -> str:
    last = rng.choice(LAST_NAMES)
    if kind == "email":
        return _email(rng, slots["cust_first"], last)
    if kind == "phone":
        return _phone_number(rng)
    if kind == "card":
        return _card_number(rng)
    if kind == "address":
        return _address(rng)
    return f"{slots['cust_first']} {last}"


def _typo(rng: random.Random, sentence: str) -> str:
    words = sentence.split(" ")
    known = [i for i, w in enumerate(words) if w.strip(",.!?").lower() in MISSPELLINGS]
    if known and rng.random() < 0.6:
        i = rng.choice(known)
        core = words[i].strip(",.!?")
        words[i] = words[i].replace(core, MISSPELLINGS[core.lower()])
        return " ".join(words)
    candidates = [i for i, w in enumerate(words) if re.fullmatch(r"[a-z]{5,}[,.!?]?", w)]
    if not candidates:
        return sentence
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randint(1, len(w.rstrip(",.!?")) - 3)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def _terse(rng: random.Random, sentence: str, last: bool) -> str:
    s = sentence[:1].lower() + sentence[1:]
    s = s.replace("Please ", "pls ").replace("please", "pls") if rng.random() < 0.5 else s
    s = re.sub(r"\bI'm\b", "im", s) if rng.random() < 0.4 else s
    return s.rstrip(".") if last else s


def _customer_message(rng: random.Random, category: str, sit: dict, slots: dict, tone: str, channel: str,
                      pii_sentence: str | None) -> tuple[str, bool]:
    """Body, optional context/tone/ask sentences and PII, dressed for the channel; returns (message, signed),
    signed meaning the customer gave their first name."""
    parts: list[tuple[str, str]] = [("body", _fill(rng.choice(sit["bodies"]), slots))]
    if tone != "terse" and rng.random() < 0.45:
        context = _fill(rng.choice(CONTEXT[category]), slots)
        if slots["order"] not in context or slots["order"] not in parts[0][1]:
            parts.append(("context", context))
    if tone == "angry":
        parts.append(("tone", rng.choice(ANGRY_LINES)))
    if rng.random() < (0.5 if tone == "terse" else 0.75):
        parts.append(("ask", _fill(rng.choice(sit["asks"] or ASKS[category]), slots)))
    if tone == "polite" and rng.random() < 0.6:
        parts.append(("tone", rng.choice(POLITE_LINES)))
    if pii_sentence:
        parts.insert(rng.randint(1, len(parts)), ("pii", pii_sentence))
    limit = 5 if channel == "phone" else 6
    for drop in ("tone", "context", "ask"):
        while sum(_count_sentences(t) for _, t in parts) > limit and any(k == drop for k, _ in parts):
            parts = [p for p in parts if p[0] != drop]

    sentences = []
    for i, (kind, text) in enumerate(parts):
        if kind != "pii":
            if tone == "terse":
                text = _terse(rng, text, last=i == len(parts) - 1)
            if rng.random() < 0.07:
                text = _typo(rng, text)
        if i < len(parts) - 1 and text[-1] not in ".!?":
            text += "."
        sentences.append(text)
    if tone == "angry" and rng.random() < 0.3:
        sentences[-1] = sentences[-1].rstrip(".") + "!!"
    text = " ".join(sentences)

    signed = False
    if channel == "email":
        greeting = "" if tone == "terse" or rng.random() < 0.15 else rng.choice(GREETINGS["email"])
        signoffs = [x for x in SIGNOFFS if "advance" not in x or "advance" not in text]
        signoff = "" if tone == "terse" else _fill(rng.choice(signoffs), slots)
        signed = slots["cust_first"] in signoff
        if rng.random() < 0.12:
            signoff = (signoff + "\n\n" if signoff else "") + rng.choice(("Sent from my iPhone", "Sent from my Galaxy"))
        text = "\n\n".join(p for p in (greeting, text, signoff) if p)
    elif channel == "chat":
        if tone != "terse" and rng.random() < 0.5:
            greeting = rng.choice(GREETINGS["chat"])
            text = f"{greeting} {_lower_first(text) if greeting.endswith(',') else text}"
    elif channel == "phone":
        text = f"{_fill(rng.choice(GREETINGS['phone']), slots)} {text}"
        signed = True
    elif tone != "terse" and rng.random() < 0.3:  # web form
        text = f"{rng.choice(GREETINGS['web_form'])}\n{text}"
    return text, signed


def _agent_reply(rng: random.Random, category: str, sit: dict, slots: dict, tone: str, channel: str,
                 named: bool, pii: tuple[str, str] | None) -> str:
    """Acknowledgement or apology, the situation's answer, maybe a follow-up and a closing; 2-6 sentences."""
    parts: list[tuple[str, str]] = []
    if tone == "angry" or (tone != "polite" and sit["priority"] in ("high", "urgent") and rng.random() < 0.3):
        parts.append(("ack", rng.choice(APOLOGIES)))
    elif rng.random() < 0.6:
        parts.append(("ack", rng.choice(ACKS[category])))
    core = _fill(rng.choice(sit["replies"]), slots)
    if core.startswith(("Sorry", "I'm sorry", "Thanks for", "You're right")):
        parts = []
    parts.append(("core", core))
    if rng.random() < 0.45:
        parts.append(("followup", _fill(rng.choice(sit["followups"] or FOLLOWUPS[category]), slots)))
    if pii and (pii[0] == "card" and rng.random() < 0.7 or pii[0] != "card" and rng.random() < 0.3):
        parts.append(("pii", _fill(rng.choice(PII_ECHOES[pii[0]]), {**slots, "pii": pii[1]})))
    if rng.random() < 0.6 or sum(_count_sentences(t) for _, t in parts) < 2:
        parts.append(("closing", _fill(rng.choice(AGENT_CLOSINGS), slots)))
    written = channel in ("email", "web_form")
    if written:
        salutation = f"Hi {slots['cust_first']}," if named else rng.choice(("Hi there,", "Hello,", "Hi,", ""))
    else:
        salutation = f"Hi {slots['cust_first']}!" if named else rng.choice(("Hi there!", "Hello!", "Hi!", "", ""))
    limit = 5 if salutation.endswith("!") else 6
    for drop in ("closing", "ack", "followup"):
        if sum(_count_sentences(t) for _, t in parts) > limit:
            parts = [p for p in parts if p[0] != drop]
    body = " ".join(t for _, t in parts)

    signature = _fill(rng.choice(SIGNATURES), slots) if rng.random() < 0.55 else ""
    if written:
        return "\n\n".join(p for p in (salutation, body, signature) if p)
    if signature:
        signature = f"— {slots['agent']}, Lumora Support"
    return " ".join(p for p in (salutation, body, signature) if p)


def _subject(rng: random.Random, sit: dict, slots: dict, tone: str, channel: str) -> str:
    subject = _fill(rng.choice(sit["subjects"]), slots)
    if channel == "chat" and rng.random() < 0.35:
        return f"Chat with {slots['cust_first']}"
    if channel == "phone":
        return f"Inbound call: {subject[:1].lower()}{subject[1:]}"
    if tone == "angry" and rng.random() < 0.4:
        return rng.choice(("URGENT: ", "Still waiting: ", "")) + subject + rng.choice(("", "!!", "!"))
    if tone == "terse":
        return subject.lower()
    return subject


def _priority(rng: random.Random, sit: dict, tone: str) -> str:
    level = PRIORITIES.index(_weighted(rng, PRIORITIES, PRIORITY_WEIGHTS[sit["priority"]]))
    if tone == "angry" and rng.random() < 0.35:
        level = min(level + 1, len(PRIORITIES) - 1)
    return PRIORITIES[level]


def _status_and_satisfaction(rng: random.Random, tone: str) -> tuple[str, int | None]:
    status = _weighted(rng, STATUSES, STATUS_WEIGHTS)
    if status == "pending" and rng.random() < 0.7 or rng.random() < 0.04:
        return status, None
    weights = (14, 12, 16, 30, 28) if tone == "angry" else (3, 4, 9, 30, 54)
    return status, _weighted(rng, (1, 2, 3, 4, 5), weights)


def _build_ticket(rng: random.Random, category: str, created: datetime, pii_kind: str | None = None,
                  pii_value: str | None = None) -> tuple[dict, dict]:
    """One realistic ticket plus the private generation state (for near-duplicates)."""
    sit = rng.choice(SITUATIONS[category])
    slots = _make_slots(rng, created)
    channel = _weighted(rng, CHANNELS, CHANNEL_WEIGHTS)
    tone = _weighted(rng, TONES, TONE_WEIGHTS)
    pii = None
    pii_sentence = None
    if pii_kind:
        value = pii_value or _pii_value(rng, pii_kind, slots)
        pii = (pii_kind, value)
        exp = f"{rng.randint(1, 12):02d}/{rng.randint(26, 30)}"
        pii_sentence = _fill(rng.choice(PII_SENTENCES[pii_kind]), {**slots, "pii": value, "exp": exp})
    message, signed = _customer_message(rng, category, sit, slots, tone, channel, pii_sentence)
    subject = _subject(rng, sit, slots, tone, channel)
    named = signed or subject.startswith("Chat with")  # the agent knows the customer's first name
    status, satisfaction = _status_and_satisfaction(rng, tone)
    record = {
        "ticket_id": "", "created_at": "", "channel": channel, "subject": subject, "customer_message": message,
        "agent_reply": _agent_reply(rng, category, sit, slots, tone, channel, named, pii),
        "category": category, "priority": _priority(rng, sit, tone),
        "status": status, "satisfaction": satisfaction,
    }
    meta = {"sit": sit, "slots": slots, "tone": tone, "named": named, "pii": pii}
    return record, meta


def _near_duplicate(rng: random.Random, source: dict, meta: dict) -> dict:
    """The same message resubmitted with a small word-level edit, answered by another agent."""
    msg = source["customer_message"]
    greetings = sorted({g for gs in GREETINGS.values() for g in gs if "{" not in g}, key=lambda g: (-len(g), g))
    current = next((g for g in greetings if msg.startswith(g)), None)
    edits = [(old, new) for old, new in NEAR_DUP_EDITS if old in msg]
    if current and rng.random() < 0.5:
        words = re.sub(r"\W", "", current.lower())
        msg = rng.choice([g for g in GREETINGS["email"] if re.sub(r"\W", "", g.lower()) != words]) + msg[len(current):]
    elif not current and rng.random() < 0.5:
        sep = "\n\n" if "\n" in msg else " "
        msg = rng.choice(("Hi again,", "Hello again,", "Hi,")) + sep + (_lower_first(msg) if sep == " " else msg)
    elif edits:
        old, new = rng.choice(edits)
        msg = msg.replace(old, new, 1)
    elif "\n\n" in msg:  # email: add a short line before the sign-off
        msg = msg.replace("\n\n", " Any update?\n\n", 1) if not current else msg.replace("\n\n", "\n\nAny update? ", 1)
    else:
        msg = msg.rstrip(". ") + ("" if msg.rstrip()[-1:] in ("!", "?") else ".") + " " + rng.choice(("Any update?", "Thanks again."))
    if rng.random() < 0.6:
        msg = msg.replace(". ", rng.choice(("! ", "... ", ".  ")), 1)
    slots = dict(meta["slots"], agent=rng.choice(AGENTS))
    record = dict(source, customer_message=msg)
    record["subject"] = rng.choice(("", "", "Re: ", "Fwd: ")) + source["subject"]
    record["agent_reply"] = _agent_reply(rng, source["category"], meta["sit"], slots, meta["tone"], source["channel"],
                                         meta["named"], meta["pii"])
    record["status"], record["satisfaction"] = _status_and_satisfaction(rng, meta["tone"])
    return record


def _lower_first(text: str) -> str:
    """Lower-case the first word unless it is 'I', an acronym or a name-like token (UPS, E34, iPhone)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _unusable(rng: random.Random, kind: str, category: str, created: datetime) -> dict:
    record, _ = _build_ticket(rng, category, created)
    if kind == "empty_message":
        record.update(customer_message="", subject=rng.choice(("(no subject)", record["subject"])),
                      agent_reply="Hi there, it looks like your message came through blank. Could you reply with a few "
                                  "details about what's going on so we can help?")
    elif kind == "emoji_message":
        record.update(customer_message=rng.choice(EMOJI_MESSAGES),
                      agent_reply="Hi, thanks for getting in touch! Your message didn't include any details. "
                                  "What can we help you with today?")
    elif kind == "null_reply":
        record.update(agent_reply=None, status="pending", satisfaction=None)
    elif kind == "unknown_category":
        record["category"] = rng.choice(BAD_CATEGORIES)
    else:
        del record["category"]
    return record


# ---------------------------------------------------------------------------------------------------
# File layout: which line is what, and when it was created
# ---------------------------------------------------------------------------------------------------

def _allocate(total: int, weights, minimum: int) -> list[int]:
    """Largest-remainder split of total by weights, then top up to `minimum` from the largest."""
    raw = [w * total / sum(weights) for w in weights]
    counts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))[: total - sum(counts)]:
        counts[i] += 1
    for i in range(len(counts)):
        while counts[i] < minimum:
            counts[max(range(len(counts)), key=lambda j: (counts[j], -j))] -= 1
            counts[i] += 1
    return counts


def _plan_lines(rng: random.Random, n: int) -> list[tuple[str, str | None]]:
    """Decide the kind of every line: ("ticket", category), ("exact"/"near", None) right after the ticket they
    copy, ("unusable", kind) and one ("malformed", None) in the middle of the file."""
    n_malformed = 1 if n >= 3 else 0
    n_unusable = max(1, round(n * 0.01)) if n >= 20 else 0
    n_exact = n_near = round(n * 0.02)
    n_tickets = n - n_malformed - n_unusable - n_exact - n_near
    counts = _allocate(n_tickets, CATEGORY_WEIGHTS, min(8, n_tickets // len(CATEGORIES)))
    lines: list[tuple[str, str | None]] = [("ticket", c) for c, k in zip(CATEGORIES, counts) for _ in range(k)]
    kinds = list(UNUSABLE_KINDS)
    rng.shuffle(kinds)
    lines += [("unusable", kinds[i % len(kinds)]) for i in range(n_unusable)]
    rng.shuffle(lines)
    for dup in ["exact"] * n_exact + ["near"] * n_near:
        sources = [i for i, (k, _) in enumerate(lines) if k == "ticket"
                   and (i + 1 == len(lines) or lines[i + 1][0] not in ("exact", "near"))]
        lines.insert(rng.choice(sources) + 1, (dup, None))
    if n_malformed:
        middle = [i for i in range(len(lines) * 2 // 5, max(len(lines) * 3 // 5, len(lines) * 2 // 5 + 1))
                  if lines[i][0] not in ("exact", "near")]
        lines.insert(rng.choice(middle), ("malformed", None))
    return lines


def _timestamps(rng: random.Random, lines: list) -> list[datetime]:
    """Sorted creation times over SPAN_DAYS, US-daytime heavy; a duplicate follows its source by minutes."""
    stamps = sorted(START + timedelta(days=rng.randrange(SPAN_DAYS), hours=_weighted(rng, range(24), HOUR_WEIGHTS),
                                      minutes=rng.randrange(60), seconds=rng.randrange(60)) for _ in lines)
    for i, (kind, _) in enumerate(lines):
        if kind in ("exact", "near") and i > 0:
            upper = stamps[i + 1] if i + 1 < len(stamps) else stamps[i - 1] + timedelta(hours=3)
            gap = (upper - stamps[i - 1]).total_seconds()
            if gap >= 2:
                stamps[i] = stamps[i - 1] + timedelta(seconds=min(rng.randint(40, 2400 if kind == "exact" else 14400),
                                                                  int(gap) - 1))
    return stamps


def _ticket_ids(rng: random.Random, n: int) -> list[str]:
    ids, current = [], 100001
    for _ in range(n):
        ids.append(f"LUM-{current}")
        current += 1 + (rng.randint(1, 3) if rng.random() < 0.06 else 0)  # merged/deleted tickets leave gaps
    return ids


# ---------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------

def _pii_plan(rng: random.Random, lines: list) -> dict[int, tuple[str, str | None]]:
    """Line index -> (pii kind, value or None for a fresh one): each canary once in a ticket of a fitting
    category, then random PII in other tickets up to PII_SHARE of the file."""
    planted: dict[int, tuple[str, str | None]] = {}
    tickets = [i for i, (k, _) in enumerate(lines) if k == "ticket"]
    for value, kind, categories in CANARY_PLAN:
        free = [i for i in tickets if i not in planted]
        fitting = [i for i in free if lines[i][1] in categories] or free
        if fitting:
            planted[rng.choice(fitting)] = (kind, value)
    free = [i for i in tickets if i not in planted]
    for i in sorted(rng.sample(free, min(len(free), max(0, round(len(lines) * PII_SHARE) - len(planted))))):
        planted[i] = (_weighted(rng, PII_TYPES, PII_TYPE_WEIGHTS[lines[i][1]]), None)
    return planted


def _write_kb(kb_dir: Path) -> int:
    kb_dir.mkdir(parents=True, exist_ok=True)
    for slug, article in sorted(KB_ARTICLES.items()):
        text = textwrap.dedent(article).strip().format(**FACTS) + "\n"
        (kb_dir / f"{slug}.md").write_text(text, encoding="utf-8", newline="\n")
    return len(KB_ARTICLES)


def generate(out_dir: str | Path, n_tickets: int = 720, seed: int = 1234) -> dict:
    """Write out_dir/tickets.jsonl (n_tickets lines) and out_dir/kb/*.md; return a summary of what was planted."""
    if n_tickets < 1:
        raise ValueError(f"n_tickets must be at least 1, got {n_tickets}")
    rng = random.Random(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = _plan_lines(rng, n_tickets)
    stamps = _timestamps(rng, lines)
    ids = _ticket_ids(rng, len(lines))
    pii_plan = _pii_plan(rng, lines)

    rows: list[str] = []
    per_category = dict.fromkeys(CATEGORIES, 0)
    counts = dict.fromkeys(("exact_duplicates", "near_duplicates", "with_pii", "unusable", "malformed_lines"), 0)
    prev: tuple[dict, dict, bool] | None = None  # last regular ticket: record, meta, has_pii
    seen: set[str] = set()  # customer messages so far: only planted duplicates may repeat one
    for i, (kind, arg) in enumerate(lines):
        created = stamps[i]
        has_pii = False
        if kind == "ticket":
            pii_kind, pii_value = pii_plan.get(i, (None, None))
            for _ in range(20):
                record, meta = _build_ticket(rng, arg, created, pii_kind, pii_value)
                if record["customer_message"] not in seen:
                    break
            has_pii = pii_kind is not None
            prev = (record, meta, has_pii)
        elif kind in ("exact", "near"):
            source, meta, has_pii = prev
            record = dict(source) if kind == "exact" else _near_duplicate(rng, source, meta)
            while record["customer_message"] in seen and kind == "near":
                record = _near_duplicate(rng, source, meta)
            counts["exact_duplicates" if kind == "exact" else "near_duplicates"] += 1
        elif kind == "unusable":
            record = _unusable(rng, arg, rng.choice(CATEGORIES), created)
            counts["unusable"] += 1
        else:
            record, _ = _build_ticket(rng, rng.choice(CATEGORIES), created)
        record["ticket_id"], record["created_at"] = ids[i], created.strftime("%Y-%m-%dT%H:%M:%SZ")
        line = json.dumps(record, ensure_ascii=False, sort_keys=True)
        if kind == "malformed":
            line = line[: int(len(line) * rng.uniform(0.35, 0.75))]
            counts["malformed_lines"] += 1
        elif record.get("category") in per_category:
            per_category[record["category"]] += 1
        counts["with_pii"] += has_pii
        seen.add(record.get("customer_message") or "")
        rows.append(line)

    with (out / "tickets.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("".join(row + "\n" for row in rows))
    kb_articles = _write_kb(out / "kb")
    return {"out_dir": str(out), "seed": seed, "tickets_written": len(rows), "per_category": per_category,
            **counts, "kb_articles": kb_articles}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tuneloop.example_corpus", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="data/raw", help="output folder (default: data/raw)")
    parser.add_argument("--n-tickets", type=int, default=720, help="lines in tickets.jsonl (default: 720)")
    parser.add_argument("--seed", type=int, default=1234, help="random seed (default: 1234)")
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.out, args.n_tickets, args.seed), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
