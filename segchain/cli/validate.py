"""``segchain validate``: read, map and clean an order export; report what happened to each line."""

from __future__ import annotations

from segchain.cli import common as c
from segchain.cli.app import app


@app.command("validate")
@c.handle_errors
def validate(
    orders: c.OrdersInput = None,
    output: c.OptionalOutput = None,
    rejects: c.Rejects = None,
    returns: c.ReturnsOpt = None,
    date_format: c.DateFormat = None,
    sheet: c.Sheet = None,
    map: c.Map = None,
    preset: c.Preset = None,
    config: c.ConfigFile = None,
    format: c.Format = None,
    csv_safe: c.CsvSafe = False,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
) -> None:
    """Check an order-line export: mapping, dialect, dates, and every rejected line with a reason.

    With -o, writes the clean canonical table (order_id, order_date, customer_id, sku, quantity,
    unit_price, amount, flag, ...). Without -o, only the report is printed (stderr).

    Example:

        segchain validate export.csv --preset sap --rejects rejects.csv \\
          -o orders.parquet
    """
    from segchain.config import unmapped_look_alikes_note
    from segchain.schema import META_PARAMS
    from segchain.tableio import META_COLUMNS, provenance

    reporter = c.Reporter(quiet=quiet, verbose=verbose)
    cfg = c.load_config(config, reporter)
    opts = c.OrderOptions(
        map=map,
        preset=preset,
        date_format=date_format,
        returns=returns,
        sheet=sheet,
        rejects=rejects,
    )
    loaded = c.load_orders(orders or ["-"], opts, config=cfg, reporter=reporter, coordinates=True)
    reporter.info(
        "mapping: " + ", ".join(f"{k}={v}" for k, v in loaded.imp.mapping.items() if k != v)
        if any(k != v for k, v in loaded.imp.mapping.items())
        else "mapping: headers are already canonical"
    )
    headers = [h for h in loaded.table.frame.collect_schema().names() if h not in META_COLUMNS]
    if (unread := unmapped_look_alikes_note(headers, loaded.imp.mapping)) is not None:
        reporter.info(unread)
    # The customers whose every line was rejected are in no line of the output, and segment,
    # reading it, cannot know them: counted here, in the same pass as the reconciliation.
    wanted = [loaded.clean] if output is not None else []
    collected, recon = loaded.collect(*wanted, customers=True)
    loaded.say_all_rejected("{customers} whose every line was rejected {verb} no line kept")
    if output is None:
        return
    clean = collected[0]
    # As resolved (command line, environment, config, default); a table cleaned earlier keeps
    # the value it was cleaned with.
    returns_used = loaded.imp.returns
    if returns_used is None:
        returns_used = loaded.table.metadata.get(META_PARAMS, {}).get("returns")
    metadata = provenance(
        "orders",
        params={
            "mapping": loaded.imp.mapping,
            # The columns no header gave, made by the import (order_id of a purchase log).
            **({"derived": loaded.imp.derived} if loaded.imp.derived else {}),
            "returns": returns_used,
            "date_order": loaded.imp.date_order,
            "source_dialect": loaded.table.dialect.describe(),
        },
        inputs={"orders": recon.read, "customers_rejected": len(loaded.all_rejected)},
        reconciliation=recon.as_dict(),
    )
    c.write_output(
        clean, output, fmt=format, metadata=metadata, reporter=reporter, what="order lines"
    )
