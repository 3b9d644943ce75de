"""Every claim of the shared ledger is accounted for, and every citation resolves."""

from pathlib import Path

import yaml

from model.catalog import claim_references, load_catalog
from model.scenario import load_scenario, shipped

LEDGER = Path(__file__).resolve().parents[2] / "shared" / "claims.yaml"


def test_every_claim_is_encoded_or_explained():
    spec = load_catalog()
    refs = claim_references(spec)
    cited_by_scenarios = {c for p in shipped() for c in load_scenario(p).claims}
    for cid in spec["claims"]:
        used = bool(refs.get(cid)) or cid in cited_by_scenarios
        explained = cid in spec["not_modelled"]
        assert used or explained, f"{cid} is neither referenced nor listed as not modelled"
        assert not (refs.get(cid) and explained), f"{cid} is both referenced and listed as not modelled"
    for cid, reason in spec["not_modelled"].items():
        assert len(reason) > 40, f"{cid} needs a real reason"


def test_references_name_existing_claims():
    spec = load_catalog()
    refs = claim_references(spec)
    assert set(refs) == set(spec["claims"]), f"unknown ids cited: {set(refs) - set(spec['claims'])}"


def test_ids_match_the_shared_ledger_and_texts_are_our_own():
    spec = load_catalog()
    ids = [f"C{i:02d}" for i in range(1, 61)]
    assert sorted(spec["claims"]) == ids
    if LEDGER.exists():
        ledger = {c["id"]: c for c in yaml.safe_load(LEDGER.read_text())["claims"]}
        assert set(ledger) == set(ids)
        for cid in ids:
            assert spec["claims"][cid]["source"] == ledger[cid]["source"]
            assert spec["claims"][cid]["text"] != ledger[cid]["claim"], f"{cid} copies the ledger's wording"


def test_every_constraint_and_interest_cites_claims():
    spec = load_catalog()
    for cid, con in spec["constraints"].items():
        assert con["claims"] and con["text"], cid
    for name, actor in spec["actors"].items():
        for term, it in actor["interests"].items():
            assert it["claims"], f"{name}.{term}"
