// Renders the book's TeX with KaTeX, vendored from npm's katex 0.19.1 (src/katex, MIT: see
// src/katex/LICENSE) so that the book needs no network. Inline math is \( … \), display math
// $$ … $$ (written \\( and \\) in the Markdown, whose escapes eat one backslash). Only pages
// with math load KaTeX.
(() => {
    const text = document.querySelector('main')?.textContent ?? '';
    if (!text.includes('$$') && !text.includes('\\(')) {
        return;
    }
    const root = typeof path_to_root === 'string' ? path_to_root : '';
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = root + 'katex/katex.min.css';
    document.head.appendChild(css);
    const load = (src) => new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = root + src;
        s.onload = resolve;
        s.onerror = reject;
        document.head.appendChild(s);
    });
    load('katex/katex.min.js')
        .then(() => load('katex/auto-render.min.js'))
        .then(() => {
            renderMathInElement(document.querySelector('main'), {
                delimiters: [
                    { left: '$$', right: '$$', display: true },
                    { left: '\\(', right: '\\)', display: false },
                ],
                throwOnError: false,
            });
            document.documentElement.dataset.math = 'rendered';
        });
})();
