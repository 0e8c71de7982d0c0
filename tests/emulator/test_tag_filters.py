"""Property: listing with tag filters keeps exactly the scripts every filter admits."""

from __future__ import annotations

import string

from hypothesis import given, settings, strategies as st

from wfp_reconcile.local.emulator.store import Store
from wfp_reconcile.local.emulator.validation import parse_tag_filter

TAGS = st.sampled_from(["managed", "c1", "c2", "protect", "fp-ab", "x:y"])
SCRIPTS = st.dictionaries(
    st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6),
    st.frozensets(TAGS, max_size=4),
    max_size=25,
)
FILTERS = st.lists(st.tuples(TAGS, st.booleans()), max_size=4)


@settings(max_examples=150, deadline=None)
@given(scripts=SCRIPTS, filters=FILTERS, page=st.integers(1, 7))
def test_filtered_pages_hold_exactly_the_matching_scripts(scripts, filters, page):
    store = Store(None)
    try:
        for name, tags in scripts.items():
            store.put_script("acct", "ns", name, {"main_module": "m"}, [], sorted(tags))
        store.put_script("other", "ns", "zzz", {"main_module": "m"}, [], ["managed"])
        raw = ",".join(f"{t}:{'yes' if want else 'no'}" for t, want in filters)
        parsed = parse_tag_filter(raw) if raw else []
        assert parsed == filters
        listed: list[str] = []
        after = ""
        while True:
            rows = store.list_scripts("acct", "ns", filters=parsed, after=after, limit=page)
            listed += [r.name for r in rows]
            if len(rows) < page:
                break
            after = rows[-1].name
        expected = sorted(
            name
            for name, tags in scripts.items()
            if all((tag in tags) == want for tag, want in filters)
        )
        assert listed == expected
    finally:
        store.close()
