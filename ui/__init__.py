"""Gradio chat UI (not built yet: see the Chat UI issue). Only this package imports gradio."""
