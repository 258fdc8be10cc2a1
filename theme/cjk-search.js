// Search for Chinese and Japanese.
//
// mdbook's search (searcher.js) uses elasticlunr, which splits text into words at whitespace and
// then strips "non-word" characters, so a CJK sentence never becomes a searchable term and
// queries such as 哈希表 or ハッシュ find nothing. mdbook's search index also stores every
// section's text (documentStore: title, body, breadcrumbs), so for a query that contains CJK
// characters this script searches that text by substring instead. It wraps
// elasticlunr.Index.prototype.search, which searcher.js calls with the raw query, and returns
// results in elasticlunr's own shape ({ref, score, doc}), so mdbook renders them exactly like
// its own: link, breadcrumbs, teaser, and ?highlight= marking on the target page.
// Queries without CJK characters go to elasticlunr untouched.
(function cjkSearch() {
    'use strict';

    if (typeof elasticlunr === 'undefined' || !elasticlunr.Index) {
        return;
    }

    // Han, kana (with the prolonged sound mark), CJK punctuation, Hangul, full-width forms.
    const CJK = '\\u3000-\\u303f\\u3040-\\u30ff\\u31f0-\\u31ff\\u3400-\\u4dbf\\u4e00-\\u9fff'
        + '\\uac00-\\ud7af\\uf900-\\ufaff\\uff00-\\uffef';
    const HAS_CJK = new RegExp('[' + CJK + ']');
    // Whitespace between two CJK characters is an artefact of markup (mdbook joins the text of
    // inline elements with spaces), not a word break: drop it before matching.
    const CJK_GAP = new RegExp('([' + CJK + '])\\s+(?=[' + CJK + '])', 'g');

    const BEFORE = 40; // characters of context before the first match in the teaser
    const AFTER = 100; // and after it

    const normalize = s => (s || '').replace(CJK_GAP, '$1');

    function count(haystack, needle) {
        let n = 0;
        for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) {
            n++;
        }
        return n;
    }

    // A short body around the first match. searcher.js builds its teaser from words split at
    // spaces and emphasises the words that start with a query term, so each occurrence is set
    // off by spaces to be emphasised on its own.
    function excerpt(body, lower, terms) {
        let at = -1;
        for (const t of terms) {
            const i = lower.indexOf(t);
            if (i !== -1 && (at === -1 || i < at)) {
                at = i;
            }
        }
        const start = Math.max(0, at - BEFORE);
        const end = Math.min(body.length, Math.max(at, 0) + AFTER);
        let text = body.slice(start, end);
        for (const t of terms) {
            if (HAS_CJK.test(t)) {
                text = text.split(t).join(' ' + t + ' ');
            }
        }
        return (start > 0 ? '… ' : '') + text.trim() + (end < body.length ? ' …' : '');
    }

    const originalSearch = elasticlunr.Index.prototype.search;

    elasticlunr.Index.prototype.search = function(query, config) {
        if (typeof query !== 'string' || !HAS_CJK.test(query) || !this.documentStore) {
            return originalSearch.apply(this, arguments);
        }
        const terms = query.toLowerCase().split(/[\s\u3000]+/).filter(Boolean);
        const fields = (config && config.fields) || { title: { boost: 2 }, body: { boost: 1 } };
        const requireAll = !config || config.bool !== 'OR';
        const docs = this.documentStore.docs || {};
        const results = [];
        for (const ref of Object.keys(docs)) {
            const doc = docs[ref];
            const text = {};
            for (const f of Object.keys(fields)) {
                text[f] = normalize(String(doc[f] || '')).toLowerCase();
            }
            let score = 0;
            let matched = 0;
            for (const t of terms) {
                let hits = 0;
                for (const f of Object.keys(fields)) {
                    const c = count(text[f], t);
                    hits += c;
                    score += c * ((fields[f] && fields[f].boost) || 1);
                }
                if (hits > 0) {
                    matched++;
                }
            }
            if (matched === 0 || (requireAll && matched < terms.length)) {
                continue;
            }
            // Pages that match more of the terms first, then by weighted hit count.
            score += matched * 1000;
            // The body is cut the same way it is searched; body === text.body up to case.
            const body = normalize(String(doc.body || ''));
            const lower = body.toLowerCase();
            const shown = Object.assign({}, doc, {
                body: lower.length === body.length ? excerpt(body, lower, terms) : body,
            });
            results.push({ ref: ref, score: score, doc: shown });
        }
        results.sort((a, b) => b.score - a.score);
        return results;
    };

    // On the page a result leads to, searcher.js marks the ?highlight= words with mark.js, one
    // text node at a time, so 哈希表 is missed in "**哈希**表". Mark CJK words again across
    // elements. (searcher.js has already run; Escape still clears every mark.)
    const words = (new URLSearchParams(window.location.search).get('highlight') || '')
        .split(' ').filter(w => HAS_CJK.test(w));
    const content = document.getElementById('mdbook-content');
    if (words.length && content && typeof Mark !== 'undefined') {
        const marker = new Mark(content);
        marker.unmark({
            done: () => marker.mark(words, {
                acrossElements: true,
                exclude: ['text', 'pre.mermaid'],
                done: () => {
                    for (const m of content.querySelectorAll('mark')) {
                        m.addEventListener('click', () => marker.unmark());
                    }
                },
            }),
        });
    }
})();
