"""Large synthetic catalogues for tests and benchmarks (clearly marked as samples)."""

from __future__ import annotations

import random

from aspire_desktop.core.catalogue.kinds import KINDS
from aspire_desktop.core.catalogue.source import (
    CatalogueSource,
    SourceCategory,
    SourceFile,
    SourceResource,
)

_WORDS = (
    "adult support protection trauma informed practice council officer inquiry "
    "investigation referral discussion capacity learning review guidance toolkit "
    "companion harm risk wellbeing partnership training assessment advocacy carers "
    "consent duty cooperate financial harm self-neglect hoarding domestic abuse alcohol "
    "drugs mental health chronology case conference protection plan committee quality "
    "assurance "
).split()


def generate(categories: int = 50, resources: int = 10_000, seed: int = 7) -> CatalogueSource:
    """A deterministic sample catalogue: ``resources`` spread over ``categories``."""
    rng = random.Random(seed)
    kinds = list(KINDS)
    cats = [
        SourceCategory(
            id=f"sample-category-{i:03d}",
            name=f"Sample category {i}: {' '.join(rng.sample(_WORDS, 2)).capitalize()}",
            introduction="Sample category generated for testing. "
            + " ".join(rng.choices(_WORDS, k=30)),
            position=i,
        )
        for i in range(1, categories + 1)
    ]
    items = []
    for n in range(resources):
        kind = kinds[n % len(kinds)]
        cat = cats[n % categories].id
        extra = [cats[(n * 7) % categories].id] if n % 10 == 0 else []
        files = (
            [SourceFile(name=f"sample-{n:05d}.pdf")]
            if kind not in ("website", "group-page", "webinar")
            else []
        )
        items.append(
            SourceResource(
                id=f"sample-resource-{n:05d}",
                title=f"Sample {n}: " + " ".join(rng.choices(_WORDS, k=rng.randint(3, 9))),
                kind=kind,
                summary="Sample resource generated for testing. "
                + " ".join(rng.choices(_WORDS, k=40)),
                categories=[cat, *[c for c in extra if c != cat]],
                tags=rng.sample(_WORDS, 3),
                status="superseded" if n % 17 == 0 else "current",
                picture_alt="Sample picture",
                published=f"20{rng.randint(15, 26)}-{rng.randint(1, 12):02d}",
                position=n,
                files=files,
            )
        )
    return CatalogueSource(version=1, issued="2026-11-01", categories=cats, resources=items)
