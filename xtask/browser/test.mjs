// Headless Chromium checks of the built book, in every language. Run by `cargo xtask browser`,
// which builds nothing: it serves book/ and runs
//
//     node xtask/browser/test.mjs BASE_URL OUT_DIR
//
// BASE_URL is where book/ is served (English at its root, translations under zh/ and ja/);
// OUT_DIR receives the screenshots. Chromium comes from CHROMIUM (default /usr/bin/chromium);
// nothing is downloaded, and any request to a host other than BASE_URL's is blocked and fails
// the run. Exit status 1 lists every failed check.

import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// ---- What to expect: edit here as the book grows. --------------------------------------------
// Where each language's book lives under BASE_URL.
const DIRS = { en: '', zh: 'zh/', ja: 'ja/' };
// The chapters every check runs on (relative to each language's root), with each language's
// <h1> and a search query that must find the chapter. (BOOK_BROWSER_EXPECT, a JSON object
// {"PAGE": {"LANG": {...}}}, overrides entries for one run, e.g.
// BOOK_BROWSER_EXPECT='{"maps/index.html":{"ja":{"query":"ハッシュ"}}}'.)
const CHAPTERS = [
    {
        page: 'maps/index.html', shot: 'maps',
        en: { h1: 'Maps and slices', query: 'Swiss' },
        zh: { h1: 'Map 与切片', query: '哈希表' },
        ja: { h1: 'マップとスライス', query: 'ハッシュ' },
    },
    {
        page: 'scheduler/index.html', shot: 'scheduler',
        en: { h1: 'Goroutines and the scheduler', query: 'runnext' },
        zh: { h1: 'Goroutine 与调度器', query: '调度器' },
        ja: { h1: 'ゴルーチンとスケジューラ', query: 'スケジューラ' },
    },
    {
        page: 'memory-model/index.html', shot: 'memory-model',
        en: { h1: 'The spec and the memory model', query: 'happens-before' },
        zh: { h1: '规范与内存模型', query: '内存模型' },
        ja: { h1: '仕様とメモリモデル', query: 'メモリモデル' },
    },
    {
        page: 'allocator/index.html', shot: 'allocator',
        en: { h1: 'The memory allocator', query: 'mcache' },
        zh: { h1: '内存分配器', query: '分配器' },
        ja: { h1: 'メモリアロケータ', query: 'アロケータ' },
    },
    {
        page: 'gc/index.html', shot: 'gc', math: true,
        en: { h1: 'The garbage collector', query: 'Green Tea' },
        zh: { h1: '垃圾回收器', query: '写屏障' },
        ja: { h1: 'ガベージコレクタ', query: 'ライトバリア' },
    },
    {
        page: 'mutex/index.html', shot: 'mutex',
        en: { h1: 'Mutexes and semaphores', query: 'semacquire' },
        zh: { h1: '互斥锁与信号量', query: '信号量' },
        ja: { h1: 'ミューテックスとセマフォ', query: 'セマフォ' },
    },
];
// ------------------------------------------------------------------------------------------------

const TIMEOUT_MS = 20_000;
const CHROMIUM_ARGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const [baseArg, outDir = 'target/browser'] = process.argv.slice(2);
if (!baseArg) {
    console.error('usage: node test.mjs BASE_URL [OUT_DIR]');
    process.exit(2);
}
const base = new URL(baseArg.endsWith('/') ? baseArg : baseArg + '/');
if (process.env.BOOK_BROWSER_EXPECT) {
    for (const [pageName, langs] of Object.entries(JSON.parse(process.env.BOOK_BROWSER_EXPECT))) {
        const ch = CHAPTERS.find(c => c.page === pageName);
        if (!ch) throw new Error(`BOOK_BROWSER_EXPECT: no chapter ${pageName}`);
        for (const [lang, over] of Object.entries(langs)) ch[lang] = { ...ch[lang], ...over };
    }
}
mkdirSync(outDir, { recursive: true });

// Problem -> where it was seen (a missing asset shows on many pages; it is listed once).
const failures = new Map();
const fail = (where, msg) => failures.set(msg, (failures.get(msg) ?? new Set()).add(where));
const external = new Set();
const summary = [];

