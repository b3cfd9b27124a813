"""The chat app: Gradio page, rendering, API, document view, request guard, saved sessions."""
