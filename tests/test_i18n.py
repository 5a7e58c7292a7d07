"""The catalog speaks English and Spanish for every label a user sees."""

from __future__ import annotations

import pytest

from crmkit.dataset.profiles import PROFILE_NAMES
from crmkit.dataset.schema import LEVELS, SCHEMA
from crmkit.errors import ParameterError
from crmkit.i18n import LANGS, catalog, t


def test_every_key_has_both_languages():
    for key, labels in catalog().items():
        assert len(labels) == len(LANGS), key
        assert all(isinstance(x, str) and x.strip() for x in labels), key


def _needed_keys():
    keys = [f"profile.{p}" for p in PROFILE_NAMES]
    keys += [f"lang.{lang}" for lang in LANGS]
    for table in SCHEMA.values():
        keys.append(f"table.{table.name}")
        for col in table.columns:
            keys.append(f"column.{col.name}")
            keys += [f"value.{v}" for v in col.allowed or ()]
    for lv in LEVELS.values():
        keys += [f"level.{lv.number}", f"level_description.{lv.number}"]
        keys += [f"action.{a}" for a in lv.unlocks]
    return sorted(set(keys))


@pytest.mark.parametrize("key", _needed_keys())
@pytest.mark.parametrize("lang", LANGS)
def test_every_user_facing_name_is_in_the_catalog(key, lang):
    assert t(key, lang)


def test_spanish_differs_from_english_where_it_should():
    assert t("table.customers", "es") == "Clientes"
    assert t("value.registered", "es") == "Registrada"


def test_unknown_language_and_key_are_clear_errors():
    with pytest.raises(ParameterError, match="lang='de' is not allowed; choose one of: 'en', 'es'"):
        t("table.orders", "de")
    with pytest.raises(ParameterError, match="no label 'table.nothing'"):
        t("table.nothing", "en")


def test_catalog_files_define_no_key_twice():
    """PyYAML silently keeps the last of two equal keys; this catches such a slip."""
    from importlib import resources

    import yaml

    class Strict(yaml.SafeLoader):
        pass

    def mapping(loader, node):
        keys = [loader.construct_object(k) for k, _ in node.value]
        dup = {k for k in keys if keys.count(k) > 1}
        assert not dup, f"duplicate keys {sorted(map(str, dup))} at line {node.start_mark.line}"
        return loader.construct_mapping(node)

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    files = [f for f in resources.files("crmkit").iterdir() if f.name.startswith("catalog")
             and f.name.endswith(".yaml")]
    assert files
    for f in files:
        yaml.load(f.read_text("utf-8"), Loader=Strict)


def test_key_of_accepts_labels_in_both_languages():
    from crmkit.i18n import key_of

    assert key_of("Correo electrónico") == "email"
    assert key_of("Commercial management") == "commercial"
    assert key_of("nothing like it") == "nothing like it"
