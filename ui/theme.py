"""Look and behaviour of the page: theme (local and system fonts only: nothing is fetched from a
CDN), CSS, and the script that makes ``[n]`` markers jump to their highlighted passage."""

from __future__ import annotations

from typing import Any

FONTS = (
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "system-ui",
    "sans-serif",
)
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Noto Sans Mono CJK SC", "monospace")


def theme() -> Any:
    import gradio as gr

    return gr.themes.Default(
        primary_hue="indigo",
        secondary_hue="amber",
        neutral_hue="slate",
        radius_size="md",
        font=[gr.themes.LocalFont("Source Sans Pro", weights=(400, 600)), *FONTS],
        font_mono=list(MONO_FONTS),
    )


# Marker clicks: show that answer's sources, mark the card and span, scroll to them. Capture phase,
# so the chat's own link handling never sees the click.
SCRIPT = """
<script>
(() => {
  function activate(turn, n) {
    const panel = document.querySelector('.sources-panel');
    const section = panel && panel.querySelector('#sources-' + turn);
    if (!section) return false;
    panel.querySelectorAll('.turn-sources.active').forEach((s) => s.classList.remove('active'));
    section.classList.add('active');
    panel.querySelectorAll('.is-target').forEach((e) => e.classList.remove('is-target', 'flash'));
    const marks = section.querySelectorAll('mark[data-n~="' + n + '"]');
    const card = marks.length ? marks[0].closest('.source-card')
                              : section.querySelector('.source-card[data-n~="' + n + '"]');
    if (!card) return false;
    marks.forEach((m) => m.classList.add('is-target'));
    card.classList.add('is-target');
    void card.offsetWidth;  // restart the flash animation
    card.classList.add('flash');
    reveal(card, marks[0]);
    return true;
  }
  // Scroll the card's text to the span, the sources box to the card, and the page only if the
  // card is still out of sight (narrow screens stack the panel under the chat).
  function reveal(card, mark) {
    const text = card.querySelector('.card-text');
    if (mark && text) text.scrollTop += mark.getBoundingClientRect().top - text.getBoundingClientRect().top - 24;
    const box = document.getElementById('sources');
    if (box) {
      const c = card.getBoundingClientRect(), b = box.getBoundingClientRect();
      box.scrollTo({top: box.scrollTop + c.top - b.top - 8, behavior: 'smooth'});
    }
    const r = card.getBoundingClientRect();
    if (r.bottom < 0 || r.top > window.innerHeight) card.scrollIntoView({block: 'nearest'});
  }
  // New sources: scroll each cited card's text to its first highlighted span.
  function showSpans() {
    document.querySelectorAll('.turn-sources.active .source-card.cited:not([data-shown])').forEach((card) => {
      card.setAttribute('data-shown', '');
      const text = card.querySelector('.card-text'), mark = card.querySelector('mark.cited-span');
      if (text && mark) text.scrollTop += mark.getBoundingClientRect().top - text.getBoundingClientRect().top - 24;
    });
  }
  let pending = false;
  new MutationObserver(() => {
    if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; showSpans(); }); }
  }).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.cite');
    if (!link) return;
    const match = /#cite-(\\d+)-(\\d+)$/.exec(link.getAttribute('href') || '');
    if (!match) return;
    event.preventDefault();
    event.stopPropagation();
    activate(match[1], match[2]);
  }, true);
})();
</script>
"""

