"""What the labels of a GAP contract say: the vocabulary the ``rules`` extractor links amounts to.

Each amount in a contract is read through the label nearest to it: "GAP Waiver Charge" names the premium,
"cancellation fee" the fee, "Amount Financed" or "up to" something that is neither. The patterns are lower
case and run over a lower-cased copy of the text (several times faster than ``re.IGNORECASE``).
"""

import re
from dataclasses import dataclass

# Inside a label, spacing may wrap onto the next line but never crosses a blank line or a page.
_SPACE = r"(?:[ \t]+\n?[ \t]*|\n[ \t]*)"
_SPACE_OR_DASH = r"(?:[ \t-]+\n?[ \t-]*|\n[ \t-]*)"
# What the buyer pays for, as a contract names it: "GAP Waiver", "this Addendum", "this Certificate" (but not a
# "certificate of title").
_PRODUCT_NAME = r"""
    (?:gap(?:[\s-]+(?:waiver|addendum|contract|protection|coverage|agreement|insurance|certificate)){0,2}
      |waiver|addendum|debt\s+cancellation|debt\s+waiver|protection|agreement|certificate(?!\s+of\b))\b"""
_PREMIUM_LABEL = (
    r"""
    (?:gap\b(?:[\s-]+(?:waiver|addendum|contract|protection|agreement|coverage|insurance|plan
                      |debt\s+waiver)){0,2}[\s-]+(?:charge|premium|price|fee|cost)\b
      | (?:waiver|addendum|debt\s+cancellation|debt\s+waiver|protection)[\s-]+(?:charge|price|fee|premium|cost)\b
      | (?:(?:purchase|retail|sale|sales|selling|total)\s+)?(?:price|charge|premium|cost|fee)\s+(?:of|for)\s+
        (?:this\s+policy\b|(?:this\s+|the\s+|your\s+)?(?:"""
    + _PRODUCT_NAME
    + r"""|coverage\b|plan\b)))"""
)
# One alternation scanned once per document. Leftmost match wins, and among matches at the same position the
# first alternative wins, so specific phrases come first: "debt cancellation fee" is the price of a debt
# cancellation agreement and must never be read as the "cancellation fee" inside it.
LABEL = re.compile(
    r"""
    \b(?=[a-z])(?:
      (?P<premium>"""
    + _PREMIUM_LABEL
    + r""")
    | (?P<premium_generic>(?:contract|agreement|plan|coverage|certificate)[\s-]+(?:charge|price|fee|premium|cost)\b)
    | (?P<other_fee>
          late\s+(?:payment\s+)?(?:fee|charge)s?\b
        | fees?\s+for\s+late\s+payments?\b
        | (?:documentation|documentary|document|doc|title|registration|license|recording|filing|lien
            |extension|deferment|deferral|repossession|storage|towing|nsf|arbitration|arbitrator'?s)
          \s+(?:fee|charge)s?\b
        | returned\s+(?:check|payment)\s+(?:fee|charge)s?\b
        | (?:payoff|claims?|lienholder|loan)\s+(?:processing\s+)?(?:fee|charge)s?\b)
    | (?P<fee>
          cancel(?:l)?ation\s+(?:processing\s+|administrative\s+|admin\s+|service\s+)?(?:fee|charge|penalty)s?\b
        | (?:termination|refund)\s+(?:processing\s+)?(?:fee|charge)s?\b
        | (?:fee|charge)s?\s+(?:for|upon|on)\s+(?:any\s+|each\s+|every\s+)?cancel(?:l)?ation\b)
    | (?P<refund>
          unearned\b(?:[\s-]+[\w']+){0,4}?[\s-]+(?:charge|premium|price|fee|cost)s?\b
        | refunds?\b(?:\s+amount)?
        | would\s+be\b)
    | (?P<fee_generic>(?:administrative|administration|admin|processing|service|handling)\s+(?:fee|charge)s?\b
        | fees?\b)
    | (?P<fee_verb>(?:retain|retains|deduct|deducts|keep|keeps)\b)
    | (?P<premium_item>gap(?:[\s-]+(?:waiver|addendum|contract|protection|coverage|agreement))?\b)
    | (?P<distractor>
          amount\s+financed\b|financed\s+amount\b|loan\s+amount\b|principal\b
        | (?:cash|purchase|sale|sales|selling)\s+price\b|total\s+sale\s+price\b
        | vehicle(?:\s+(?:contract|purchase|sale|sales))?\s+price\b
        | msrp\b|manufacturer'?s\s+suggested\b|value\b|capitali[sz]ed\s+cost\b
        | down\s*payment\b|trade[\s-]*in\b
        | (?:monthly|regular|scheduled|installment|first|each)\s+payments?\b|payments?\s+of\b
        | payment\s+amount\b|finance\s+charge\b|total\s+of\s+payments\b|annual\s+percentage\s+rate\b
        | apr\b|interest\b|balance\b|payoff\b|deficiency\b
        | max(?:imum)?\b(?:\s+(?:benefit|payout|amount|waiver|limit))?|benefit\b|limit(?:ed|s)?\b
        | not\s+to\s+exceed\b|exceed(?:s|ing)?\b|up\s+to\b|in\s+excess\s+of\b|over\b
        | (?:more|less)\s+than\b|at\s+least\b
        | deductibles?\b|reimburse(?:ment|s)?\b|credit\s+(?:of|toward|life|disability|insurance)\b
        | service\s+contract\b|warrant(?:y|ies)\b|negative\s+equity\b|settlement\b|proceeds\b
        | tax(?:es)?\b|public\s+officials\b)
    | (?P<weak>(?:premium|charge|price|cost)s?\b|agree[sd]?\s+to\s+pay\b)
    )
    """.replace(r"[\s-]+", _SPACE_OR_DASH).replace(r"\s+", _SPACE),
    re.VERBOSE,
)
# Labels that follow their amount: "$50.00 cancellation fee", "$675.00 for this GAP Waiver".
LABEL_AFTER = re.compile(
    r"""
    [\s)]*(?:
        (?P<premium>for\s+(?:this\s+policy\b|(?:this|the|your)\s+"""
    + _PRODUCT_NAME
    + r""")
          # "... Dollars as the GAP Charge for this Addendum"
          | as\s+(?:the\s+|your\s+)?(?:total\s+)?"""
    + _PREMIUM_LABEL
    + r"""
          # a right-aligned table: the amount, then its label closing the line
          | (?<=[0-9])[ \t]+gap(?:[ \t]+(?:waiver|addendum|contract|protection))?[ \t]+(?:premium|charge|price|fee)
            [ \t]*(?=\n|$))
      | (?P<fee>(?:non-?refundable\s+)?(?:cancel(?:l)?ation|termination)\s+(?:fee|charge|penalty)\b)
      | (?P<fee_generic>(?:administrative\s+|admin\s+|processing\s+|service\s+|handling\s+)?fee\b)
      | (?P<distractor>deductible|per\s+(?:month|repair)|monthly|credit\b)
    )
    """.replace(r"\s+", _SPACE),
    re.VERBOSE,
)
# OCR splits words ("GAP Waiv er Char ge"): labels are looked for again in the line with its spaces removed.
SQUEEZED_LABEL = re.compile(
    r"(?P<premium>gap(?:waiver|addendum|contract|protection)?(?:charge|premium|price|fee))|(?P<fee>cancel+ationfee)"
)
SQUEEZE = re.compile(r"[\s:.$]+")
SQUEEZED_SLACK = 4
# What may stand between a bare product name and its amount: "GAP Waiver (optional): $795.00", "the GAP Waiver
# is priced at $812.00". Anything more ("GAP Waiver benefits are limited to $50,000") is not its price.
FILLER = re.compile(
    r"[\s.:_|\-–—]*(?:\([^()]{0,60}\)[\s.:_|\-–—]*)?(?:(?:is[ \t]+)?priced[ \t]+at[ \t]+|costs?[ \t]+)?"
)
# What joins a row's label to its amount on the same line: dot leaders, a colon, a short parenthetical.
LEADER = re.compile(r"[ \t.:_|\-–—]*(?:\([^()\n]{0,60}\)[ \t.:_|\-–—]*)?")
# What sets a row's leader apart from a space between two words of prose.
ROW_LEADER = re.compile(r"[.:_|\t)]|  ")
CAP = re.compile(r"exceed|up\s+to|max|limit")

# Labels that name what an amount is; a verb ("retain") or a weak word only hints at it, so a naming label
# right after the amount ("retain a $25.00 cancellation fee") wins over them.
NAMING_KINDS = frozenset({"premium", "premium_item", "premium_generic", "fee", "fee_generic", "other_fee"})
FEE_KINDS = frozenset({"fee", "fee_generic", "fee_verb"})


@dataclass(frozen=True, slots=True)
class Label:
    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Linked:
    """The label an amount belongs to, and how it was found (which sets how far it is trusted)."""

    kind: str
    start: int
    end: int
    how: str
