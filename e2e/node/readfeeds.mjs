// node readfeeds.mjs URL... : read each feed with two real Node feed readers,
// rss-parser and @extractus/feed-extractor, and print one JSON document of
// what each parsed, for Go tests to compare with what Recap published:
//
//   {"results": [{"reader": "rss-parser", "url": ..., "ok": true, "error": "",
//                 "title": ..., "items": [{"title", "link", "id", "published"}]}, ...]}
//
// rss-parser reads no JSON Feed, so a URL answered with a JSON content type
// is read by feed-extractor alone. A reader's failure is reported in its
// result, not thrown; the exit status is 0 unless the script itself breaks.
import Parser from 'rss-parser';
import { extract } from '@extractus/feed-extractor';

const timeout = 10000;

async function fetchText(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeout) });
  if (!res.ok) throw new Error(`GET ${url}: status ${res.status}`);
  return { ctype: res.headers.get('content-type') || '', body: await res.text() };
}

async function withRSSParser(url, body) {
  const f = await new Parser({ timeout }).parseString(body);
  return {
    title: f.title ?? '',
    items: (f.items || []).map((i) => ({
      title: i.title ?? '',
      link: i.link ?? '',
      id: i.guid ?? i.id ?? '',
      published: i.isoDate ?? i.pubDate ?? '',
    })),
  };
}

async function withFeedExtractor(url) {
  // extract fetches the URL itself: it decides between XML and JSON Feed on
  // the response's Content-Type, which is part of what is tested.
  const fetcher = (u) => fetch(u, { signal: AbortSignal.timeout(timeout) });
  const f = await extract(url, { descriptionMaxLen: 0 }, fetcher);
  return {
    title: f.title ?? '',
    items: (f.entries || []).map((e) => ({
      title: e.title ?? '',
      link: e.link ?? '',
      id: e.id ?? '',
      published: e.published ?? '',
    })),
  };
}

async function run(reader, url, fn) {
  try {
    return { reader, url, ok: true, error: '', ...(await fn()) };
  } catch (e) {
    return { reader, url, ok: false, error: String(e && e.message ? e.message : e).split('\n')[0], title: '', items: [] };
  }
}

const results = [];
for (const url of process.argv.slice(2)) {
  let fetched;
  try {
    fetched = await fetchText(url);
  } catch (e) {
    results.push({ reader: 'fetch', url, ok: false, error: String(e.message || e), title: '', items: [] });
    continue;
  }
  if (!/json/i.test(fetched.ctype)) {
    results.push(await run('rss-parser', url, () => withRSSParser(url, fetched.body)));
  }
  results.push(await run('feed-extractor', url, () => withFeedExtractor(url)));
}
process.stdout.write(JSON.stringify({ results }) + '\n');
