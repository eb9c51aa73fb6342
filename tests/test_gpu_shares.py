"""GPU shares (MIG instances, time-sliced pods): the domain rules and the lines they give.
Pure: no Textual app runs."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from backends.domain.gpus import matches, owners, serves, summarize
from backends.domain.health import gpus_of
from backends.domain.models import GpuDevice, GpuScope, GpuSlice, ModelService
from console.screens.model_detail import PROBLEM_MARK, gpu_rows, xid_text
from widgets.gpu_plan import plan_gpus
from widgets.gpu_table import filter_gpus, gpu_owner, share_owner, table_rows

EMBED = GpuSlice(mig_profile="1g.10gb", instance="11", util_percent=42.0,
                 memory_used_mib=6100.0, memory_total_mib=9969.0, pod="embed-a", namespace="nlp",
                 model="embed")
RERANK = GpuSlice(mig_profile="3g.40gb", instance="2", util_percent=float("nan"),
                  pod="rerank-a", namespace="search", model="rerank")
FREE = GpuSlice(mig_profile="1g.10gb", instance="14", util_percent=0.0)
MIG = GpuDevice(node="mig-node", index=0, temperature_c=61.0, pod="rerank-a",
                namespace="search", model="rerank", slices=(RERANK, EMBED, FREE))
SHARED = GpuDevice(node="ts-node", index=0, util_percent=81.0, pod="chat-a", namespace="chat",
                   model="chat", slices=(GpuSlice(pod="chat-a", namespace="chat", model="chat"),
                                         GpuSlice(pod="chat-b", namespace="chat", model="chat"),
                                         GpuSlice(pod="score-c", namespace="batch",
                                                  model="score")))
WHOLE = GpuDevice(node="a-node", index=1, util_percent=5.0, pod="solo-x", namespace="ml",
                  model="solo")


def test_a_share_says_what_it_is_and_keeps_no_fake_figures():
    assert EMBED.label == "MIG 1g.10gb/11" and SHARED.slices[0].label == "shared"
    assert EMBED.memory_percent == pytest.approx(100 * 6100 / 9969)
    assert RERANK.util_percent is None and RERANK.memory_percent is None  # NaN: no value
    with pytest.raises(ValidationError):
        EMBED.pod = "x"  # type: ignore[misc]  # frozen


def test_a_gpu_serves_every_model_of_its_shares_once():
    assert MIG.mig and not SHARED.mig and not WHOLE.mig
    assert MIG.models == ("rerank", "embed") and SHARED.models == ("chat", "score")
    assert WHOLE.models == ("solo",)
    assert owners(WHOLE) == [("solo", "solo-x", "ml")]
    assert owners(MIG)[2] == (None, None, None)
    assert serves(MIG, "embed", "nlp") and not serves(MIG, "embed", "other-ns")
    assert serves(SHARED, "score", "batch") and not serves(WHOLE, "embed", "nlp")


def test_scope_and_summary_count_a_shared_gpu_once_per_model():
    assert matches(MIG, GpuScope(model="embed"), 10.0)
    assert not matches(WHOLE, GpuScope(model="embed"), 10.0)
    assert matches(SHARED, GpuScope(text="score-c"), 10.0)  # a share's pod is searchable
    s = summarize([MIG, SHARED, WHOLE], 10.0)
    assert (s.gpus, s.allocated) == (3, 3)
    assert s.by_model == {"rerank": 1, "embed": 1, "chat": 1, "score": 1, "solo": 1}


def test_a_model_detail_lists_the_gpus_it_holds_a_share_of():
    embed = ModelService(name="embed", namespace="nlp", cluster="c")
    assert gpus_of(embed, [MIG, SHARED, WHOLE]) == [MIG]
    rows = gpu_rows(MIG, embed, flagged=False)
    # the GPU (no utilisation of its own under MIG), then only this model's instance
    assert rows == [("", "mig-node", "0", "—", "—", "61°C", "—", "MIG ×3"),
                    ("", " └ MIG 1g.10gb/11", "", "42%", "61%", "", "", "embed-a")]
    score = ModelService(name="score", namespace="batch", cluster="c")
    assert gpu_rows(SHARED, score, flagged=True) == [
        (PROBLEM_MARK, "ts-node", "0", "81%", "—", "—", "—", "shared ×3"),
        ("", " └ shared", "", "—", "—", "", "", "score-c")]


def test_a_cleared_xid_shows_its_code_and_when():
    at = datetime(2026, 11, 21, 3, 7, tzinfo=timezone.utc)
    old = WHOLE.model_copy(update={"last_xid": 48, "xid_at": at, "xid_current": False})
    assert xid_text(old) == "48 old 03:07"
    assert xid_text(old.model_copy(update={"xid_at": None})) == "48 old"
    assert xid_text(old.model_copy(update={"xid_current": True})) == "48 new"
    assert xid_text(WHOLE) == "—"
    assert gpu_owner(old, False) == "solo · XID 48 at 03:07, cleared"
    assert gpu_owner(old.model_copy(update={"xid_current": True}), False) == "solo"


def test_the_tables_put_each_share_under_its_gpu():
    rows = table_rows([WHOLE, MIG])
    assert rows == [(WHOLE, None), (MIG, None), (MIG, RERANK), (MIG, EMBED), (MIG, FREE)]
    assert gpu_owner(MIG, True) == "MIG 3 instances, 2 held"
    assert gpu_owner(SHARED, False) == "time-sliced by 3 pods"
    assert gpu_owner(WHOLE, True) == "solo · solo-x" and gpu_owner(WHOLE, False) == "solo"
    assert [share_owner(s) for s in MIG.slices] == ["rerank · rerank-a", "embed · embed-a",
                                                    "free"]
    assert filter_gpus([WHOLE, MIG, SHARED], "3g.40gb") == [MIG]
    plan = plan_gpus([WHOLE, MIG])
    assert plan.lines == [("a-node", [WHOLE]), WHOLE, ("mig-node", [MIG]), MIG, RERANK, EMBED,
                          FREE]
    assert plan.subtitle.startswith("2 GPUs · 2 nodes")  # shares are not GPUs
