"""Member statement: locale money formatting and rendering in fr, nl, en."""

import pytest

from coop_billing.domain.statement import (
    LANGUAGES,
    NBSP,
    TRANSLATIONS,
    MemberStatement,
    format_money,
    format_rate,
    render_html,
    render_text,
)
from coop_domain.errors import InvalidArgument

STATEMENT = MemberStatement(
    member_id="m1",
    member_name="Zoë <Dupont>",
    year=2026,
    revenue_excl_vat_cents=1_000_000,  # 10,000.00
    revenue_contribution_cents=65_000,  # 650.00
    employer_social_charges_cents=150_000,
    employment_contribution_cents=52_500,
    share_fee_cents=3_000,
    budget_in_cents=1_000_000,
    budget_out_cents=823_055,  # contribution + salaries + charges + employment contribution
    contracts_paid=3,
    gross_salaries_cents=555_555,
    revenue_rates_bp=(650,),
    employment_rates_bp=(750,),
)


def sp(text):
    """Write tests with plain spaces; the formatter uses no-break spaces in fr/nl."""
    return text.replace(" ", NBSP)


@pytest.mark.parametrize(
    ("cents", "lang", "expected"),
    [
        (123_456, "fr", sp("1 234,56 €")),
        (123_456, "nl", sp("€ 1.234,56")),
        (123_456, "en", "€1,234.56"),
        (5, "fr", sp("0,05 €")),
        (0, "en", "€0.00"),
        (123_456_789_01, "en", "€123,456,789.01"),
        (123_456_789_01, "fr", sp("123 456 789,01 €")),
        (100_000, "nl", sp("€ 1.000,00")),
        (-123_456, "fr", sp("-1 234,56 €")),
        (-123_456, "nl", sp("€ -1.234,56")),
        (-123_456, "en", "-€1,234.56"),
    ],
)
def test_money_is_formatted_per_locale(cents, lang, expected):
    assert format_money(cents, lang) == expected


def test_money_formatting_refuses_floats_and_unknown_languages():
    with pytest.raises(InvalidArgument):
        format_money(1.5, "fr")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        format_money(1, "de")


def test_rates_are_formatted_per_locale():
    assert format_rate(650, "en") == "6.5%"
    assert format_rate(650, "nl") == "6,5%"
    assert format_rate(2700, "fr") == sp("27 %")
    assert format_rate(750, "fr") == sp("7,5 %")


def test_every_label_exists_in_every_language():
    for key, texts in TRANSLATIONS.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(t.strip() for t in texts.values()), key


def test_net_is_gross_minus_each_deduction():
    assert STATEMENT.total_deductions_cents == 65_000 + 150_000 + 52_500 + 3_000
    assert STATEMENT.net_cents == 1_000_000 - 270_500
    assert STATEMENT.budget_left_cents == 176_945


def test_statement_rejects_float_amounts_and_negative_contract_count():
    from dataclasses import replace

    with pytest.raises(InvalidArgument):
        replace(STATEMENT, share_fee_cents=30.0)
    with pytest.raises(InvalidArgument):
        replace(STATEMENT, contracts_paid=-1)


def test_english_text_spells_out_gross_each_deduction_and_net():
    text = render_text(STATEMENT, "en")
    assert "Your yearly statement 2026" in text
    assert "Revenue received (excluding VAT): this is your gross" in text
    assert "€10,000.00" in text
    assert "Less: contribution to the cooperative on revenue (6.5%)" in text
    assert "-€650.00" in text
    assert "Less: employer social charges on your salaries" in text and "-€1,500.00" in text
    assert "Less: contribution on the budget spent on employment (7.5%)" in text and "-€525.00" in text
    assert "Less: cooperative share fee" in text and "-€30.00" in text
    assert "Total deductions" in text and "-€2,705.00" in text
    assert "What remained for you (net)" in text and "€7,295.00" in text
    assert "Employment contracts paid: 3" in text and "€5,555.55" in text
    assert "Left in the budget" in text and "€1,769.45" in text
    assert text.index("gross") < text.index("Less:") < text.index("(net)")


def test_french_text_uses_french_labels_and_amounts():
    text = render_text(STATEMENT, "fr")
    assert "Votre relevé annuel 2026" in text
    assert "Chiffre d'affaires encaissé (hors TVA)" in text
    assert sp("10 000,00 €") in text
    assert "Moins : contribution à la coopérative sur le chiffre d'affaires (6,5\u00a0%)" in text
    assert "Membre : Zoë <Dupont>" in text
    assert sp("-650,00 €") in text
    assert "Reste pour vous (net)" in text and sp("7 295,00 €") in text


def test_dutch_text_uses_dutch_labels_and_amounts():
    text = render_text(STATEMENT, "nl")
    assert "Uw jaaroverzicht 2026" in text
    assert "Ontvangen omzet (excl. btw): dit is uw bruto" in text
    assert sp("€ 10.000,00") in text
    assert "Min: bijdrage aan de coöperatie op de omzet (6,5%)" in text
    assert sp("€ -650,00") in text
    assert "Blijft voor u (netto)" in text and sp("€ 7.295,00") in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_html_has_language_attribute_rows_and_escapes_the_member_name(lang):
    out = render_html(STATEMENT, lang)
    assert f'<section class="member-statement" lang="{lang}">' in out
    assert "Zoë &lt;Dupont&gt;" in out and "<Dupont>" not in out
    assert out.count('<tr class="deduction">') == 4
    assert out.count('<tr class="net">') == 1
    assert format_money(STATEMENT.net_cents, lang) in out
    assert "<table>" in out and out.rstrip().endswith("</section>")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_text_rendering_lists_every_deduction_in_every_language(lang):
    text = render_text(STATEMENT, lang)
    for _key, cents in STATEMENT.deductions:
        assert format_money(-cents, lang) in text


def test_the_rates_shown_are_those_applied_in_the_year_and_none_when_nothing_was_taken():
    from dataclasses import replace

    changed = render_text(replace(STATEMENT, revenue_rates_bp=(650, 800)), "en")
    assert "on revenue (6.5% / 8%)" in changed
    labels = [label for _cls, label, _amount in replace(STATEMENT, revenue_rates_bp=(), employment_rates_bp=()).rows("fr")]
    assert "Moins : contribution à la coopérative sur le chiffre d'affaires" in labels
    assert "Moins : contribution sur le budget consacré à l'emploi" in labels


def test_rendering_in_an_unknown_language_is_invalid():
    with pytest.raises(InvalidArgument):
        render_text(STATEMENT, "de")
