"""Read a Terraform plan (`terraform show -json tfplan`) into resources, before anything is deployed.

Pure: no cloud call, no terraform binary. The plan's `planned_values` say what each resource will look like after
apply, `resource_changes[].change.after_unknown` says which of those values Terraform cannot know yet, and
`configuration` holds the provider blocks (where an AWS region usually lives) and each attribute's references (how a
replication rule names its destination bucket when that bucket's ARN is not known yet).

What is not known at plan time is reported as unknown, never guessed: a copy whose region is "known after apply"
is a copy in the location "unknown", with a note saying why.

Format: https://developer.hashicorp.com/terraform/internals/json-format. planfile.py reads the file (encodings,
formats 0.x and 1.x, field types) and hands this reader one convention.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .connectors.common import (
    CLIENT_SIDE_LABEL,
    CLIENT_SIDE_TAG,
    UNKNOWN_LOCATION,
    declared_key_control,
    dedupe_places,
    region_of_arn,
)
from .connectors.gcp import GOOGLE_DEFAULT_KEY, bucket_footprint
from .model import Copy, CopyRole, KeyControl, Provider, Resource
from .planfile import HINT, UNRESOLVED_PROVIDER, document
from .planfile import PlanError as PlanError  # the reader's error, raised by the front end and the walk alike

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

# Data stores (several covered by the live scan) that this reader does not evaluate yet: said so, rather than
# "not a data store", so nobody reads a pass on a plan as a verdict on them.
_OTHER_DATA_STORES = frozenset(
    {
        "aws_docdb_cluster",
        "aws_dynamodb_global_table",
        "aws_ebs_snapshot",
        "aws_ebs_snapshot_copy",
        "aws_ebs_volume",
        "aws_efs_file_system",
        "aws_elasticache_replication_group",
        "aws_neptune_cluster",
        "aws_redshift_cluster",
        "aws_s3_directory_bucket",
        "azurerm_managed_disk",
        "azurerm_mssql_database",
        "azurerm_mysql_flexible_server",
        "azurerm_postgresql_flexible_server",
        "azurerm_snapshot",
        "google_bigtable_instance",
        "google_compute_disk",
        "google_firestore_database",
        "google_spanner_instance",
        "google_sql_database_instance",
    }
)
_GEO_REPLICATION = {"GRS", "RAGRS", "GZRS", "RAGZRS"}  # azurerm account_replication_type values with a secondary
_GCP_EXTERNAL_LEVELS = {"EXTERNAL", "EXTERNAL_VPC"}  # Cloud EKM protection levels: the key is held outside Google
_RDS_DEFAULT_KEY = "encrypted with the AWS managed key aws/rds"


@dataclass(frozen=True)
class NotEvaluated:
    """A planned resource the reader leaves out, and why (listed in the report, never dropped silently)."""

    address: str
    type: str
    reason: str


def read_plan(
    data: Any, path: str, *, classification_tag: str = DEFAULT_CLASSIFICATION_TAG
) -> tuple[list[Resource], list[NotEvaluated]]:
    """The data stores a parsed `terraform show -json` plan leaves once applied, and what is not evaluated.

    `data` is the parsed JSON, `path` the file it came from (for messages). Each resource's id is its Terraform
    address and its account is "" (not known before apply). Raises PlanError for anything that is not a plan in
    format 0.x or 1.x, naming the field at fault.
    """
    plan = _parse(document(data, path), path)
    ctx = _Context(plan, classification_tag)
    resources: list[Resource] = []
    skipped: list[NotEvaluated] = []
    for item in plan.items:
        store = _STORES.get(item.type)
        if store is not None:
            resources.append(store(ctx, item))
        elif item.type in _LINKS:
            reason = ctx.unlinked_reason(item)
            if reason is not None:  # a companion of a store in this plan was evaluated with that store
                skipped.append(NotEvaluated(item.address, item.type, reason))
        else:
            reason = NOT_YET_EVALUATED if item.type in _OTHER_DATA_STORES else NOT_A_DATA_STORE
            skipped.append(NotEvaluated(item.address, item.type, reason))
    return resources, skipped + plan.removed


# --- one planned resource instance -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """One planned resource instance: its known values, what stays unknown until apply, and its configuration."""

    address: str
    type: str
    name: str
    module: str  # the module instance address, "" in the root module: 'module.storage["eu"]'
    values: Mapping[str, Any]
    unknown: Any  # change.after_unknown: True, or the shape of `values` with True at unknown leaves
    config: Mapping[str, Any] | None  # its block in configuration; None when the plan carries no configuration

    def get(self, *path: str | int) -> Any:
        """The value at `path`, or None when it is absent, null or not known until apply."""
        return None if self.is_unknown(*path) else _dig(self.values, path)

    def is_unknown(self, *path: str | int) -> bool:
        """Whether Terraform will only know the value at `path` after apply."""
        node = self.unknown
        for step in path:
            if node is True:
                return True
            node = _step(node, step)
        return node is True

    def configured(self, *path: str | int) -> bool | None:
        """Whether the configuration sets the attribute at `path`; None when the plan has no configuration."""
        if self.config is None:
            return None
        return _dig(self.config.get("expressions"), path) is not None

    def references(self, *path: str | int) -> list[str]:
        """The references of the attribute's expression in the configuration, most specific first."""
        expr = _dig(self.config.get("expressions") if self.config else None, path)
        refs = expr.get("references") if isinstance(expr, dict) else None
        return [r for r in refs if isinstance(r, str)] if isinstance(refs, list) else []

    def blocks(self, *path: str | int) -> list[Mapping[str, Any]]:
        """The known nested blocks at `path` (list, set or single nesting), as a list of objects."""
        value = self.get(*path)
        if isinstance(value, dict):
            return [value]
        return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else []

    def text(self, *path: str | int) -> str | None:
        """The known, non-empty string at `path`, or None."""
        value = self.get(*path)
        return value if isinstance(value, str) and value else None


