"""Look and behaviour of the page: the theme (local and system fonts only: nothing is fetched from a
CDN), the stylesheet and page script in ``ui/assets/``, and the small scripts the HTML components
run on load (each turns clicks into the component's own events, named in quotes here: gradio
finds a custom event by its quoted name in ``js_on_load``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ASSETS = Path(__file__).resolve().parent / "assets"
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
    ).set(
        # The default grey (slate-400 on white, about 2.5:1) fails WCAG AA; these pass 4.5:1.
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_300",
        block_info_text_color="*neutral_600",
        block_info_text_color_dark="*neutral_300",
        input_placeholder_color="*neutral_500",
        input_placeholder_color_dark="*neutral_400",
    )


def css() -> str:
    return (ASSETS / "page.css").read_text(encoding="utf-8")


def script() -> str:
    return f"<script>\n{(ASSETS / 'page.js').read_text(encoding='utf-8')}\n</script>"


# The conversation (kept turns and the one in progress): markers, example questions, copy.
CHAT_JS = """
element.addEventListener('click', (event) => {
  const target = event.target;
  const cite = target.closest('a.cite');
  if (cite) {
    event.preventDefault();
    event.stopPropagation();
    const turn = Number(cite.dataset.turn), n = Number(cite.dataset.n);
    if (!window.tianfu.activate(turn, n)) trigger('cite', {turn: turn, n: n});
    return;
  }
  const example = target.closest('button.example');
  if (example) { window.tianfu.stickToBottom(); trigger('example', {question: example.dataset.question}); return; }
  const copy = target.closest('button.copy-answer');
  if (copy) window.tianfu.copy(copy);
});
"""

# Source cards and the knowledge-base summary: open a document at a span.
READ_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('.read-doc');
  if (!button) return;
  const start = button.dataset.start, end = button.dataset.end;
  trigger('read', {doc_id: button.dataset.docId, start: start === undefined ? null : Number(start),
                   end: end === undefined ? null : Number(end)});
});
"""

SOURCES_JS = (
    READ_JS
    + """
watch('value', () => window.tianfu.sourcesRendered(element));
"""
)

PREVIEW_JS = """
element.addEventListener('click', (event) => {
  if (event.target.closest('.preview-close')) { window.tianfu.closePreview(); return; }
  const link = event.target.closest('a.outline-link');
  if (link) { event.preventDefault(); window.tianfu.scrollPreviewTo(element, link.dataset.chunk); }
});
watch('value', () => window.tianfu.previewRendered(element));
"""

# Saved conversations: open; rename and delete are confirmed in place (no dialogs).
CONVERSATIONS_JS = """
function save(item) {
  const title = item.querySelector('.conv-title-input').value.trim();
  item.classList.remove('editing');
  if (title) trigger('rename_conversation', {id: item.dataset.id, title: title});
}
element.addEventListener('click', (event) => {
  const item = event.target.closest('li.conv');
  if (!item) return;
  const on = (selector) => event.target.closest(selector);
  if (on('.conv-rename')) {
    item.classList.add('editing');
    const input = item.querySelector('.conv-title-input');
    input.focus(); input.select();
  } else if (on('.conv-save')) save(item);
  else if (on('.conv-delete')) item.classList.add('confirming');
  else if (on('.conv-cancel')) item.classList.remove('confirming');
  else if (on('.conv-delete-yes')) trigger('delete_conversation', {id: item.dataset.id});
  else if (on('.conv-open')) trigger('open_conversation', {id: item.dataset.id});
});
element.addEventListener('keydown', (event) => {
  if (!event.target.matches('.conv-title-input')) return;
  const item = event.target.closest('li.conv');
  if (event.key === 'Enter') { event.preventDefault(); save(item); }
  if (event.key === 'Escape') item.classList.remove('editing');
});
"""


# Phones: the conversation list folds away behind a button (the state lives on <body>, which
# gradio never re-renders).
CONVERSATIONS_TOGGLE_JS = """
element.addEventListener('click', (event) => {
  if (event.target.closest('.conv-toggle')) document.body.classList.toggle('conv-open');
});
"""


def launch_options() -> dict[str, Any]:
    """Keyword arguments for ``gr.mount_gradio_app`` or ``Blocks.launch``."""
    return {"theme": theme(), "css": css(), "head": script()}
