"""Yearly member statement, rendered for someone learning to read accounts.

The statement walks from GROSS to NET, one deduction per line, in the member's
language (fr, nl, en):

    revenue received excl. VAT                        (gross)
  - contribution on revenue
  - employer social charges on your salaries
  - contribution on the budget spent on employment
  - cooperative share fee
  = what remained for you                                      (net)

then the activity budget itself (received, spent, left). Revenue is what clients PAID
that year (excl. VAT), less the credit notes issued that year; the contribution rates shown
are those actually applied in the year (several when a rate changed), never the rate of the
day. Every figure comes from the ledger entries dated in the year, so

    net = gross salaries + left in the budget - share fee

to the cent, and a closed year's statement never changes. Amounts are integer
cents formatted per locale: fr "1 234,56 €", nl "€ 1.234,56", en "€1,234.56".
In fr and nl the spaces are NO-BREAK spaces (U+00A0) so an amount never wraps
across lines.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from coop_domain.errors import InvalidArgument

from .money import require_cents

LANGUAGES = ("fr", "nl", "en")
NBSP = "\u00a0"


def _group(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(groups)


def format_money(cents: int, lang: str) -> str:
    """Locale formatting of an amount of cents (never via float)."""
    require_cents(cents, "cents")
    if lang not in LANGUAGES:
        raise InvalidArgument(f"unsupported language {lang!r}", field="language", reason="UNSUPPORTED_LANGUAGE")
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    if lang == "fr":
        return f"{sign}{_group(str(euros), NBSP)},{rest:02d}{NBSP}€"
    if lang == "nl":
        return f"€{NBSP}{sign}{_group(str(euros), '.')},{rest:02d}"
    return f"{sign}€{_group(str(euros), ',')}.{rest:02d}"


def format_rates(rates_bp: tuple[int, ...], lang: str) -> str:
    """The rates applied, for a label: ' (6.5%)', ' (6.5% / 8%)', or '' when none was applied."""
    return f" ({' / '.join(format_rate(bp, lang) for bp in rates_bp)})" if rates_bp else ""


def format_rate(basis_points: int, lang: str) -> str:
    """650 -> '6,5 %' (fr), '6,5%' (nl), '6.5%' (en)."""
    whole, frac = divmod(basis_points, 100)
    text = f"{whole}.{frac:02d}".rstrip("0").rstrip(".")
    if lang == "en":
        return f"{text}%"
    text = text.replace(".", ",")
    return f"{text}{NBSP}%" if lang == "fr" else f"{text}%"


TRANSLATIONS: dict[str, dict[str, str]] = {
    "title": {
        "fr": "Votre relevé annuel {year}",
        "nl": "Uw jaaroverzicht {year}",
        "en": "Your yearly statement {year}",
    },
    "member": {"fr": "Membre : {name}", "nl": "Lid: {name}", "en": "Member: {name}"},
    "from_gross_to_net": {
        "fr": "Du brut au net",
        "nl": "Van bruto naar netto",
        "en": "From gross to net",
    },
    "gross": {
        "fr": "Chiffre d'affaires encaissé (hors TVA) : c'est votre brut",
        "nl": "Ontvangen omzet (excl. btw): dit is uw bruto",
        "en": "Revenue received (excluding VAT): this is your gross",
    },
    "paid_help": {
        "fr": "Compté quand vos clients paient ; une note de crédit compte l'année de son émission.",
        "nl": "Geteld wanneer uw klanten betalen; een creditnota telt in het jaar van uitreiking.",
        "en": "Counted when your clients pay; a credit note counts in the year it is issued.",
    },
    "gross_help": {
        "fr": "La TVA n'est pas à vous : elle est reversée à l'État.",
        "nl": "De btw is niet van u: die wordt aan de staat doorgestort.",
        "en": "VAT is not yours: it is paid over to the State.",
    },
    "revenue_contribution": {
        "fr": "Moins : contribution à la coopérative sur le chiffre d'affaires{rate}",
        "nl": "Min: bijdrage aan de coöperatie op de omzet{rate}",
        "en": "Less: contribution to the cooperative on revenue{rate}",
    },
    "social_charges": {
        "fr": "Moins : cotisations patronales sur vos salaires",
        "nl": "Min: werkgeversbijdragen op uw lonen",
        "en": "Less: employer social charges on your salaries",
    },
    "employment_contribution": {
        "fr": "Moins : contribution sur le budget consacré à l'emploi{rate}",
        "nl": "Min: bijdrage op het budget besteed aan tewerkstelling{rate}",
        "en": "Less: contribution on the budget spent on employment{rate}",
    },
    "share_fee": {
        "fr": "Moins : part de coopérateur",
        "nl": "Min: coöperatief aandeel",
        "en": "Less: cooperative share fee",
    },
    "total_deductions": {
        "fr": "Total des retenues",
        "nl": "Totaal van de inhoudingen",
        "en": "Total deductions",
    },
    "net": {
        "fr": "Reste pour vous (net)",
        "nl": "Blijft voor u (netto)",
        "en": "What remained for you (net)",
    },
    "budget": {"fr": "Votre budget d'activité", "nl": "Uw activiteitenbudget", "en": "Your activity budget"},
    "budget_in": {
        "fr": "Entré dans le budget (paiements reçus hors TVA)",
        "nl": "In het budget gekomen (ontvangen betalingen excl. btw)",
        "en": "Came into the budget (payments received excluding VAT)",
    },
    "budget_out": {
        "fr": "Sorti du budget (contributions, salaires, cotisations)",
        "nl": "Uit het budget gegaan (bijdragen, lonen, werkgeversbijdragen)",
        "en": "Left the budget (contributions, salaries, social charges)",
    },
    "budget_left": {
        "fr": "Reste dans le budget",
        "nl": "Blijft in het budget",
        "en": "Left in the budget",
    },
    "contracts_paid": {
        "fr": "Contrats de travail payés : {count}, salaires bruts",
        "nl": "Betaalde arbeidscontracten: {count}, brutolonen",
        "en": "Employment contracts paid: {count}, gross salaries",
    },
    "amount": {"fr": "Montant", "nl": "Bedrag", "en": "Amount"},
}


HELP_KEYS = ("paid_help", "gross_help")  # printed under the gross-to-net table


def translate(key: str, lang: str, **values: object) -> str:
    """Look up a label; every key exists in every language (tested)."""
    if lang not in LANGUAGES:
        raise InvalidArgument(f"unsupported language {lang!r}", field="language", reason="UNSUPPORTED_LANGUAGE")
    return TRANSLATIONS[key][lang].format(**values)


@dataclass(frozen=True, slots=True)
class MemberStatement:
    """One member's year, in cents. Deductions are positive numbers (revenue and contribution
    are negative in a year whose credit notes exceed its payments). The rates are those applied
    in the year, ascending."""

    member_id: str
    member_name: str
    year: int
    revenue_excl_vat_cents: int
    revenue_contribution_cents: int
    employer_social_charges_cents: int
    employment_contribution_cents: int
    share_fee_cents: int
    budget_in_cents: int
    budget_out_cents: int
    contracts_paid: int
    gross_salaries_cents: int
    revenue_rates_bp: tuple[int, ...] = ()
    employment_rates_bp: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name in (
            "revenue_excl_vat_cents", "revenue_contribution_cents", "employer_social_charges_cents",
            "employment_contribution_cents", "share_fee_cents", "budget_in_cents",
            "budget_out_cents", "gross_salaries_cents",
        ):
            require_cents(getattr(self, name), name)
        if self.contracts_paid < 0:
            raise InvalidArgument("contracts_paid must be >= 0")

    @property
    def deductions(self) -> list[tuple[str, int]]:
        """(translation key, cents) for each deduction, in reading order."""
        return [
            ("revenue_contribution", self.revenue_contribution_cents),
            ("social_charges", self.employer_social_charges_cents),
            ("employment_contribution", self.employment_contribution_cents),
            ("share_fee", self.share_fee_cents),
        ]

    @property
    def total_deductions_cents(self) -> int:
        return sum(c for _k, c in self.deductions)

    @property
    def net_cents(self) -> int:
        return self.revenue_excl_vat_cents - self.total_deductions_cents

    @property
    def budget_left_cents(self) -> int:
        return self.budget_in_cents - self.budget_out_cents

    def rows(self, lang: str) -> list[tuple[str, str, str]]:
        """(css class, label, formatted amount) rows shared by both renderers."""
        t, m = translate, format_money
        rates = {
            "revenue_contribution": format_rates(self.revenue_rates_bp, lang),
            "employment_contribution": format_rates(self.employment_rates_bp, lang),
        }
        rows = [("gross", t("gross", lang), m(self.revenue_excl_vat_cents, lang))]
        for key, cents in self.deductions:
            label = t(key, lang, rate=rates[key]) if key in rates else t(key, lang)
            rows.append(("deduction", label, m(-cents, lang)))
        rows.append(("subtotal", t("total_deductions", lang), m(-self.total_deductions_cents, lang)))
        rows.append(("net", t("net", lang), m(self.net_cents, lang)))
        return rows

    def budget_rows(self, lang: str) -> list[tuple[str, str, str]]:
        t, m = translate, format_money
        return [
            ("in", t("budget_in", lang), m(self.budget_in_cents, lang)),
            ("out", t("budget_out", lang), m(-self.budget_out_cents, lang)),
            ("left", t("budget_left", lang), m(self.budget_left_cents, lang)),
            (
                "contracts",
                t("contracts_paid", lang, count=self.contracts_paid),
                m(self.gross_salaries_cents, lang),
            ),
        ]


def render_text(statement: MemberStatement, lang: str) -> str:
    """Plain text (emails, terminals): labels left, amounts right-aligned."""
    title = translate("title", lang, year=statement.year)
    lines = [title, "=" * len(title), translate("member", lang, name=statement.member_name), ""]
    for heading, rows in (
        (translate("from_gross_to_net", lang), statement.rows(lang)),
        (translate("budget", lang), statement.budget_rows(lang)),
    ):
        lines += [heading, "-" * len(heading)]
        width = max(len(label) for _c, label, _a in rows)
        awidth = max(len(amount) for _c, _l, amount in rows)
        for cls, label, amount in rows:
            if cls in ("net", "left"):
                lines.append("=" * (width + 2 + awidth))
            lines.append(f"{label.ljust(width)}  {amount.rjust(awidth)}")
        if heading == translate("from_gross_to_net", lang):
            lines += [translate(key, lang) for key in HELP_KEYS]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_html(statement: MemberStatement, lang: str) -> str:
    """Self-contained HTML fragment; every user-supplied string is escaped."""
    esc = html.escape
    parts = [
        f'<section class="member-statement" lang="{lang}">',
        f"<h1>{esc(translate('title', lang, year=statement.year))}</h1>",
        f"<p>{esc(translate('member', lang, name=statement.member_name))}</p>",
    ]
    for heading, rows, help_keys in (
        (translate("from_gross_to_net", lang), statement.rows(lang), HELP_KEYS),
        (translate("budget", lang), statement.budget_rows(lang), ()),
    ):
        parts.append(f"<h2>{esc(heading)}</h2>")
        parts.append("<table>")
        parts.append(f'<tr><th></th><th class="amount">{esc(translate("amount", lang))}</th></tr>')
        for cls, label, amount in rows:
            parts.append(
                f'<tr class="{cls}"><td>{esc(label)}</td><td class="amount">{esc(amount)}</td></tr>'
            )
        parts.append("</table>")
        for key in help_keys:
            parts.append(f'<p class="help">{esc(translate(key, lang))}</p>')
    parts.append("</section>")
    return "\n".join(parts) + "\n"
