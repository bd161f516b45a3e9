// Page behaviour shared by the HTML components (their js_on_load code calls window.tianfu):
// jump from an [n] marker to its highlighted sentence, keep the chat scrolled to the newest text,
// copy an answer, open and close the document preview. Nothing here fetches anything.
(() => {
  const tianfu = (window.tianfu = window.tianfu || {});

  // Show turn `turn`'s sources (if the panel holds them), mark the card and spans of marker `n`.
  tianfu.activate = (turn, n) => {
    const panel = document.querySelector('#sources .sources-panel');
    const section = panel && panel.querySelector('#sources-' + turn);
    if (!section) return false;
    panel.querySelectorAll('.is-target').forEach((e) => e.classList.remove('is-target', 'flash'));
    const marks = section.querySelectorAll('mark[data-n~="' + n + '"]');
    const card = marks.length ? marks[0].closest('.source-card')
                              : section.querySelector('.source-card[data-n~="' + n + '"]');
    if (!card) return false;
    const folded = card.closest('details');
    if (folded) folded.open = true;
    marks.forEach((m) => m.classList.add('is-target'));
    card.classList.add('is-target');
    void card.offsetWidth;  // restart the flash animation
    card.classList.add('flash');
    reveal(card, marks[0]);
    return true;
  };

  // Scroll the card's text to the span, the sources box to the card, and the page only if the card
  // is still out of sight (narrow screens stack the panel under the chat).
  function reveal(card, mark) {
    const text = card.querySelector('.card-text');
    if (mark && text) text.scrollTop += mark.getBoundingClientRect().top - text.getBoundingClientRect().top - 24;
    const box = document.getElementById('sources');
    if (box) {
      const c = card.getBoundingClientRect(), b = box.getBoundingClientRect();
      box.scrollTo({top: box.scrollTop + c.top - b.top - 8});
    }
    const r = card.getBoundingClientRect();
    if (r.bottom < 0 || r.top > window.innerHeight) card.scrollIntoView({block: 'nearest'});
  }

  // New sources: jump to the marker the user clicked (data-focus), else scroll each cited card's
  // text to its first highlighted span.
  tianfu.sourcesRendered = (root) => {
    const section = root.querySelector('.turn-sources');
    if (!section) return;
    const focus = section.getAttribute('data-focus');
    if (focus && section.getAttribute('data-focused') !== focus) {
      section.setAttribute('data-focused', focus);
      tianfu.activate(section.getAttribute('data-turn'), focus);
      return;
    }
    section.querySelectorAll('.source-card.cited').forEach((card) => {
      const text = card.querySelector('.card-text'), mark = card.querySelector('mark.cited-span');
      if (text && mark) text.scrollTop += mark.getBoundingClientRect().top - text.getBoundingClientRect().top - 24;
    });
  };

  tianfu.copy = (button) => {
    const answer = button.closest('.msg-answer');
    const text = answer ? answer.querySelector('.answer-text').innerText : '';
    const done = () => { button.classList.add('copied'); setTimeout(() => button.classList.remove('copied'), 1500); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, () => {});
    else {
      const area = document.createElement('textarea');
      area.value = text; document.body.appendChild(area); area.select();
      try { document.execCommand('copy'); done(); } finally { area.remove(); }
    }
  };

  // The preview drawer: shown when new content arrives, scrolled to the marked span.
  tianfu.previewRendered = (root) => {
    const preview = root.querySelector('.doc-preview');
    if (!preview) { document.body.classList.remove('preview-open'); return; }
    document.body.classList.add('preview-open');
    const text = preview.querySelector('.preview-text');
    const target = preview.querySelector('.preview-target');
    if (text) requestAnimationFrame(() => {
      text.scrollTop = target ? target.offsetTop - text.offsetTop - text.clientHeight / 3 : 0;
    });
  };
  tianfu.closePreview = () => document.body.classList.remove('preview-open');
  tianfu.scrollPreviewTo = (root, chunk) => {
    const text = root.querySelector('.preview-text'), mark = root.querySelector('#doc-chunk-' + chunk);
    if (text && mark) text.scrollTop = mark.offsetTop - text.offsetTop - 8;
  };
  document.addEventListener('keydown', (event) => { if (event.key === 'Escape') tianfu.closePreview(); });

  // Keep the conversation scrolled to the newest text unless the reader scrolled up.
  let stick = true;
  function follow() {
    const box = document.getElementById('chat-scroll');
    if (!box || box.dataset.followed) return !!box;
    box.dataset.followed = '1';
    box.addEventListener('scroll', () => { stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 60; });
    new MutationObserver(() => { if (stick) box.scrollTop = box.scrollHeight; })
      .observe(box, {childList: true, subtree: true, characterData: true});
    return true;
  }
  tianfu.stickToBottom = () => {
    stick = true;
    const box = document.getElementById('chat-scroll');
    if (box) box.scrollTop = box.scrollHeight;
  };

  // Wide screens: the question box gets the focus without scrolling the page (phones keep the
  // header in view and the keyboard closed).
  function start() {
    const ready = follow();
    const box = document.querySelector('#question textarea');
    if (box && !box.dataset.wired) {
      box.dataset.wired = '1';
      if (window.innerWidth >= 900) box.focus({preventScroll: true});
      box.addEventListener('keydown', (event) => { if (event.key === 'Enter' && !event.shiftKey) tianfu.stickToBottom(); });
    }
    return ready && box;
  }
  const timer = setInterval(() => { if (start()) clearInterval(timer); }, 100);
  setTimeout(() => clearInterval(timer), 30000);
})();
