"""Export a local BERT sentence encoder to a fused ONNX graph, once per machine.

The standard route: transformers loads the weights from the local folder (never the hub),
``torch.onnx.export`` traces the encoder (eager attention, the TorchScript exporter,
``dynamo=False``) with dynamic batch and sequence axes, and onnxruntime's transformer
optimizer fuses it into its BERT operators. Measured on the bundled
all-MiniLM-L6-v2 against the hand-built graph it replaced: the same fused operators and
vectors (cosine >= 0.9999999) at the same speed -- figures in ``csto_qa.embedding.encoder``.
The one-time cost was 36-44 s on two busy cores (imports and loading ~20 s, tracing ~7 s,
fusing ~9 s). Nothing in it is specific to MiniLM: other BERT checkpoints should export
the same way (not tried here: no other weights are on this machine).

Everything heavy is imported here, inside the function: only a cache miss pays for it,
later starts load the verified graph without importing torch.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

from csto_qa.errors import ModelError, missing_dependency

OPSET = 17


def export_graph(model_dir: Path) -> bytes:
    """Serialised fused fp32 ONNX graph: ``(input_ids, attention_mask)`` int64 in,
    ``token_embeddings`` (batch, seq, hidden) out; pooling stays with the caller."""
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "bert":
        raise ModelError(
            f"'{model_dir}' is a {config.get('model_type')!r} model, the ONNX export handles BERT; "
            "use CSTO_QA_RUNTIME=torch"
        )
    # Without onnxruntime the ImportError goes up: the caller falls back to torch then.
    from onnxruntime.transformers.optimizer import optimize_model

    try:
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise missing_dependency("sentence-transformers") from exc
    hf_logging.disable_progress_bar()  # the per-tensor "Loading weights" bar is noise
    hf_logging.set_verbosity_error()
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager", local_files_only=True)
    model.train(False)  # inference mode: dropout off (the same as the module's eval method)
    with tempfile.TemporaryDirectory(prefix="csto-qa-export-") as folder:
        raw, fused = Path(folder) / "raw.onnx", Path(folder) / "fused.onnx"
        example = torch.ones((2, 8), dtype=torch.int64)
        axes = {0: "batch", 1: "seq"}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and deprecation warnings of a known-good trace
            torch.onnx.export(
                _token_embeddings(model),
                (example, example),
                str(raw),
                input_names=["input_ids", "attention_mask"],
                output_names=["token_embeddings"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_embeddings": axes},
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        optimized = optimize_model(
            str(raw),
            model_type="bert",
            num_heads=int(config["num_attention_heads"]),
            hidden_size=int(config["hidden_size"]),
        )
        optimized.save_model_to_file(str(fused))
        return fused.read_bytes()


def _token_embeddings(model: Any) -> Any:
    """The encoder's last hidden state, with token types fixed at 0 (single sentences).

    Zeros computed in the graph rather than BERT's buffered ids: the buffer's slice-and-
    expand left 34 shape nodes unfused beside the fused operators; ``zeros_like`` leaves two.
    The class is defined in here because torch is imported only for an export.
    """
    import torch

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            types = torch.zeros_like(input_ids)
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=types
            ).last_hidden_state

    return TokenEmbeddings(model)


def quantize_graph(graph: bytes) -> bytes:
    """Dynamic int8 quantisation, per output channel (per-tensor loses ~4 points of cosine)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="csto-qa-int8-") as folder:
        source, target = Path(folder) / "fp32.onnx", Path(folder) / "int8.onnx"
        source.write_bytes(graph)
        quantize_dynamic(
            source,
            target,
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        return target.read_bytes()