CSS = """
.gradio-container { max-width: 1440px !important; margin: 0 auto; }
#app-header { align-items: center; gap: 16px; padding: 6px 4px 2px; }
#app-title h1 { font-size: 1.45rem; margin: 0; letter-spacing: .02em; }
#app-title p { margin: 2px 0 0; color: var(--body-text-color-subdued); font-size: .92rem; }
#chat-bar { align-items: center; gap: 8px; }
#composer { align-items: stretch; gap: 8px; }
#kb-status { font-size: .88rem; color: var(--body-text-color-subdued); min-height: 1.4em; }
#kb-status p { margin: 0; }
#chat-column, #sources-column { min-width: 0; }
#chatbot { border-radius: 12px; }
#chatbot .message-wrap { font-size: 15px; line-height: 1.75; }
#composer textarea { font-size: 15px; }
#sources { height: 660px; overflow-y: auto !important; padding: 4px 6px 4px 2px !important; }

.msg-question { white-space: normal; }
.msg-answer .answer-text { line-height: 1.8; }
.msg-answer.abstained .answer-text { color: var(--body-text-color-subdued); }
.msg-answer .cursor { display: inline-block; width: .5em; height: 1em; margin-left: 2px;
  vertical-align: text-bottom; background: var(--color-accent); animation: blink 1s steps(2) infinite; }
@keyframes blink { 50% { opacity: 0; } }
.msg-error { color: #b42318; background: #fef3f2; border: 1px solid #fecdca; border-radius: 8px;
  padding: 8px 10px; }
a.cite { text-decoration: none !important; color: var(--color-accent) !important; font-weight: 600;
  cursor: pointer; }
a.cite sup { font-size: .72em; padding: 0 1px; }
a.cite:hover { text-decoration: underline !important; }
.badge { display: inline-block; font-size: .75rem; line-height: 1.4; border-radius: 999px;
  padding: 1px 8px; margin-right: 6px; font-weight: 600; }
.badge-abstained { background: #fff4e5; color: #b54708; border: 1px solid #fedf89; margin-bottom: 4px; }
.badge-n { background: var(--color-accent-soft); color: var(--color-accent); padding: 1px 6px; margin-right: 3px; }
.badge-rank { background: var(--background-fill-secondary); color: var(--body-text-color-subdued); }
ol.footnotes { list-style: none; margin: 8px 0 0 !important; padding: 6px 0 0 !important;
  border-top: 1px dashed var(--border-color-primary); font-size: .85rem; color: var(--body-text-color-subdued); }
ol.footnotes li { margin: 2px 0 !important; padding: 0 !important; }
details.answer-details { margin-top: 6px; font-size: .82rem; color: var(--body-text-color-subdued); }
details.answer-details summary { cursor: pointer; }
details.answer-details dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 4px 0 0; }
details.answer-details dt { font-weight: 600; }
details.answer-details dd { margin: 0; }
details.answer-details ul { margin: 0; padding-left: 1.1em; }

.sources-panel { display: flex; flex-direction: column; gap: 4px; }
.sources-empty { color: var(--body-text-color-subdued); padding: 28px 18px; border: 1px dashed
  var(--border-color-primary); border-radius: 12px; font-size: .9rem; line-height: 1.7; }
.sources-empty .placeholder-title { font-weight: 600; font-size: 1rem; color: var(--body-text-color);
  margin-bottom: 6px; }
.turn-sources { display: none; }
.turn-sources.active { display: block; }
.turn-head { font-size: .85rem; color: var(--body-text-color-subdued); padding: 2px 2px 6px;
  border-bottom: 1px solid var(--border-color-primary); }
.turn-no { font-weight: 700; color: var(--color-accent); margin-right: 4px; }
.sources-title { font-size: .9rem; margin: 10px 2px 4px; font-weight: 600; }
.sources-title.abstained { color: #b54708; }
.source-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
  margin: 8px 0; background: var(--background-fill-primary); transition: box-shadow .2s; }
.source-card.cited { border-left: 4px solid var(--color-accent); }
.source-card.is-target { box-shadow: 0 0 0 2px var(--color-accent); }
.source-card.flash { animation: flash 1.2s ease-out; }
@keyframes flash { 0% { background: var(--color-accent-soft); } 100% { background: var(--background-fill-primary); } }
.card-head { display: flex; align-items: baseline; flex-wrap: wrap; gap: 2px; }
.card-title { font-weight: 600; font-size: .92rem; line-height: 1.45; }
.card-meta { font-size: .78rem; color: var(--body-text-color-subdued); margin: 3px 0 2px; display: flex;
  flex-wrap: wrap; gap: 4px 10px; }
.card-meta .doc-id { font-family: var(--font-mono); opacity: .75; }
.card-section { font-size: .8rem; color: var(--color-accent); margin: 2px 0 4px; }
.card-text { font-size: .88rem; line-height: 1.75; max-height: 16em; overflow-y: auto; word-break: break-word; }
mark.cited-span { background: #fff1a8; color: inherit; padding: 1px 0; border-radius: 2px; }
mark.cited-span.is-target { background: #ffd54f; box-shadow: 0 0 0 1px #f5b700; }
details.other-sources { margin-top: 8px; }
details.other-sources > summary { cursor: pointer; font-size: .85rem; color: var(--body-text-color-subdued);
  padding: 4px 2px; }
.eval-summary { border-collapse: collapse; font-size: .88rem; width: 100%; }
.eval-summary caption { text-align: left; padding: 4px 0 8px; color: var(--body-text-color-subdued); }
.eval-summary th, .eval-summary td { border-bottom: 1px solid var(--border-color-primary); padding: 4px 8px;
  text-align: right; }
.eval-summary th:first-child { text-align: left; }
iframe.eval-report { width: 100%; height: 720px; border: 1px solid var(--border-color-primary); border-radius: 8px; }
"""


def launch_options() -> dict[str, Any]:
    """Keyword arguments for ``gr.mount_gradio_app`` or ``Blocks.launch``."""
    return {"theme": theme(), "css": CSS, "head": SCRIPT}
