"""Embedding: the encoder protocol, the onnxruntime encoder and its one-time export."""
