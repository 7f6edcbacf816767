from extractors import triggers


def test_prefilter_takes_defection_wording() -> None:
    for text in ["Two colonels defected.", "the defection of the minister", "an army deserter",
                 "she crossed the floor to join Labour", "sought political asylum", "switched sides",
                 "resigned in protest against the war", "police who defied orders to shoot protesters"]:
        assert triggers.passes("", text), text


def test_prefilter_drops_unrelated_news() -> None:
    for text in ["The airbag has design defects.", "Stocks rose on Tuesday.", "The minister resigned over a scandal."]:
        assert not triggers.passes("", text), text
