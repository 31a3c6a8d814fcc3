"""Engine answers are outside input: any JSON, in any shape, gives records or a Blind, never an exception."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from residency_audit.inventory import aws_config, cloud_asset, gcp_engines, resource_explorer
from residency_audit.inventory.records import Blind, Listed

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
CAI_FIELDS = ["name", "assetType", "project", "displayName", "location", "labels", "kmsKeys", "versionedResources",
              "additionalAttributes", "organization", "state"]  # fmt: skip
ROW = st.dictionaries(st.sampled_from(CAI_FIELDS) | st.text(max_size=8), JSON, max_size=8)


class Pages:
    """A Google client whose searchAllResources pages are `pages`."""

    def __init__(self, pages: list[Any]) -> None:
        self.pages_ = pages
        self.endpoints: dict[str, str] = {}

    def pages(self, api: str, path: str, operation: str, items: str, params: Any = None) -> Any:
        for page in self.pages_:
            yield from page.get(items, []) if isinstance(page, dict) else page


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(ROW, JSON), max_size=6))
def test_any_search_result_gives_records_or_a_blind(rows: list[Any]) -> None:
    out = list(cloud_asset.search(Pages([{"results": rows}]), "organizations/1", str))
    for record in out:
        assert isinstance(record, Listed | Blind)
        if isinstance(record, Listed):
            assert all(isinstance(v, str) for v in (record.account, record.native_type, record.id, record.location))
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in record.tags.items())
    if any(not isinstance(r, dict) for r in rows):
        assert isinstance(out[-1], Blind)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "location", "locationType", "customPlacementConfig", "encryption",
                                        "labels"]) | st.text(max_size=8), JSON, max_size=6))  # fmt: skip
def test_any_bucket_json_reads_without_error(resource: dict[str, Any]) -> None:
    bucket = gcp_engines.bucket(resource)
    assert isinstance(bucket.name, str) and isinstance(bucket.labels, dict)
    assert bucket.data_locations is None or isinstance(bucket.data_locations, list)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["Arn", "OwningAccountId", "Region", "ResourceType", "CfnResourceType",
                                        "Service"]) | st.text(max_size=8), JSON, max_size=6))  # fmt: skip
def test_any_resource_explorer_row_reads_without_error(row: dict[str, Any]) -> None:
    view = resource_explorer._View(None, "arn", {"s3:bucket": "AWS::S3::Bucket"}, frozenset())
    record = resource_explorer._found(view, row)
    assert isinstance(record.native_type, str) and isinstance(record.account, str)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["accountId", "awsRegion", "resourceType", "resourceId", "resourceName",
                                        "arn"]) | st.text(max_size=8), JSON, max_size=6))  # fmt: skip
def test_any_config_row_reads_without_error(row: dict[str, Any]) -> None:
    record = aws_config._found("config:org", row)
    assert isinstance(record.name, str) and isinstance(record.location, str)
