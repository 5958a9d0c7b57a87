#!/usr/bin/python3
"""readfeed.py URL... : read each feed with feedparser and print one JSON
document of what it parsed, for server/readers_test.go to compare with what
Recap published. Run with Debian's /usr/bin/python3 (python3-feedparser).

{"feedparser": "6.0.10", "feeds": [{"url", "status", "version", "bozo",
  "bozo_exception", "title", "entries": [{"title", "title_type", "link",
  "id", "published", "updated"}]}]}

Dates are the parsed time tuples as ISO 8601 in UTC, "" when absent or
unparsable, so the test sees whether feedparser understood them.
"""
import json
import sys
import time

import feedparser


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", t) if t else ""


feeds = []
for url in sys.argv[1:]:
    d = feedparser.parse(url)
    feeds.append({
        "url": url,
        "status": d.get("status", 0),
        "version": d.get("version", ""),
        "bozo": int(bool(d.get("bozo"))),
        "bozo_exception": repr(d.get("bozo_exception", "")) if d.get("bozo") else "",
        "title": d.feed.get("title", ""),
        "entries": [{
            "title": e.get("title", ""),
            "title_type": e.get("title_detail", {}).get("type", ""),
            "link": e.get("link", ""),
            "id": e.get("id", ""),
            "published": iso(e.get("published_parsed")),
            "updated": iso(e.get("updated_parsed")),
        } for e in d.entries],
    })
json.dump({"feedparser": feedparser.__version__, "feeds": feeds}, sys.stdout)
sys.stdout.write("\n")