const urlOf = (lang, page) => new URL(DIRS[lang] + page, base).href;
const isLocal = url => url.startsWith(base.origin + '/') || /^(data|blob|about):/.test(url);

// Every page: record failed same-origin requests, HTTP errors, script errors.
function watch(page, where) {
    page.on('requestfailed', req => {
        const err = req.failure()?.errorText ?? '';
        // Blocked external requests are reported separately; ERR_ABORTED is a request cut
        // short by a navigation (a missing file shows up as a 404 below).
        if (isLocal(req.url()) && !err.includes('ERR_ABORTED')) {
            fail(where(), `request failed: ${req.url()} (${err})`);
        }
    });
    page.on('response', res => {
        if (res.status() >= 400 && isLocal(res.url())) {
            fail(where(), `HTTP ${res.status()} for ${res.url()}`);
        }
    });
    page.on('pageerror', err => fail(where(), `uncaught script error: ${err.message}`));
    page.on('console', msg => {
        // "Failed to load resource" repeats what the two handlers above already report.
        if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
            fail(where(), `console error: ${msg.text()}`);
        }
    });
}

// Wait until every ```mermaid block has become an <svg>; returns [rendered, total].
async function mermaid(page, where) {
    const total = await page.locator('pre.mermaid').count();
    try {
        await page.waitForFunction(
            () => [...document.querySelectorAll('pre.mermaid')].every(p => p.querySelector('svg')),
            null, { timeout: TIMEOUT_MS });
    } catch {
        // Reported below with the count.
    }
    const state = await page.$$eval('pre.mermaid', pres => pres.map(p => {
        const svg = p.querySelector('svg');
        if (!svg) return 'missing';
        const error = svg.getAttribute('aria-roledescription') === 'error'
            || /Syntax error in text/.test(svg.textContent);
        return error ? 'error' : 'ok';
    }));
    const ok = state.filter(s => s === 'ok').length;
    if (total === 0) fail(where, 'no ```mermaid diagram on the page');
    if (state.includes('missing')) fail(where, `${state.filter(s => s === 'missing').length} of ${total} mermaid diagrams never rendered to <svg>`);
    if (state.includes('error')) fail(where, `${state.filter(s => s === 'error').length} mermaid diagrams render as a syntax error`);
    return [ok, total];
}

// Wait until theme/katex-init.js has typeset the page's TeX; every formula must be KaTeX
// output, none a KaTeX error. Returns "rendered/total".
async function katex(page, where) {
    try {
        await page.waitForFunction(() => document.documentElement.dataset.math === 'rendered',
            null, { timeout: TIMEOUT_MS });
    } catch {
        fail(where, 'the TeX was never typeset (theme/katex-init.js)');
    }
    const ok = await page.locator('main .katex').count();
    const bad = await page.locator('main .katex-error').count();
    if (ok === 0) fail(where, 'no formula rendered by KaTeX');
    if (bad) fail(where, `${bad} formulas are KaTeX errors`);
    // A display formula wider than the column scrolls sideways (book-extra.css): readable, but a
    // reader at the default width should not have to. Break it into two displays instead.
    const wide = await page.$$eval('main .katex-display', es => es
        .map((e, i) => ({ i: i + 1, over: e.scrollWidth - e.clientWidth }))
        .filter(w => w.over > 1));
    for (const w of wide) fail(where, `display formula ${w.i} is ${w.over}px wider than the column`);
    return `${ok - bad}/${ok}`;
}

