"""config: presets, mapping precedence, segchain.toml and the segment policy table."""

from __future__ import annotations

from pathlib import Path

import pytest

from segchain import config
from segchain.errors import UsageError

SAP_HEADERS = ["VBELN", "ERDAT", "AUDAT", "KUNNR", "MATNR", "KWMENG", "NETWR", "WERKS"]
ONLINE_RETAIL = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]


def test_sap_preset_prefers_audat_over_erdat() -> None:
    mapping = config.resolve_mapping(SAP_HEADERS, preset="sap")
    assert mapping == {
        "order_id": "VBELN",
        "order_date": "AUDAT",
        "customer_id": "KUNNR",
        "sku": "MATNR",
        "quantity": "KWMENG",
        "amount": "NETWR",
        "site": "WERKS",
    }


def test_sap_preset_falls_back_to_erdat() -> None:
    headers = [h for h in SAP_HEADERS if h != "AUDAT"]
    assert config.resolve_mapping(headers, preset="sap")["order_date"] == "ERDAT"


def test_online_retail_preset_maps_every_header() -> None:
    mapping = config.resolve_mapping(ONLINE_RETAIL, preset="online-retail")
    assert sorted(mapping.values()) == sorted(ONLINE_RETAIL)


@pytest.mark.parametrize(
    "headers",
    [
        ["Order Reference", "Order Date", "Customer", "Product", "Quantity", "Unit Price"],
        [
            "order_id",
            "date_order",
            "order_partner_id",
            "product_id",
            "product_uom_qty",
            "price_unit",
        ],
    ],
)
def test_odoo_preset_maps_labels_and_technical_names(headers: list[str]) -> None:
    mapping = config.resolve_mapping(headers, preset="odoo")
    assert set(mapping) >= {
        "order_id",
        "order_date",
        "customer_id",
        "sku",
        "quantity",
        "unit_price",
    }


def test_unknown_preset_names_the_choices() -> None:
    with pytest.raises(UsageError) as info:
        config.resolve_mapping(["a"], preset="navision")
    assert str(info.value) == "unknown preset 'navision'; choose one of: sap, odoo, online-retail"


def test_precedence_cli_over_env_over_config_over_preset() -> None:
    headers = ["KUNNR", "Kunde", "Debitor", "Client"]
    cfg = config.parse_config({"columns": {"customer_id": "Debitor"}})
    both = dict(preset="sap", config=cfg)
    assert config.resolve_mapping(headers, **both)["customer_id"] == "Debitor"
    assert (
        config.resolve_mapping(headers, env_map={"customer_id": "Client"}, **both)["customer_id"]
        == "Client"
    )
    assert (
        config.resolve_mapping(
            headers, cli_map={"customer_id": "Kunde"}, env_map={"customer_id": "Client"}, **both
        )["customer_id"]
        == "Kunde"
    )
    assert config.resolve_mapping(headers, preset="sap")["customer_id"] == "KUNNR"


def test_explicit_map_to_missing_header_lists_the_headers() -> None:
    with pytest.raises(UsageError) as info:
        config.resolve_mapping(["A", "B"], cli_map={"sku": "Material"})
    assert str(info.value) == "no such column: --map sku='Material'. The file's headers are: A, B"


def test_map_headers_match_case_insensitively() -> None:
    assert config.resolve_mapping(["Customer ID"], cli_map={"customer_id": "customer id"}) == {
        "customer_id": "Customer ID"
    }


def test_canonical_headers_map_to_themselves() -> None:
    assert config.resolve_mapping(["Order_ID", "sku"]) == {"order_id": "Order_ID", "sku": "sku"}


def test_two_case_variants_of_a_canonical_header_are_ambiguous() -> None:
    """'Quantity' and 'QUANTITY' both fold to quantity: the last one was taken silently."""
    with pytest.raises(UsageError, match="'Quantity' and 'QUANTITY' could both be quantity"):
        config.resolve_mapping(["order_id", "Quantity", "QUANTITY"])
    chosen = config.resolve_mapping(["Quantity", "QUANTITY"], cli_map={"quantity": "Quantity"})
    assert chosen == {"quantity": "Quantity"}
    # The exact canonical name still wins over its case variants.
    assert config.resolve_mapping(["quantity", "QUANTITY"]) == {"quantity": "quantity"}