def _step(node: Any, step: str | int) -> Any:
    if isinstance(node, dict) and isinstance(step, str):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return None


def _dig(node: Any, path: Iterable[str | int]) -> Any:
    for step in path:
        node = _step(node, step)
    return node


# --- the plan's shape ----------------------------------------------------------------------------------------


@dataclass
class _Plan:
    path: str
    items: list[_Item]
    removed: list[NotEvaluated]
    variables: Mapping[str, Any]
    providers: Mapping[str, Any]


def _error(path: str, where: str, problem: str) -> PlanError:
    return PlanError(f"{path}: {where}: {problem}; {HINT}")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _expect(value: Any, kind: type, path: str, where: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
        raise _error(path, where, f"expected {_json_kind(kind())}, got {_json_kind(value)}")
    return value


def _parse(data: Any, path: str) -> _Plan:
    if not isinstance(data, dict):
        raise _error(path, "top level", f"expected a JSON object (a Terraform plan), got {_json_kind(data)}")
    current, removed, listed = _changes(data, path)
    index, providers = _configuration(data, path)
    variables = _expect(data.get("variables", {}), dict, path, "variables")
    items = list(_planned(data, path, current, index)) if "planned_values" in data else []
    # A change with no planned_values counterpart (Terraform 0.12.0 wrote such plans) is read from its `after`,
    # never dropped: the whole plan without planned_values is the same case.
    seen = {item.address for item in items}
    items += _from_changes([(e, w) for e, w in listed if e["address"] not in seen], path, index)
    return _Plan(path, items, removed, variables, providers)


def _actions(change: Mapping[str, Any], path: str, where: str) -> list[str]:
    actions = _expect(change.get("actions", []), list, path, f"{where}.actions")
    return [str(a) for a in actions]


def _changes(
    data: Mapping[str, Any], path: str
) -> tuple[dict[str, Mapping[str, Any]], list[NotEvaluated], list[tuple[Mapping[str, Any], str]]]:
    """Each current object's change by address, what leaves the estate, and every managed change with its path."""
    entries = _expect(data.get("resource_changes", []), list, path, "resource_changes")
    current: dict[str, Mapping[str, Any]] = {}
    removed: list[NotEvaluated] = []
    listed: list[tuple[Mapping[str, Any], str]] = []
    for i, entry in enumerate(entries):
        where = f"resource_changes[{i}]"
        entry = _expect(entry, dict, path, where)
        address = _expect(entry.get("address"), str, path, f"{where}.address")
        change = _expect(entry.get("change"), dict, path, f"{where}.change")
        actions = _actions(change, path, f"{where}.change")
        if entry.get("mode", "managed") != "managed" or "deposed" in entry:
            continue  # data sources hold nothing; a deposed object is the old half of a replacement
        current[address] = change
        listed.append((entry, where))
        rtype = str(entry.get("type", ""))
        if actions == ["delete"]:
            removed.append(NotEvaluated(address, rtype, PLANNED_FOR_DELETION))
        elif actions == ["forget"]:
            removed.append(NotEvaluated(address, rtype, FORGOTTEN))
    return current, removed, listed


_ConfigIndex = dict[tuple[str, str, str], Mapping[str, Any]]


def _configuration(data: Mapping[str, Any], path: str) -> tuple[_ConfigIndex | None, Mapping[str, Any]]:
    """Managed resource blocks by (module path, type, name), and the provider configurations by key."""
    if "configuration" not in data:
        return None, {}
    config = _expect(data["configuration"], dict, path, "configuration")
    providers = _expect(config.get("provider_config", {}), dict, path, "configuration.provider_config")
    index: _ConfigIndex = {}
    root = _expect(config.get("root_module", {}), dict, path, "configuration.root_module")
    _index_module(root, "", "configuration.root_module", path, index)
    return index, providers


def _index_module(module: Mapping[str, Any], prefix: str, where: str, path: str, index: _ConfigIndex) -> None:
    for i, block in enumerate(_expect(module.get("resources", []), list, path, f"{where}.resources")):
        block = _expect(block, dict, path, f"{where}.resources[{i}]")
        if block.get("mode", "managed") == "managed":
            index[(prefix, str(block.get("type")), str(block.get("name")))] = block
    calls = _expect(module.get("module_calls", {}), dict, path, f"{where}.module_calls")
    for name, call in calls.items():
        call = _expect(call, dict, path, f"{where}.module_calls.{name}")
        child = _expect(call.get("module", {}), dict, path, f"{where}.module_calls.{name}.module")
        child_prefix = f"{prefix}.module.{name}" if prefix else f"module.{name}"
        _index_module(child, child_prefix, f"{where}.module_calls.{name}.module", path, index)


def _config_module(instance: str) -> str:
    """A module instance address without its instance keys: 'module.a["x"].module.b[0]' → 'module.a.module.b'."""
    out: list[str] = []
    depth, quoted, escaped = 0, False, False
    for ch in instance:
        if depth:
            if quoted:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    quoted = False
            elif ch == '"':
                quoted = True
            elif ch == "]":
                depth = 0
            continue
        if ch == "[":
            depth = 1
            continue
        out.append(ch)
    return "".join(out)


def _planned(
    data: Mapping[str, Any], path: str, current: Mapping[str, Mapping[str, Any]], index: _ConfigIndex | None
) -> Iterable[_Item]:
    values = _expect(data["planned_values"], dict, path, "planned_values")
    root = _expect(values.get("root_module", {}), dict, path, "planned_values.root_module")
    yield from _walk(root, "", "planned_values.root_module", path, current, index)


def _walk(
    module: Mapping[str, Any],
    address: str,
    where: str,
    path: str,
    current: Mapping[str, Mapping[str, Any]],
    index: _ConfigIndex | None,
) -> Iterable[_Item]:
    for i, res in enumerate(_expect(module.get("resources", []), list, path, f"{where}.resources")):
        at = f"{where}.resources[{i}]"
        res = _expect(res, dict, path, at)
        if res.get("mode", "managed") != "managed":
            continue
        item_address = _expect(res.get("address"), str, path, f"{at}.address")
        rtype = _expect(res.get("type"), str, path, f"{at}.type")
        change = current.get(item_address, {})
        if change and _actions(change, path, item_address) in (["delete"], ["forget"]):
            continue  # leaves the estate: listed from resource_changes
        yield _item(res, item_address, rtype, address, res.get("values"), change, index, path, at)
    for j, child in enumerate(_expect(module.get("child_modules", []), list, path, f"{where}.child_modules")):
        at = f"{where}.child_modules[{j}]"
        child = _expect(child, dict, path, at)
        child_address = _expect(child.get("address"), str, path, f"{at}.address")
        yield from _walk(child, child_address, at, path, current, index)


def _from_changes(
    listed: list[tuple[Mapping[str, Any], str]], path: str, index: _ConfigIndex | None
) -> Iterable[_Item]:
    """Items from resource_changes alone (a plan without planned_values): each change's `after`."""
    for entry, where in listed:
        change = entry["change"]
        if _actions(change, path, f"{where}.change") in (["delete"], ["forget"], ["read"]):
            continue
        module = entry.get("module_address", "")
        module = module if isinstance(module, str) else ""
        rtype = _expect(entry.get("type"), str, path, f"{where}.type")
        yield _item(entry, entry["address"], rtype, module, change.get("after"), change, index, path, where)


def _item(
    res: Mapping[str, Any],
    address: str,
    rtype: str,
    module: str,
    values: Any,
    change: Mapping[str, Any],
    index: _ConfigIndex | None,
    path: str,
    where: str,
) -> _Item:
    values = _expect(values if values is not None else {}, dict, path, f"{where}.values")
    name = res.get("name")
    name = name if isinstance(name, str) else address.rsplit(".", 1)[-1]
    config = None if index is None else index.get((_config_module(module), rtype, name))
    return _Item(address, rtype, name, module, values, change.get("after_unknown") or {}, config)


# --- lookups across the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Link:
    """How a companion resource names the data store it configures."""

    attribute: str
    target_type: str
    match: tuple[str, ...]  # the target's attributes that the companion's value may equal


_LINKS = {
    "aws_s3_bucket_replication_configuration": _Link("bucket", "aws_s3_bucket", ("bucket", "id")),
    "aws_s3_bucket_server_side_encryption_configuration": _Link("bucket", "aws_s3_bucket", ("bucket", "id")),
    "aws_dynamodb_table_replica": _Link("global_table_arn", "aws_dynamodb_table", ("arn",)),
    "aws_db_instance": _Link("replicate_source_db", "aws_db_instance", ("arn", "identifier", "id")),
    "aws_rds_cluster": _Link("replication_source_identifier", "aws_rds_cluster", ("arn", "cluster_identifier", "id")),
    "aws_db_instance_automated_backups_replication": _Link("source_db_instance_arn", "aws_db_instance", ("arn",)),
    "azurerm_storage_account_customer_managed_key": _Link("storage_account_id", "azurerm_storage_account", ("id",)),
}


@dataclass
class _Context:
    """The plan with its indexes, and lookups shared by every evaluator."""

    plan: _Plan
    classification_tag: str
    by_address: dict[str, _Item] = field(default_factory=dict)
    by_type: dict[str, list[_Item]] = field(default_factory=dict)
    # (module instance, type, name) → its instances, for references to a resource with count or for_each
    by_block: dict[tuple[str, str, str], list[_Item]] = field(default_factory=dict)
    # indexes built on first use, so a plan of thousands of buckets is not scanned once per lookup
    _by_value: dict[tuple[str, str], dict[str, list[_Item]]] = field(default_factory=dict)
    _linked: dict[str, dict[str, list[_Item]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for item in self.plan.items:
            self.by_address[item.address] = item
            self.by_type.setdefault(item.type, []).append(item)
            self.by_block.setdefault((item.module, item.type, item.name), []).append(item)

    def with_value(self, target_type: str, attribute: str, value: str) -> list[_Item]:
        """The planned `target_type` resources whose known `attribute` equals `value`."""
        key = (target_type, attribute)
        if key not in self._by_value:
            index: dict[str, list[_Item]] = {}
            for item in self.by_type.get(target_type, []):
                known = item.text(attribute)
                if known is not None:
                    index.setdefault(known, []).append(item)
            self._by_value[key] = index
        return self._by_value[key].get(value, [])

    def target(
        self,
        source: _Item,
        path: tuple[str | int, ...],
        target_type: str,
        match: tuple[str, ...],
        normalize: Callable[[str], str] = str,
    ) -> list[_Item]:
        """The planned `target_type` resources an attribute names: by its known value, else by its references."""
        value = source.text(*path)
        if value is not None:
            wanted = normalize(value)
            found = {t.address: t for a in match for t in self.with_value(target_type, a, wanted)}
            if found:
                return list(found.values())
        return self.referenced(source, path, target_type)

    def referenced(self, source: _Item, path: tuple[str | int, ...], target_type: str) -> list[_Item]:
        """The resources of `target_type` the attribute's expression refers to, in the source's module instance."""
        prefix = f"{source.module}." if source.module else ""
        refs = [r for r in source.references(*path) if r.startswith(f"{target_type}.")]
        for ref in refs:  # most specific first: 'aws_s3_bucket.b[0].arn', 'aws_s3_bucket.b[0]', 'aws_s3_bucket.b'
            exact = self.by_address.get(prefix + ref)
            if exact is not None and exact.type == target_type:
                return [exact]
        names = dict.fromkeys(ref.split(".")[1].split("[")[0] for ref in refs)
        return [t for name in names for t in self.by_block.get((source.module, target_type, name), [])]

    def linked(self, store: _Item, companion_type: str) -> list[_Item]:
        """The `companion_type` resources that configure `store` (replication rules, default encryption, …)."""
        if companion_type not in self._linked:
            by_target: dict[str, list[_Item]] = {}
            link = _LINKS[companion_type]
            for companion in self.by_type.get(companion_type, []):
                for target in self._link_targets(companion, link):
                    by_target.setdefault(target.address, []).append(companion)
            self._linked[companion_type] = by_target
        return self._linked[companion_type].get(store.address, [])

    def _link_targets(self, companion: _Item, link: _Link) -> list[_Item]:
        return self.target(companion, (link.attribute,), link.target_type, link.match)

    def global_members(self, cluster: _Item) -> list[tuple[_Item, str]]:
        """The other Aurora clusters of `cluster`'s global database in this plan, with the database's name."""
        group = self._global_group(cluster)
        if group is None:
            return []
        return [
            (c, group)
            for c in self.by_type.get("aws_rds_cluster", [])
            if c is not cluster and self._global_group(c) == group
        ]

    def _global_group(self, cluster: _Item) -> str | None:
        """A global database's identity: its identifier when known, else the aws_rds_global_cluster referred to."""
        name = cluster.text("global_cluster_identifier")
        if name is not None:
            return name
        found = self.referenced(cluster, ("global_cluster_identifier",), "aws_rds_global_cluster")
        if len(found) != 1:
            return None
        return found[0].text("global_cluster_identifier") or found[0].address

    def describe(self, source: _Item, path: tuple[str | int, ...]) -> str:
        """An attribute for a note: its value, else the planned resource it refers to, "known after apply"."""
        value = source.text(*path)
        if value is not None:
            return value
        prefix = f"{source.module}." if source.module else ""
        named = next((prefix + r for r in source.references(*path) if prefix + r in self.by_address), None)
        return f"{named} ({AFTER_APPLY})" if named else f"({AFTER_APPLY})"

    def unlinked_reason(self, companion: _Item) -> str | None:
        """Why a companion is not evaluated (its data store is not in the plan), or None when it was."""
        link = _LINKS[companion.type]
        if self._link_targets(companion, link):
            return None
        value = companion.text(link.attribute) or AFTER_APPLY
        return (
            f"configures {value} ({link.attribute}), which is not a {link.target_type} in this plan: "
            "scan the live account to assess it"
        )

    # --- AWS regions and keys ------------------------------------------------------------------------------

    def aws_region(self, item: _Item) -> tuple[str, str | None]:
        """The region of an AWS resource: its own `region` (provider v6), else its provider configuration's."""
        own = item.text("region")
        if own is not None:
            return own, None
        if item.is_unknown("region") and item.configured("region"):
            return UNKNOWN_LOCATION, f"region {AFTER_APPLY}"
        return self._provider_region(item)

    def _provider_region(self, item: _Item) -> tuple[str, str | None]:
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
        expr = _dig(provider, ("expressions", "region"))
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
        from .knowledge import load

        refs = [r for r in expr.get("references") or [] if isinstance(r, str)]
        names = {r.split(".")[1].split("[")[0] for r in refs if r.startswith("var.")}
        # Only a root module's variables are in the plan, and only a lone `var.x` is surely the region itself:
        # anything else (locals, functions of several values) is an expression this reader does not evaluate.
        if len(names) == 1 and all(r.startswith("var.") for r in refs) and not provider.get("module_address"):
            name = names.pop()
            value = _dig(self.plan.variables, (name, "value"))
            if isinstance(value, str) and load().resolve(Provider.AWS, value) is not None:
                return value, f"region from var.{name} (provider {key})"
        shown = ", ".join(refs) or "no constant value"
        return UNKNOWN_LOCATION, f"provider {key}'s region is an expression ({shown}): {AFTER_APPLY}"

    def aws_key(self, source: _Item, path: tuple[str | int, ...], default_note: str) -> tuple[KeyControl, str]:
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

    def _kms_key(self, key: _Item) -> tuple[KeyControl, str]:
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

    def gcp_key(self, source: _Item, path: tuple[str | int, ...]) -> tuple[KeyControl, str]:
        """Key control of a Cloud KMS key attribute (CMEK), Google's default when none is set."""
        value = source.text(*path)
        if value is None and not source.is_unknown(*path):
            return GOOGLE_DEFAULT_KEY
        keys = self.target(source, path, "google_kms_crypto_key", ("id",), _without_version)
        if len(keys) == 1:
            level = keys[0].text("version_template", 0, "protection_level") or "SOFTWARE"
            if level in _GCP_EXTERNAL_LEVELS:
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
        item: _Item,
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


def _store_type(store: _Item) -> str:
    kind = store.text("custom_key_store_type")
    if kind is None and store.is_unknown("custom_key_store_type") and store.configured("custom_key_store_type"):
        return "?"
    return kind or "AWS_CLOUDHSM"  # the type AWS gives a store created without one


def _without_version(name: str) -> str:
    return name.split("/cryptoKeyVersions/")[0]


def _tags(item: _Item, *attributes: str) -> dict[str, str]:
    """The first known map among `attributes` (tags_all before tags: it includes the provider's default tags)."""
    for attribute in attributes:
        value = item.get(attribute)
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
    return {}


def _unknown_copy(role: CopyRole, why: str) -> Copy:
    return Copy(UNKNOWN_LOCATION, role, note=why)


# --- AWS: S3 ---------------------------------------------------------------------------------------------------


def _s3_bucket(ctx: _Context, item: _Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note), *_s3_replicas(ctx, item)]
    return ctx.resource(
        item,
        Provider.AWS,
        ("s3", "AWS::S3::Bucket", "bucket"),
        footprint,
        _s3_key(ctx, item),
        _tags(item, "tags_all", "tags"),
    )


def _s3_replicas(ctx: _Context, bucket: _Item) -> list[Copy]:
    copies: list[Copy] = []
    for config in ctx.linked(bucket, "aws_s3_bucket_replication_configuration"):
        copies.extend(_s3_rules(ctx, config, ("rule",)))
    # The inline block (configurable in AWS provider v3, read-only since v4) mirrors the live configuration of an
    # existing bucket: read it only when no separate resource does, or each rule would count twice.
    if not copies and bucket.blocks("replication_configuration"):
        copies.extend(_s3_rules(ctx, bucket, ("replication_configuration", 0, "rules")))
    return copies


def _s3_rules(ctx: _Context, source: _Item, rules_path: tuple[str | int, ...]) -> list[Copy]:
    if source.is_unknown(*rules_path):
        return [_unknown_copy(CopyRole.REPLICA, f"replication rules of {source.address}: {AFTER_APPLY}")]
    copies = []
    for i, rule in enumerate(source.blocks(*rules_path)):
        state = "enabled" if rule.get("status") == "Enabled" else "disabled (earlier replicas may remain)"
        what = f"replication rule {rule.get('id') or i} {state}"
        copies.append(_s3_destination(ctx, source, (*rules_path, i, "destination", 0, "bucket"), what))
    return copies


def _s3_name(arn: str) -> str:
    return arn.split(":::")[-1]


def _s3_destination(ctx: _Context, source: _Item, path: tuple[str | int, ...], what: str) -> Copy:
    arn = source.text(*path)
    targets = ctx.target(source, path, "aws_s3_bucket", ("bucket",), _s3_name)
    if not targets:
        if arn is None:
            return _unknown_copy(CopyRole.REPLICA, f"{what}: destination bucket {AFTER_APPLY}")
        return _unknown_copy(
            CopyRole.REPLICA,
            f"{what} → s3://{_s3_name(arn)}: the destination bucket is not in this plan, so its region is unknown"
            " (scan the live account)",
        )
    regions = {ctx.aws_region(t) for t in targets}
    shown = targets[0].text("bucket") if len(targets) == 1 else None
    where = f"s3://{shown}" if shown else " or ".join(t.address for t in targets)
    if len(regions) == 1:
        region, note = regions.pop()
        return Copy(region, CopyRole.REPLICA, note=f"{what} → {where}" + (f"; {note}" if note else ""))
    return _unknown_copy(CopyRole.REPLICA, f"{what} → {where}: instances in different regions")


def _s3_key(ctx: _Context, bucket: _Item) -> tuple[KeyControl, str]:
    configs = ctx.linked(bucket, "aws_s3_bucket_server_side_encryption_configuration")
    prefix: tuple[str | int, ...]
    if configs:
        source, prefix = configs[0], ("rule", 0, "apply_server_side_encryption_by_default", 0)
    elif bucket.blocks("server_side_encryption_configuration"):
        source = bucket
        prefix = ("server_side_encryption_configuration", 0, "rule", 0, "apply_server_side_encryption_by_default", 0)
    else:
        return KeyControl.PROVIDER_MANAGED, "no default encryption rule: S3 applies SSE-S3 to new objects"
    algorithm = source.text(*prefix, "sse_algorithm")
    if algorithm == "AES256":
        return KeyControl.PROVIDER_MANAGED, "SSE-S3 (S3 managed keys)"
    if algorithm in ("aws:kms", "aws:kms:dsse"):
        return ctx.aws_key(source, (*prefix, "kms_master_key_id"), f"{algorithm} with the AWS managed key aws/s3")
    if algorithm is None:
        return KeyControl.UNKNOWN, f"default encryption algorithm {AFTER_APPLY}"
    return KeyControl.UNKNOWN, f"unrecognised default encryption {algorithm!r}"


# --- AWS: DynamoDB ---------------------------------------------------------------------------------------------


def _dynamodb_table(ctx: _Context, item: _Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    if item.is_unknown("replica"):
        footprint.append(_unknown_copy(CopyRole.REPLICA, f"global table replicas {AFTER_APPLY}"))
    for i, replica in enumerate(item.blocks("replica")):
        name = replica.get("region_name")
        if isinstance(name, str) and name and not item.is_unknown("replica", i, "region_name"):
            footprint.append(Copy(name, CopyRole.REPLICA, note="global table replica"))
        else:
            footprint.append(_unknown_copy(CopyRole.REPLICA, f"global table replica: region {AFTER_APPLY}"))
    for linked in ctx.linked(item, "aws_dynamodb_table_replica"):
        replica_region, replica_note = ctx.aws_region(linked)
        note = f"global table replica {linked.address}" + (f"; {replica_note}" if replica_note else "")
        footprint.append(Copy(replica_region, CopyRole.REPLICA, note=note))
    if item.get("server_side_encryption", 0, "enabled") is True:
        key = ctx.aws_key(
            item, ("server_side_encryption", 0, "kms_key_arn"), "encrypted with the AWS managed key aws/dynamodb"
        )
    else:
        key = (KeyControl.PROVIDER_MANAGED, "encrypted with an AWS owned key (DynamoDB default)")
    return ctx.resource(
        item,
        Provider.AWS,
        ("dynamodb", "AWS::DynamoDB::Table", "name"),
        dedupe_places(footprint),
        key,
        _tags(item, "tags_all", "tags"),
    )


# --- AWS: RDS --------------------------------------------------------------------------------------------------


def _db_instance(ctx: _Context, item: _Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    source = _db_source(ctx, item, region)
    if source is not None:
        footprint.append(source)
    for replica in ctx.linked(item, "aws_db_instance"):
        replica_region, _ = ctx.aws_region(replica)
        footprint.append(Copy(replica_region, CopyRole.REPLICA, note=f"read replica {replica.address}"))
    for backups in ctx.linked(item, "aws_db_instance_automated_backups_replication"):
        backup_region, _ = ctx.aws_region(backups)
        footprint.append(
            Copy(backup_region, CopyRole.REPLICA, note=f"automated backups replicated by {backups.address}")
        )
    return ctx.resource(
        item,
        Provider.AWS,
        ("rds", "AWS::RDS::DBInstance", "identifier"),
        dedupe_places(footprint),
        _db_key(ctx, item),
        _tags(item, "tags_all", "tags"),
    )


def _db_source(ctx: _Context, item: _Item, region: str) -> Copy | None:
    """The source of a read replica: a copy of the same data, in the source's region."""
    value = item.text("replicate_source_db")
    if value is None and not item.is_unknown("replicate_source_db"):
        return None
    targets = ctx.target(item, ("replicate_source_db",), "aws_db_instance", _LINKS["aws_db_instance"].match)
    if len(targets) == 1:
        source_region, _ = ctx.aws_region(targets[0])
        return Copy(source_region, CopyRole.REPLICA, note=f"source of this read replica: {targets[0].address}")
    if value is None:
        return _unknown_copy(CopyRole.REPLICA, f"source of this read replica: {AFTER_APPLY}")
    # a same-region source is named by identifier, a cross-region one by ARN (which carries its region)
    return Copy(region_of_arn(value) or region, CopyRole.REPLICA, note=f"source of this read replica: {value}")


def _db_key(ctx: _Context, item: _Item) -> tuple[KeyControl, str]:
    encrypted = item.get("storage_encrypted")
    if encrypted is None and item.is_unknown("storage_encrypted"):
        return KeyControl.UNKNOWN, f"storage encryption {AFTER_APPLY} (a replica inherits its source's)"
    if encrypted is not True:
        return KeyControl.PROVIDER_MANAGED, "storage not encrypted"
    return ctx.aws_key(item, ("kms_key_id",), _RDS_DEFAULT_KEY)


def _rds_cluster(ctx: _Context, item: _Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    link = _LINKS["aws_rds_cluster"]
    sources = ctx.target(item, (link.attribute,), link.target_type, link.match)
    source = item.text(link.attribute)
    if len(sources) == 1:
        footprint.append(Copy(ctx.aws_region(sources[0])[0], CopyRole.REPLICA, note=f"replication source {source}"))
    elif source is not None:
        footprint.append(Copy(region_of_arn(source) or region, CopyRole.REPLICA, note=f"replication source {source}"))
    elif item.is_unknown(link.attribute):
        footprint.append(_unknown_copy(CopyRole.REPLICA, f"replication source {AFTER_APPLY}"))
    for replica in ctx.linked(item, "aws_rds_cluster"):
        footprint.append(Copy(ctx.aws_region(replica)[0], CopyRole.REPLICA, note=f"replica cluster {replica.address}"))
    for member, name in ctx.global_members(item):
        footprint.append(Copy(ctx.aws_region(member)[0], CopyRole.REPLICA, note=f"global database {name} member"))
    return ctx.resource(
        item,
        Provider.AWS,
        ("rds", "AWS::RDS::DBCluster", "cluster_identifier"),
        dedupe_places(footprint),
        _db_key(ctx, item),
        _tags(item, "tags_all", "tags"),
    )


# --- Azure -----------------------------------------------------------------------------------------------------


def _azure_location(item: _Item) -> tuple[str, str | None]:
    location = item.text("location")
    if location is not None:
        return location, None
    return UNKNOWN_LOCATION, f"location {AFTER_APPLY}"


def _paired(location: str, what: str, reported: str) -> Copy:
    """A copy in the knowledge base's paired region of `location`; unknown when it records no pair."""
    from .knowledge import load

    if location == UNKNOWN_LOCATION:
        return _unknown_copy(CopyRole.REPLICA, f"{what}: the primary location is unknown, so the secondary is too")
    known = load().resolve(Provider.AZURE, location)
    if known is not None and known.paired_region:
        return Copy(
            known.paired_region,
            CopyRole.REPLICA,
            note=f"{what}: secondary = paired region per the knowledge base ({reported})",
        )
    return _unknown_copy(
        CopyRole.REPLICA,
        f"{what}: the knowledge base records no paired region for {location}, so the secondary is unknown ({reported})",
    )


def _storage_account(ctx: _Context, item: _Item) -> Resource:
    location, note = _azure_location(item)
    footprint = [Copy(location, CopyRole.PRIMARY, note=note)]
    kind = item.text("account_replication_type")
    if kind is not None and kind.upper() in _GEO_REPLICATION:
        footprint.append(_storage_secondary(item, location, f"geo-redundant replication {kind}"))
    elif kind is None and item.is_unknown("account_replication_type"):
        footprint.append(_unknown_copy(CopyRole.REPLICA, f"replication type {AFTER_APPLY} (geo types add a copy)"))
    return ctx.resource(
        item,
        Provider.AZURE,
        ("storage-account", "Microsoft.Storage/storageAccounts", "name"),
        footprint,
        _storage_key(ctx, item),
        _tags(item, "tags"),
    )


def _storage_secondary(item: _Item, location: str, what: str) -> Copy:
    """The secondary of a geo-redundant account: as the provider read it (an existing account), else the pair."""
    from .knowledge import load

    reported = item.text("secondary_location")
    if reported is None:
        return _paired(location, what, "the API's secondaryLocation is known after apply")
    note = f"{what}: secondary region as the provider read it from the API"
    known = load().resolve(Provider.AZURE, location)
    pair = known.paired_region if known is not None else None
    if pair is not None and load().resolve(Provider.AZURE, pair) != load().resolve(Provider.AZURE, reported):
        note += f"; the knowledge base pairs {location} with {pair}, not {reported} (the API's value is used)"
    return Copy(reported, CopyRole.REPLICA, note=note)


def _storage_key(ctx: _Context, item: _Item) -> tuple[KeyControl, str]:
    if item.blocks("customer_managed_key"):
        hsm = item.text("customer_managed_key", 0, "managed_hsm_key_id")
        key = hsm or ctx.describe(item, ("customer_managed_key", 0, "key_vault_key_id"))
        return KeyControl.CUSTOMER_MANAGED, f"customer-managed key {key}"
    for cmk in ctx.linked(item, "azurerm_storage_account_customer_managed_key"):
        name = cmk.text("key_name") or ctx.describe(cmk, ("managed_hsm_key_id",))
        return KeyControl.CUSTOMER_MANAGED, f"customer-managed key {name} ({cmk.address})"
    return KeyControl.PROVIDER_MANAGED, "Microsoft-managed keys (the storage account default)"


def _priority(block: Mapping[str, Any]) -> int:
    value = block.get("failover_priority")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1_000_000


def _cosmosdb(ctx: _Context, item: _Item) -> Resource:
    footprint: list[Copy] = []
    for block in sorted(item.blocks("geo_location"), key=_priority):
        location = block.get("location")
        priority = block.get("failover_priority")
        if not (isinstance(location, str) and location):
            footprint.append(_unknown_copy(CopyRole.REPLICA, f"geo_location {AFTER_APPLY}"))
        elif priority == 0:
            footprint.append(Copy(location, CopyRole.PRIMARY, note="failover priority 0"))
        else:
            footprint.append(Copy(location, CopyRole.REPLICA, note=f"replica region (failover priority {priority})"))
    if not any(c.role is CopyRole.PRIMARY for c in footprint):
        location, note = _azure_location(item)
        footprint.insert(0, Copy(location, CopyRole.PRIMARY, note=note))
    backup = _cosmos_backup(item, footprint[0].code)
    if backup is not None:
        footprint.append(backup)
    key_id = item.text("key_vault_key_id")
    if key_id is not None or (item.is_unknown("key_vault_key_id") and item.configured("key_vault_key_id")):
        key = (KeyControl.CUSTOMER_MANAGED, f"customer-managed key {ctx.describe(item, ('key_vault_key_id',))}")
    else:
        key = (KeyControl.PROVIDER_MANAGED, "service-managed keys (Cosmos DB default)")
    return ctx.resource(
        item,
        Provider.AZURE,
        ("cosmosdb", "Microsoft.DocumentDB/databaseAccounts", "name"),
        dedupe_places(footprint),
        key,
        _tags(item, "tags"),
    )


def _cosmos_backup(item: _Item, primary: str) -> Copy | None:
    """Periodic backups kept in geo-redundant storage: a copy in the primary's paired region."""
    blocks = item.blocks("backup")
    backup_type = str(blocks[0].get("type") or "") if blocks else ""
    if backup_type.lower() == "continuous":
        return None  # continuous backups stay in the account's own regions
    redundancy = str(blocks[0].get("storage_redundancy") or "") if blocks else ""
    if redundancy.lower() in ("geo", "geozone"):
        return _paired(primary, f"periodic backups in {redundancy}-redundant storage", "from the plan's backup block")
    if redundancy:
        return None  # Local or Zone: the backups stay in the primary region
    # Unset: Cosmos DB's default is periodic backups in geo-redundant storage, which lives in the paired region.
    return _paired(
        primary, "periodic backups (Cosmos DB's default storage redundancy, Geo)", "storage_redundancy not set"
    )


# --- Google Cloud ----------------------------------------------------------------------------------------------


def _gcs_bucket(ctx: _Context, item: _Item) -> Resource:
    location = item.text("location")
    if location is None:
        footprint = [_unknown_copy(CopyRole.PRIMARY, f"location {AFTER_APPLY}")]
    else:
        placement = item.blocks("custom_placement_config")
        places = placement[0].get("data_locations") if placement else None
        data_locations = [str(p).upper() for p in places] if isinstance(places, list) else None
        # GCS stores locations upper-case; the provider accepts any case
        # a bucket with data locations is what the GCS API calls locationType "dual-region"
        footprint = bucket_footprint(location.upper(), "dual-region" if data_locations else None, data_locations)
        if item.is_unknown("custom_placement_config"):
            footprint.append(_unknown_copy(CopyRole.PRIMARY, f"configurable dual-region locations {AFTER_APPLY}"))
    return ctx.resource(
        item,
        Provider.GCP,
        ("gcs", "storage.googleapis.com/Bucket", "name"),
        footprint,
        ctx.gcp_key(item, ("encryption", 0, "default_kms_key_name")),
        _tags(item, "effective_labels", "labels"),
    )


def _bigquery_dataset(ctx: _Context, item: _Item) -> Resource:
    location = item.text("location")
    copy = Copy(location, CopyRole.PRIMARY) if location else _unknown_copy(CopyRole.PRIMARY, f"location {AFTER_APPLY}")
    return ctx.resource(
        item,
        Provider.GCP,
        ("bigquery-dataset", "bigquery.googleapis.com/Dataset", "dataset_id"),
        [copy],
        ctx.gcp_key(item, ("default_encryption_configuration", 0, "kms_key_name")),
        _tags(item, "effective_labels", "labels"),
    )


_STORES: dict[str, Callable[[_Context, _Item], Resource]] = {
    "aws_s3_bucket": _s3_bucket,
    "aws_dynamodb_table": _dynamodb_table,
    "aws_db_instance": _db_instance,
    "aws_rds_cluster": _rds_cluster,
    "azurerm_storage_account": _storage_account,
    "azurerm_cosmosdb_account": _cosmosdb,
    "google_storage_bucket": _gcs_bucket,
    "google_bigquery_dataset": _bigquery_dataset,
}