async function checkChapter(page, lang, ch) {
    const where = `${lang} ${ch.page}`;
    const want = ch[lang];
    const res = await page.goto(urlOf(lang, ch.page), { waitUntil: 'load' });
    if (!res || !res.ok()) {
        fail(where, `page did not load (HTTP ${res?.status()})`);
        return {};
    }
    const htmlLang = await page.getAttribute('html', 'lang');
    if (htmlLang !== lang) fail(where, `<html lang="${htmlLang}">, expected "${lang}"`);
    const h1 = (await page.locator('main h1').first().textContent())?.trim();
    if (h1 !== want.h1) fail(where, `h1 is "${h1}", expected "${want.h1}"`);

    const [ok, total] = await mermaid(page, where);
    const math = ch.math ? await katex(page, where) : undefined;

    // {{#include}}d code: every code block has text (a mistyped anchor renders an empty block).
    // Each block is named by the heading above it.
    const codes = await page.$$eval('main :is(h1, h2, h3, h4, h5, h6, pre > code)', els => {
        let heading = '';
        const out = [];
        for (const el of els) {
            if (el.tagName !== 'CODE') heading = '#' + el.id;
            else out.push({ empty: el.textContent.trim() === '', heading });
        }
        return out;
    });
    if (codes.length === 0) fail(where, 'no code block on the page');
    const empty = codes.filter(c => c.empty).length;
    if (empty) {
        const at = codes.filter(c => c.empty).map(c => `under ${c.heading}`).join(', ');
        fail(where, `${empty} of ${codes.length} code blocks are empty (${at}): a mistyped {{#include}} anchor?`);
    }

    // The top of the page, then each diagram and the first display formula, a file each. A
    // whole-page capture of a long chapter is taller than headless Chromium will render: it
    // failed with "Unable to capture screenshot" and once took the browser down with it.
    await page.screenshot({ path: join(outDir, `${ch.shot}-${lang}.png`) });
    const diagrams = page.locator('main pre.mermaid svg');
    for (let i = 0; i < await diagrams.count(); i++) {
        await diagrams.nth(i).screenshot({ path: join(outDir, `${ch.shot}-${lang}-mermaid-${i + 1}.png`) });
    }
    if (math) {
        await page.locator('main .katex-display').first()
            .screenshot({ path: join(outDir, `${ch.shot}-${lang}-math.png`) });
    }
    return { mermaid: `${ok}/${total}`, code: `${codes.length - empty}/${codes.length}`, ...(math ? { math } : {}) };
}

// Type the query into mdbook's search bar; the chapter must be among the results, and opening
// that result must land on the chapter with the query highlighted.
async function checkSearch(page, lang, ch) {
    const where = `${lang} search`;
    const { query } = ch[lang];
    await page.goto(urlOf(lang, 'index.html'), { waitUntil: 'load' });
    await page.click('#mdbook-search-toggle');
    const bar = page.locator('#mdbook-searchbar');
    await bar.fill(query);
    await bar.press('End'); // searcher.js searches on keyup (fill() sends no key events)
    let hits = [];
    try {
        await page.waitForFunction(() => {
            const h = document.getElementById('mdbook-searchresults-header');
            return h && h.textContent.trim() !== '';
        }, null, { timeout: TIMEOUT_MS });
        hits = await page.$$eval('#mdbook-searchresults li a', as => as.map(a => a.href));
    } catch {
        fail(where, `no search results were shown for "${query}"`);
    }
    await page.screenshot({ path: join(outDir, `search-${ch.shot}-${lang}.png`) });
    const chapterUrl = urlOf(lang, ch.page);
    const hit = hits.findIndex(h => h.startsWith(chapterUrl));
    if (hit === -1) {
        fail(where, `"${query}" did not find ${ch.page} (${hits.length} results: ${hits.map(h => h.slice(base.href.length)).join(', ') || 'none'})`);
        return `"${query}": ${hits.length} results, chapter missing`;
    }
    const link = page.locator('#mdbook-searchresults li a').nth(hit);
    await Promise.all([page.waitForURL(u => u.href.startsWith(chapterUrl), { waitUntil: 'load' }), link.click()]);
    const marks = await page.locator('main mark').count();
    if (marks === 0) fail(where, `the result page does not highlight "${query}"`);
    return `"${query}": ${hits.length} results, chapter #${hit + 1}, ${marks} marks`;
}