def test_a_required_columns_header_taken_by_another_mapping_is_named() -> None:
    """--map customer_id=sku left sku without a column, and the error said 'missing required
    column sku; found ..., sku, ...'."""
    with pytest.raises(UsageError, match="'sku' is mapped to customer_id, so sku has no column"):
        config.resolve_mapping(["order_id", "sku", "quantity"], cli_map={"customer_id": "sku"})


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["sku=MATNR"], {"sku": "MATNR"}),
        (["sku=MATNR,customer_id=KUNNR"], {"sku": "MATNR", "customer_id": "KUNNR"}),
        (["description=Name, long"], {"description": "Name, long"}),
    ],
)
def test_parse_map_options(items: list[str], expected: dict[str, str]) -> None:
    assert config.parse_map_options(items) == expected


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["sku"], "--map: expected CANONICAL=HEADER, got 'sku'"),
        (["=X"], "--map: expected CANONICAL=HEADER, got '=X'"),
        (["material=X"], "--map: unknown canonical column material"),
        (["sku=sku", "sku=description"], "--map: sku is mapped twice"),
    ],
)
def test_parse_map_options_errors(items: list[str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        config.parse_map_options(items)
    assert str(info.value).startswith(message)


def test_env_map_reads_segchain_map(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGCHAIN_MAP", "sku=MATNR,customer_id=KUNNR")
    assert config.env_map() == {"sku": "MATNR", "customer_id": "KUNNR"}


def test_load_config_reads_columns_and_policies(tmp_path: Path) -> None:
    path = tmp_path / "segchain.toml"
    path.write_text(
        """
preset = "sap"
[columns]
customer_id = "Debitor"
[segments."*"]
service_level = 0.95
max_delivery_days = 3
[segments."Champions"]
service_level = 0.99
service_measure = "fill_rate"
max_delivery_days = 1
[stock]
review_days = 7
""",
        encoding="utf-8",
    )
    cfg = config.load_config(path)
    assert cfg.preset == "sap"
    assert cfg.columns == {"customer_id": "Debitor"}
    assert cfg.segments.for_segment("Champions") == config.SegmentPolicy(0.99, "fill-rate", 1.0)
    assert cfg.segments.for_segment("Lost") == config.SegmentPolicy(0.95, None, 3.0)
    assert cfg.option("stock", "review-days") == 7


def test_load_config_uses_cwd_segchain_toml(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "segchain.toml").write_text('[segments."*"]\nservice_level = 0.9\n')
    assert config.load_config().segments.for_segment("x").service_level == 0.9


def test_load_config_without_file_is_empty(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert config.load_config() == config.Config()


def test_named_config_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        config.load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"service_level": 1.5}, "service level must lie strictly between 0 and 1"),
        ({"service_level": "high"}, "service level must be a number"),
        ({"service_measure": "ready-rate"}, "service measure must be one of csl, fill-rate"),
        ({"max_delivery_days": -1}, "max_delivery_days must be a finite number >= 0"),
        # 1e308 was taken and printed as a 309-digit promise (noticed by hostile4, s43).
        ({"max_delivery_days": 1e308}, "max_delivery_days must be at most 3660 (ten years)"),
        ({"speed": 3}, "unknown setting speed"),
    ],
)
def test_policy_errors_name_the_segment(table: dict, message: str) -> None:
    with pytest.raises(UsageError) as info:
        config.parse_config({"segments": {"Champions": table}}, source="s.toml")
    assert str(info.value).startswith('s.toml [segments."Champions"]: ')
    assert message in str(info.value)


def test_service_level_in_percent_is_accepted() -> None:
    assert config.check_service_level(95) == pytest.approx(0.95)


def test_policy_table_command_line_default_fills_only_unset_fields() -> None:
    cfg = config.parse_config({"segments": {"A": {"service_level": 0.99}}})
    table = config.policy_table(cfg, service_level=0.9, service_measure="csl")
    assert table.for_segment("A") == config.SegmentPolicy(0.99, "csl")
    assert table.for_segment("B") == config.SegmentPolicy(0.9, "csl")


def test_setting_precedence_cli_then_config_then_default() -> None:
    cfg = config.parse_config({"segment": {"method": "kmeans"}})
    assert config.setting("abc-xyz", cfg, "segment", "method", "rfm") == "abc-xyz"
    assert config.setting(None, cfg, "segment", "method", "rfm") == "kmeans"
    assert config.setting(None, config.Config(), "segment", "method", "rfm") == "rfm"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [("by", ["segment", "site", "sku"], "segment,site,sku"), ("models", ["Naive"], "Naive")],
)
def test_forecast_column_and_model_names_may_be_a_toml_list(key, value, expected) -> None:
    # level and abc_cutoffs took a TOML list or a text; by and models refused the list
    # ("must be a text value") though they name several things too.
    sections = config.check_tables({"forecast": {key: value}}, source="segchain.toml")
    assert sections["forecast"][key] == expected


@pytest.mark.parametrize("value", [[], ["segment", 3], [["sku"]]])
def test_forecast_names_list_of_other_things_is_refused(value) -> None:
    with pytest.raises(UsageError, match=r"\[forecast\] by"):
        config.check_tables({"forecast": {"by": value}}, source="segchain.toml")
