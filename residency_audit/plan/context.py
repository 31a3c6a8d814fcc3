"""The plan walk's shared parts: lookups across the plan (one planned resource instance is in item.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..clouds.gcp import GOOGLE_DEFAULT_KEY
from ..model import Copy, CopyRole, KeyControl, Provider, Resource
from ..stores.common import CLIENT_SIDE_LABEL, CLIENT_SIDE_TAG, UNKNOWN_LOCATION, declared_key_control
from .file import UNRESOLVED_PROVIDER
from .item import Item as Item  # re-exported: every evaluator imports it with the Context
from .item import dig

if TYPE_CHECKING:
    from .reader import Plan

AFTER_APPLY = "known after apply"
NOT_A_DATA_STORE = "not a data store residency-audit evaluates"
NOT_YET_EVALUATED = (
    "a data store the plan reader does not evaluate yet: its copies are not checked here; run `residency-audit "
    "scan` after apply"
)
PLANNED_FOR_DELETION = "planned for deletion"
FORGOTTEN = (
    "removed from Terraform state without being destroyed (a `removed` block): its data remains, no longer "
    "managed here; scan the live account to assess it"
)
DEFAULT_CLASSIFICATION_TAG = "data-classification"
GEO_REPLICATION = {"GRS", "RAGRS", "GZRS", "RAGZRS"}  # azurerm account_replication_type values with a secondary
GCP_EXTERNAL_LEVELS = {"EXTERNAL", "EXTERNAL_VPC"}  # Cloud EKM protection levels: the key is held outside Google
RDS_DEFAULT_KEY = "encrypted with the AWS managed key aws/rds"

# --- lookups across the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """How a companion resource names the data store it configures."""

    attribute: str
    target_type: str
    match: tuple[str, ...]  # the target's attributes that the companion's value may equal


LINKS = {
    "aws_s3_bucket_replication_configuration": Link("bucket", "aws_s3_bucket", ("bucket", "id")),
    "aws_s3_bucket_server_side_encryption_configuration": Link("bucket", "aws_s3_bucket", ("bucket", "id")),
    "aws_dynamodb_table_replica": Link("global_table_arn", "aws_dynamodb_table", ("arn",)),
    "aws_db_instance": Link("replicate_source_db", "aws_db_instance", ("arn", "identifier", "id")),
    "aws_rds_cluster": Link("replication_source_identifier", "aws_rds_cluster", ("arn", "cluster_identifier", "id")),
    "aws_db_instance_automated_backups_replication": Link("source_db_instance_arn", "aws_db_instance", ("arn",)),
    "azurerm_storage_account_customer_managed_key": Link("storage_account_id", "azurerm_storage_account", ("id",)),
    "azurerm_storage_object_replication": Link("source_storage_account_id", "azurerm_storage_account", ("id",)),
}


@dataclass
class Context:
    """The plan with its indexes, and lookups shared by every evaluator."""

    plan: Plan
    classification_tag: str
    by_address: dict[str, Item] = field(default_factory=dict)
    by_type: dict[str, list[Item]] = field(default_factory=dict)
    # (module instance, type, name) → its instances, for references to a resource with count or for_each
    by_block: dict[tuple[str, str, str], list[Item]] = field(default_factory=dict)
    # indexes built on first use, so a plan of thousands of buckets is not scanned once per lookup
    _by_value: dict[tuple[str, str], dict[str, list[Item]]] = field(default_factory=dict)
    _linked: dict[str, dict[str, list[Item]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for item in self.plan.items:
            self.by_address[item.address] = item
            self.by_type.setdefault(item.type, []).append(item)
            self.by_block.setdefault((item.module, item.type, item.name), []).append(item)

    def with_value(self, target_type: str, attribute: str, value: str) -> list[Item]:
        """The planned `target_type` resources whose known `attribute` equals `value`."""
        key = (target_type, attribute)
        if key not in self._by_value:
            index: dict[str, list[Item]] = {}
            for item in self.by_type.get(target_type, []):
                known = item.text(attribute)
                if known is not None:
                    index.setdefault(known, []).append(item)
            self._by_value[key] = index
        return self._by_value[key].get(value, [])

    def target(
        self,
        source: Item,
        path: tuple[str | int, ...],
        target_type: str,
        match: tuple[str, ...],
        normalize: Callable[[str], str] = str,
    ) -> list[Item]:
        """The planned `target_type` resources an attribute names: by its known value, else by its references."""
        value = source.text(*path)
        if value is not None:
            wanted = normalize(value)
            found = {t.address: t for a in match for t in self.with_value(target_type, a, wanted)}
            if found:
                return list(found.values())
        return self.referenced(source, path, target_type)

    def referenced(self, source: Item, path: tuple[str | int, ...], target_type: str) -> list[Item]:
        """The resources of `target_type` the attribute's expression refers to, in the source's module instance."""
        prefix = f"{source.module}." if source.module else ""
        refs = [r for r in source.references(*path) if r.startswith(f"{target_type}.")]
        for ref in refs:  # most specific first: 'aws_s3_bucket.b[0].arn', 'aws_s3_bucket.b[0]', 'aws_s3_bucket.b'
            exact = self.by_address.get(prefix + ref)
            if exact is not None and exact.type == target_type:
                return [exact]
        names = dict.fromkeys(ref.split(".")[1].split("[")[0] for ref in refs)
        return [t for name in names for t in self.by_block.get((source.module, target_type, name), [])]

    def linked(self, store: Item, companion_type: str) -> list[Item]:
        """The `companion_type` resources that configure `store` (replication rules, default encryption, …)."""
        if companion_type not in self._linked:
            by_target: dict[str, list[Item]] = {}
            link = LINKS[companion_type]
            for companion in self.by_type.get(companion_type, []):
                for target in self._link_targets(companion, link):
                    by_target.setdefault(target.address, []).append(companion)
            self._linked[companion_type] = by_target
        return self._linked[companion_type].get(store.address, [])

    def _link_targets(self, companion: Item, link: Link) -> list[Item]:
        return self.target(companion, (link.attribute,), link.target_type, link.match)

    def global_members(self, cluster: Item) -> list[tuple[Item, str]]:
        """The other Aurora clusters of `cluster`'s global database in this plan, with the database's name."""
        group = self._global_group(cluster)
        if group is None:
            return []
        return [
            (c, group)
            for c in self.by_type.get("aws_rds_cluster", [])
            if c is not cluster and self._global_group(c) == group
        ]

    def _global_group(self, cluster: Item) -> str | None:
        """A global database's identity: its identifier when known, else the aws_rds_global_cluster referred to."""
        name = cluster.text("global_cluster_identifier")
        if name is not None:
            return name
        found = self.referenced(cluster, ("global_cluster_identifier",), "aws_rds_global_cluster")
        if len(found) != 1:
            return None
        return found[0].text("global_cluster_identifier") or found[0].address

    def describe(self, source: Item, path: tuple[str | int, ...]) -> str:
        """An attribute for a note: its value, else the planned resource it refers to, "known after apply"."""
        value = source.text(*path)
        if value is not None:
            return value
        prefix = f"{source.module}." if source.module else ""
        named = next((prefix + r for r in source.references(*path) if prefix + r in self.by_address), None)
        return f"{named} ({AFTER_APPLY})" if named else f"({AFTER_APPLY})"

    def unlinked_reason(self, companion: Item) -> str | None:
        """Why a companion is not evaluated (its data store is not in the plan), or None when it was."""
        link = LINKS[companion.type]
        if self._link_targets(companion, link):
            return None
        value = companion.text(link.attribute) or AFTER_APPLY
        return (
            f"configures {value} ({link.attribute}), which is not a {link.target_type} in this plan: "
            "scan the live account to assess it"
        )

    # --- AWS regions and keys ------------------------------------------------------------------------------

    def aws_region(self, item: Item) -> tuple[str, str | None]:
        """The region of an AWS resource: its own `region` (provider v6), else its provider configuration's."""
        own = item.text("region")
        if own is not None:
            return own, None
        if item.is_unknown("region") and item.configured("region"):
            return UNKNOWN_LOCATION, f"region {AFTER_APPLY}"
        return self._provider_region(item)

    def _provider_region(self, item: Item) -> tuple[str, str | None]:
        if item.config is None:
            return (
                UNKNOWN_LOCATION,
                "the plan's configuration does not describe this resource: its AWS region is unknown",
            )
        keys = item.config.get("provider_config_keys") or [item.config.get("provider_config_key")]
        if len(keys) != 1 or not isinstance(keys[0], str):
            return UNKNOWN_LOCATION, f"the provider configuration is chosen per instance: region {AFTER_APPLY}"
        key = keys[0]
        provider = self.plan.providers.get(key)
        if not isinstance(provider, dict):
            why = item.config.get(UNRESOLVED_PROVIDER)  # a module's provider that an old plan does not record
            why = why or f"provider configuration {key} is not in the plan's configuration"
            return UNKNOWN_LOCATION, f"{why}: region unknown"
        expr = dig(provider, ("expressions", "region"))
        if not isinstance(expr, dict):
            return UNKNOWN_LOCATION, (
                f"provider {key} sets no region: it comes from AWS_REGION or the AWS profile when Terraform runs, "
                "which the plan does not record"
            )
        constant = expr.get("constant_value")
        if isinstance(constant, str) and constant:
            return constant, None
        return self._region_variable(provider, key, expr)

    def _region_variable(self, provider: Mapping[str, Any], key: str, expr: Mapping[str, Any]) -> tuple[str, str]:
        """A provider region given as `var.x`: the variable's value, when it is plainly a known AWS region."""
        from ..knowledge import load

        refs = [r for r in expr.get("references") or [] if isinstance(r, str)]
        names = {r.split(".")[1].split("[")[0] for r in refs if r.startswith("var.")}
        # Only a root module's variables are in the plan, and only a lone `var.x` is surely the region itself:
        # anything else (locals, functions of several values) is an expression this reader does not evaluate.
        if len(names) == 1 and all(r.startswith("var.") for r in refs) and not provider.get("module_address"):
            name = names.pop()
            value = dig(self.plan.variables, (name, "value"))
            if isinstance(value, str) and load().resolve(Provider.AWS, value) is not None:
                return value, f"region from var.{name} (provider {key})"
        shown = ", ".join(refs) or "no constant value"
        return UNKNOWN_LOCATION, f"provider {key}'s region is an expression ({shown}): {AFTER_APPLY}"

    def aws_key(self, source: Item, path: tuple[str | int, ...], default_note: str) -> tuple[KeyControl, str]:
        """Key control of a KMS key attribute; `default_note` says what an unset key means for this service."""
        value = source.text(*path)
        if value is None:
            if not source.is_unknown(*path) or source.configured(*path) is False:
                return KeyControl.PROVIDER_MANAGED, default_note  # unset, or computed by AWS: the default key
            if source.configured(*path) is None:
                return KeyControl.UNKNOWN, f"KMS key {AFTER_APPLY}, and the plan has no configuration to say whose"
        elif "alias/aws/" in value:
            return KeyControl.PROVIDER_MANAGED, f"AWS managed KMS key {value}"
        keys = self.target(source, path, "aws_kms_key", ("arn", "key_id", "id"))
        if len(keys) == 1:
            return self._kms_key(keys[0])
        return KeyControl.CUSTOMER_MANAGED, (
            f"customer managed KMS key {self.describe(source, path)}: its origin (AWS KMS, imported or an "
            "external key store) cannot be read from a plan"
        )

    def _kms_key(self, key: Item) -> tuple[KeyControl, str]:
        store_id = key.text("custom_key_store_id")
        if store_id is None and not (key.is_unknown("custom_key_store_id") and key.configured("custom_key_store_id")):
            return KeyControl.CUSTOMER_MANAGED, f"customer managed KMS key {key.address} (held in AWS KMS)"
        stores = self.target(key, ("custom_key_store_id",), "aws_kms_custom_key_store", ("id",))
        kinds = {_store_type(s) for s in stores}
        if kinds == {"EXTERNAL_KEY_STORE"}:
            return KeyControl.EXTERNAL, (
                f"KMS key {key.address} in the external key store {stores[0].address} (XKS): held outside AWS"
            )
        if kinds == {"AWS_CLOUDHSM"}:
            return KeyControl.CUSTOMER_MANAGED, (
                f"KMS key {key.address} in the CloudHSM key store {stores[0].address}: held in AWS CloudHSM"
            )
        # A custom key store is either CloudHSM (inside AWS) or external; without its type, claim the weaker level.
        return KeyControl.CUSTOMER_MANAGED, (
            f"KMS key {key.address} in custom key store {store_id or f'({AFTER_APPLY})'}: whether that store is "
            "external (XKS) or CloudHSM cannot be read from the plan, so the weaker level is reported"
        )

    def gcp_key(self, source: Item, path: tuple[str | int, ...]) -> tuple[KeyControl, str]:
        """Key control of a Cloud KMS key attribute (CMEK), Google's default when none is set."""
        value = source.text(*path)
        if value is None and not source.is_unknown(*path):
            return GOOGLE_DEFAULT_KEY
        keys = self.target(source, path, "google_kms_crypto_key", ("id",), _without_version)
        if len(keys) == 1:
            level = keys[0].text("version_template", 0, "protection_level") or "SOFTWARE"
            if level in GCP_EXTERNAL_LEVELS:
                return KeyControl.EXTERNAL, (
                    f"Cloud KMS key {keys[0].address} held outside Google (Cloud EKM, protection {level})"
                )
            return KeyControl.CUSTOMER_MANAGED, f"customer-managed Cloud KMS key {keys[0].address} (protection {level})"
        return KeyControl.CUSTOMER_MANAGED, (
            f"customer-managed Cloud KMS key {self.describe(source, path)}; whether it is held externally (EKM) "
            "cannot be read from the plan"
        )

    # --- the resource ------------------------------------------------------------------------------------------

    def resource(
        self,
        item: Item,
        provider: Provider,
        kind: tuple[str, str, str],
        footprint: list[Copy],
        key: tuple[KeyControl, str],
        tags: dict[str, str],
    ) -> Resource:
        """A Resource for a planned item: `kind` is (service, type, the attribute holding its name)."""
        service, rtype, name_attribute = kind
        if provider is Provider.GCP:
            key_control, key_note = declared_key_control(tags, CLIENT_SIDE_LABEL, key, word="label")
        else:
            key_control, key_note = declared_key_control(tags, CLIENT_SIDE_TAG, key)
        return Resource(
            provider=provider,
            account="",  # not known before apply
            service=service,
            type=rtype,
            id=item.address,
            name=item.text(name_attribute) or item.address,
            footprint=tuple(footprint),
            key_control=key_control,
            key_note=key_note,
            tags=tags,
            classification=tags.get(self.classification_tag),
        )


def _store_type(store: Item) -> str:
    kind = store.text("custom_key_store_type")
    if kind is None and store.is_unknown("custom_key_store_type") and store.configured("custom_key_store_type"):
        return "?"
    return kind or "AWS_CLOUDHSM"  # the type AWS gives a store created without one


def _without_version(name: str) -> str:
    return name.split("/cryptoKeyVersions/")[0]


def plan_tags(item: Item, *attributes: str) -> dict[str, str]:
    """The first known map among `attributes` (tags_all before tags: it includes the provider's default tags)."""
    for attribute in attributes:
        value = item.get(attribute)
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
    return {}


def unknown_copy(role: CopyRole, why: str) -> Copy:
    """A copy in an unknown location, with why it is unknown."""
    return Copy(UNKNOWN_LOCATION, role, note=why)
