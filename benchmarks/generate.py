"""Deterministic generator of synthetic procedures for performance benchmarks.

    python benchmarks/generate.py 10000 /tmp/procedures [--seed 7]

The same N and seed always give byte-identical files (stdlib only, one `random.Random(seed)`).
The files follow /work/shared/procedure-format.md: area sub-folders, YAML front matter with a
unique title, 1-3 shared `Category: Subject` tags, keywords on about 2/3 of the files, a
context paragraph, 4-8 numbered steps and, on about half of the files, 1-3 alternate methods.

Text is drawn from a Zipf-weighted pool of a few thousand words (English support vocabulary,
inflections, invented system names, product jargon and codes) plus a thin stream of fresh
numbers and codes, so the vocabulary keeps growing with N as real text does.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as _dt
import itertools
import json
import random
import re
import sys
from pathlib import Path

# ---- vocabularies ------------------------------------------------------------------------------
AREAS = {
    "accounts": ["Accounts", "Security"],
    "billing": ["Billing", "Payments"],
    "complaints": ["Complaint"],
    "facilities": ["Facilities"],
    "fulfillment": ["Shipping", "Inventory"],
    "hr": ["HR"],
    "it": ["IT", "Security"],
    "orders": ["Orders", "Request"],
    "payroll": ["Payroll"],
    "returns": ["Returns", "Request"],
    "warranty": ["Warranty", "Complaint"],
    "loyalty": ["Loyalty", "Accounts"],
    "procurement": ["Procurement", "Vendor"],
    "travel": ["Travel", "HR"],
    "compliance": ["Compliance", "Security"],
    "marketplace": ["Marketplace", "Vendor"],
}

CATEGORY_NOUNS = {
    "Accounts": "Login Profile Email Address Merge Closure Verification Username Household Preferences Consent Recovery",
    "Security": "Phishing Breach Token Badge Access Fraud Takeover Device Certificate Audit Password Alert",
    "Billing": "Charge Invoice Refund Statement Credit Tax Exemption Adjustment Dispute Fee Discount Proration",
    "Payments": "Card Transfer Chargeback Wallet Installment Authorization Payout Voucher Balance Gateway Deposit Plan",
    "Complaint": "Shipment Item Delivery Part Conduct Wait Packaging Installation Quality Communication Assembly Service",
    "Facilities": "Room Parking Desk Badge Cleaning Heating Lighting Elevator Locker Kitchen Mailroom Signage",
    "Shipping": "Carrier Label Address Tracking Pallet Freight Courier Customs Pickup Route Manifest Parcel",
    "Inventory": "Stock Count Reservation Transfer Bin Allocation Backorder Shrinkage Recall Lot Cycle Receipt",
    "HR": "Leave Onboarding Offboarding Benefits Relocation Grievance Training Contract Reference Probation Overtime Visa",
    "IT": "Password Laptop Printer License Network Mailbox Software VPN Phone Monitor Backup Account",
    "Orders": "Cancellation Change Split Hold Quote Preorder Bundle Subscription Gift Reorder Priority Address",
    "Request": "Refund Exchange Callback Escalation Exception Extension Copy Waiver Upgrade Demo Sample Estimate",
    "Payroll": "Timecard Paycheck Deduction Bonus Garnishment Withholding Commission Expense Stipend Payslip Correction Advance",
    "Returns": "Label Inspection Restock Pickup Exchange Credit Window Condition Dropoff Refund Authorization Bundle",
    "Warranty": "Claim Repair Replacement Registration Extension Diagnosis Part Technician Coverage Proof Recall Service",
    "Loyalty": "Points Tier Reward Voucher Birthday Referral Expiry Transfer Status Partner Redemption Bonus",
    "Procurement": "Purchase Requisition Approval Tender Catalog Contract Budget Supplier Receipt Invoice Quote Order",
    "Vendor": "Onboarding Payment Dispute Listing Compliance Rating Catalog Contract Performance Bank Audit Portal",
    "Travel": "Booking Flight Hotel Visa Reimbursement Rental Itinerary Cancellation Insurance Allowance Passport Rail",
    "Compliance": "Retention Consent Deletion Export Audit Complaint Screening Sanction Disclosure Privacy Record Hold",
    "Marketplace": "Seller Listing Payout Review Counterfeit Fee Shipment Return Dispute Storefront Rating Catalog",
}

MODIFIERS = (
    "Late Missing Duplicate Damaged Wrong Partial Expired Failed Locked Pending Disputed Delayed Lost Unrecognized "
    "Recurring Bulk International Urgent Incorrect Blocked Cancelled Manual Annual Temporary Corporate Student "
    "Premium Overdue Unauthorized Suspended"
).split()

OWNERS = (
    "Customer Care|Fulfillment Support|Billing Operations|People Team|IT Service Desk|Payroll Services|Facilities Desk|"
    "Returns Desk|Trust and Safety|Loyalty Program|Procurement Office|Travel Desk|Compliance Office|Marketplace Support|"
    "Warranty Services|Order Management|Finance Shared Services|Workplace Experience|Security Operations|Vendor Relations|"
    "Escalations Team|Quality Assurance|Logistics Control|Customer Retention"
).split("|")

# Everyday support vocabulary; the first words are the most frequent after the Zipf shuffle.
CORE_WORDS = """
customer order refund delivery late item parcel package shipment carrier ticket account payment charge card
invoice credit balance return label address email phone number date store team lead manager agent rep case
note record system status reason code line price amount total fee discount voucher points tier reward
warehouse stock replacement exchange repair warranty claim photo proof receipt statement policy exception
approval request form field screen tab menu queue note history log report summary message reply call chat
callback survey feedback complaint issue problem error mistake delay damage defect fault part piece box
pallet truck driver route depot hub region country city postcode zone slot window day week month year hour
minute business weekend holiday deadline period cycle schedule calendar shift rota timecard paycheck payslip
salary bonus deduction tax benefit leave sick holiday contract employee staff supervisor director office desk
room building floor badge access door key locker parking lift kitchen printer laptop monitor network password
login username device app browser link token session certificate license software update backup server
mailbox folder file document copy scan signature seal stamp envelope courier freight customs duty tariff
manifest tracking scan event trace investigation inspection audit review check verification identity
security fraud risk alert flag hold block limit threshold rule step option method path process procedure
guide template script wording promise goodwill gesture apology compensation money cash transfer bank wallet
installment plan subscription renewal cancellation change update correction adjustment reversal dispute
chargeback authorization capture settlement payout seller buyer listing catalog product model variant size
colour color quantity unit bundle kit accessory cable charger battery screen lamp kettle chair sofa table
mattress appliance fridge washer dryer oven heater fan blender vacuum speaker camera watch phone tablet
original new old current previous next first last final full partial open closed pending active expired
missing wrong broken cracked scratched dented lost stolen delayed urgent normal standard express priority
free paid unpaid overdue duplicate correct incorrect valid invalid manual automatic internal external
local national international regional corporate personal private public formal short long high low small
large heavy fragile safe secure available unavailable eligible ineligible approved rejected declined
refused accepted confirmed verified unverified shipped delivered returned received sent opened closed
created updated deleted merged split held released cleared marked tagged linked unlinked assigned
escalated resolved reopened transferred forwarded noted logged checked scanned printed signed paid
charged refunded credited debited waived reduced raised lowered extended shortened booked reserved
cancelled rescheduled postponed moved swapped replaced repaired inspected collected picked packed loaded
look find search open select choose enter type paste confirm check verify ask explain offer suggest
advise remind warn inform notify email text call send attach upload download print sign stamp file
record log note tag flag mark link merge split hold release clear approve reject decline refuse accept
create update delete close reopen cancel reschedule book reserve refund credit charge waive reduce
raise extend escalate transfer forward assign resolve fix repair replace reship resend reissue reset
unlock lock block unblock suspend restore recover retry wait keep return collect pick pack load ship
deliver track trace inspect review audit compare match count measure weigh calculate estimate quote
never always usually often sometimes only still already again instead otherwise because unless until
since while within without against across along around behind beyond near over past per via about
customer's driver's carrier's seller's team's manager's
""".split()
UNINFLECTED = set(CORE_WORDS[CORE_WORDS.index("never") :])

VERBS = """
look find search open select choose enter confirm check verify ask explain offer suggest advise remind
warn inform notify email call send attach upload download print sign record log note tag flag mark link
merge hold release clear approve reject decline accept create update delete close reopen cancel
reschedule book reserve refund credit charge waive reduce raise extend escalate transfer forward assign
resolve fix repair replace reship resend reissue reset unlock block suspend restore retry keep return
collect pick pack ship track trace inspect review audit compare match count calculate estimate quote
""".split()

FUNCTION_WORDS = """
the the the the a a a an to to to of of of and and and in in on on for for with with from by at
or if when then that this it is be are was not no as so than into onto any each all
""".split()

SYLLABLES = """
ba be bi bo bu da de di do du fa fe fi fo ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no
nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za ze zi zo tra tre tri
tro pla ple pli plo gra gre gri gro bra bre bri bro cla cle cli clo stra stre stri stro x n r l s th
""".split()

SYSTEM_PARTS_A = """
Tide Ledger Parcel Help Round Dock Harbor Stone River Cedar Iron Silver North Blue Swift Bright Clear Maple
Summit Beacon Anchor Falcon Orbit Pioneer Atlas Nova Vertex Quartz Cobalt Crimson Amber Willow Granite
""".split()
SYSTEM_PARTS_B = """
water Line Point Harbor Trip Side Desk Gate Bridge Flow Works Hub Base Track Path Ware Book Vault Field
Port Stack Loop Wave Board Yard Post Mark Cast
""".split()
SYSTEM_SUFFIXES = ["", "", "", " OMS", " WMS", " CRM", " HR", " Pay", " ERP", " ITSM", " Portal"]
CODE_PREFIXES = """
DMG RF RMA TKT ORD INV CRN PAY HR IT FAC SHP RET WAR LOY PRC VND TRV CMP MKT SEC ACC BIL ADJ GW EXC
""".split()
CODE_SUFFIXES = """
T KP LT LS FL PT NW OL MN AU WV HD FS SL INTL DOM X1 X2 A B C
""".split()

CONTEXT_OPENERS = [
    "This applies when",
    "Use this procedure when",
    "This covers cases where",
    "Follow these steps if",
    "Reps use this when",
    "This is the standard handling when",
]
SUMMARY_OPENERS = ["A customer reports that", "A rep needs to handle", "An employee asks about", "A caller says", "Use when"]
TITLE_LINKS = ["for", "in", "after", "with", "on", "during", "without"]

ZIPF_EXPONENT = 1.05
ZIPF_OFFSET = 12  # Zipf-Mandelbrot: a flatter head, as for content words once function words are apart
FRESH_TOKEN_RATE = 0.025  # share of words that are fresh numbers or codes (the unbounded tail)


# ---- helpers ---------------------------------------------------------------------------------------
_NO_PLURAL = ("ed", "ing", "al", "ly", "ous", "ive", "ble", "ic", "ent", "ant", "ure", "ate")
_CVC = re.compile(r"^[^aeiou]*[aeiou][bdgmnprt]$")


def _inflections(word: str, verb: bool) -> list[str]:
    if not word.isalpha() or len(word) < 3 or (word.endswith(_NO_PLURAL) and not verb):
        return []
    if word.endswith("y") and word[-2] not in "aeiou":
        plural = word[:-1] + "ies"
    elif word.endswith(("s", "x", "ch", "sh")):
        plural = word + "es"
    else:
        plural = word + "s"
    forms = [plural]
    if verb:
        stem = word[:-1] if word.endswith("e") else word + word[-1] if _CVC.match(word) else word
        forms += [stem + "ed", stem + "ing"]
    return forms


def _pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3, 3, 4))))


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


class _Pool:
    """Words with Zipf weights; `draw` picks one, sometimes a fresh number or code instead."""

    def __init__(self, rng: random.Random, words: list[str]) -> None:
        self.rng = rng
        self.words = words
        self.cum = list(itertools.accumulate(1.0 / ((rank + ZIPF_OFFSET) ** ZIPF_EXPONENT) for rank in range(1, len(words) + 1)))

    def draw(self) -> str:
        rng = self.rng
        if rng.random() < FRESH_TOKEN_RATE:
            kind = rng.randrange(4)
            if kind == 0:
                return f"${rng.randrange(5, 5000)}"
            if kind == 1:
                return str(rng.randrange(10, 100000))
            if kind == 2:
                return f"{rng.choice(CODE_PREFIXES)}-{rng.randrange(100, 10000)}"
            return f"{rng.choice(CODE_PREFIXES)}{rng.randrange(10, 1000)}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}"
        return self.words[bisect.bisect_left(self.cum, rng.random() * self.cum[-1])]


def _build_vocabulary(rng: random.Random) -> tuple[list[str], list[str], list[str]]:
    """(Zipf-ordered word pool, system names, fixed codes)."""
    core = list(dict.fromkeys(CORE_WORDS))
    verbs = set(VERBS)
    inflected = list(dict.fromkeys(f for w in core if w not in UNINFLECTED for f in _inflections(w, w in verbs) if f not in core))
    systems = sorted({a + b.lower() if b.islower() else a + b for a in SYSTEM_PARTS_A for b in SYSTEM_PARTS_B})
    systems = [s + rng.choice(SYSTEM_SUFFIXES) for s in rng.sample(systems, 220)]
    codes = sorted({f"{p}-{s}" for p in CODE_PREFIXES for s in CODE_SUFFIXES})
    codes = rng.sample(codes, 420)
    pseudo: list[str] = []
    seen = set(core) | set(inflected)
    while len(pseudo) < 1800:
        word = _pseudo_word(rng)
        if word not in seen and len(word) > 3:
            seen.add(word)
            pseudo.append(word)
    rng.shuffle(core)
    head, tail = core[:150], core[150:]  # everyday words stay the most frequent
    rest = tail + inflected + systems + codes + pseudo
    rng.shuffle(rest)
    return head + rest, systems, codes


def _build_tags(rng: random.Random) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for category, nouns in CATEGORY_NOUNS.items():
        combos = [f"{m} {n}" for m in MODIFIERS for n in nouns.split()]
        plain = nouns.split()
        subjects = rng.sample(plain, 6) + rng.sample(combos, 8)
        tags[category] = [f"{category}: {s}" for s in subjects]
    return tags


class _Writer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        words, self.systems, self.codes = _build_vocabulary(self.rng)
        self.pool = _Pool(self.rng, words)
        self.tags = _build_tags(self.rng)
        self.all_tags = [t for ts in self.tags.values() for t in ts]
        self.tag_cum = list(itertools.accumulate(1.0 / (r**0.8) for r in range(1, len(self.all_tags) + 1)))
        self.rng.shuffle(self.all_tags)
        self.titles: set[str] = set()
        self.slugs: set[str] = set()

    # ---- text ------------------------------------------------------------------------------
    def phrase(self, n: int) -> list[str]:
        rng = self.rng
        out = []
        for _ in range(n):
            roll = rng.random()
            if roll < 0.33:
                out.append(rng.choice(FUNCTION_WORDS))
            elif roll < 0.345:
                out.append(rng.choice(self.systems))
            else:
                out.append(self.pool.draw())
        return out

    def sentence(self, n: int, opener: str | None = None) -> str:
        rng = self.rng
        lead = opener.split() if opener else [rng.choice(VERBS).capitalize()]
        body = self.phrase(max(1, n - len(lead)))
        if rng.random() < 0.3 and len(body) > 6:  # a clause break now and then
            body[rng.randrange(3, len(body) - 2)] += ","
        text = " ".join(lead + body)
        return text[0].upper() + text[1:] + "."

    def words_in(self, n: int) -> list[str]:
        """Sentences totalling about n words."""
        rng = self.rng
        sentences, left = [], n
        while left > 0:
            size = min(left, rng.randint(9, 22))
            if left - size < 5:
                size = left
            sentences.append(self.sentence(size))
            left -= size
        return sentences

    # ---- one procedure --------------------------------------------------------------------
    def title(self, area: str) -> str:
        rng = self.rng
        for attempt in range(200):
            category = rng.choice(AREAS[area])
            noun = rng.choice(CATEGORY_NOUNS[category].split()).lower()
            parts = [rng.choice(MODIFIERS), noun]
            extra = rng.random()
            if extra < 0.45:
                parts += [rng.choice(TITLE_LINKS), *(w.strip(",") for w in self.phrase(rng.randint(1, 3)) if w not in FUNCTION_WORDS)]
            elif extra < 0.75:
                parts += [rng.choice(("in", "via", "through")), rng.choice(self.systems)]
            if attempt > 20:
                parts.append(rng.choice(self.codes))
            title = " ".join(parts)
            title = title[0].upper() + title[1:]
            slug = f"{area}/{_slugify(title)}"
            if title not in self.titles and slug not in self.slugs and _slugify(title):
                self.titles.add(title)
                self.slugs.add(slug)
                return title
        raise RuntimeError("could not make a unique title")

    def procedure(self, area: str) -> tuple[str, str]:
        rng = self.rng
        title = self.title(area)
        primary = [t for c in AREAS[area] for t in self.tags[c]]
        tags = [rng.choice(primary)]
        while len(tags) < rng.choice((1, 2, 2, 3)):
            tag = self.all_tags[bisect.bisect_left(self.tag_cum, rng.random() * self.tag_cum[-1])]
            if tag not in tags:
                tags.append(tag)
        keywords = None
        if rng.random() < 2 / 3:
            keywords = [" ".join(self.pool.draw() for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(2, 5))]
        summary = self.sentence(rng.randint(10, 18), rng.choice(SUMMARY_OPENERS))
        owner = rng.choice(OWNERS)
        reviewed = _dt.date(2024, 1, 1) + _dt.timedelta(days=rng.randrange(1000))

        steps = [self.sentence(rng.randint(10, 25)) for _ in range(rng.randint(4, 8))]
        alternates = []
        if rng.random() < 0.5:
            for _ in range(rng.randint(1, 3)):
                heading = " ".join(w.strip(",") for w in self.phrase(rng.randint(3, 7)))
                alternates.append((heading[0].upper() + heading[1:], " ".join(self.words_in(rng.randint(20, 50)))))

        front = ["---", f"title: {_q(title)}", "tags:", *(f"  - {_q(t)}" for t in tags)]
        if keywords is not None:
            front.append("keywords: [" + ", ".join(_q(k) for k in keywords) + "]")
        front += [f"summary: {_q(summary)}", f"owner: {_q(owner)}", f"reviewed: {reviewed.isoformat()}", "---", ""]
        tail = ["## Steps", "", *(f"{i}. {s}" for i, s in enumerate(steps, start=1)), ""]
        if alternates:
            tail += ["## Alternate methods", ""]
            for heading, text in alternates:
                tail += [f"### {heading}", "", text, ""]
        target = rng.randint(250, 450)
        used = len(" ".join(front + tail).split())
        context = self.words_in(max(25, target - used))
        context[0] = self.sentence(rng.randint(10, 16), rng.choice(CONTEXT_OPENERS))
        paragraphs = [" ".join(context[i : i + 6]) for i in range(0, len(context), 6)]
        text = "\n".join([*front, "\n\n".join(paragraphs), "", *tail])
        return f"{area}/{_slugify(title)}.md", text


def generate(n: int, out_dir: Path, seed: int = 7) -> None:
    """Writes n procedure files under out_dir (area sub-folders); same n and seed, same bytes."""
    writer = _Writer(seed)
    areas = list(AREAS)
    weights = list(itertools.accumulate(1.0 / (r**0.5) for r in range(1, len(areas) + 1)))  # uneven areas
    out_dir = Path(out_dir)
    for _ in range(n):
        area = areas[bisect.bisect_left(weights, writer.rng.random() * weights[-1])]
        rel, text = writer.procedure(area)
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate N synthetic procedure files.")
    parser.add_argument("n", type=int, help="number of procedures")
    parser.add_argument("out_dir", type=Path, help="output folder (area sub-folders are created)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("N must be >= 0")
    generate(args.n, args.out_dir, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
