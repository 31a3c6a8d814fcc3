"""The catalogue's integrity: every entry valid, every store module registered, every registered module real.

Adding a store touches its catalogue entry, its one module, its tests and the demo: these tests fail when one of the
first two is missing.
"""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from typing import Any

import pytest

import residency_audit.stores
from residency_audit.catalogue import Catalogue, CatalogueError, Category, CopyRule, load, load_from
from residency_audit.model import Provider
from residency_audit.plan.stores import PLAN_OR_REASON, PLAN_READERS
from residency_audit.scan import SERVICES


def _store_modules() -> set[str]:
    found = set()
    for cloud in ("aws", "azure", "gcp"):
        package = importlib.import_module(f"residency_audit.stores.{cloud}")
        for info in pkgutil.iter_modules(package.__path__):
            if info.name != "common" and f"{cloud}.{info.name}" != "aws.registry":  # helpers, listings: no store
                found.add(f"{cloud}.{info.name}")
    return found


def test_every_store_module_is_registered_and_every_registered_module_exists() -> None:
    catalogue = load()
    assert catalogue.stores() == _store_modules()
    assert residency_audit.stores.__path__  # the package the names resolve in


def test_every_service_is_one_catalogue_entry_of_its_provider() -> None:
    catalogue = load()
    by_service = {(str(t.provider), t.service) for t in catalogue.types if t.service}
    assert by_service == {(p, s) for p, services in SERVICES.items() for s in services}


def test_every_plan_reader_is_registered_with_its_store() -> None:
    catalogue = load()
    for rtype, reader in [*PLAN_READERS.items(), *PLAN_OR_REASON.items()]:
        entry = catalogue.find(rtype)
        assert entry is not None and entry.store is not None, rtype
        assert reader.__module__ == f"residency_audit.stores.{entry.store}", rtype


def test_entries_are_valid_and_data_bearing_ones_say_how_copies_are_found() -> None:
    catalogue = load()
    assert {t.provider for t in catalogue.types} == set(Provider)
    for t in catalogue.types:
        assert t.names and t.key in t.names
        assert t.category in Category and t.copies in CopyRule
        if t.copies in (CopyRule.FIELD, CopyRule.ENRICHER):
            assert t.copies_from, t.name
        assert catalogue.find(t.key) is t and catalogue.find(t.key.upper()) is t  # case-insensitive


@pytest.mark.parametrize(
    "name",
    [
        # the data-bearing types whose copies hide (DESIGN §5): known, counted as not assessed
        "AWS::Backup::BackupVault",
        "AWS::SecretsManager::Secret",
        "AWS::KMS::Key",
        "AWS::ECR::Repository",
        "AWS::EFS::FileSystem",
        "AWS::Redshift::Cluster",
        "AWS::ElastiCache::ReplicationGroup",
        "Microsoft.RecoveryServices/vaults",
        "Microsoft.KeyVault/vaults",
        "Microsoft.Sql/managedInstances",
        "Microsoft.Cache/Redis",
        "Microsoft.EventHub/namespaces",
        "Microsoft.ServiceBus/namespaces",
        "Microsoft.ContainerRegistry/registries",
        "Microsoft.OperationalInsights/workspaces",
        "compute.googleapis.com/Snapshot",
        "compute.googleapis.com/Image",
        "secretmanager.googleapis.com/Secret",
        "logging.googleapis.com/LogBucket",
        "pubsub.googleapis.com/Topic",
        "artifactregistry.googleapis.com/Repository",
        "firestore.googleapis.com/Database",
        "spanner.googleapis.com/Instance",
        "bigtableadmin.googleapis.com/Instance",
    ],
)
def test_hidden_copies_are_known_data_bearing_types(name: str) -> None:
    entry = load().find(name)
    assert entry is not None and entry.data_bearing, name


def _doc(**fields: Any) -> dict[Provider, tuple[str, dict[str, Any]]]:
    entry = {"name": "Thing", "category": "data-store", "copies": "none", "arm": "Microsoft.Thing/things"} | fields
    return {Provider.AZURE: ("azure.toml", {"types": [{k: v for k, v in entry.items() if v is not None}]})}


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"category": "database"}, "category must be one of"),
        ({"copies": "geo"}, "copies must be one of"),
        ({"copies": "field"}, "needs copies_from"),
        ({"arm": "storageAccounts"}, "is not in the form"),
        ({"terraform": ["aws_s3_bucket"]}, "is not a azure provider type"),
        ({"store": "aws.s3", "service": "x"}, "must be 'azure.<module>'"),
        ({"store": "azure.thing"}, "needs the --service name"),
        ({"category": "not-data", "store": "azure.thing", "service": "thing"}, "a store reads data"),
        ({"colour": "blue"}, "unknown field(s) colour"),
        ({"arm": None}, "needs arm or terraform"),
    ],
)
def test_a_malformed_entry_is_refused_naming_file_entry_and_field(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(CatalogueError, match=r"azure\.toml: types\[0\]") as raised:
        load_from(_doc(**fields))
    assert problem in str(raised.value)


def test_a_name_used_twice_is_refused() -> None:
    docs = _doc()
    docs[Provider.AZURE][1]["types"].append(
        {"name": "Again", "category": "log", "copies": "none", "arm": "Microsoft.THING/things"}
    )
    with pytest.raises(CatalogueError, match="already used by Thing"):
        load_from(docs)


def test_the_bundled_files_parse_as_toml_with_only_types() -> None:
    from importlib import resources

    for provider in Provider:
        text = resources.files("residency_audit.catalogue").joinpath(f"{provider.value}.toml").read_text()
        assert set(tomllib.loads(text)) == {"types"}
    assert isinstance(load(), Catalogue)


def test_every_store_modules_plan_readers_are_registered() -> None:
    for name in sorted(_store_modules()):
        module = importlib.import_module(f"residency_audit.stores.{name}")
        for rtype, reader in getattr(module, "PLAN", {}).items():
            assert PLAN_READERS.get(rtype) is reader, f"{name}: {rtype} is not in plan/stores.py"
        for rtype, reader in getattr(module, "PLAN_OR_REASON", {}).items():
            assert PLAN_OR_REASON.get(rtype) is reader, f"{name}: {rtype} is not in plan/stores.py"
