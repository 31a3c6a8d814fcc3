"""The Terraform plan reader: footprints, roles, notes and key control from `terraform show -json` plans.

The fixtures in tests/fixtures/plans/ follow Terraform's documented JSON output format (format_version 1.2) with the
values the AWS (v5), azurerm (v4) and google (v6) providers plan; variations are made by editing a loaded copy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from residency_audit.knowledge import load
from residency_audit.model import CopyRole, KeyControl, Provider, Resource
from residency_audit.plan.reader import (
    FORGOTTEN,
    NOT_A_DATA_STORE,
    NOT_ASSESSED_ANYWHERE,
    NOT_YET_EVALUATED,
    PLANNED_FOR_DELETION,
    UNKNOWN_LOCATION,
    NotEvaluated,
    PlanError,
    read_plan,
)

PLANS = Path(__file__).parent / "fixtures" / "plans"
P, R = CopyRole.PRIMARY, CopyRole.REPLICA


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PLANS / f"{name}.json").read_text())
    return data


def _read(name: str, data: dict[str, Any] | None = None) -> tuple[dict[str, Resource], list[NotEvaluated]]:
    resources, skipped = read_plan(data if data is not None else _load(name), f"{name}.json")
    return {r.id: r for r in resources}, skipped


def _places(resource: Resource) -> list[tuple[str, CopyRole]]:
    return [(c.code, c.role) for c in resource.footprint]


def _planned(data: dict[str, Any], address: str) -> dict[str, Any]:
    modules = [data["planned_values"]["root_module"]]
    while modules:
        module = modules.pop()
        for res in module.get("resources", []):
            if res["address"] == address:
                return res  # type: ignore[no-any-return]
        modules.extend(module.get("child_modules", []))
    raise KeyError(address)


def _change(data: dict[str, Any], address: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in data["resource_changes"] if c["address"] == address and "deposed" not in c)
    return found


def _config(data: dict[str, Any], address: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        r for r in data["configuration"]["root_module"]["resources"] if r["address"] == address
    )
    return found


def _add(data: dict[str, Any], address: str, values: dict[str, Any], provider: str, **expressions: Any) -> None:
    """Plan one more root-module resource created through `provider`, its unknowns those with no value."""
    rtype, name = address.split(".")
    common = {"address": address, "mode": "managed", "type": rtype, "name": name}
    common["provider_name"] = "registry.terraform.io/hashicorp/aws"
    unknown = {"id": True, "arn": True, **{k: True for k in expressions if k not in values}}
    data["planned_values"]["root_module"]["resources"].append({**common, "values": values, "sensitive_values": {}})
    change = {"actions": ["create"], "before": None, "after": values, "after_unknown": unknown}
    data["resource_changes"].append({**common, "change": change})
    config = {"address": address, "mode": "managed", "type": rtype, "name": name, "provider_config_key": provider}
    data["configuration"]["root_module"]["resources"].append({**config, "expressions": expressions})


def _provider(data: dict[str, Any], alias: str, region: str) -> None:
    data["configuration"]["provider_config"][f"aws.{alias}"] = {
        "name": "aws",
        "full_name": "registry.terraform.io/hashicorp/aws",
        "alias": alias,
        "expressions": {"region": {"constant_value": region}},
    }


# --- AWS -------------------------------------------------------------------------------------------------------


def test_aws_bucket_in_aliased_provider_region_replicates_to_the_destination_buckets_region() -> None:
    resources, _ = _read("aws")
    records = resources["aws_s3_bucket.records"]
    assert (records.provider, records.service, records.type) == (Provider.AWS, "s3", "AWS::S3::Bucket")
    assert (records.name, records.account, records.classification) == ("acme-records", "", "personal")
    assert _places(records) == [("eu-central-1", P), ("us-east-1", R)]
    note = records.footprint[1].note or ""
    assert "disaster-recovery enabled" in note and "s3://acme-records-dr" in note
    assert _places(resources["aws_s3_bucket.records_dr"]) == [("us-east-1", P)]


def test_aws_kms_key_in_an_external_key_store_is_external_and_the_default_key_is_provider_managed() -> None:
    resources, _ = _read("aws")
    records = resources["aws_s3_bucket.records"]
    assert records.key_control is KeyControl.EXTERNAL
    assert "aws_kms_custom_key_store.xks" in (records.key_note or "")
    dr = resources["aws_s3_bucket.records_dr"]
    assert (dr.key_control, dr.key_note) == (
        KeyControl.PROVIDER_MANAGED,
        "no default encryption rule: S3 applies SSE-S3 to new objects",
    )


def test_aws_key_in_a_cloudhsm_store_is_only_customer_managed() -> None:
    data = _load("aws")
    _planned(data, "aws_kms_custom_key_store.xks")["values"]["custom_key_store_type"] = "AWS_CLOUDHSM"
    resources, _ = _read("aws", data)
    assert resources["aws_s3_bucket.records"].key_control is KeyControl.CUSTOMER_MANAGED


def test_aws_region_from_a_variable_and_client_side_tag() -> None:
    resources, _ = _read("aws")
    archive = resources["aws_s3_bucket.archive"]
    assert _places(archive) == [("eu-west-3", P)]
    assert "var.archive_region" in (archive.footprint[0].note or "")
    assert archive.key_control is KeyControl.CLIENT_SIDE
    assert archive.key_note == "declared by tag residency:encryption=client-side"


def test_aws_variable_that_is_not_a_region_is_not_used() -> None:
    data = _load("aws")
    data["variables"]["archive_region"]["value"] = "europe"
    resources, _ = _read("aws", data)
    archive = resources["aws_s3_bucket.archive"].footprint[0]
    assert archive.code == UNKNOWN_LOCATION and "var.archive_region" in (archive.note or "")


def test_aws_provider_without_region_gives_an_unknown_copy_that_says_why() -> None:
    data = _load("aws")
    del data["configuration"]["provider_config"]["aws"]["expressions"]["region"]
    resources, _ = _read("aws", data)
    primary = resources["aws_s3_bucket.records_dr"].footprint[0]
    assert primary.code == UNKNOWN_LOCATION and "AWS_REGION" in (primary.note or "")
    # the replica of the EU bucket lands in that bucket: unknown too, never guessed
    assert resources["aws_s3_bucket.records"].footprint[1].code == UNKNOWN_LOCATION


def test_aws_own_region_attribute_of_provider_v6_wins_over_the_provider() -> None:
    data = _load("aws")
    _planned(data, "aws_s3_bucket.archive")["values"]["region"] = "eu-north-1"
    del _change(data, "aws_s3_bucket.archive")["change"]["after_unknown"]["region"]
    resources, _ = _read("aws", data)
    assert _places(resources["aws_s3_bucket.archive"]) == [("eu-north-1", P)]


def test_aws_region_set_from_an_unknown_value_is_known_after_apply() -> None:
    data = _load("aws")
    _config(data, "aws_s3_bucket.records_dr")["expressions"]["region"] = {
        "references": ["data.aws_region.dr.name", "data.aws_region.dr"]
    }
    resources, _ = _read("aws", data)
    primary = resources["aws_s3_bucket.records_dr"].footprint[0]
    assert (primary.code, primary.note) == (UNKNOWN_LOCATION, "region known after apply")
    replica = resources["aws_s3_bucket.records"].footprint[1]
    assert replica.code == UNKNOWN_LOCATION and "known after apply" in (replica.note or "")


def test_aws_replication_to_a_bucket_outside_the_plan_is_an_unknown_replica() -> None:
    data = _load("aws")
    rule = _planned(data, "aws_s3_bucket_replication_configuration.records")["values"]["rule"][0]
    rule["destination"][0]["bucket"] = "arn:aws:s3:::partner-landing"
    unknown = _change(data, "aws_s3_bucket_replication_configuration.records")["change"]["after_unknown"]
    del unknown["rule"][0]["destination"][0]["bucket"]
    del _config(data, "aws_s3_bucket_replication_configuration.records")["expressions"]["rule"]
    resources, _ = _read("aws", data)
    replica = resources["aws_s3_bucket.records"].footprint[1]
    assert (replica.code, replica.role) == (UNKNOWN_LOCATION, R)
    assert "s3://partner-landing" in (replica.note or "") and "not in this plan" in (replica.note or "")


def test_aws_replication_of_a_bucket_outside_the_plan_is_listed_not_evaluated() -> None:
    data = _load("aws")
    _planned(data, "aws_s3_bucket_replication_configuration.records")["values"]["bucket"] = "legacy-bucket"
    del _change(data, "aws_s3_bucket_replication_configuration.records")["change"]["after_unknown"]["bucket"]
    del _config(data, "aws_s3_bucket_replication_configuration.records")["expressions"]["bucket"]
    resources, skipped = _read("aws", data)
    assert len(resources["aws_s3_bucket.records"].footprint) == 1
    reasons = {s.address: s.reason for s in skipped}
    assert "legacy-bucket" in reasons["aws_s3_bucket_replication_configuration.records"]


def test_aws_dynamodb_table_with_replicas() -> None:
    resources, _ = _read("aws")
    table = resources["aws_dynamodb_table.sessions"]
    assert (table.service, table.type, table.name) == ("dynamodb", "AWS::DynamoDB::Table", "sessions")
    assert _places(table) == [("eu-central-1", P), ("eu-west-1", R), ("us-east-1", R)]
    # enabled without a key: the computed kms_key_arn is the AWS managed key, not a customer key
    assert (table.key_control, table.key_note) == (
        KeyControl.PROVIDER_MANAGED,
        "encrypted with the AWS managed key aws/dynamodb",
    )


def test_aws_cross_region_read_replica_adds_a_copy_on_both_sides() -> None:
    resources, _ = _read("aws")
    source, replica = resources["aws_db_instance.reports"], resources["aws_db_instance.reports_replica"]
    assert (source.service, source.type) == ("rds", "AWS::RDS::DBInstance")
    assert _places(source) == [("eu-central-1", P), ("us-east-1", R)]
    assert source.footprint[1].note == "read replica aws_db_instance.reports_replica"
    assert _places(replica) == [("us-east-1", P), ("eu-central-1", R)]
    assert source.key_control is KeyControl.PROVIDER_MANAGED  # storage_encrypted with the default aws/rds key
    assert replica.key_control is KeyControl.CUSTOMER_MANAGED
    assert "cannot be read from a plan" in (replica.key_note or "")


def test_aws_read_replica_of_a_source_outside_the_plan_takes_the_region_of_its_arn() -> None:
    data = _load("aws")
    _planned(data, "aws_db_instance.reports_replica")["values"]["replicate_source_db"] = (
        "arn:aws:rds:ap-southeast-2:111122223333:db:legacy"
    )
    del _change(data, "aws_db_instance.reports_replica")["change"]["after_unknown"]["replicate_source_db"]
    del _config(data, "aws_db_instance.reports_replica")["expressions"]["replicate_source_db"]
    resources, _ = _read("aws", data)
    assert _places(resources["aws_db_instance.reports_replica"]) == [("us-east-1", P), ("ap-southeast-2", R)]
    assert _places(resources["aws_db_instance.reports"]) == [("eu-central-1", P)]


def test_aws_module_resource_uses_the_provider_passed_to_the_module() -> None:
    resources, _ = _read("aws")
    logs = resources["module.logs.aws_s3_bucket.this[0]"]
    assert (logs.name, _places(logs)) == ("acme-logs", [("eu-central-1", P)])


def test_aws_not_evaluated_lists_deletions_and_other_types_but_not_companions() -> None:
    resources, skipped = _read("aws")
    assert (
        NotEvaluated("aws_lambda_function.export", "aws_lambda_function", NOT_A_DATA_STORE, None, "not-data") in skipped
    )
    assert NotEvaluated("aws_s3_bucket.legacy_exports", "aws_s3_bucket", PLANNED_FOR_DELETION) in skipped
    assert "aws_s3_bucket.legacy_exports" not in resources
    listed = {s.address for s in skipped}
    # evaluated as part of their bucket, so not "not evaluated"; data sources are not resources at all
    assert "aws_s3_bucket_replication_configuration.records" not in listed
    assert "aws_s3_bucket_server_side_encryption_configuration.records" not in listed
    assert not any(a.startswith("data.") for a in listed | set(resources))


def test_aws_removed_block_forget_is_listed_as_still_existing() -> None:
    data = _load("aws")
    change = _change(data, "aws_lambda_function.export")
    change["change"]["actions"] = ["forget"]
    data["planned_values"]["root_module"]["resources"] = [
        r for r in data["planned_values"]["root_module"]["resources"] if r["address"] != "aws_lambda_function.export"
    ]
    _, skipped = _read("aws", data)
    assert NotEvaluated("aws_lambda_function.export", "aws_lambda_function", FORGOTTEN) in skipped


def test_aws_plan_with_resource_changes_only_reads_the_after_values() -> None:
    data = _load("aws")
    del data["planned_values"]
    resources, skipped = _read("aws", data)
    assert _places(resources["aws_s3_bucket.records"]) == [("eu-central-1", P), ("us-east-1", R)]
    assert _places(resources["module.logs.aws_s3_bucket.this[0]"]) == [("eu-central-1", P)]
    assert NotEvaluated("aws_s3_bucket.legacy_exports", "aws_s3_bucket", PLANNED_FOR_DELETION) in skipped


def test_aws_inline_replication_of_an_existing_bucket_counts_once() -> None:
    data = _load("aws")
    inline = [
        {
            "role": "arn:aws:iam::111122223333:role/replication",
            "rules": [{"id": "back", "status": "Enabled", "destination": [{"bucket": "arn:aws:s3:::acme-records"}]}],
        }
    ]
    _planned(data, "aws_s3_bucket.records_dr")["values"]["replication_configuration"] = inline
    del _change(data, "aws_s3_bucket.records_dr")["change"]["after_unknown"]["replication_configuration"]
    # the EU bucket's inline block mirrors its separate replication resource: the rule must not count twice
    copy_of_rule = [{"role": "r", "rules": [{"id": "disaster-recovery", "status": "Enabled", "destination": [{}]}]}]
    _planned(data, "aws_s3_bucket.records")["values"]["replication_configuration"] = copy_of_rule
    del _change(data, "aws_s3_bucket.records")["change"]["after_unknown"]["replication_configuration"]
    resources, _ = _read("aws", data)
    assert _places(resources["aws_s3_bucket.records_dr"]) == [("us-east-1", P), ("eu-central-1", R)]
    assert _places(resources["aws_s3_bucket.records"]) == [("eu-central-1", P), ("us-east-1", R)]


def test_plan_without_configuration_leaves_aws_regions_unknown_but_not_azure_locations() -> None:
    aws, azure = _load("aws"), _load("azure")
    del aws["configuration"], azure["configuration"]
    resources, _ = _read("aws", aws)
    assert all(r.footprint[0].code == UNKNOWN_LOCATION for r in resources.values())
    assert "does not describe this resource" in (resources["aws_s3_bucket.records"].footprint[0].note or "")
    resources, _ = _read("azure", azure)
    assert _places(resources["azurerm_storage_account.brazil"]) == [("brazilsouth", P), ("southcentralus", R)]


def test_classification_tag_is_configurable() -> None:
    resources, _ = read_plan(_load("aws"), "aws.json", classification_tag="team")
    assert {r.id: r.classification for r in resources}["aws_s3_bucket.records"] == "billing"


def test_aws_replicated_automated_backups_add_a_copy_in_the_destination_region() -> None:
    data = _load("aws")
    _provider(data, "ireland", "eu-west-1")
    _add(
        data,
        "aws_db_instance_automated_backups_replication.reports",
        {"retention_period": 14},
        "aws.ireland",
        source_db_instance_arn={"references": ["aws_db_instance.reports.arn", "aws_db_instance.reports"]},
    )
    resources, skipped = _read("aws", data)
    reports = resources["aws_db_instance.reports"]
    assert _places(reports) == [("eu-central-1", P), ("us-east-1", R), ("eu-west-1", R)]
    assert reports.footprint[2].note == (
        "automated backups replicated by aws_db_instance_automated_backups_replication.reports"
    )
    assert all(s.type != "aws_db_instance_automated_backups_replication" for s in skipped)


def test_aws_dynamodb_table_replica_resource_adds_its_region_to_the_table() -> None:
    data = _load("aws")
    _provider(data, "tokyo", "ap-northeast-1")
    _add(
        data,
        "aws_dynamodb_table_replica.sessions",
        {"point_in_time_recovery": False},
        "aws.tokyo",
        global_table_arn={"references": ["aws_dynamodb_table.sessions.arn", "aws_dynamodb_table.sessions"]},
    )
    resources, _ = _read("aws", data)
    table = resources["aws_dynamodb_table.sessions"]
    assert _places(table)[-1] == ("ap-northeast-1", R)
    assert table.footprint[-1].note == "global table replica aws_dynamodb_table_replica.sessions"


def test_aws_encryption_with_a_literal_aws_managed_key_alias_is_provider_managed() -> None:
    data = _load("aws")
    rule = _planned(data, "aws_s3_bucket_server_side_encryption_configuration.records")["values"]["rule"][0]
    rule["apply_server_side_encryption_by_default"][0]["kms_master_key_id"] = "alias/aws/s3"
    change = _change(data, "aws_s3_bucket_server_side_encryption_configuration.records")["change"]
    change["after_unknown"]["rule"] = [{}]
    resources, _ = _read("aws", data)
    assert resources["aws_s3_bucket.records"].key_control is KeyControl.PROVIDER_MANAGED


def test_aws_aurora_global_database_members_are_copies_of_each_other() -> None:
    data = _load("aws")
    _provider(data, "tokyo", "ap-northeast-1")
    _add(data, "aws_rds_global_cluster.orders", {"global_cluster_identifier": "orders-global"}, "aws.eu")
    member = {"references": ["aws_rds_global_cluster.orders.id", "aws_rds_global_cluster.orders"]}
    _add(
        data,
        "aws_rds_cluster.primary",
        {"cluster_identifier": "orders-eu", "storage_encrypted": True},
        "aws.eu",
        global_cluster_identifier=member,
    )
    _add(
        data,
        "aws_rds_cluster.secondary",
        {"cluster_identifier": "orders-ap", "storage_encrypted": False},
        "aws.tokyo",
        global_cluster_identifier=member,
    )
    resources, _ = _read("aws", data)
    primary, secondary = resources["aws_rds_cluster.primary"], resources["aws_rds_cluster.secondary"]
    assert (primary.type, primary.name) == ("AWS::RDS::DBCluster", "orders-eu")
    assert _places(primary) == [("eu-central-1", P), ("ap-northeast-1", R)]
    assert primary.footprint[1].note == "global database orders-global member"
    assert _places(secondary) == [("ap-northeast-1", P), ("eu-central-1", R)]
    assert (primary.key_control, secondary.key_note) == (KeyControl.PROVIDER_MANAGED, "storage not encrypted")


def test_data_stores_the_reader_does_not_evaluate_yet_are_not_called_non_data_stores() -> None:
    data = _load("aws")
    _add(data, "aws_ebs_volume.scratch", {"availability_zone": "eu-central-1a", "size": 100}, "aws.eu")
    _, skipped = _read("aws", data)
    # a type no reader assesses yet: said so, with where the plan puts it (never dropped silently)
    expected = NotEvaluated(
        "aws_ebs_volume.scratch", "aws_ebs_volume", NOT_ASSESSED_ANYWHERE, "eu-central-1a", "data-store"
    )
    assert expected in skipped
    # a type the live scan reads but the plan reader does not evaluate yet
    _add(data, "aws_ebs_snapshot.nightly", {"volume_id": "vol-1"}, "aws.eu")
    _, skipped = _read("aws", data)
    snapshot = next(s for s in skipped if s.address == "aws_ebs_snapshot.nightly")
    assert (snapshot.reason, snapshot.location, snapshot.category) == (NOT_YET_EVALUATED, "eu-central-1", "backup")


# --- Azure -----------------------------------------------------------------------------------------------------


def test_azure_grs_account_in_brazil_keeps_its_secondary_in_texas() -> None:
    resources, _ = _read("azure")
    brazil = resources["azurerm_storage_account.brazil"]
    assert (brazil.service, brazil.type) == ("storage-account", "Microsoft.Storage/storageAccounts")
    assert (brazil.name, brazil.classification) == ("stacmebrprod", "personal")
    assert _places(brazil) == [("brazilsouth", P), ("southcentralus", R)]
    assert brazil.footprint[1].note == (
        "geo-redundant replication GRS: secondary = paired region per the knowledge base "
        "(the API's secondaryLocation is known after apply)"
    )
    secondary = load().resolve(Provider.AZURE, "southcentralus")
    assert secondary is not None and secondary.countries == ("US",)
    assert brazil.key_control is KeyControl.PROVIDER_MANAGED


def test_azure_existing_account_uses_the_secondary_the_provider_read() -> None:
    data = _load("azure")
    values = _planned(data, "azurerm_storage_account.brazil")["values"]
    unknown = _change(data, "azurerm_storage_account.brazil")["change"]["after_unknown"]
    values["secondary_location"] = "southcentralus"
    del unknown["secondary_location"]
    resources, _ = _read("azure", data)
    secondary = resources["azurerm_storage_account.brazil"].footprint[1]
    assert (secondary.code, secondary.role) == ("southcentralus", R)
    assert "as the provider read it" in (secondary.note or "") and "knowledge base pairs" not in (secondary.note or "")
    values["secondary_location"] = "eastus"
    resources, _ = _read("azure", data)
    secondary = resources["azurerm_storage_account.brazil"].footprint[1]
    assert secondary.code == "eastus"
    assert "the knowledge base pairs brazilsouth with southcentralus, not eastus" in (secondary.note or "")


def test_azure_lrs_account_with_a_customer_managed_key() -> None:
    resources, _ = _read("azure")
    ledger = resources["azurerm_storage_account.ledger"]
    assert _places(ledger) == [("westeurope", P)]
    assert ledger.key_control is KeyControl.CUSTOMER_MANAGED
    assert "azurerm_key_vault_key.ledger" in (ledger.key_note or "")


def test_azure_geo_redundant_account_in_a_region_without_pair_has_an_unknown_secondary() -> None:
    resources, _ = _read("azure")
    milan = resources["azurerm_storage_account.milan"]
    assert _places(milan) == [("italynorth", P), (UNKNOWN_LOCATION, R)]
    assert "no paired region for italynorth" in (milan.footprint[1].note or "")
    # the key comes from the separate azurerm_storage_account_customer_managed_key resource
    assert milan.key_control is KeyControl.CUSTOMER_MANAGED
    assert "azurerm_storage_account_customer_managed_key.milan" in (milan.key_note or "")


def test_azure_cosmos_geo_locations_by_failover_priority_and_default_geo_backups() -> None:
    resources, _ = _read("azure")
    orders = resources["azurerm_cosmosdb_account.orders"]
    assert (orders.service, orders.type) == ("cosmosdb", "Microsoft.DocumentDB/databaseAccounts")
    assert _places(orders) == [("germanywestcentral", P), ("westeurope", R), ("germanynorth", R)]
    assert "failover priority 1" in (orders.footprint[1].note or "")
    assert "periodic backups" in (orders.footprint[2].note or "")


def test_azure_cosmos_with_local_backups_adds_no_backup_copy() -> None:
    data = _load("azure")
    backup = [{"type": "Periodic", "storage_redundancy": "Local", "interval_in_minutes": 240}]
    _planned(data, "azurerm_cosmosdb_account.orders")["values"]["backup"] = backup
    del _change(data, "azurerm_cosmosdb_account.orders")["change"]["after_unknown"]["backup"]
    resources, _ = _read("azure", data)
    assert _places(resources["azurerm_cosmosdb_account.orders"]) == [("germanywestcentral", P), ("westeurope", R)]


def test_azure_deposed_object_does_not_remove_the_current_one() -> None:
    resources, skipped = _read("azure")
    backups = resources["azurerm_storage_account.backups"]
    assert _places(backups) == [("germanywestcentral", P)]
    assert backups.key_control is KeyControl.CLIENT_SIDE
    assert all(s.address != "azurerm_storage_account.backups" for s in skipped)
    assert {s.address for s in skipped} == {"azurerm_resource_group.data", "azurerm_key_vault_key.ledger"}


# --- Google Cloud ----------------------------------------------------------------------------------------------


def test_gcp_buckets_multi_region_configurable_dual_region_and_predefined_dual_region() -> None:
    resources, _ = _read("gcp")
    analytics = resources["google_storage_bucket.analytics"]
    assert (analytics.service, analytics.type) == ("gcs", "storage.googleapis.com/Bucket")
    assert (_places(analytics), analytics.classification) == ([("EU", P)], "personal")
    dual = resources["google_storage_bucket.dual"]
    assert _places(dual) == [("EUROPE-WEST3", P), ("EUROPE-WEST6", P)]
    kb = load()
    assert [kb.resolve(Provider.GCP, c.code).countries for c in dual.footprint] == [("DE",), ("CH",)]  # type: ignore[union-attr]
    assert _places(resources["google_storage_bucket.backup"]) == [("EUR4", P)]


def test_gcp_lower_case_location_is_reported_upper_case_as_gcs_stores_it() -> None:
    data = _load("gcp")
    _planned(data, "google_storage_bucket.analytics")["values"]["location"] = "eu"
    resources, _ = _read("gcp", data)
    assert _places(resources["google_storage_bucket.analytics"]) == [("EU", P)]


def test_gcp_keys_default_ekm_cmek_and_client_side_label() -> None:
    resources, _ = _read("gcp")
    assert resources["google_storage_bucket.analytics"].key_control is KeyControl.PROVIDER_MANAGED
    dual = resources["google_storage_bucket.dual"]
    assert dual.key_control is KeyControl.EXTERNAL and "EXTERNAL_VPC" in (dual.key_note or "")
    backup = resources["google_storage_bucket.backup"]
    assert (backup.key_control, backup.key_note) == (
        KeyControl.CLIENT_SIDE,
        "declared by label residency-encryption=client-side",
    )


def test_gcp_bigquery_dataset_in_us_with_cmek() -> None:
    resources, skipped = _read("gcp")
    events = resources["google_bigquery_dataset.events"]
    assert (events.service, events.type, events.name) == (
        "bigquery-dataset",
        "bigquery.googleapis.com/Dataset",
        "events",
    )
    assert (_places(events), events.classification) == ([("US", P)], "internal")
    assert events.key_control is KeyControl.CUSTOMER_MANAGED and "HSM" in (events.key_note or "")
    assert (
        NotEvaluated("google_compute_instance.worker", "google_compute_instance", NOT_A_DATA_STORE, None, "not-data")
        in skipped
    )


# --- every code is the knowledge base's, or "unknown" ------------------------------------------------------------


@pytest.mark.parametrize("name", ["aws", "azure", "gcp"])
def test_every_emitted_location_is_a_knowledge_base_code_or_unknown(name: str) -> None:
    kb = load()
    resources, _ = _read(name)
    assert resources
    for resource in resources.values():
        for copy in resource.footprint:
            assert copy.code == UNKNOWN_LOCATION or kb.resolve(resource.provider, copy.code) is not None, (
                resource.id,
                copy,
            )


# --- malformed input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("state", "state.json: top level: this is a Terraform state file"),
        ("format-v2", "format-v2.json: format_version: '2.0' is a newer major version"),
        ("planned-values-list", "planned-values-list.json: planned_values: expected an object, got an array"),
    ],
)
def test_malformed_plan_files_name_the_file_and_the_field(fixture: str, expected: str) -> None:
    with pytest.raises(PlanError) as raised:
        _read(fixture)
    message = str(raised.value)
    assert message.startswith(expected)
    assert "\n" not in message
    if fixture != "format-v2":
        assert "terraform show -json tfplan > plan.json" in message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "plan.json: top level: expected a JSON object (a Terraform plan), got an array"),
        ({"format_version": "1.0", "terraform_version": "1.9.8", "values": {}}, "the JSON form of a state"),
        ({"schema_version": "1", "tool": {"name": "residency-audit"}, "resources": []}, "a residency-audit report"),
        ({"format_version": 1.2, "planned_values": {}}, "format_version: expected a string"),
        (
            {"format_version": "1.2", "planned_values": {"root_module": {"resources": ["aws_s3_bucket.x"]}}},
            "planned_values.root_module.resources[0]: expected an object, got a string",
        ),
        (
            {
                "format_version": "1.2",
                "resource_changes": [{"address": "a.b", "type": "a", "change": {"actions": "create"}}],
            },
            "resource_changes[0].change.actions: expected an array",
        ),
    ],
)
def test_other_malformed_inputs_say_what_is_wrong(data: Any, expected: str) -> None:
    with pytest.raises(PlanError, match="terraform show -json tfplan") as raised:
        read_plan(data, "plan.json")
    assert expected in str(raised.value)
