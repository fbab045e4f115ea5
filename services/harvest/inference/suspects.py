"""Suspected label errors, confident-learning style (Northcutt et al., 2021), from out-of-sample
probabilities.

A model's own predictions on the items it was trained on are not evidence (it fitted those labels), so
the probabilities come from a K-fold cross-validated logistic regression on the model's embeddings of the
labeled items: each item is scored by a classifier that never saw its label. That is cheap (a linear model
on a few hundred dimensions) and truly out of sample.

Then, per class j, the threshold t_j is the mean out-of-sample probability of j over items labeled j. An
item labeled y is suspected when some other class k clears its own threshold (p_k >= t_k) and is the most
probable of the classes that do: it lands off the diagonal of the confident joint. When no class clears its
threshold, an item is still suspected if another class is the most probable and p_y is under a quarter of
t_y (the joint alone never flags a wrong label whose true class is a hard one). Its score is 1 - p_y
(self-confidence ranking, the best ranking in the paper's comparison), and the suggestion is k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Fewer labeled items than this, or a single class: nothing is flagged (no basis for an estimate).
MIN_ITEMS = 10
#: Below this fraction of its class's mean confidence, a given label is flagged even off the confident joint.
UNLIKELY_FRACTION = 0.25


@dataclass(frozen=True, slots=True)
class Suspicion:
    index: int  # row of the input
    score: float  # likelihood the label is wrong, in [0, 1]
    suggested: int  # class index the detector believes instead


def out_of_sample_probabilities(embeddings: np.ndarray, labels: np.ndarray, num_classes: int, folds: int,
                                seed: int = 0) -> np.ndarray:
    """(N, C) probabilities where row i comes from a logistic regression fitted without item i."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    counts = np.bincount(labels, minlength=num_classes)
    present = counts[counts > 0]
    k = int(min(folds, len(labels)))
    if present.min() >= k:
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    else:  # a class rarer than the fold count: plain folds (that class is then sometimes absent in training)
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
    probabilities = np.zeros((len(labels), num_classes), dtype=np.float64)
    for train, held_out in splitter.split(embeddings, labels):
        scaler = StandardScaler().fit(embeddings[train])
        seen = np.unique(labels[train])
        if len(seen) == 1:
            probabilities[np.ix_(held_out, seen)] = 1.0
            continue
        classifier = LogisticRegression(C=1.0, max_iter=500)
        classifier.fit(scaler.transform(embeddings[train]), labels[train])
        probabilities[np.ix_(held_out, classifier.classes_)] = classifier.predict_proba(
            scaler.transform(embeddings[held_out]))
    return probabilities


def confident_learning(probabilities: np.ndarray, labels: np.ndarray) -> list[Suspicion]:
    """Items off the diagonal of the confident joint, most likely wrong first."""
    n, c = probabilities.shape
    thresholds = np.full(c, np.inf)
    for j in range(c):
        members = labels == j
        if members.any() and probabilities[members, j].mean() > 0:  # 0: the class was never seen in training
            thresholds[j] = probabilities[members, j].mean()
    confident = probabilities >= thresholds[None, :]
    masked = np.where(confident, probabilities, -1.0)
    best = np.where(confident.any(axis=1), masked.argmax(axis=1), probabilities.argmax(axis=1))
    given = probabilities[np.arange(n), labels]
    # Off the confident joint's diagonal; or no class clears its threshold, the model prefers another class
    # and gives the given one under a quarter of that class's typical confidence (an item nearly certainly
    # mislabeled, which the joint alone never flags when its true class is a hard one).
    flagged = (best != labels) & (confident.any(axis=1) | (given < thresholds[labels] * UNLIKELY_FRACTION))
    found = [Suspicion(int(i), float(np.clip(1.0 - given[i], 0.0, 1.0)), int(best[i])) for i in np.flatnonzero(flagged)]
    return sorted(found, key=lambda s: -s.score)


def find_suspects(embeddings: np.ndarray, labels: np.ndarray, num_classes: int, folds: int = 5,
                  seed: int = 0) -> list[Suspicion]:
    """Suspected errors among labeled items given their embeddings and label indices."""
    if len(labels) < MIN_ITEMS or len(np.unique(labels)) < 2:
        return []
    probabilities = out_of_sample_probabilities(embeddings.astype(np.float64), labels, num_classes, folds, seed)
    return confident_learning(probabilities, labels)