// From the chapter in `lang`, the picker must open the same chapter (and #fragment) in every
// other language.
async function checkPicker(page, lang, ch) {
    const where = `${lang} language picker`;
    const fragment = '#lang-picker-check';
    const done = [];
    for (const other of Object.keys(DIRS)) {
        if (other === lang) continue;
        await page.goto(urlOf(lang, ch.page) + fragment, { waitUntil: 'load' });
        const toggle = page.locator('#lang-picker-toggle');
        if (await toggle.count() === 0) {
            fail(where, 'no language picker (#lang-picker-toggle) in the menu bar');
            return 'missing';
        }
        await toggle.click();
        if (done.length === 0) {
            await page.screenshot({ path: join(outDir, `picker-${lang}.png`), clip: { x: 780, y: 0, width: 500, height: 220 } });
        }
        const item = page.locator(`#lang-picker-list a[data-lang="${other}"]`);
        const before = page.url();
        await Promise.all([page.waitForURL(u => u.href !== before, { waitUntil: 'load' }), item.click()]);
        const expected = urlOf(other, ch.page) + fragment;
        if (page.url() !== expected) {
            fail(where, `-> ${other} went to ${page.url()}, expected ${expected}`);
            continue;
        }
        const htmlLang = await page.getAttribute('html', 'lang');
        const h1 = (await page.locator('main h1').first().textContent())?.trim();
        if (htmlLang !== other) fail(where, `-> ${other}: <html lang="${htmlLang}">`);
        if (h1 !== ch[other].h1) fail(where, `-> ${other}: h1 is "${h1}", expected "${ch[other].h1}"`);
        done.push(other);
    }
    return done.length ? `-> ${done.join(', ')}` : 'failed';
}

async function checkPrint(page, lang) {
    const where = `${lang} print.html`;
    const res = await page.goto(urlOf(lang, 'print.html'), { waitUntil: 'load' });
    if (!res || !res.ok()) {
        fail(where, `page did not load (HTTP ${res?.status()})`);
        return '';
    }
    const [ok, total] = await mermaid(page, where);
    const math = await katex(page, where);
    await page.screenshot({ path: join(outDir, `print-${lang}.png`) });
    return `${ok}/${total}, math ${math}`;
}

const started = Date.now();
const profile = mkdtempSync(join(tmpdir(), 'book-browser-'));
let context;
try {
    context = await chromium.launchPersistentContext(profile, {
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1280, height: 900 },
        serviceWorkers: 'block',
    });
    context.setDefaultTimeout(TIMEOUT_MS);
    // Offline: nothing may leave BASE_URL's origin.
    await context.route('**/*', route => {
        const url = route.request().url();
        if (isLocal(url)) return route.continue();
        external.add(url);
        return route.abort('blockedbyclient');
    });
    // print.html calls window.print() once loaded; a headless dialog would only get in the way.
    await context.addInitScript(() => { window.print = () => {}; });

    const page = context.pages()[0] ?? await context.newPage();
    let where = 'start';
    watch(page, () => where);
    for (const lang of Object.keys(DIRS)) {
        const row = { lang, mermaid: [], code: [], search: [] };
        const step = async (name, fn) => {
            where = `${lang} ${name}`;
            try {
                return await fn();
            } catch (e) {
                fail(where, e.message.split('\n')[0]);
                return 'error';
            }
        };
        for (const ch of CHAPTERS) {
            const r = await step(ch.page, () => checkChapter(page, lang, ch));
            row.mermaid.push(`${ch.shot} ${r.mermaid ?? '-'}`);
            row.code.push(`${ch.shot} ${r.code ?? '-'}`);
            row.search.push(await step('search', () => checkSearch(page, lang, ch)));
        }
        // The picker keeps the reader on the same page: one chapter is enough to show it.
        row.picker = await step('language picker', () => checkPicker(page, lang, CHAPTERS[CHAPTERS.length - 1]));
        row.print = await step('print.html', () => checkPrint(page, lang));
        summary.push(row);
    }
} catch (e) {
    fail('browser', e.message);
} finally {
    await context?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
}

for (const url of external) {
    fail('offline', `requested an external URL: ${url}`);
}

const secs = ((Date.now() - started) / 1000).toFixed(1);
console.log(`\nbrowser test of ${base.href} (${secs}s), screenshots in ${outDir}/`);
for (const r of summary) {
    console.log(`  ${r.lang}: mermaid ${r.mermaid.join(', ')}; code blocks ${r.code.join(', ')}; print.html mermaid ${r.print || '-'}`);
    console.log(`      search ${r.search.join('; ')}; picker ${r.picker}`);
}
if (failures.size) {
    console.log(`\n${failures.size} problem(s):`);
    for (const [msg, where] of failures) {
        const w = [...where];
        const more = w.length > 3 ? ` and ${w.length - 3} more` : '';
        console.log(`  - ${w.slice(0, 3).join('; ')}${more}: ${msg}`);
    }
    process.exit(1);
}
console.log('all browser checks passed');
