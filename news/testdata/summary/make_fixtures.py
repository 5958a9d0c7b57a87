#!/usr/bin/env python3
"""Builds the Summarize fixtures from real items of
../shared/data/ai-news-items.jsonl.gz: each fixture is one event as several
feeds carried it. Run from the repository root:

    python3 news/testdata/summary/make_fixtures.py /work/shared/data/ai-news-items.jsonl.gz

Texts are the feed summaries as plain text (tags stripped, entities
decoded), the way the pipeline hands them to news.Member. A member whose
text repeats an earlier member's (a mirror feed) is marked duplicate, as the
near-duplicate check would."""
import gzip, html, json, re, sys

# (fixture, feed, title prefix, published prefix, link part, duplicate)
PICKS = [
    ("gpt_oss", "openai_research", "Introducing gpt-oss", "2025-08-05", "", False),
    ("gpt_oss", "openai_research", "gpt-oss-120b & gpt-oss-20b Model Card", "2025-08-05", "", False),
    ("gpt_oss", "openai_research", "Estimating worst case frontier risks", "2025-08-05", "", False),
    ("gpt_oss", "artificial_analysis", "Analysis of OpenAI's gpt-oss models", "2025-08-06", "", False),
    ("gpt5", "openai_research", "Introducing GPT-5", "2025-08-07", "", False),
    ("gpt5", "openai_research", "GPT-5 System Card", "2025-08-07", "", False),
    ("gpt5", "openai_research", "From hard refusals to safe-completions", "2025-08-07", "", False),
    ("gpt5", "artificial_analysis", "GPT-5 Benchmarks and Analysis", "2025-08-07", "", False),
    ("flash_lite", "google_deepmind_feeds", "Gemini 2.5 Flash-Lite is now ready", "2025-07-22", "", False),
    ("flash_lite", "google_feeds", "Gemini 2.5 Flash-Lite is now ready", "2025-07-22", "", True),
    ("flash_lite", "google_aggregated", "Gemini 2.5 Flash-Lite is now ready", "2025-07-22", "", True),
    ("liveinterpret", "bytedance_seed_research", "Seed LiveInterpret 2.0", "2025-07-23", "/research/", False),
    ("liveinterpret", "bytedance_seed_blog", "Seed LiveInterpret 2.0 Released", "2025-07-23", "", False),
    ("liveinterpret", "bytedance_seed_research", "Seed LiveInterpret 2.0", "2025-07-23", "/public_papers/", True),
    ("liveinterpret", "bytedance_aggregated", "Seed LiveInterpret 2.0", "2025-07-23", "", True),
    ("seedance", "bytedance_seed_research", "Seedance 1.0: Exploring", "2025-06-10", "", False),
    ("seedance", "bytedance_seed_blog", "Tech Report of Seedance 1.0", "2025-06-10", "", False),
    ("seedance", "bytedance_aggregated", "Tech Report of Seedance 1.0", "2025-06-10", "", True),
    ("phi4_flash", "microsoft_feeds", "Reasoning reimagined: Introducing Phi-4", "2025-07-09", "", False),
    ("phi4_flash", "microsoft_aggregated", "Reasoning reimagined: Introducing Phi-4", "2025-07-09", "", True),
    ("nano_banana_2", "hackernews_best_stories", "Nano Banana 2:", "2026-02-26", "", False),
    ("nano_banana_2", "aibase_daily", "AI日报：谷歌Nano Banana 2正式上线", "2026-02-27", "", False),
    ("nano_banana_2", "deeplearning_ai_batch", "Anthropic vs. the U.S. Government, Nano Banana", "2026-03-06", "", False),
]


def plain(s):
    s = re.sub(r"(?i)<br\s*/?>|</p>", "\n", s or "")
    s = re.sub(r"<[^>]*>", "", s)
    s = html.unescape(s)
    return "\n".join(line.strip() for line in s.split("\n")).strip()


def main(path):
    items = [json.loads(l) for l in gzip.open(path, "rt", encoding="utf-8")]
    out, sources, next_id = {}, {}, 1
    for fixture, feed, title, pub, link, dup in PICKS:
        for d in items:
            if d["feed"] == feed and (d["title"] or "").startswith(title) and (d["published"] or "").startswith(pub) and link in d["link"]:
                break
        else:
            sys.exit("no item for %r" % (PICKS,))
        src = sources.setdefault(feed, len(sources) + 1)
        out.setdefault(fixture, []).append({
            "article": next_id, "source": src, "feed": feed, "link": d["link"],
            "title": plain(d["title"]), "text": plain(d["summary"]),
            "published": d["published"], "duplicate": dup,
        })
        next_id += 1
    for name, members in out.items():
        with open("news/testdata/summary/%s.json" % name, "w", encoding="utf-8") as f:
            json.dump({"name": name, "members": members}, f, ensure_ascii=False, indent=1)
            f.write("\n")


main(sys.argv[1])
