"""Full mode: a 3-6 page contract a person will read, with many ways of stating each field and, in hard
documents, OCR-style noise.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from synthetic.contracts import vocabulary as vocab
from synthetic.contracts.amounts import EXAMPLE_PREMIUMS, amortized_payment, money
from synthetic.contracts.compact import fee_context
from synthetic.contracts.identity import FEE_DECIMALS, PREMIUM_DECIMALS, PREMIUM_WORDS, Identity, apr_of
from synthetic.contracts.layout import Block, PageLayout, boxed_notice, leader_row


class FullDocument(PageLayout):
    """Builds one multi-page contract: picks the wording, lays it out, then adds the hard-mode noise.

    The ground truth never depends on the wording: the identity fixes the values first and every
    choice made here only decides how (and how clearly) the text states them.
    """

    def __init__(self, ident: Identity, difficulty: str, rng: random.Random) -> None:
        self.ident = ident
        self.difficulty = difficulty
        self.rng = rng
        self.hard = difficulty == "hard"
        self.easy = difficulty == "easy"
        self.premium = PREMIUM_DECIMALS[ident.premium_cents]
        self.fee = None if ident.fee_cents is None else FEE_DECIMALS[ident.fee_cents]
        self.width = rng.randint(76, 92)
        self.blocks: list[Block] = []
        self.section_number = 0
        self.family_index = rng.choices((0, 1, 2), weights=(55, 25, 20))[0]
        titles, self.noun, labels, admin_role = vocab.FAMILIES[self.family_index]
        self.title = rng.choice(titles)
        self.section_style = rng.choice(vocab.SECTION_STYLES)
        self.ctx = self._context(rng.choice(labels), admin_role)
        self.doc_fee = self.noisy(rng.choice((85, 150, 199, 299, 399, 499, 699)))
        self.premium_style = rng.choice(
            {
                "easy": ("line", "table", "sentence"),
                "medium": ("words_digits", "itemization", "table", "sentence"),
                "hard": ("words_only", "words_only", "itemization", "itemization", "words_digits"),
            }[difficulty]
        )
        restate_chance = {"easy": 0.0, "medium": 0.5, "hard": 0.4}[difficulty]
        self.restate = self.premium_style != "words_only" and rng.random() < restate_chance
        self.fee_in_rider = self.fee is not None and self.hard and rng.random() < 0.45

    # -- wording ------------------------------------------------------------------------------------------

    def _context(self, label: str, admin_role: str) -> dict[str, str]:
        rng, ident, noun = self.rng, self.ident, self.noun
        contract, creditor, buyer, _short = vocab.CONTRACT_TERMS[ident.contract_type]
        admin, admin_address, admin_phone = vocab.ADMINISTRATORS[ident.admin_index]
        words = PREMIUM_WORDS[ident.premium_cents]
        if self.hard and rng.random() < 0.3:
            words = words.upper()
        ctx = {
            "noun": noun,
            "NOUN": noun.upper(),
            "label": label,
            "contract": contract,
            "creditor": creditor,
            "buyer": buyer,
            "admin": admin,
            "admin_role": admin_role,
            "admin_address": admin_address,
            "admin_phone": admin_phone,
            "P": money(self.premium),
            "PW": words,
            "state": ident.state.name,
            "STATE": ident.state.name.upper(),
            "term": str(ident.term),
            "max_benefit": self.noisy(ident.max_benefit),
            "ltv": str(rng.choice((125, 130, 150))),
            "deductible_cap": self.noisy(rng.choice((500, 1000, 1000, 1500, 2500))),
            "neg_equity_cap": self.noisy(rng.choice((3000, 5000, 7500))),
            "claim_days": str(rng.choice((60, 90, 90, 120, 180))),
            "process_days": str(rng.choice((30, 45, 60))),
            "claim_fee": self.noisy(rng.choice((25, 35, 50))),
            "late_fee": self.noisy(rng.choice((15, 25, 35))),
            "late_pct": str(rng.choice((5, 10))),
            "free_days": str(rng.choice((30, 30, 60))),
        }
        if ident.fee_cents:
            ctx.update(fee_context(ident.fee_cents))
        return ctx

    def fmt(self, clause: str) -> str:
        return clause.format(**self.ctx)

    def pick(self, clauses: tuple[str, ...]) -> str:
        return self.fmt(self.rng.choice(clauses))

    def noisy(self, amount: Decimal | int | float) -> str:
        """A distractor amount; in hard documents OCR may read its ``$`` as ``S`` or a comma as a period.

        Only amounts that are *not* ground truth go through here, so the truth stays recoverable.
        """
        text = money(amount)
        if self.hard:
            roll = self.rng.random()
            if roll < 0.3:
                text = "S" + text[1:]
            elif roll < 0.38 and "," in text:
                text = text.replace(",", ".", 1)
        return text

    # -- the parts of a contract --------------------------------------------------------------------------

    def build(self) -> str:
        rng = self.rng
        self.header()
        if rng.random() < 0.5:
            self.pre(boxed_notice(self.pick(vocab.IMPORTANT_NOTICES), self.width - 4))
        self.para(self.pick(vocab.INTRO_CLAUSES))
        self.parties()
        self.vehicle()
        self.finance_terms()
        if self.premium_style == "line":
            self.pre([self.fmt(rng.choice(vocab.PREMIUM_LINE_CLAUSES))], truth=True)
        elif self.premium_style == "itemization":
            self.itemization()
        charge_section = (
            self.premium_style in ("sentence", "words_digits", "words_only") and rng.random() < 0.6
        )

        self.definitions()
        if rng.random() < 0.5:
            self.optional_section("eligibility", vocab.ELIGIBILITY_CLAUSES)
        self.benefit(
            with_premium=self.premium_style in ("sentence", "words_digits", "words_only")
            and not charge_section
        )
        if charge_section:
            self.heading("charge")
            self.premium_paragraph()
            self.para(self.fmt("The {label} is not refundable except as described in this {noun}."))
        if rng.random() < 0.5:
            self.optional_section("insurance", vocab.INSURANCE_CLAUSES)
        self.exclusions()
        if rng.random() < 0.5:
            self.claims()
            self.refunds()
        else:
            self.refunds()
            self.claims()
        if rng.random() < 0.5:
            self.optional_section("transfer", vocab.TRANSFER_CLAUSES)
        if rng.random() < 0.4:
            self.optional_section("liability", vocab.LIABILITY_CLAUSES)
        self.general()
        if rng.random() < 0.5:
            self.heading("arbitration")
            for clause in vocab.ARBITRATION_CLAUSES:
                self.para(self.fmt(clause))
        self.state_disclosures()
        self.signatures()
        return self.decorate(self.render())

    def header(self) -> None:
        rng, ident, ctx = self.rng, self.ident, self.ctx
        subtitle = rng.choice(
            (
                f"Addendum to {ctx['contract']}",
                "THIS IS NOT INSURANCE" if self.family_index != 2 else "Issued under a Group Policy",
                f"Administered by {ctx['admin']}",
            )
        )
        lines = [self.centered(self.title), self.centered(subtitle), ""]
        if rng.random() < 0.5:
            lines += [
                f"Contract No.: {ident.contract_id}".ljust(44) + f"{self.noun} Date: {ident.day.short}",
                f"Account No.: {ident.account_number}".ljust(44) + f"State: {ident.state.abbr}",
            ]
        else:
            lines += [
                leader_row("Contract Number", ident.contract_id, 52),
                leader_row("Account Number", ident.account_number, 52),
                leader_row(f"Date of {self.noun}", ident.day.long, 52),
            ]
        self.pre(lines)

    def parties(self) -> None:
        rng, ident, ctx = self.rng, self.ident, self.ctx
        zip_code = f"{rng.randint(ident.state.zip_low, ident.state.zip_high):03d}{rng.randint(1, 99):02d}"
        street = f"{rng.randint(100, 9899)} {rng.choice(vocab.STREETS)}"
        address = f"{street}, {ident.city}, {ident.state.abbr} {zip_code}"
        lines = [rng.choice(("PARTIES", "BUYER AND CREDITOR INFORMATION", "NAMES AND ADDRESSES"))]
        lines.append(f"{ctx['buyer']}: {ident.customer_name}".ljust(40) + f"Co-{ctx['buyer']}: None")
        if ident.contract_type == "refinance":
            lines.append(f"{ctx['creditor']}: {ident.lender}, {address}")
        else:
            role = "Dealer/Lessor" if ident.contract_type == "lease" else "Dealer/Creditor"
            lines.append(f"{role}: {ident.dealer}, {address}")
            lines.append(f"Assignee: {ident.lender}")
        if self.family_index == 2:
            lines.append(f"Insurer: {rng.choice(vocab.INSURERS)}")
        lines.append(f"{ctx['admin_role']}: {ctx['admin']}, {ctx['admin_address']}, {ctx['admin_phone']}")
        self.pre(lines)

    def vehicle(self) -> None:
        rng, ident = self.rng, self.ident
        v = ident.vehicle
        condition = "New" if ident.is_new else "Used"
        trim = ident.trim if rng.random() < 0.9 else ""
        if rng.random() < 0.5:
            lines = [
                rng.choice(("VEHICLE INFORMATION", "DESCRIPTION OF VEHICLE", "COVERED VEHICLE")),
                f"Year: {v.year}    Make: {v.make}    Model: {v.model}"
                + (f"    Trim: {trim}" if trim else ""),
                f"VIN: {ident.vin}" + (f"    Color: {ident.color}" if rng.random() < 0.8 else ""),
                f"Odometer: {ident.mileage:,} miles    New/Used: {condition}",
            ]
        else:
            model = f"{v.model} {trim}".strip()
            lines = [
                rng.choice(("DESCRIPTION OF VEHICLE", "VEHICLE")),
                f"{'New/Used':<10}{'Year':<6}{'Make':<15}{'Model':<30}VIN",
                f"{condition:<10}{v.year:<6}{v.make:<15}{model:<30}{ident.vin}",
                f"Odometer Reading: {ident.mileage:,}",
            ]
        self.pre(lines)

    def _former_apr_draws(self) -> None:
        """The draws that picked the APR before it came from the identity (``apr_of``), still made so that
        every other wording choice of a seeded portfolio stays as it was (demo data, pinned tests)."""
        rng, ident = self.rng, self.ident
        if ident.contract_type == "refinance" or not ident.is_new:
            rng.random()
        elif rng.random() < 0.2:
            rng.choice((0.0, 1.9, 2.9))
        else:
            rng.random()

    def finance_terms(self) -> None:
        rng, ident, ctx = self.rng, self.ident, self.ctx
        principal = ident.amount_financed_cents / 100
        table_width = rng.randint(54, 66)
        if ident.contract_type == "lease":
            money_factor = rng.uniform(0.0009, 0.0032)
            msrp = round(principal * rng.uniform(1.03, 1.15), -1)
            residual = round(msrp * rng.uniform(0.45, 0.62), 2)
            payment = (principal - residual) / ident.term + (principal + residual) * money_factor
            rows = [
                ("Adjusted Capitalized Cost", self.noisy(principal)),
                ("Money Factor", f"{money_factor:.5f}"),
                ("Lease Term", f"{ident.term} months"),
                ("Base Monthly Payment", self.noisy(Decimal(f"{payment:.2f}"))),
                ("Residual Value", self.noisy(residual)),
                ("MSRP", self.noisy(msrp)),
            ]
        else:
            self._former_apr_draws()
            stated = apr_of(ident)
            assert stated is not None  # only a lease has no APR
            apr = float(stated)
            balloon = (
                round(principal * rng.uniform(0.25, 0.45), 2) if ident.contract_type == "balloon" else 0.0
            )
            rows = [
                ("Amount Financed", self.noisy(principal)),
                ("Annual Percentage Rate", f"{stated}%"),
                ("Term", f"{ident.term} months"),
                ("Monthly Payment", self.noisy(amortized_payment(principal, apr, ident.term, balloon))),
            ]
            if balloon:
                rows.append(("Final (Balloon) Payment", self.noisy(balloon)))
            value = principal * (rng.uniform(1.02, 1.25) if ident.is_new else rng.uniform(0.85, 1.15))
            rows.append(("MSRP" if ident.is_new else "NADA Retail Value", self.noisy(round(value, -1))))
        rows.append(("Maximum GAP Benefit", f"up to {self.ctx['max_benefit']}"))
        rows.append(("Deductible Coverage", f"up to {self.ctx['deductible_cap']}"))
        if not self.easy or rng.random() < 0.3:
            rows.append(("Documentary Fee", self.doc_fee))
        if not self.easy and rng.random() < 0.5:
            lien_label = rng.choice(("Lien Fee", "Title and Lien Fee", "Lienholder Recording Fee"))
            rows.append((lien_label, self.noisy(Decimal(rng.randint(1500, 9500)).scaleb(-2))))
        if ident.contract_type == "refinance" and self.hard:
            rows.append(
                ("Prior GAP Contract Refund Credit", self.noisy(Decimal(rng.randint(9000, 60000)).scaleb(-2)))
            )
        truth = self.premium_style == "table"
        if truth:
            rows.insert(rng.randint(4, len(rows)), (ctx["label"], ctx["P"]))
        title = rng.choice(
            (f"FINANCE TERMS (from your {ctx['contract']})", "CONTRACT INFORMATION", "SUMMARY OF TERMS")
        )
        self.pre([title] + [leader_row(label, value, table_width) for label, value in rows], truth=truth)

    def itemization(self) -> None:
        """Optional products priced like the GAP charge: the conflicting-looking amounts of harder docs."""
        rng, ctx = self.rng, self.ctx
        products = rng.sample(vocab.OTHER_PRODUCTS, rng.randint(2, 4))
        rows = []
        for name, low, high in products:
            price = rng.randint(low, high) // 5 * 5 - (0 if rng.random() < 0.5 else 5)
            if self.hard:
                price = int(self.premium) + rng.choice((-300, -200, -100, 100, 200, 300))
            price = max(price, 99)
            if Decimal(price) == self.premium:
                price += 50
            rows.append((name, self.noisy(price)))
        rows.insert(rng.randint(0, len(rows)), (ctx["label"], ctx["P"]))
        rows.append(("Documentary Fee", self.doc_fee))
        width = rng.randint(54, 66)
        title = rng.choice(("ITEMIZATION OF OPTIONAL PRODUCTS AND FEES", "OPTIONAL PRODUCTS PURCHASED"))
        self.pre([title] + [leader_row(label, value, width) for label, value in rows], truth=True)

    def premium_paragraph(self) -> None:
        clauses = {
            "sentence": vocab.PREMIUM_SENTENCE_CLAUSES,
            "words_digits": vocab.PREMIUM_WORDS_AND_DIGITS_CLAUSES,
            "words_only": vocab.PREMIUM_WORDS_ONLY_CLAUSES,
        }[self.premium_style]
        self.para(self.pick(clauses), truth=True)

    def optional_section(self, key: str, clauses: tuple[str, ...]) -> None:
        self.heading(key)
        for clause in self.rng.sample(clauses, self.rng.randint(2, len(clauses))):
            self.para(self.fmt(clause))

    def definitions(self) -> None:
        rng = self.rng
        self.heading("definitions")
        chosen = sorted(rng.sample(range(len(vocab.DEFINITIONS)), rng.randint(6, 11)))
        style = rng.randrange(3)
        for index, position in enumerate(chosen):
            term, meaning = vocab.DEFINITIONS[position]
            term = self.fmt(term)
            meaning = self.fmt(meaning)
            if style == 0:
                self.para(f"\u201c{term}\u201d means {meaning}", tight=index > 0)
            elif style == 1:
                self.para(f"{term}: {meaning[0].upper()}{meaning[1:]}", prefix="  ", tight=index > 0)
            else:
                self.para(f"{term.upper()} – {meaning}", tight=index > 0)

    def benefit(self, *, with_premium: bool) -> None:
        self.heading("benefit")
        self.para(self.pick(vocab.BENEFIT_CLAUSES))
        if self.rng.random() < 0.7:
            self.para(self.pick(vocab.DEDUCTIBLE_CLAUSES))
        if with_premium:
            self.premium_paragraph()

    def exclusions(self) -> None:
        rng = self.rng
        self.heading("exclusions")
        self.para(
            self.fmt(rng.choice(("This {noun} does not cover:", "We will not waive any of the following:")))
        )
        items = sorted(rng.sample(range(len(vocab.EXCLUSIONS)), rng.randint(5, 8)))
        for index, position in enumerate(items):
            text = self.fmt(vocab.EXCLUSIONS[position])
            if index == len(items) - 1:
                text = text[:-1] + "."
            self.para(text, prefix=f"({'abcdefghij'[index]}) ", tight=True)

    def claims(self) -> None:
        rng = self.rng
        self.heading("claims")
        for clause in vocab.CLAIM_CLAUSES:
            if rng.random() < 0.85:
                self.para(self.fmt(clause))
        if not self.easy and rng.random() < 0.6:
            self.para(self.pick(vocab.CLAIM_FEE_CLAUSES))

    def refunds(self) -> None:
        rng = self.rng
        self.heading("refund")
        self.para(self.pick(vocab.CANCEL_RIGHT_CLAUSES))
        if rng.random() < 0.5:
            self.para(self.pick(vocab.FREE_LOOK_CLAUSES))
        if rng.random() < 0.7:
            self.para(self.pick(vocab.PAYOFF_CLAUSES))
        if self.restate:
            self.para(self.pick(vocab.PREMIUM_RESTATEMENT_CLAUSES), truth=True)

        method = self.ident.method
        statement = ""
        if method != "Unknown" or rng.random() < 0.65:
            statement = self.pick(vocab.METHOD_CLAUSES[method])
        fee_sentence = ""
        if self.fee is not None and self.fee_in_rider:
            if self.fee:
                fee_sentence = self.pick(vocab.FEE_IN_RIDER_POINTERS)
        elif self.fee is not None:
            suffixes = vocab.FEE_SUFFIX_CLAUSES if self.fee else vocab.NO_FEE_SUFFIX_CLAUSES
            sentences = vocab.FEE_SENTENCE_CLAUSES if self.fee else vocab.NO_FEE_SENTENCE_CLAUSES
            if statement and rng.random() < 0.35:
                statement = statement[:-1] + self.pick(suffixes) + "."
            else:
                fee_sentence = self.pick(sentences)
        text = " ".join(part for part in (statement, fee_sentence) if part)
        if text:
            self.para(text, truth=True)
        if "below" in statement:
            self.short_rate_table()
        example_chance = {"easy": 0.0, "medium": 0.5, "hard": 0.6}[self.difficulty]
        explainable = method in ("Pro-Rata", "Rule of 78s") or (
            method == "Short-Rate" and "below" in statement
        )
        if explainable and rng.random() < example_chance:
            self.worked_example()
        if rng.random() < 0.6:
            self.para(self.pick(vocab.NO_REFUND_AFTER_CLAIM_CLAUSES))
        if rng.random() < 0.6:
            self.para(self.pick(vocab.REFUND_PAYEE_CLAUSES))

    def _short_rate_earned(self) -> list[tuple[int, int, int]]:
        """(first month, last month, % earned) rows: front-loaded, 100% at the end of the term."""
        term = self.ident.term
        step = 6 if term <= 60 else 12
        rows = []
        for first in range(1, term + 1, step):
            last = min(first + step - 1, term)
            earned = 100 if last == term else round(100 * (1 - (1 - last / term) ** 1.7))
            rows.append((first, last, earned))
        return rows

    def short_rate_table(self) -> None:
        rows = self._short_rate_earned()
        half = (len(rows) + 1) // 2
        column = "Months in Force    Earned"
        lines = [
            f"SHORT-RATE TABLE – PERCENTAGE OF THE {self.ctx['label'].upper()} EARNED",
            f"{column}        {column}",
        ]
        for left, right in zip(rows[:half], [*rows[half:], None], strict=False):
            cell = f"  {left[0]:>3} – {left[1]:<3}          {left[2]:>3}%"
            if right:
                cell += f"          {right[0]:>3} – {right[1]:<3}          {right[2]:>3}%"
            lines.append(cell)
        self.pre(lines)

    def worked_example(self) -> None:
        """A refund computed on a different, hypothetical charge: a consistent but tempting distractor."""
        rng, ident = self.rng, self.ident
        amount = Decimal(rng.choice([a for a in EXAMPLE_PREMIUMS if a != self.premium]))
        term = ident.term
        elapsed = rng.randrange(6, term - 5, 6) if term > 12 else 6
        remaining = term - elapsed
        if ident.method == "Pro-Rata":
            refund = amount * remaining / term
            how = f"{self.noisy(amount)} x {remaining}/{term}"
        elif ident.method == "Rule of 78s":
            refund = amount * remaining * (remaining + 1) / (term * (term + 1))
            how = f"{self.noisy(amount)} x ({remaining} x {remaining + 1}) / ({term} x {term + 1})"
        else:
            earned = next(row[2] for row in self._short_rate_earned() if row[0] <= elapsed <= row[1])
            refund = amount * (100 - earned) / 100
            how = f"{100 - earned}% of {self.noisy(amount)}"
        refund = refund.quantize(Decimal("0.01"))
        tail = ""
        if self.fee and not self.fee_in_rider:
            tail = f", before the cancellation fee of {self.ctx['fee']} is deducted"
        label = self.ctx["label"]
        self.para(
            f"For example, if the {label} were {self.noisy(amount)} and you cancelled after {elapsed} of "
            f"{term} months, your refund would be {how} = {self.noisy(refund)}{tail}. This example is for "
            "illustration only; your refund will be based on the actual charge and cancellation date."
        )

    def general(self) -> None:
        rng = self.rng
        self.heading("general")
        for clause in rng.sample(vocab.GENERAL_CLAUSES, rng.randint(2, len(vocab.GENERAL_CLAUSES))):
            self.para(self.fmt(clause))

    def state_disclosures(self) -> None:
        rng, ident = self.rng, self.ident
        self.heading("state")
        clauses = vocab.STATE_CLAUSES.get(ident.state.abbr, ()) or (rng.choice(vocab.GENERIC_STATE_CLAUSES),)
        for clause in clauses:
            self.para(self.fmt(clause))
        if self.fee_in_rider:
            self.para(
                self.pick(vocab.FEE_RIDER_CLAUSES if self.fee else vocab.NO_FEE_RIDER_CLAUSES), truth=True
            )
        if rng.random() < 0.4:
            self.para(self.pick(vocab.GENERIC_STATE_CLAUSES))

    def signatures(self) -> None:
        rng, ident, ctx = self.rng, self.ident, self.ctx
        party = ident.lender if ident.contract_type == "refinance" else ident.dealer
        line = "_" * 30
        self.pre(
            [
                f"BY SIGNING BELOW, THE {ctx['buyer'].upper()} ACKNOWLEDGES RECEIVING A COMPLETED COPY OF "
                f"THIS {ctx['NOUN']}.",
                "",
                f"{ctx['buyer']}: {ident.customer_name}".ljust(46) + f"Date: {ident.day.short}",
                f"Signature: {line}",
                "",
                f"{ctx['creditor']}: {party}",
                f"By: {line}   Title: {rng.choice(vocab.EMPLOYEE_TITLES)}",
            ]
        )

    def decorate(self, pages: list[list[str]]) -> str:
        rng, ident, ctx = self.rng, self.ident, self.ctx
        code = ("GW", "DCA", "GIC")[self.family_index]
        revision = ident.day.value - timedelta(days=rng.randint(120, 900))
        form = f"Form {code}-{rng.randint(100, 999)}-{ident.state.abbr} (Rev. {revision:%m/%y})"
        footer_style = rng.randrange(3)
        running_header = rng.random() < 0.5
        total = len(pages)
        rendered = []
        for number, body in enumerate(pages, start=1):
            page_label = f"Page {number} of {total}"
            if footer_style == 0:
                footer = form + page_label.rjust(self.width - len(form))
            elif footer_style == 1:
                footer = f"{page_label}    {form}"
            else:
                footer = f"{form}    {ctx['buyer']}'s Initials: ______    {page_label}"
            header = []
            if running_header and number > 1:
                header = [f"{self.title} – Contract No. {ident.contract_id}", ""]
            rendered.append("\n".join([*header, *body, "", footer]))
        return "\f".join(rendered)


# ---- public API -----------------------------------------------------------------------------------------
