"""Who pays for an order's main carriage under its Incoterms 2020 rule, and so in which Scope 3
category the customer reports the order's transport emissions.

Under EXW, FCA, FAS and FOB the buyer (the customer) contracts and pays the main carriage: for
the customer it is purchased transport upstream, GHG Protocol Scope 3 category 4. Under CPT,
CIP, CFR, CIF, DAP, DPU and DDP the seller pays it: for the customer it is the seller's
transport, shown as category 9 (downstream transportation and distribution, in the seller's
terms). An order without a rule is "not stated" and falls in neither view. Pure: no Django.
"""

from __future__ import annotations

BUYER = "buyer"
SELLER = "seller"
# Incoterms 2020 (ICC publication 723E): the rules under which the buyer pays the main carriage.
BUYER_PAYS_MAIN_CARRIAGE = frozenset({"EXW", "FCA", "FAS", "FOB"})
SELLER_PAYS_MAIN_CARRIAGE = frozenset({"CPT", "CIP", "CFR", "CIF", "DAP", "DPU", "DDP"})
INCOTERMS_2020 = BUYER_PAYS_MAIN_CARRIAGE | SELLER_PAYS_MAIN_CARRIAGE
# The customer's Scope 3 category for each payer.
SCOPE3_CATEGORY = {BUYER: 4, SELLER: 9}


def main_carriage_payer(incoterm: str | None) -> str | None:
    """ "buyer" or "seller" for an Incoterms 2020 rule, None when not stated; ValueError for a
    code that is not one of the eleven rules."""
    if not incoterm:
        return None
    if incoterm not in INCOTERMS_2020:
        raise ValueError(
            f"unknown Incoterm '{incoterm}'; one of {', '.join(sorted(INCOTERMS_2020))}"
        )
    return BUYER if incoterm in BUYER_PAYS_MAIN_CARRIAGE else SELLER


def scope3_category(incoterm: str | None) -> int | None:
    """The customer's Scope 3 category of the order's transport: 4 (paid by the customer), 9
    (paid by the seller) or None (Incoterm not stated)."""
    payer = main_carriage_payer(incoterm)
    return SCOPE3_CATEGORY[payer] if payer else None


def normalise(text: str | None) -> str:
    """An Incoterm as sent ("fob ", "FOB 2020" is not accepted): upper-cased and trimmed."""
    return (text or "").strip().upper()


def problem(text: str | None) -> str | None:
    """Why `text` is not an Incoterms 2020 rule (None when it is one, or empty)."""
    code = normalise(text)
    if code and code not in INCOTERMS_2020:
        return f"unknown Incoterm '{code}'; one of {', '.join(sorted(INCOTERMS_2020))}"
    return None
