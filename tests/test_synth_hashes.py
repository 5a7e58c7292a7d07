"""The generator's output pinned to the bit: every table of four shops, hashed.

Notebook baselines, the committed samples in ``data/samples`` and every figure a lesson
shows depend on the exact rows the generator draws for a seed. These digests were taken
from the generator as it was before its memory was reduced; a change to how tables are
built (dtypes of intermediate arrays, order of work, tables written as soon as they are
final) must leave every digest as it is.

Run ``python tests/test_synth_hashes.py`` to print the digests of the current code.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from crmkit.dataset.synth import generate

#: (profile, customers) -> table -> digest of its columns, dtypes, index and values.
DIGESTS: dict[tuple[str, int], dict[str, str]] = {
    ('fashion_chain', 2000): {
        'table:customers': '61cc44e1535e735d',
        'table:products': 'f0d793a5effe8d06',
        'table:orders': '25662561221ef253',
        'table:order_lines': '18b621c3f88c6704',
        'table:web_sessions': '4ae2baa27c4116e6',
        'table:campaigns': '06df906e8cd4a4ce',
        'table:campaign_contacts': '463af892511c782a',
        'table:tickets': 'e4e094a32a204ee2',
        'table:ticket_events': '4538ff1aefa490d5',
        'table:opportunities': '41ed2650da114f1f',
        'table:inventory': '4c052b85062e52d8',
        'table:newsletter': 'dfabea2bbdbbfa49',
        'table:web_referrals': 'b5ee9bcd20526ea6',
        'table:social_mentions': '4957fca793777dd9',
        'table:influencer_orders': 'e00619d4f8bc036b',
        'table:surveys': 'b8036c47da7f282d',
        'table:customisations': '9d46fd5ea22be30b',
        'table:store_visits': '071b84419793374f',
        'truth:customers': '48292b800b27db17',
        'truth:campaigns': 'df98485d36fe35f5',
        'truth:complements': '215fe922e4452444',
        'manifest': '442eeea304d8ab1f',
    },
    ('sports_shop', 2000): {
        'table:customers': 'b9c82bfa45217e95',
        'table:products': 'af46e2ad93c29635',
        'table:orders': '2a0d188650eaa869',
        'table:order_lines': 'a06d743fd832d2e6',
        'table:web_sessions': 'b005eb5799863b98',
        'table:campaigns': 'b5dee00a3153a619',
        'table:campaign_contacts': '0469e8ef5a993e42',
        'table:tickets': 'c75a3b3a93b5cdd5',
        'table:ticket_events': '51d6bd6e42ab8a1d',
        'table:opportunities': '19c6befdff34acc7',
        'table:inventory': '5077a2c0a53f503e',
        'table:newsletter': '6388e9f5145548a3',
        'table:web_referrals': '254307c27f699783',
        'table:social_mentions': '53258dd1f849eef1',
        'table:influencer_orders': '187be12ca0a24d76',
        'table:surveys': '55126c6b1c93da2b',
        'table:customisations': 'f206452beb89c9c1',
        'table:store_visits': 'c642d6aa02e4e258',
        'truth:customers': '73dbf8eaba8c2d7a',
        'truth:campaigns': '800a1d44ac60fa78',
        'truth:complements': '3a3a90dd68162830',
        'manifest': '95ee2a6fbd1072e3',
    },
    ('fashion_chain', 30000): {
        'table:customers': 'cfa84f9c0bb785c7',
        'table:products': 'f0d793a5effe8d06',
        'table:orders': '9ba4a2cd4c04d473',
        'table:order_lines': '5b8be42ac8d65ff8',
        'table:web_sessions': 'a311bf1399f6c154',
        'table:campaigns': 'f188115066592676',
        'table:campaign_contacts': 'a7fed68ef98141cf',
        'table:tickets': 'a4028baa11be2693',
        'table:ticket_events': '61c2085da907ef9f',
        'table:opportunities': 'ab62614d23b687d0',
        'table:inventory': '1213153e5ced5804',
        'table:newsletter': '6e0a1a94a4404a11',
        'table:web_referrals': 'd1c7fe020db09394',
        'table:social_mentions': '324e5e187c2edfe3',
        'table:influencer_orders': '4f567313862a5fc2',
        'table:surveys': 'f7d9b392a9d4b22a',
        'table:customisations': 'e1b7017c5e6d66f9',
        'table:store_visits': '6db5319ead6bbc09',
        'truth:customers': '4c4cfb985fabb414',
        'truth:campaigns': '9ee22763ebbb6385',
        'truth:complements': '215fe922e4452444',
        'manifest': '6aa5dd6d1d03b819',
    },
    ('sports_shop', 30000): {
        'table:customers': '11864ba38dd32d1e',
        'table:products': 'af46e2ad93c29635',
        'table:orders': '25c5dc5af26e3c5f',
        'table:order_lines': 'f51eab4f136139b4',
        'table:web_sessions': '6edcf471cbc10a0f',
        'table:campaigns': '25b80d33250309ed',
        'table:campaign_contacts': '46af161b29d7b024',
        'table:tickets': '4853d4c4b0197450',
        'table:ticket_events': '64a493b4503aa4c6',
        'table:opportunities': 'c73513da713bf82e',
        'table:inventory': 'cd1c96bc7d120c98',
        'table:newsletter': 'ac06f94fee4fc436',
        'table:web_referrals': 'd2ab41816c4d0e42',
        'table:social_mentions': '5f3d8878422531da',
        'table:influencer_orders': 'c0aadaa47e18973b',
        'table:surveys': '6ac4a289484693a6',
        'table:customisations': '9f51c1319a792257',
        'table:store_visits': 'd4ae30b9d60d8800',
        'truth:customers': '3d448b96516165b2',
        'truth:campaigns': '93448340d6c34147',
        'truth:complements': '3a3a90dd68162830',
        'manifest': '7358afa62fdb33f0',
    },
}

SHOPS = (("fashion_chain", 2_000), ("sports_shop", 2_000),
         ("fashion_chain", 30_000), ("sports_shop", 30_000))
SEED = 4


def table_digest(df: pd.DataFrame) -> str:
    """SHA-256 (first 16 hex digits) of a table's column names, dtypes, index and values."""
    h = hashlib.sha256()
    h.update(json.dumps([list(map(str, df.columns)), [str(t) for t in df.dtypes]]).encode())
    h.update(str(len(df)).encode())
    if len(df.columns):
        h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    return h.hexdigest()[:16]


