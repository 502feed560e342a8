"""Speech-understanding stages measured on the 57 Harper Valley Bank calls.

    .venv/bin/python bench/eval_harper_valley.py          # prints the figures
    .venv/bin/python bench/eval_harper_valley.py --json   # the same as JSON

Data: ``tests/data/harper-valley`` (human transcripts, labelled intent, metadata; see its
README). Truth used for each stage (none of it is produced by the code under test):

* topic — the caller's assigned task (``tasks[0].task_type``), mapped to the default
  taxonomy's topics by :data:`INTENT_TO_TOPIC`;
* sentiment — the corpus's per-utterance emotion scores from Gridspace's model,
  ``positive − negative``: Spearman correlation with our utterance scores, and with
  our side scores per call (word-weighted mean of the truth over the side's utterances);
* resolution — the agent submitted the task form (``agent.responses[].data.task_type``
  equal to the caller's task): 57 of 57 calls, so only "resolved" can be checked here;
  the unresolved side is tested on hand-written calls in ``tests/speech``;
* summary — the chosen caller utterance names the intent (:data:`INTENT_WORDS`) or is
  tagged ``problem_description`` by the corpus's dialog-act model; the chosen agent
  utterance names the outcome (:data:`OUTCOME_WORDS` or a word of the submitted form).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "speech"))

from harper_valley import (  # type: ignore[import-not-found, unused-ignore]
    INTENT_TO_TOPIC,
    INTENT_WORDS,
    OUTCOME_WORDS,
    Call,
    calls,
    form_words,
    words,
)

from callcenter.speech.resolution import assess_resolution
from callcenter.speech.sentiment import analyze_sentiment, vader_score
from callcenter.speech.summary import summarize
from callcenter.speech.topics import TopicClassifier, load_taxonomy


def _emotion(row: dict[str, Any]) -> float:
    """Truth for sentiment: the corpus model's positive - negative score."""
    e = row["emotion"]
    return float(e["positive"]) - float(e["negative"])


def form_submitted(call: Call) -> bool:
    """Resolution truth: the agent submitted a form for the caller's task."""
    agent = call.metadata["agent"]
    assert isinstance(agent, dict)
    return any(
        (r.get("data") or {}).get("task_type") == call.intent for r in agent.get("responses", [])
    )


def evaluate() -> dict[str, Any]:
    data = calls()
    t0 = time.perf_counter()
    clf = TopicClassifier(load_taxonomy("en"))
    fit_s = time.perf_counter() - t0
    per: Counter[str] = Counter()
    tot: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    results = {}
    t0 = time.perf_counter()
    for c in data:
        results[c.sid] = clf.classify(c.conversation)
    classify_ms = (time.perf_counter() - t0) / len(data) * 1000
    for c in data:
        tot[c.intent] += 1
        got = results[c.sid].topic
        if got == INTENT_TO_TOPIC[c.intent]:
            per[c.intent] += 1
        else:
            confusion[(c.intent, got)] += 1

    ours, truth, side_ours, side_truth = [], [], [], []
    for c in data:
        for r in c.utterances:
            ours.append(vader_score(str(r["human_transcript"])))
            truth.append(_emotion(r))
        s = analyze_sentiment(c.conversation)
        for role, side in (("agent", s.agent), ("caller", s.caller)):
            rows = [r for r in c.utterances if r["speaker_role"] == role]
            sizes = [len(str(r["human_transcript"]).split()) for r in rows]
            if side is None or not sum(sizes):
                continue
            t = sum(k * _emotion(r) for k, r in zip(sizes, rows, strict=True))
            side_ours.append(side.score)
            side_truth.append(t / sum(sizes))

    res = [assess_resolution(c.conversation) for c in data]
    truth_res = [form_submitted(c) for c in data]
    correct = sum(r.resolved is t for r, t in zip(res, truth_res, strict=True))

    caller_ok = caller_act = agent_ok = agent_found = 0
    for c in data:
        sm = summarize(c.conversation, results[c.sid], classifier=clf)
        if sm.caller_wanted is not None and sm.caller_at is not None:
            chosen_ms = round(sm.caller_at * 1000)
            caller_ok += bool(words(sm.caller_wanted) & INTENT_WORDS[c.intent])
            acts = [
                str(r["dialog_acts"])
                for r in c.utterances
                if r["speaker_role"] == "caller" and str(r["start_ms"]) == str(chosen_ms)
            ]
            caller_act += bool(acts) and "gridspace_problem_description" in acts[0]
        if sm.agent_did is not None:
            agent_found += 1
            agent_ok += bool(words(sm.agent_did) & (OUTCOME_WORDS[c.intent] | form_words(c)))

    n = len(data)
    return {
        "calls": n,
        "topic_accuracy": sum(per.values()) / n,
        "topic_per_intent": {k: f"{per[k]}/{tot[k]}" for k in sorted(tot)},
        "topic_confusions": {f"{a} -> {b}": v for (a, b), v in confusion.most_common()},
        "topic_min_support": round(min(r.support for r in results.values()), 3),
        "topic_fit_ms": round(fit_s * 1000, 1),
        "topic_classify_ms_per_call": round(classify_ms, 2),
        "sentiment_utterances": len(ours),
        "sentiment_spearman_utterance": float(spearmanr(ours, truth).statistic),
        "sentiment_sides": len(side_ours),
        "sentiment_spearman_side": float(spearmanr(side_ours, side_truth).statistic),
        "resolution_truth_resolved": sum(truth_res),
        "resolution_accuracy": correct / n,
        "resolution_undecided": sum(r.resolved is None for r in res),
        "resolution_predicted_unresolved": sum(r.resolved is False for r in res),
        "summary_caller_names_intent": caller_ok / n,
        "summary_caller_problem_description_act": caller_act / n,
        "summary_agent_found": agent_found / n,
        "summary_agent_names_outcome": agent_ok / n,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print JSON")
    out = evaluate()
    if ap.parse_args().json:
        print(json.dumps(out, indent=2))
        return
    n = out["calls"]
    print(f"Harper Valley: {n} calls")
    print(f"topic accuracy: {out['topic_accuracy']:.3f} ({round(out['topic_accuracy'] * n)}/{n})")
    for k, v in out["topic_per_intent"].items():
        print(f"  {k:22s} {v:6s} -> {INTENT_TO_TOPIC[k]}")
    print("  confusions:", out["topic_confusions"] or "none")
    print(f"  lowest support {out['topic_min_support']} (threshold for 'other': 0.2)")
    print(f"  fit {out['topic_fit_ms']} ms, {out['topic_classify_ms_per_call']} ms per call")
    print(
        f"sentiment Spearman vs corpus emotion (pos-neg): utterances "
        f"{out['sentiment_spearman_utterance']:.3f} (n={out['sentiment_utterances']}), "
        f"sides {out['sentiment_spearman_side']:.3f} (n={out['sentiment_sides']})"
    )
    print(
        f"resolution accuracy: {out['resolution_accuracy']:.3f} "
        f"(truth: {out['resolution_truth_resolved']}/{n} resolved; "
        f"undecided {out['resolution_undecided']}, "
        f"predicted unresolved {out['resolution_predicted_unresolved']})"
    )
    print(
        f"summary: caller line names the intent {out['summary_caller_names_intent']:.3f}, "
        f"is a problem_description act {out['summary_caller_problem_description_act']:.3f}; "
        f"agent line found {out['summary_agent_found']:.3f}, "
        f"names the outcome {out['summary_agent_names_outcome']:.3f}"
    )


if __name__ == "__main__":
    main()
