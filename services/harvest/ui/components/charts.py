"""Charts built from service messages: the confusion heat map and per-class accuracy."""

from __future__ import annotations

import altair as alt
import pandas as pd

from harvest.v1 import inference_pb2


def confusion_frame(model: inference_pb2.Model) -> pd.DataFrame:
    """Long form (true, predicted, count, share of the true class) in the model's class order."""
    names = list(model.class_names) or [c.class_name for c in model.evaluation.classes]
    rows = []
    for true_index, row in enumerate(model.evaluation.confusion_matrix):
        total = sum(row.counts) or 1
        for predicted_index, count in enumerate(row.counts):
            rows.append({"true": names[true_index], "predicted": names[predicted_index], "count": int(count),
                         "share": count / total})
    return pd.DataFrame(rows, columns=["true", "predicted", "count", "share"])


def confusion_heatmap(model: inference_pb2.Model) -> alt.LayerChart:
    frame = confusion_frame(model)
    order = list(model.class_names) or None
    base = alt.Chart(frame).encode(x=alt.X("predicted:N", sort=order, title="predicted"),
                                   y=alt.Y("true:N", sort=order, title="true"))
    cells = base.mark_rect().encode(color=alt.Color("share:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]),
                                                    title="share of true class"),
                                    tooltip=["true", "predicted", "count", alt.Tooltip("share:Q", format=".0%")])
    text = base.mark_text().encode(text="count:Q", color=alt.condition("datum.share > 0.5", alt.value("white"),
                                                                       alt.value("black")))
    return (cells + text).properties(height=max(200, 36 * len(order or [])))


def class_metrics_frame(model: inference_pb2.Model) -> pd.DataFrame:
    return pd.DataFrame([{"class": c.class_name, "accuracy (recall)": c.accuracy, "precision": c.precision,
                          "validation images": c.support} for c in model.evaluation.classes])