def shop_digests(profile: str, n: int) -> dict[str, str]:
    """Digests of every table, truth table and the manifest (less the version) of one shop.

    The keys keep the order of ``data.tables``: the order is part of the output too.
    """
    data = generate(profile, n_customers=n, seed=SEED)
    out = {f"table:{k}": table_digest(v) for k, v in data.tables.items()}
    out |= {f"truth:{k}": table_digest(v) for k, v in data.truth.items()}
    manifest = {k: v for k, v in data.manifest.items() if k != "crmkit_version"}
    out["manifest"] = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()
                                     ).hexdigest()[:16]
    return out


def test_digest_tells_values_dtypes_and_order_apart():
    base = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
    same = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
    assert table_digest(base) == table_digest(same)
    assert table_digest(base) != table_digest(base.astype({"a": "Int64"}))
    assert table_digest(base) != table_digest(base.iloc[::-1].reset_index(drop=True))
    assert table_digest(base) != table_digest(base.assign(b=["x", "y", "z"]))
    assert table_digest(base) != table_digest(base[["b", "a"]])


@pytest.mark.parametrize(("profile", "n"), SHOPS)
def test_every_table_is_bit_for_bit_what_it_was(profile, n):
    got = shop_digests(profile, n)
    want = DIGESTS[(profile, n)]
    assert list(got) == list(want), "tables added, removed or reordered"
    changed = [k for k in want if got[k] != want[k]]
    assert not changed, f"{profile} x {n}: changed {changed}"


if __name__ == "__main__":  # print the digests of the current code, to paste above
    print("DIGESTS: dict[tuple[str, int], dict[str, str]] = {")
    for shop in SHOPS:
        print(f"    {shop!r}: {{")
        for k, v in shop_digests(*shop).items():
            print(f"        {k!r}: {v!r},")
        print("    },")
    print("}")
