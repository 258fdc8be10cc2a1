// Language picker for the menu bar: English at the site root, the translations under zh/ and
// ja/ (see xtask/src/book.rs). It keeps the reader on the same page and at the same #fragment,
// whether the site is served at the domain root or under a path prefix.
//
// mdbook sets <html lang> from book.language and defines `path_to_root`, the relative path from
// this page to the root of this language's book; everything is derived from those two.
(function langPicker() {
    'use strict';

    const LANGUAGES = [
        { code: 'en', dir: '', label: 'English' },
        { code: 'zh', dir: 'zh/', label: '中文' },
        { code: 'ja', dir: 'ja/', label: '日本語' },
    ];

    const rightButtons = document.querySelector('#mdbook-menu-bar .right-buttons');
    if (!rightButtons || typeof path_to_root === 'undefined') {
        return;
    }
    const htmlLang = (document.documentElement.lang || 'en').toLowerCase();
    const current = LANGUAGES.find(l => htmlLang === l.code || htmlLang.startsWith(l.code + '-'))
        || LANGUAGES[0];

    // The 404 page has <base href="{site-url}">, so relative paths there do not describe the
    // current URL: send the reader to the other language's front page instead.
    const isErrorPage = document.querySelector('base[href]') !== null;

    // Absolute URL of this language's book root, and of the site (English) root above it.
    const bookRoot = new URL(path_to_root || './', window.location.href);
    const siteRoot = new URL(current.dir ? '../' : './', bookRoot);

    // The page's path relative to this language's book root, e.g. "maps/index.html".
    function pageInBook() {
        const here = window.location.pathname;
        if (isErrorPage || !here.startsWith(bookRoot.pathname)) {
            return '';
        }
        return here.slice(bookRoot.pathname.length);
    }

    // Same page and fragment in another language. The query (?search=, ?highlight=) is dropped:
    // a search term typed in one language rarely matches the other.
    function targetFor(lang) {
        const url = new URL(lang.dir + pageInBook(), siteRoot);
        url.hash = window.location.hash;
        return url.href;
    }

    // A button that opens a menu of links, like mdbook's own theme menu.
    const wrapper = document.createElement('div');
    wrapper.className = 'lang-picker';

    const button = document.createElement('button');
    button.type = 'button';
    button.id = 'lang-picker-toggle';
    button.className = 'icon-button lang-picker-toggle';
    button.title = 'Language';
    button.setAttribute('aria-label', 'Language: ' + current.label + '. Change language');
    button.setAttribute('aria-haspopup', 'true');
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-controls', 'lang-picker-list');
    button.textContent = current.label;

    const list = document.createElement('ul');
    list.id = 'lang-picker-list';
    list.className = 'lang-picker-list';
    list.setAttribute('role', 'menu');
    list.setAttribute('aria-label', 'Languages');
    list.hidden = true;

    for (const lang of LANGUAGES) {
        const li = document.createElement('li');
        li.setAttribute('role', 'none');
        const a = document.createElement('a');
        a.setAttribute('role', 'menuitem');
        a.lang = lang.code;
        a.hreflang = lang.code;
        a.dataset.lang = lang.code;
        a.textContent = lang.label;
        a.href = targetFor(lang);
        if (lang === current) {
            a.setAttribute('aria-current', 'true');
        }
        // The fragment may have changed since the page loaded: recompute at the last moment.
        a.addEventListener('click', () => {
            a.href = targetFor(lang);
        });
        li.appendChild(a);
        list.appendChild(li);
    }

    wrapper.appendChild(button);
    wrapper.appendChild(list);
    rightButtons.insertBefore(wrapper, rightButtons.firstChild);

    const items = () => Array.from(list.querySelectorAll('a'));

    function show(focusCurrent) {
        for (const a of items()) {
            a.href = targetFor(LANGUAGES.find(l => l.code === a.dataset.lang));
        }
        list.hidden = false;
        button.setAttribute('aria-expanded', 'true');
        if (focusCurrent) {
            (list.querySelector('[aria-current]') || items()[0]).focus();
        }
    }

    function hide(focusButton) {
        list.hidden = true;
        button.setAttribute('aria-expanded', 'false');
        if (focusButton) {
            button.focus();
        }
    }

    button.addEventListener('click', () => {
        if (list.hidden) {
            show(true);
        } else {
            hide(false);
        }
    });

    // Close on a click elsewhere or when focus leaves the picker.
    document.addEventListener('click', e => {
        if (!list.hidden && !wrapper.contains(e.target)) {
            hide(false);
        }
    });
    wrapper.addEventListener('focusout', e => {
        if (e.relatedTarget && !wrapper.contains(e.relatedTarget)) {
            hide(false);
        }
    });

    // Menu keys: arrows, Home/End, Escape.
    wrapper.addEventListener('keydown', e => {
        if (list.hidden || e.altKey || e.ctrlKey || e.metaKey) {
            if (e.key === 'ArrowDown' && e.target === button) {
                e.preventDefault();
                show(true);
            }
            return;
        }
        const all = items();
        const i = all.indexOf(document.activeElement);
        let next = null;
        switch (e.key) {
        case 'Escape': hide(true); break;
        case 'ArrowDown': next = all[Math.min(i + 1, all.length - 1)]; break;
        case 'ArrowUp': next = all[Math.max(i - 1, 0)]; break;
        case 'Home': next = all[0]; break;
        case 'End': next = all[all.length - 1]; break;
        default: return;
        }
        e.preventDefault();
        // Keep mdbook's global keys (arrows turn pages, S opens search) out of the menu.
        e.stopPropagation();
        if (next) {
            next.focus();
        }
    });
})();
