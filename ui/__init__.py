"""Gradio chat UI (``rag serve``). Only this package imports gradio; nothing here reaches the network.

Importing ``ui`` turns Gradio's analytics and Hugging Face telemetry off before gradio is loaded.
"""

import os

for _var, _value in (
    ("GRADIO_ANALYTICS_ENABLED", "False"),
    ("HF_HUB_OFFLINE", "1"),
    ("HF_HUB_DISABLE_TELEMETRY", "1"),
    ("ANONYMIZED_TELEMETRY", "False"),
):
    os.environ.setdefault(_var, _value)
