"""The graph export's quantisation step (embedding_export.quantize_graph) on a small hand-made
graph; the real export of the bundled model is checked in tests/embedding/test_encoder.py (slow)."""

from __future__ import annotations

import numpy as np

from csto_qa.embedding.export import quantize_graph


def _matmul_graph(weights: np.ndarray) -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    rows, cols = weights.shape
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    graph = helper.make_graph(
        [node],
        "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", rows])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", cols])],
        [numpy_helper.from_array(weights, "w")],
    )
    return bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())


def test_quantisation_stores_int8_weights_and_keeps_the_outputs_close() -> None:
    import onnx
    import onnxruntime

    rng = np.random.default_rng(0)
    weights = rng.standard_normal((64, 32)).astype(np.float32)
    x = rng.standard_normal((5, 64)).astype(np.float32)
    quantized = quantize_graph(_matmul_graph(weights))
    model = onnx.load_from_string(quantized)
    kinds = {init.data_type for init in model.graph.initializer}
    assert onnx.TensorProto.INT8 in kinds
    assert not any(
        init.data_type == onnx.TensorProto.FLOAT and tuple(init.dims) == weights.shape
        for init in model.graph.initializer
    )  # the fp32 weight matrix is gone
    session = onnxruntime.InferenceSession(quantized, providers=["CPUExecutionProvider"])
    (found,) = session.run(None, {"x": x})
    expected = x @ weights
    cosine = np.sum(found * expected, axis=1) / (
        np.linalg.norm(found, axis=1) * np.linalg.norm(expected, axis=1)
    )
    assert found.shape == expected.shape and cosine.min() > 0.99
