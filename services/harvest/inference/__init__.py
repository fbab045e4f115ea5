"""The inference service: trained models, predictions for the unlabeled pool, exports."""
