"""The command-processing benchmark runs, and counts what a command costs in SQLite.

SQLite statements are the largest part of a command's time, and their number is what this
code controls: a change that adds statements to `!ping` or `!report` fails here rather
than only showing as a slower p99 in `./dev bench`.
"""

from __future__ import annotations

from bench.processing import PEOPLE, PLATED, Sizes, measure


async def test_the_bench_times_both_commands_and_counts_their_statements() -> None:
    # A warm-up over every person, as in the full run: each one's language is then known.
    figures, details = await measure(Sizes(warm_up=PEOPLE, pings=20, reports=20))

    assert [figure.name.split(" (p50")[0] for figure in figures] == [
        "command p99, !ping",
        "command p99, !report",
        f"command p99, !{PLATED}",
    ]
    assert all(figure.value is not None and figure.value > 0 for figure in figures)
    assert details["samples"] == {"ping": 20, "report": 20, PLATED: 20}
    statements = details["sqlite_statements_per_command"]
    # !ping: claim the event, mark it done.
    assert statements["ping"] == 2
    # !report: also the rate limit, the report (noting an open report at the same place it
    # may repeat), its card and outbox row in one transaction (BEGIN and COMMIT), its
    # acknowledgement's event id (9: the report filed is not read back);
    # and the dispatch call: whether there is one yet, the broadcast, its room and its outbox
    # row in one transaction (BEGIN and COMMIT: one commit, not three), the escalation timer,
    # the call's record, and the card's dispatch section (10).
    # A random report id already taken costs two more (one more try): rare, not never. The
    # figure is an average over 20 commands.
    extra = round((statements["report"] - 19) * 20)
    assert extra in (0, 2, 4), statements["report"]
